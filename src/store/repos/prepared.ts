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
