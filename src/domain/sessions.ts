import { invalidAfter, type Page } from '../api/pagination.js';
import { findRoom } from '../store/repos/rooms.js';
import { findLiveSession, type SessionRow } from '../store/repos/roster.js';
import { findTeamSession, isRecordedRoom, isRecordId, pageSessions, recordRoomHistory, roomFacts, type RoomFacts } from '../store/repos/sessions.js';
import { eachParticipationDuring, eachParticipationOfSessions } from '../store/repos/statistics.js';
import type { Executor } from '../store/store.js';
import type { CommitHook } from './changes.js';
import { isoTime, isoTimeMicros } from './clock.js';
import type { CoreDeps } from './deps.js';
import { leaveEveryone, lockRosterRoom } from './roster-changes.js';
import { ALL_TIME, MEDIA_PLANE_ZEROS, ParticipationSweep, dayRange, spanOf, wholeMinutes, type SessionMetric } from './statistics.js';

/** The filters of the session and participant lists (DS: date_start and date_end as Y-m-d, live, room_id). */
export interface HistoryQuery {
  date_start?: string;
  date_end?: string;
  live?: boolean;
  /** A room id or friendly_url; a deleted room's id still finds its history. */
  room_id?: string;
}

/** The DS list answer. */
export interface List<T> {
  total_count: number;
  data: T[];
}

/** A session as the session lists show it: the DS fields, then roomline's end_reason. */
export interface SessionEntry {
  id: string;
  start_time: string;
  end_time: string | null;
  room_id: string;
  room_external_id: string | null;
  description: string | null;
  friendly_url: string | null;
  room_is_deleted: boolean;
  participants_live: number;
  participants_total: number;
  participants_max: number;
  live: boolean;
  end_reason: string | null;
}

/** A room as the statistics answers name it. */
export interface RoomAbout {
  room_id: string;
  room_external_id: string | null;
  room_description: string | null;
  room_friendly_url: string | null;
  room_privacy: string | null;
  room_source: string;
  room_max_participants: number | null;
  room_is_deleted: boolean;
}

export interface SessionAbout extends RoomAbout {
  session_id: string;
  /** Whole minutes, rounded like every minutes figure. */
  session_duration: number;
  session_live: boolean;
  session_start_time: string;
  session_end_time: string | null;
}

/** What statistics are about, and every figure of their kind (an answer may show only some). */
export interface Statistics<About, Metric extends string> {
  about: About;
  figures: Record<Metric, number>;
}

export type EndResult = 'ended' | 'not_found' | 'already_ended';

/** Sessions of the team's rooms: listed, counted, and ended on request. */
export interface SessionService {
  /** The team's sessions; `after` must name one of them (else a 422). */
  list(teamId: string, query: HistoryQuery, page: Page): Promise<List<SessionEntry>>;
  /** The room's sessions; undefined when the team has no such room. */
  listOfRoom(teamId: string, roomRef: string, query: HistoryQuery, page: Page): Promise<List<SessionEntry> | undefined>;
  statistics(teamId: string, sessionId: string): Promise<Statistics<SessionAbout, SessionMetric> | undefined>;
  /** Everyone leaves (reason `session_ended`) and the session ends, unless it already has. */
  end(teamId: string, sessionId: string): Promise<EndResult>;
}

