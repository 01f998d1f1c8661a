import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { ApiError, type ErrorCode, type FieldErrors } from '../api/errors.js';
import type { Config } from '../config/config.js';
import type { AttendanceService } from './attendance.js';
import type { Clock } from './clock.js';
import type { SessionService } from './sessions.js';
import type { UsageService } from './usage.js';

/**
 * The reads whose cost grows with a team's history — usage statistics, session lists, a
 * session's statistics and the participation lists (their total counts) — run on a thread of
 * their own, with its own connection to the store.
 *
 * Each reads every participation record in its range and computes over them: a team with a
 * million records costs seconds. On the event loop (SQLite's driver is synchronous, and the
 * figures are computed in JavaScript in either mode) that stalled every other team's requests,
 * the room pages and /healthz meanwhile. Here a team's jobs run one at a time, so one team
 * asking again and again holds the thread for one job of its own at a time, not for all of them.
 *
 * The thread reads what is committed: a change answered before the read began is in it.
 */

/** One call of a service method, at the main thread's instant. */
export interface HistoryJob {
  id: number;
  service: 'usage' | 'sessions' | 'attendance';
  method: string;
  args: unknown[];
  now: number;
}

/** An error as it crossed from the thread. */
export interface ThrownError {
  name: string;
  message: string;
  stack?: string;
  code?: string;
  status?: number;
  fieldErrors?: FieldErrors;
  cause?: ThrownError;
}

export type HistoryAnswer = { id: number; value: unknown } | { id: number; error: ThrownError };

export interface HistoryReads {
  usage: UsageService;
  /** The reads of the session service; `end` is a change and stays with the caller's. */
  sessions: Pick<SessionService, 'list' | 'listOfRoom' | 'statistics'>;
  /** The participation lists; one participant's detail and hands stay with the caller's. */
  attendance: Pick<AttendanceService, 'list' | 'listOfRoom' | 'listOfSession'>;
  close(): Promise<void>;
}

/**
 * Jobs on the thread at once (of different teams: a team's own run one at a time). Each holds at
 * most two of the thread's connections in cluster mode (a snapshot, and a read beside it), so
 * the pool has JOBS_AT_ONCE × 2: a job never waits for a connection another job holds, which
 * past the connect timeout would be a 503 with the database well.
 */
export const JOBS_AT_ONCE = 2;

/**
 * The thread's code: built beside this file, or, run from the TypeScript sources (the tests,
 * which `npm test` builds first), the built one.
 */
const THREAD = import.meta.url.endsWith('.ts') ? new URL('../../dist/domain/history-thread.js', import.meta.url) : new URL('./history-thread.js', import.meta.url);

