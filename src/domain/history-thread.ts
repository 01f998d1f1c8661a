import { parentPort, workerData } from 'node:worker_threads';
import type { Config } from '../config/config.js';
import { createLogger } from '../logger.js';
import { isPostgresLocation, openStoreAt, type Store } from '../store/store.js';
import { openSqliteReader } from '../store/sqlite/sqlite-store.js';
import type { CoreDeps } from './deps.js';
import { createAttendanceService } from './attendance.js';
import { createSessionService } from './sessions.js';
import { createUsageService } from './usage.js';
import { JOBS_AT_ONCE, type HistoryJob, type HistoryAnswer, type ThrownError } from './history-reads.js';

/**
 * The history reads' thread (see history-reads.ts): its own connection to the store, and the
 * usage, session and attendance services built on it for each job, with the clock at the job's
 * instant.
 */

const { config } = workerData as { config: Config };
const logger = createLogger(config.logLevel).child({ thread: 'history' });
const reads = await openReads(config);

/** Only reads are made here: anything else a service reached for would be a mistake, said loudly. */
const notHere = (what: string) =>
  new Proxy({}, {
    get(_, member) {
      throw new Error(`${what}.${String(member)} is not available to the history reads`);
    },
  });

function depsAt(now: number): CoreDeps {
  const store = new Proxy(reads as Store, {
    get(target, member) {
      if (member === 'db' || member === 'snapshot') return target[member];
      throw new Error(`store.${String(member)} is not available to the history reads`);
    },
  });
  return { config, logger, store, clock: { now: () => now }, bus: notHere('bus') as CoreDeps['bus'], changes: notHere('changes') as CoreDeps['changes'] };
}

async function run(job: HistoryJob): Promise<unknown> {
  const deps = depsAt(job.now);
  const service = job.service === 'usage' ? createUsageService(deps) : job.service === 'sessions' ? createSessionService(deps) : createAttendanceService(deps);
  const method = (service as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>)[job.method];
  if (typeof method !== 'function') throw new Error(`no ${job.service}.${job.method}`);
  return method(...job.args);
}

parentPort!.on('message', (message: HistoryJob | 'stop') => {
  if (message === 'stop') {
    void reads.close().finally(() => parentPort!.close());
    return;
  }
  run(message).then(
    (value) => parentPort!.postMessage({ id: message.id, value } satisfies HistoryAnswer),
    (error: unknown) => parentPort!.postMessage({ id: message.id, error: thrown(error) } satisfies HistoryAnswer),
  );
});
parentPort!.postMessage('ready');

async function openReads(settings: Config): Promise<Pick<Store, 'db' | 'snapshot' | 'close'>> {
  const location = settings.databaseUrl ?? settings.dataDir;
  if (!isPostgresLocation(location)) return openSqliteReader(location);
  // A job reads in a snapshot and beside it (Promise.all): two connections for each job at once.
  return openStoreAt(location, settings, logger, { migrate: false, maxConnections: 2 * JOBS_AT_ONCE });
}

/** An error as it crosses to the main thread: what errors.ts needs to answer it (code, cause). */
function thrown(error: unknown): ThrownError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  const { code, status, fieldErrors } = error as { code?: unknown; status?: unknown; fieldErrors?: unknown };
  return {
    name: error.name,
    message: error.message,
    stack: error.stack,
    ...(typeof code === 'string' ? { code } : {}),
    ...(typeof status === 'number' ? { status } : {}),
    ...(fieldErrors !== undefined ? { fieldErrors: fieldErrors as ThrownError['fieldErrors'] } : {}),
    ...(error.cause !== undefined ? { cause: thrown(error.cause) } : {}),
  };
}
