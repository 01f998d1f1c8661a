import { findRoom, roomsExpiredBy } from '../store/repos/rooms.js';
import { findLiveSession } from '../store/repos/roster.js';
import { liveSessionsWithLength } from '../store/repos/sessions.js';
import type { CoreDeps } from './deps.js';
import { leaveEveryone, lockRosterRoom } from './roster-changes.js';
import { deleteRoomWithEvent } from './rooms.js';

/**
 * The changes time makes by itself: a session that has lasted its room's `session_length`
 * minutes ends (everyone leaves, reason `session_length`), and a room whose `expires_at` has
 * come is deleted, as DS promises ("Room will be automatically deleted after the specified
 * expiration time is reached"), everyone in it leaving with it. It checks once at start, so
 * what came due while the server was down happens as the server starts, then every
 * `checkEveryMs` (each change comes at most that late). Either way the records say when it was
 * due: the session ends, and everyone leaves, at its length or the room's expiry, not at the
 * check. Time comes from the app's clock.
 */
export interface Scheduler {
  /** Makes what is due now, then keeps checking. */
  start(): Promise<void>;
  /** Stops checking, waiting for a check in progress. */
  stop(): Promise<void>;
}

export interface SchedulerOptions {
  checkEveryMs: number;
}

export const DEFAULT_SCHEDULER_OPTIONS: SchedulerOptions = { checkEveryMs: 1000 };

/** The most expired rooms one check deletes; the next check goes on with the rest. */
const EXPIRED_ROOMS_PER_CHECK = 100;

export function createScheduler(deps: CoreDeps, options: SchedulerOptions = DEFAULT_SCHEDULER_OPTIONS): Scheduler {
  const { store, changes, clock, logger } = deps;
  let timer: NodeJS.Timeout | undefined;
  let checking: Promise<void> | undefined;

  // Each session ends, and each room goes, in a change of its own that checks again under the
  // room's lock: two nodes (or a leave or an edit racing the check) can never do it twice, and
  // a room given a later expiry (or none) in the meantime stays.

  async function endSessionsPastLength(): Promise<void> {
    const now = clock.now();
    const due = (await liveSessionsWithLength(store.db)).filter((session) => isPastLength(session.start_time, session.session_length, now));
    for (const candidate of due) {
      await changes.run(async function endExpiredSession(change) {
        const room = await findRoom(change.trx, candidate.team_id, candidate.room_id);
        if (room === undefined || !(await lockRosterRoom(change, room.id))) return;
        const live = await findLiveSession(change.trx, room.id);
        if (live?.id !== candidate.session_id || room.session_length === null || !isPastLength(live.start_time, room.session_length, change.now)) return;
        // It ends when its length ran out, however late the check came (a server down meanwhile).
        await leaveEveryone(change, room, 'session_length', live.start_time + room.session_length * 60_000);
      });
    }
  }

  async function deleteExpiredRooms(): Promise<void> {
    for (const candidate of await roomsExpiredBy(store.db, clock.now(), EXPIRED_ROOMS_PER_CHECK)) {
      await changes.run(async function deleteExpiredRoom(change) {
        if (!(await lockRosterRoom(change, candidate.id))) return;
        // Read under the lock: an edit that moved or removed the expiry may have just committed.
        const room = await findRoom(change.trx, candidate.team_id, candidate.id);
        if (room === undefined || room.expires_at === null || room.expires_at > change.now) return;
        // Whoever was in it leaves when it expired, however late the check came.
        await deleteRoomWithEvent(change, room, {}, room.expires_at);
      });
    }
  }

  /** One check at a time; a failed duty is logged and the next check tries again. */
  function check(): Promise<void> {
    checking ??= Promise.all([
      endSessionsPastLength().catch((error: unknown) => logger.error({ err: error }, 'ending sessions past their length failed')),
      deleteExpiredRooms().catch((error: unknown) => logger.error({ err: error }, 'deleting expired rooms failed')),
    ])
      .then(() => undefined)
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
