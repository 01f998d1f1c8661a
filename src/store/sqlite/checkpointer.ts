import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * Copies the WAL back into the database file from a thread of its own. SQLite otherwise does
 * it inside whichever COMMIT crosses the WAL's size limit, and better-sqlite3 runs on the
 * event loop: that one request, and everything queued behind it, waited for megabytes of
 * writes. A PASSIVE checkpoint never waits for, nor blocks, the writer or the readers. The
 * writer keeps a far larger automatic limit as a backstop, should this thread fall behind.
 *
 * Under steady writes a PASSIVE checkpoint never catches up: the writer adds frames while it
 * copies, and the WAL starts over only when a write begins with every frame copied. The WAL
 * then grew to the writer's backstop, whose checkpoint ran in a COMMIT on the event loop (a
 * `joined` of 1000 calls took 40–61 ms instead of about 15, every 34th). So once the WAL holds more
 * than RESTART_AFTER_PAGES, this thread takes the write lock between two of the writer's
 * transactions (RESTART), copies the few frames the PASSIVE left, and lets go: the writer's
 * next write starts the WAL over, and syncs its new header (0.3–1 ms here, on the event loop,
 * as at any start over). A transaction that begins meanwhile finds the lock taken and is begun
 * again by the group commit a moment later (5–15 ms here), while the event loop goes on.
 */
export interface Checkpointer {
  stop(): Promise<void>;
}

/** Past this many pages (4 KB each), the checkpoint also starts the WAL over. */
const RESTART_AFTER_PAGES = 1024;
/**
 * How long the RESTART waits for the writer's transaction in progress to end, and then for
 * readers on an old snapshot, holding the lock: past that it leaves the rest to the next round.
 */
const RESTART_WAIT_MS = 20;

/** The worker: CommonJS, as an evaluated worker is; it is handed better-sqlite3's path. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
// The only wait is a RESTART's, and the writer may be waiting for it.
db.pragma('busy_timeout = ' + workerData.restartWaitMs);
// Said rather than left to the build's default: a checkpoint syncs the WAL before it copies and
// the database before the WAL may be written over.
db.pragma('synchronous = NORMAL');
const passive = () => db.pragma('wal_checkpoint(PASSIVE)')[0];
// The WAL's size when a RESTART last could not finish, else -1: the next try waits for the WAL
// to grow as much again, or to have started over meanwhile.
let heldAt = -1;
const timer = setInterval(() => {
  try {
    let last = passive();
    if (last.log <= workerData.restartAfterPages) return;
    if (heldAt >= 0 && last.log >= heldAt && last.log <= heldAt + workerData.restartAfterPages) return;
    // What the writer added while that ran is copied without holding it too, so that the
    // RESTART, which holds it, has only a few frames left to copy. A pass that ends short of
    // what the pass before it saw (or finds another checkpoint running, log -1) is held back by
    // a reader on an older snapshot: the WAL cannot start over before that reader is done, so
    // the writer is not held for it. (A pass only short of a commit that came while it ran is not.)
    for (let pass = 0; pass < 3; pass++) {
      const before = last.log;
      last = passive();
      if (last.log < 0 || last.checkpointed < before) return;
      if (last.checkpointed === last.log && last.log - before <= 64) break;
    }
    // SQLITE_BUSY here is no error: a long transaction, or a reader still on the last snapshot,
    // outlasted the wait. What could be copied is, and the next try waits (heldAt), so that an
    // idle writer is not held every round while that reader goes on.
    const restart = db.pragma('wal_checkpoint(RESTART)')[0];
    heldAt = restart.busy === 0 ? -1 : Math.max(last.log, restart.log);
  } catch (error) {
    parentPort.postMessage({ error: String(error) });
  }
}, workerData.everyMs);
parentPort.on('message', () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

export function startCheckpointer(file: string, everyMs: number, onError: (message: string) => void): Checkpointer {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { file, everyMs, driver, restartAfterPages: RESTART_AFTER_PAGES, restartWaitMs: RESTART_WAIT_MS },
  });
  worker.on('message', (message: { error?: string }) => {
    if (message.error !== undefined) onError(message.error);
  });
  worker.on('error', (error) => onError(String(error)));
  worker.unref();
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  return {
    async stop() {
      // Held by the worker from here on: unreferenced, the process could end before its exit, with nothing else left to run.
      worker.ref();
      worker.postMessage('stop');
      await exited;
    },
  };
}