export function createHistoryReads(config: Config, logger: Logger, clock: Clock): HistoryReads {
  let thread: { worker: Worker; ready: Promise<void> } | undefined;
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: unknown) => void }>();
  /** Each team's last job: the next waits for it. */
  const lanes = new Map<string, Promise<unknown>>();
  let nextId = 0;
  let closed = false;
  let running = 0;
  const waiting: Array<() => void> = [];

  /** The thread, started at the first job and again after one failed. */
  function started(): { worker: Worker; ready: Promise<void> } {
    if (thread !== undefined) return thread;
    // Its memory follows the participants present at once and a page of records, far below
    // this: past it the thread alone ends (its jobs answer 503), never the process.
    const worker = new Worker(THREAD, { workerData: { config }, resourceLimits: { maxOldGenerationSizeMb: 512 } });
    const ready = new Promise<void>((resolve, reject) => {
      worker.once('message', () => resolve());
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new ApiError('unavailable', `The history reads could not start (exit ${code}). Try again.`)));
    });
    // Nothing here keeps the process alive: between jobs the thread only waits.
    worker.unref();
    worker.on('message', (answer: HistoryAnswer | 'ready') => {
      if (answer === 'ready') return;
      const waiting = pending.get(answer.id);
      if (waiting === undefined) return;
      pending.delete(answer.id);
      if ('error' in answer) waiting.reject(rebuilt(answer.error));
      else waiting.resolve(answer.value);
    });
    worker.on('error', (error) => logger.error({ err: error }, 'the history reads thread failed'));
    worker.on('exit', (code) => {
      if (thread?.worker === worker) thread = undefined;
      if (closed) return;
      // Its jobs fail as the database being out of reach would: the client may try again.
      for (const [id, waiting] of pending) {
        pending.delete(id);
        waiting.reject(new ApiError('unavailable', 'The history reads stopped before answering. Try again.'));
      }
      if (code !== 0) logger.warn({ code }, 'the history reads thread exited; the next read starts another');
    });
    thread = { worker, ready };
    return thread;
  }

  /** Runs a job once fewer than JOBS_AT_ONCE are running, in the order they came. */
  async function send(job: Omit<HistoryJob, 'id' | 'now'>): Promise<unknown> {
    if (running >= JOBS_AT_ONCE) await new Promise<void>((resolve) => waiting.push(resolve));
    running += 1;
    try {
      return await sendNow(job);
    } finally {
      running -= 1;
      waiting.shift()?.();
    }
  }

  async function sendNow(job: Omit<HistoryJob, 'id' | 'now'>): Promise<unknown> {
    const { worker, ready } = started();
    await ready;
    const id = nextId++;
    const answer = new Promise((resolve, reject) => pending.set(id, { resolve, reject }));
    worker.ref();
    worker.postMessage({ ...job, id, now: clock.now() } satisfies HistoryJob);
    try {
      return await answer;
    } finally {
      if (pending.size === 0) worker.unref();
    }
  }

  /** Runs the job after the team's previous one, whatever that one's outcome. */
  function call<T>(service: HistoryJob['service'], method: string, teamId: string, args: unknown[]): Promise<T> {
    if (closed) return Promise.reject(new ApiError('unavailable'));
    const before = lanes.get(teamId) ?? Promise.resolve();
    const result = before.catch(() => undefined).then(() => send({ service, method, args: [teamId, ...args] }));
    const settled = result.catch(() => undefined);
    lanes.set(teamId, settled);
    void settled.then(() => {
      if (lanes.get(teamId) === settled) lanes.delete(teamId);
    });
    return result as Promise<T>;
  }

  return {
    usage: {
      team: (teamId, dates) => call('usage', 'team', teamId, [dates]),
      room: (teamId, roomRef, dates) => call('usage', 'room', teamId, [roomRef, dates]),
      current: (teamId) => call('usage', 'current', teamId, []),
      tagTotals: (teamId) => call('usage', 'tagTotals', teamId, []),
      startedSessions: (teamId, dates, window) => call('usage', 'startedSessions', teamId, [dates, window]),
    },
    sessions: {
      list: (teamId, query, page) => call('sessions', 'list', teamId, [query, page]),
      listOfRoom: (teamId, roomRef, query, page) => call('sessions', 'listOfRoom', teamId, [roomRef, query, page]),
      statistics: (teamId, sessionId) => call('sessions', 'statistics', teamId, [sessionId]),
    },
    attendance: {
      list: (teamId, query, page) => call('attendance', 'list', teamId, [query, page]),
      listOfRoom: (teamId, roomRef, query, page) => call('attendance', 'listOfRoom', teamId, [roomRef, query, page]),
      listOfSession: (teamId, sessionId, query, page) => call('attendance', 'listOfSession', teamId, [sessionId, query, page]),
    },
    async close() {
      closed = true;
      const current = thread;
      if (current === undefined) return;
      const exited = new Promise<void>((resolve) => current.worker.once('exit', () => resolve()));
      current.worker.ref();
      current.worker.postMessage('stop');
      // Called once requests are drained (or cut at the grace period): a job still running then
      // has nobody waiting for it, and is abandoned.
      const deadline = setTimeout(() => void current.worker.terminate(), 2000);
      await exited;
      clearTimeout(deadline);
    },
  };
}

/** The error the thread threw, as the main thread's error handling knows it. */
function rebuilt(error: ThrownError): Error {
  if (error.name === 'ApiError' && error.code !== undefined) return new ApiError(error.code as ErrorCode, error.message, error.fieldErrors);
  const cause = error.cause === undefined ? undefined : rebuilt(error.cause);
  const copy = Object.assign(new Error(error.message, cause === undefined ? undefined : { cause }), { name: error.name, code: error.code });
  if (error.stack !== undefined) copy.stack = error.stack;
  return copy;
}
