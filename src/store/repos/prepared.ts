import type { Compilable, CompiledQuery, QueryResult } from 'kysely';
import type { Executor } from '../store.js';

/** Where each parameter of the compiled query comes from: an argument's position, or a constant of the query. */
type Slot = number | { value: unknown };

interface Plan<R> {
  query: CompiledQuery<R>;
  slots: Slot[];
}

/**
 * The SQL of the prepared queries whose best plan is the same whatever their values: look-ups
 * by a unique key (or a list of one), and multi-row inserts. A database that can keep a
 * statement's plan (PostgreSQL's named statements, store/postgres/named-statements.ts) keeps
 * these and no others. Planning was most of what PostgreSQL spent on a webhook's settle (0.48
 * of 0.72 ms). A kept plan is made for the table as it was: for a list of a hundred keys one
 * made while its table was small went on scanning the table as it grew (a tombstone check of
 * 100 calls, 2 → 18 ms), where a plan made for each run follows the table. Even a look-up by a
 * unique key is planned as a scan while its table is nearly empty, so kept plans are dropped
 * every few seconds (PLAN_LIFETIME_MS) and made again for the table as it has grown.
 */
const keptPlans = new Set<string>();

/** Whether a statement's plan may be kept and reused for any values (see keptPlans). */
export function planMayBeKept(sql: string): boolean {
  return keptPlans.has(sql);
}

export interface PreparedOptions {
  /**
   * The query reads rows by something other than a unique key (a page, a count, a team's
   * webhooks): its best plan depends on the values or on how large the table has grown, so it
   * is planned for each run. Every other prepared query must find its row by a unique key.
   */
  planEachRun?: boolean;
}

/**
 * A query of fixed shape, built and compiled once per dialect and then run with each call's
 * values. Building and compiling a Kysely query cost about as much as SQLite took to run it,
 * on every request's hottest statements. `build` receives stand-ins for its arguments and must
 * use them as plain values (no computing with them), which the first compilation checks.
 */
export function prepared<A extends unknown[], R>(
  arity: A['length'],
  build: (db: Executor, ...args: A) => Compilable<R>,
  options: PreparedOptions = {},
): (db: Executor, ...args: A) => Promise<QueryResult<R>> {
  const plans = new WeakMap<object, Plan<R>>();
  return function runPrepared(db, ...args) {
    const adapter = db.getExecutor().adapter;
    let plan = plans.get(adapter);
    if (plan === undefined) {
      plan = compilePlan(db, arity, build);
      if (options.planEachRun !== true) keptPlans.add(plan.query.sql);
      plans.set(adapter, plan);
    }
    return runPlan(db, plan, args);
  };
}

/** Runs a plan with these argument values in its parameters' places. */
function runPlan<R>(db: Executor, plan: Plan<R>, values: readonly unknown[]): Promise<QueryResult<R>> {
  const parameters = plan.slots.map((slot) => (typeof slot === 'number' ? values[slot] : slot.value));
  return db.executeQuery<R>({ ...plan.query, parameters });
}

function compilePlan<A extends unknown[], R>(db: Executor, arity: number, build: (db: Executor, ...args: A) => Compilable<R>): Plan<R> {
  const standIns = Array.from({ length: arity }, (_, index) => `\u0000Prepared-Argument-${index}\u0000`);
  const positions = new Map(standIns.map((standIn, index) => [standIn, index]));
  const query = build(db, ...(standIns as A)).compile();
  const slots = query.parameters.map((value): Slot => positions.get(value as string) ?? { value });
  const used = new Set(slots.filter((slot): slot is number => typeof slot === 'number'));
  if (used.size !== arity) throw new Error(`prepared query uses ${used.size} of its ${arity} arguments as plain values: ${query.sql}`);
  return { query, slots };
}

/**
 * The most items one statement of a list query carries. Longer lists run as several
 * statements of this size: each length has its plan, compiled once, and a batch of a thousand
 * calls no longer builds (and then collects) a query tree of tens of thousands of nodes.
 */
const CHUNK = 100;

/** How the items of a list query are made of values: `width` values each, read and rebuilt in one order. */
export interface ListShape<T> {
  width: number;
  valuesOf(item: T): readonly unknown[];
  itemOf(values: readonly unknown[]): T;
}

/** Lists of plain values (an IN list). */
export const VALUES: ListShape<string> = { width: 1, valuesOf: (item) => [item], itemOf: (values) => values[0] as string };

/**
 * Lists of rows (a multi-row insert), their values in the order of `columns`, which must name
 * every column of `Row`: one left out would not be written, so leaving one out does not compile.
 */
export function rowShape<Row>() {
  return function ofColumns<C extends ReadonlyArray<keyof Row & string>>(columns: C & ([Exclude<keyof Row, C[number]>] extends [never] ? unknown : never)): ListShape<Row> {
    return {
      width: columns.length,
      valuesOf: (row) => columns.map((column) => row[column]),
      itemOf: (values) => Object.fromEntries(columns.map((column, index) => [column, values[index]])) as Row,
    };
  };
}

/**
 * A prepared query over a list (an IN list, a multi-row insert) and `arity` further arguments,
 * one plan per list length. A list longer than CHUNK runs in statements of CHUNK items, their
 * rows and counts added up: only for statements whose results may be put together that way
 * (inserts, updates, reads without an order), run inside a transaction when they write. An IN
 * list names rows by a unique key (with the query's other conditions), so a list of one is a
 * key look-up and its plan may be kept.
 */
export function preparedList<T, A extends unknown[], R>(
  shape: ListShape<T>,
  arity: A['length'],
  build: (db: Executor, items: readonly T[], ...args: A) => Compilable<R>,
): (db: Executor, items: readonly T[], ...args: A) => Promise<QueryResult<R>> {
  const plans = new WeakMap<object, Map<number, Plan<R>>>();

  function planFor(db: Executor, count: number): Plan<R> {
    const adapter = db.getExecutor().adapter;
    let byLength = plans.get(adapter);
    if (byLength === undefined) plans.set(adapter, (byLength = new Map()));
    let plan = byLength.get(count);
    if (plan === undefined) {
      plan = compilePlan(db, arity + count * shape.width, (inner, ...values: unknown[]) => {
        const standInItems = Array.from({ length: count }, (_, index) => shape.itemOf(values.slice(arity + index * shape.width, arity + (index + 1) * shape.width)));
        return build(inner, standInItems, ...(values.slice(0, arity) as A));
      });
      // One key is a key look-up; an insert's plan is the same for any rows.
      if (count === 1 || plan.query.query.kind === 'InsertQueryNode') keptPlans.add(plan.query.sql);
      byLength.set(count, plan);
    }
    return plan;
  }

  function runChunk(db: Executor, items: readonly T[], args: A): Promise<QueryResult<R>> {
    const plan = planFor(db, items.length);
    const values: unknown[] = [...args];
    for (const item of items) values.push(...shape.valuesOf(item));
    return runPlan(db, plan, values);
  }

  return async function runPreparedList(db, items, ...args) {
    if (items.length <= CHUNK) return runChunk(db, items, args);
    const rows: R[] = [];
    let affected = 0n;
    for (let start = 0; start < items.length; start += CHUNK) {
      const result = await runChunk(db, items.slice(start, start + CHUNK), args);
      rows.push(...result.rows);
      affected += result.numAffectedRows ?? 0n;
    }
    return { rows, numAffectedRows: affected };
  };
}
