import { findRoom } from '../store/repos/rooms.js';
import { findLiveSession } from '../store/repos/roster.js';
import { liveSessionsWithLength } from '../store/repos/sessions.js';
import type { CoreDeps } from './deps.js';
import { leaveEveryone, lockRosterRoom } from './roster-changes.js';

/**
 * Ends sessions that have lasted their room's `session_length` minutes: everyone leaves
 * (reason `session_length`) and the session ends. It checks once at start, so a session that
 * ran out while the server was down ends as the server starts, then every `checkEveryMs`
 * (a session ends at most that long after its length). Time comes from the app's clock.
 */
export interface SessionScheduler {
  /** Ends what is due now, then keeps checking. */
  start(): Promise<void>;
  /** Stops checking, waiting for a check in progress. */
  stop(): Promise<void>;
}

export interface SessionSchedulerOptions {
  checkEveryMs: number;
}

export const DEFAULT_SESSION_SCHEDULER_OPTIONS: SessionSchedulerOptions = { checkEveryMs: 1000 };

export function createSessionScheduler(deps: CoreDeps, options: SessionSchedulerOptions = DEFAULT_SESSION_SCHEDULER_OPTIONS): SessionScheduler {
  const { store, changes, clock, logger } = deps;
  let timer: NodeJS.Timeout | undefined;
  let checking: Promise<void> | undefined;

  async function expireDue(): Promise<number> {
    const now = clock.now();
    const due = (await liveSessionsWithLength(store.db)).filter((session) => isPastLength(session.start_time, session.session_length, now));
    let ended = 0;
    for (const candidate of due) {
      // Each session ends in a change of its own that checks again under the room's lock, so
      // two nodes (or a leave racing the check) can never end it twice: the second finds it over.
      const expired = await changes.run(async function endExpiredSession(change) {
        const room = await findRoom(change.trx, candidate.team_id, candidate.room_id);
        if (room === undefined || !(await lockRosterRoom(change, room.id))) return false;
        const live = await findLiveSession(change.trx, room.id);
        if (live?.id !== candidate.session_id || room.session_length === null || !isPastLength(live.start_time, room.session_length, change.now)) return false;
        await leaveEveryone(change, room, 'session_length');
        return true;
      });
      if (expired) ended += 1;
    }
    return ended;
  }

  /** One check at a time; a failed one is logged and the next one tries again. */
  function check(): Promise<void> {
    checking ??= expireDue()
      .then(() => undefined)
      .catch((error: unknown) => logger.error({ err: error }, 'ending sessions past their length failed'))
      .finally(() => (checking = undefined));
    return checking;
  }

  return {
    async start() {
      await check();
      timer ??= setInterval(() => void check(), options.checkEveryMs);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      timer = undefined;
      await checking;
    },
  };
}

/** A session is past its length once it has lasted that many minutes. */
function isPastLength(startTime: number, lengthMinutes: number, now: number): boolean {
  return now - startTime >= lengthMinutes * 60_000;
}
