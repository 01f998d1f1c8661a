import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * Copies the WAL back into the database file from a thread of its own. SQLite otherwise does
 * it inside whichever COMMIT crosses the WAL's size limit, and better-sqlite3 runs on the
 * event loop: that one request, and everything queued behind it, waited for megabytes of
 * writes. A PASSIVE checkpoint never waits for, nor blocks, the writer or the readers. The
 * writer keeps a far larger automatic limit as a backstop, should this thread fall behind.
 */
export interface Checkpointer {
  stop(): Promise<void>;
}

/** The worker: CommonJS, as an evaluated worker is; it is handed better-sqlite3's path. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 1000');
const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
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
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { file, everyMs, driver } });
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
