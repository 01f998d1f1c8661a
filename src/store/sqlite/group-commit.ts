import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../schema.js';

type Work<T> = (trx: Transaction<Database>) => Promise<T>;

interface Queued {
  work: Work<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/** The most transactions one commit carries; more wait for the next. */
const MAX_BATCH = 256;

/**
 * Group commit for the embedded store. SQLite has one writer, so transactions run one after
 * another anyway; what each of them paid on its own was the COMMIT (the WAL write), the
 * largest single cost of a change. Transactions that arrive while one is running are run
 * together in the next SQLite transaction, each inside a savepoint of its own, and committed
 * once: a failing one rolls back to its savepoint and fails alone; the others' results are
 * handed out only after the shared COMMIT, so nothing is answered before it is durable, and a
 * failed COMMIT fails them all. A batch waits for nothing but the current turn of the event
 * loop, so an idle server answers as fast as before.
 */
export function createGroupCommit(db: Kysely<Database>): <T>(work: Work<T>) => Promise<T> {
  const queue: Queued[] = [];
  let draining = false;

  async function drain(): Promise<void> {
    try {
      while (queue.length > 0) await commitBatch(queue.splice(0, MAX_BATCH));
    } finally {
      draining = false;
    }
  }

  async function commitBatch(batch: Queued[]): Promise<void> {
    const outcomes: Outcome[] = [];
    try {
      await db.transaction().execute(async function runBatch(trx) {
        for (const item of batch) outcomes.push(await runIsolated(trx, item.work, batch.length > 1));
      });
    } catch (error) {
      for (const item of batch) item.reject(error);
      return;
    }
    batch.forEach((item, index) => {
      const outcome = outcomes[index]!;
      if (outcome.ok) item.resolve(outcome.value);
      else item.reject(outcome.error);
    });
  }

  return function transaction<T>(work: Work<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
      if (draining) return;
      draining = true;
      // A request runs to its change without yielding (the driver is synchronous), so the
      // requests read in the same turn of the event loop only reach this queue when it turns:
      // waiting for that lets them share the commit.
      setImmediate(() => void drain());
    });
  };
}

/**
 * Runs one transaction's work inside the batch. Alone, it needs no savepoint: its failure
 * rolls the whole SQLite transaction back, exactly as before.
 */
async function runIsolated(trx: Transaction<Database>, work: Work<unknown>, shared: boolean): Promise<Outcome> {
  if (!shared) {
    const value = await work(trx);
    return { ok: true, value };
  }
  await sql`savepoint change`.execute(trx);
  try {
    const value = await work(trx);
    await sql`release change`.execute(trx);
    return { ok: true, value };
  } catch (error) {
    // If SQLite itself rolled the transaction back, this throws and the batch fails whole.
    await sql`rollback to change`.execute(trx);
    await sql`release change`.execute(trx);
    return { ok: false, error };
  }
}