export function createSessionService(deps: CoreDeps): SessionService {
  const { store, changes, clock } = deps;

  async function listSessions(teamId: string, roomId: string | undefined, query: HistoryQuery, page: Page): Promise<List<SessionEntry>> {
    const after = page.after === undefined ? undefined : await findTeamSession(store.db, teamId, page.after);
    if (page.after !== undefined && after === undefined) throw invalidAfter();
    const filter = { teamId, roomId, live: query.live, started: dayRange(query.date_start, query.date_end) };
    const { total, rows } = await pageSessions(store.db, filter, page, after);
    const now = clock.now();
    // Each session's records, counted and swept as they are read: one session may have many.
    const sessionIds = rows.map((row) => row.id);
    const records = new Map<string, number>();
    const sweep = new ParticipationSweep(ALL_TIME, now, new Set(sessionIds));
    const [facts] = await Promise.all([
      roomFacts(store.db, teamId, rows.map((row) => row.room_id)),
      store.snapshot((trx) =>
        eachParticipationOfSessions(trx, sessionIds, (record) => {
          records.set(record.session_id, (records.get(record.session_id) ?? 0) + 1);
          sweep.add(record);
        }),
      ),
    ]);
    const entries = rows.map((row) => sessionEntry(row, facts.get(row.room_id)!, { total: records.get(row.id) ?? 0, max: sweep.peakOf(row.id) }));
    return { total_count: total, data: entries };
  }

  return {
    async list(teamId, query, page) {
      const roomId = query.room_id === undefined ? undefined : await roomIdFilter(store.db, teamId, query.room_id);
      if (roomId === null) return { total_count: 0, data: [] };
      return listSessions(teamId, roomId, query, page);
    },

    async listOfRoom(teamId, roomRef, query, page) {
      const roomId = await historyRoomId(store.db, teamId, roomRef);
      return roomId === undefined ? undefined : listSessions(teamId, roomId, query, page);
    },

    async statistics(teamId, sessionId) {
      const session = await findTeamSession(store.db, teamId, sessionId);
      if (session === undefined) return undefined;
      const now = clock.now();
      const sweep = new ParticipationSweep(ALL_TIME, now);
      const [facts] = await Promise.all([
        roomFacts(store.db, teamId, [session.room_id]),
        store.snapshot((trx) => eachParticipationDuring(trx, { teamId, sessionId: session.id }, {}, (record) => sweep.add(record))),
      ]);
      const span = spanOf(session.start_time, session.end_time, now);
      const about: SessionAbout = {
        ...roomAbout(facts.get(session.room_id)!),
        session_id: session.id,
        session_duration: wholeMinutes(span.end - span.start),
        session_live: session.end_time === null,
        session_start_time: isoTime(session.start_time),
        session_end_time: session.end_time === null ? null : isoTime(session.end_time),
      };
      const figures: Record<SessionMetric, number> = {
        ...MEDIA_PLANE_ZEROS,
        ...sweep.figures(),
        live_participants: sweep.live,
      };
      return { about, figures };
    },

    end: (teamId, sessionId) =>
      changes.run(async function endSession(change): Promise<EndResult> {
        const session = await findTeamSession(change.trx, teamId, sessionId);
        if (session === undefined) return 'not_found';
        // A session whose room is gone ended with the room's deletion.
        const room = await findRoom(change.trx, teamId, session.room_id);
        if (room === undefined || !(await lockRosterRoom(change, room.id))) return 'already_ended';
        // Read again under the room's lock: a leave that emptied the room may have just ended it.
        if ((await findLiveSession(change.trx, room.id))?.id !== session.id) return 'already_ended';
        await leaveEveryone(change, room, 'session_ended');
        return 'ended';
      }),
  };
}

/** The room id a `room_id` filter means: the team's room by id or friendly_url, else a deleted room's id; null names nothing. */
export async function roomIdFilter(db: Executor, teamId: string, value: string): Promise<string | null> {
  const room = await findRoom(db, teamId, value);
  if (room !== undefined) return room.id;
  return isRecordId(value) ? value.toLowerCase() : null;
}

/**
 * The room a room's history routes (its sessions, participants and statistics) name: the team's
 * room by id or friendly_url, else by id a deleted room the team's history records, whose
 * records outlive it (DS's `room_is_deleted`). Undefined when it names neither.
 */
export async function historyRoomId(db: Executor, teamId: string, ref: string): Promise<string | undefined> {
  const room = await findRoom(db, teamId, ref);
  if (room !== undefined) return room.id;
  const id = ref.toLowerCase();
  return isRecordId(ref) && (await isRecordedRoom(db, teamId, id)) ? id : undefined;
}

export function roomAbout(room: RoomFacts): RoomAbout {
  return {
    room_id: room.id,
    room_external_id: room.external_id,
    room_description: room.description,
    room_friendly_url: room.friendly_url,
    room_privacy: room.privacy,
    // Every roomline room is made through the API.
    room_source: 'api',
    room_max_participants: room.max_participants,
    room_is_deleted: room.is_deleted,
  };
}

function sessionEntry(session: SessionRow, room: RoomFacts, participants: { total: number; max: number }): SessionEntry {
  return {
    id: session.id,
    start_time: isoTimeMicros(session.start_time),
    end_time: session.end_time === null ? null : isoTimeMicros(session.end_time),
    room_id: session.room_id,
    room_external_id: room.external_id,
    description: room.description,
    friendly_url: room.friendly_url,
    room_is_deleted: room.is_deleted,
    participants_live: session.live_participants,
    participants_total: participants.total,
    participants_max: participants.max,
    live: session.end_time === null,
    end_reason: session.end_reason,
  };
}

/**
 * A commit hook that records, in the change's own transaction, the room of every session that
 * starts or ends, so the room's history still names it once the room is deleted.
 */
export function createRoomHistoryHook(): CommitHook {
  return async function recordRoomsOfSessions(trx, events) {
    for (const event of events) {
      if ((event.name === 'session_started' || event.name === 'session_ended') && event.roomId !== null) {
        await recordRoomHistory(trx, event.roomId, event.at);
      }
    }
  };
}
