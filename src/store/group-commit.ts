import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from './schema.js';

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
 * Group commit, by lane. The transactions of one lane would run one after another anyway: in
 * embedded mode every one of them (SQLite has one writer), in cluster mode those that lock
 * the same row first (a room's roster changes). What each of them paid on its own was the
 * COMMIT, and in cluster mode also a pooled connection spent waiting for the row's lock. So
 * the transactions of a lane that arrive while one of it runs are run together in the lane's
 * next transaction, each inside a savepoint of its own, and committed once: a failing one
 * rolls back to its savepoint and fails alone; the others' results are handed out only after
 * the shared COMMIT, so nothing is answered before it is durable, and a failed COMMIT fails
 * them all. A batch waits for nothing but the current turn of the event loop, so an idle
 * server answers as fast as before. Lanes run side by side.
 */
export interface GroupCommitOptions {
  /**
   * Whether a transaction that failed to begin did so because another process holds the write
   * lock (SQLite's SQLITE_BUSY): it is begun again a moment later, for up to LOCK_WAIT_MS,
   * while the event loop goes on. SQLite's own wait (busy_timeout) would hold the whole process.
   */
  lockedByAnother?: (error: unknown) => boolean;
}

/**
 * Waits for the event loop's next turn. A long deletion done in steps, each its own
 * transaction, waits for this between them: a transaction asked for while the lane's batch runs
 * joins its next batch at once, in the same turn, so without it the steps would run back to back
 * and hold every other request (SQLite's driver is synchronous) for the whole deletion.
 */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** How long a batch waits for another process's write lock before it fails (a 503), and how often it asks. */
const LOCK_WAIT_MS = 5000;
const LOCK_RETRY_MS = 5;

export function createGroupCommit(db: Kysely<Database>, options: GroupCommitOptions = {}): <T>(lane: string, work: Work<T>) => Promise<T> {
  const lanes = new Map<string, Queued[]>();

  async function drain(lane: string, queue: Queued[]): Promise<void> {
    try {
      while (queue.length > 0) await commitBatch(queue.splice(0, MAX_BATCH));
    } finally {
      lanes.delete(lane);
    }
  }

  async function commitBatch(batch: Queued[]): Promise<void> {
    const outcomes: Outcome[] = [];
    for (const givenUpAt = performance.now() + LOCK_WAIT_MS; ; ) {
      let began = false;
      try {
        await db.transaction().execute(async function runBatch(trx) {
          began = true;
          for (const item of batch) outcomes.push(await runIsolated(trx, item.work, batch.length > 1));
        });
        break;
      } catch (error) {
        if (!began && options.lockedByAnother?.(error) === true && performance.now() < givenUpAt) {
          await new Promise((resolve) => setTimeout(resolve, LOCK_RETRY_MS));
          continue;
        }
        for (const item of batch) item.reject(error);
        return;
      }
    }
    batch.forEach((item, index) => {
      const outcome = outcomes[index]!;
      if (outcome.ok) item.resolve(outcome.value);
      else item.reject(outcome.error);
    });
  }

  return function transaction<T>(lane: string, work: Work<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const item = { work, resolve: resolve as (value: unknown) => void, reject };
      const queue = lanes.get(lane);
      if (queue !== undefined) {
        queue.push(item);
        return;
      }
      const started = [item];
      lanes.set(lane, started);
      // A request runs to its change without yielding (the SQLite driver is synchronous), so
      // the requests read in the same turn of the event loop only reach this queue when it
      // turns: waiting for that lets them share the commit.
      setImmediate(() => void drain(lane, started));
    });
  };
}

/**
 * Runs one transaction's work inside the batch. Alone, it needs no savepoint: its failure
 * rolls the whole transaction back, exactly as before.
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
    // If the database itself ended the transaction, this throws and the batch fails whole.
    await sql`rollback to change`.execute(trx);
    await sql`release change`.execute(trx);
    return { ok: false, error };
  }
}
