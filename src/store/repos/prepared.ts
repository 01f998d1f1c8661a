import type { Compilable, CompiledQuery, QueryResult } from 'kysely';
import type { Executor } from '../store.js';

/** Where each parameter of the compiled query comes from: an argument's position, or a constant of the query. */
type Slot = number | { value: unknown };

interface Plan<R> {
  query: CompiledQuery<R>;
  slots: Slot[];
}

/**
 * A query of fixed shape, built and compiled once per dialect and then run with each call's
 * values. Building and compiling a Kysely query cost about as much as SQLite took to run it,
 * on every request's hottest statements. `build` receives stand-ins for its arguments and must
 * use them as plain values (no computing with them), which the first compilation checks.
 */
export function prepared<A extends unknown[], R>(arity: A['length'], build: (db: Executor, ...args: A) => Compilable<R>): (db: Executor, ...args: A) => Promise<QueryResult<R>> {
  const plans = new WeakMap<object, Plan<R>>();
  return function runPrepared(db, ...args) {
    const adapter = db.getExecutor().adapter;
    let plan = plans.get(adapter);
    if (plan === undefined) {
      plan = compilePlan(db, arity, build);
      plans.set(adapter, plan);
    }
    const parameters = plan.slots.map((slot) => (typeof slot === 'number' ? args[slot] : slot.value));
    return db.executeQuery<R>({ ...plan.query, parameters });
  };
}

function compilePlan<A extends unknown[], R>(db: Executor, arity: number, build: (db: Executor, ...args: A) => Compilable<R>): Plan<R> {
  const standIns = Array.from({ length: arity }, (_, index) => `\u0000Prepared-Argument-${index}\u0000`);
  const query = build(db, ...(standIns as A)).compile();
  const slots = query.parameters.map((value): Slot => {
    const index = standIns.indexOf(value as string);
    return index === -1 ? { value } : index;
  });
  const used = new Set(slots.filter((slot): slot is number => typeof slot === 'number'));
  if (used.size !== arity) throw new Error(`prepared query uses ${used.size} of its ${arity} arguments as plain values: ${query.sql}`);
  return { query, slots };
}

/** The longest list a plan is kept for; longer lists (batches) are built as they come. */
const MAX_PREPARED_LENGTH = 16;

/** How the items of a list query are made of values: `width` values each, read and rebuilt in one order. */
export interface ListShape<T> {
  width: number;
  valuesOf(item: T): readonly unknown[];
  itemOf(values: readonly unknown[]): T;
}

/** Lists of plain values (an IN list). */
export const VALUES: ListShape<string> = { width: 1, valuesOf: (item) => [item], itemOf: (values) => values[0] as string };

/**
 * A prepared query over a list (an IN list, a multi-row insert) and `arity` further arguments:
 * one plan per list length up to MAX_PREPARED_LENGTH, the lengths a bridge's requests have.
 */
export function preparedList<T, A extends unknown[], R>(
  shape: ListShape<T>,
  arity: A['length'],
  build: (db: Executor, items: readonly T[], ...args: A) => Compilable<R>,
): (db: Executor, items: readonly T[], ...args: A) => Promise<QueryResult<R>> {
  const plans = new WeakMap<object, Map<number, Plan<R>>>();
  return function runPreparedList(db, items, ...args) {
    if (items.length > MAX_PREPARED_LENGTH) return db.executeQuery(build(db, items, ...args));
    const adapter = db.getExecutor().adapter;
    let byLength = plans.get(adapter);
    if (byLength === undefined) plans.set(adapter, (byLength = new Map()));
    let plan = byLength.get(items.length);
    if (plan === undefined) {
      const count = items.length;
      plan = compilePlan(db, arity + count * shape.width, (inner, ...values: unknown[]) => {
        const standInItems = Array.from({ length: count }, (_, index) => shape.itemOf(values.slice(arity + index * shape.width, arity + (index + 1) * shape.width)));
        return build(inner, standInItems, ...(values.slice(0, arity) as A));
      });
      byLength.set(count, plan);
    }
    const values = [...args, ...items.flatMap((item) => shape.valuesOf(item))];
    const parameters = plan.slots.map((slot) => (typeof slot === 'number' ? values[slot] : slot.value));
    return db.executeQuery<R>({ ...plan.query, parameters });
  };
}
