import { invalidAfter, type Page } from '../api/pagination.js';
import { findRoom } from '../store/repos/rooms.js';
import { findLiveSession, type SessionRow } from '../store/repos/roster.js';
import { findTeamSession, isRecordId, pageSessions, recordRoomHistory, roomFacts, type RoomFacts } from '../store/repos/sessions.js';
import {
  countCustomRoles,
  countLive,
  participationsDuring,
  participationsOfRooms,
  participationsOfSessions,
  sessionOpeners,
  sessionsDuring,
  teamRoomTags,
  type ParticipationRecord,
  type UsageScope,
} from '../store/repos/statistics.js';
import type { Executor } from '../store/store.js';
import type { CommitHook } from './changes.js';
import { isoTime, isoTimeMicros } from './clock.js';
import type { CoreDeps } from './deps.js';
import { leaveEveryone, lockRosterRoom } from './roster-changes.js';
import {
  ALL_TIME,
  MEDIA_PLANE_ZEROS,
  dayRange,
  groupBy,
  participationFigures,
  peakOverlap,
  periodOf,
  sessionFigures,
  spanOf,
  wholeMinutes,
  type RoomMetric,
  type SessionMetric,
  type TeamMetric,
} from './statistics.js';

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
    const [facts, participations] = await Promise.all([
      roomFacts(store.db, teamId, rows.map((row) => row.room_id)),
      participationsOfSessions(store.db, rows.map((row) => row.id)),
    ]);
    const now = clock.now();
    const bySession = groupBy(participations, (participation) => participation.session_id);
    return { total_count: total, data: rows.map((row) => sessionEntry(row, facts.get(row.room_id)!, bySession.get(row.id) ?? [], now)) };
  }

  return {
    async list(teamId, query, page) {
      const roomId = query.room_id === undefined ? undefined : await roomIdFilter(store.db, teamId, query.room_id);
      if (roomId === null) return { total_count: 0, data: [] };
      return listSessions(teamId, roomId, query, page);
    },

    async listOfRoom(teamId, roomRef, query, page) {
      const room = await findRoom(store.db, teamId, roomRef);
      return room === undefined ? undefined : listSessions(teamId, room.id, query, page);
    },

    async statistics(teamId, sessionId) {
      const session = await findTeamSession(store.db, teamId, sessionId);
      if (session === undefined) return undefined;
      const [facts, participations] = await Promise.all([
        roomFacts(store.db, teamId, [session.room_id]),
        participationsDuring(store.db, { teamId, sessionId: session.id }, {}),
      ]);
      const now = clock.now();
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
        ...participationFigures(participations, ALL_TIME, now),
        live_participants: participations.filter((participation) => participation.leave_time === null).length,
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

function sessionEntry(session: SessionRow, room: RoomFacts, participations: readonly ParticipationRecord[], now: number): SessionEntry {
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
    participants_total: participations.length,
    participants_max: peakOverlap(participations.map((participation) => spanOf(participation.join_time, participation.leave_time, now))),
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

// --- usage figures ---------------------------------------------------------------------------

/** Statistics periods as asked (Y-m-d); what is not given defaults as periodOf says. */
export interface Dates {
  date_start?: string;
  date_end?: string;
}

export interface PeriodAbout {
  date_start: string;
  date_end: string;
}

/** The team's figures for the current period, with what is live now. */
export interface CurrentUsage extends PeriodAbout {
  participation_minutes: number;
  live_sessions: number;
  live_participants: number;
  active_recorders: number;
  recorded_minutes: number;
  transcription_minutes: number;
  stored_recorded_minutes: number;
  max_concurrent_participants: number;
  max_concurrent_sessions: number;
}

export interface TagTotal {
  tag: string;
  rooms: number;
  participants: number;
  participation_minutes: number;
}

export interface SessionsStarted {
  browser_id: string;
  sessions_started: number;
}

/** Usage figures of a team or a room over a period, computed from its participation records and sessions. */
export interface UsageService {
  team(teamId: string, dates: Dates): Promise<Statistics<PeriodAbout, TeamMetric>>;
  /** undefined when the team has no such room. */
  room(teamId: string, roomRef: string, dates: Dates): Promise<Statistics<RoomAbout & PeriodAbout, RoomMetric> | undefined>;
  current(teamId: string): Promise<CurrentUsage>;
  /** Per tag of the team's rooms, ever: rooms, participation records and their minutes. */
  tagTotals(teamId: string): Promise<TagTotal[]>;
  /**
   * Who started the sessions started in the range (all time by default), most first: everyone
   * present at a session's first instant, by external_id, else phone number, else participant id.
   */
  startedSessions(teamId: string, dates: Dates, window: { limit: number; offset: number }): Promise<List<SessionsStarted>>;
}

export function createUsageService(deps: CoreDeps): UsageService {
  const { store, clock } = deps;

  /** A period's records and the figures computed from them, all as of one instant. */
  async function periodFigures(scope: UsageScope, dates: Dates) {
    const now = clock.now();
    const period = periodOf(dates.date_start, dates.date_end, now);
    const [participations, sessions, live] = await Promise.all([
      participationsDuring(store.db, scope, period.window),
      sessionsDuring(store.db, scope, period.window),
      countLive(store.db, scope),
    ]);
    return {
      about: { date_start: period.date_start, date_end: period.date_end },
      live,
      participation: participationFigures(participations, period.window, now),
      session: sessionFigures(sessions, participations, period.window, now),
    };
  }

  return {
    async team(teamId, dates) {
      const [{ about, live, participation, session }, customRoles] = await Promise.all([periodFigures({ teamId }, dates), countCustomRoles(store.db, teamId)]);
      return { about, figures: { ...MEDIA_PLANE_ZEROS, ...participation, ...session, live_participants: live.participants, custom_roles: customRoles } };
    },

    async room(teamId, roomRef, dates) {
      const room = await findRoom(store.db, teamId, roomRef);
      if (room === undefined) return undefined;
      const [{ about, live, participation, session }, facts] = await Promise.all([periodFigures({ teamId, roomId: room.id }, dates), roomFacts(store.db, teamId, [room.id])]);
      return {
        about: { ...roomAbout(facts.get(room.id)!), ...about },
        figures: { ...MEDIA_PLANE_ZEROS, ...participation, sessions: session.sessions, live_participants: live.participants },
      };
    },

    async current(teamId) {
      const { about, live, participation, session } = await periodFigures({ teamId }, {});
      return {
        participation_minutes: participation.participation_minutes,
        live_sessions: live.sessions,
        live_participants: live.participants,
        active_recorders: MEDIA_PLANE_ZEROS.active_recorders,
        recorded_minutes: MEDIA_PLANE_ZEROS.recorded_minutes,
        transcription_minutes: MEDIA_PLANE_ZEROS.transcription_minutes,
        stored_recorded_minutes: MEDIA_PLANE_ZEROS.stored_recorded_minutes,
        max_concurrent_participants: participation.max_concurrent_participants,
        max_concurrent_sessions: session.max_concurrent_sessions,
        ...about,
      };
    },

    async tagTotals(teamId) {
      const now = clock.now();
      const roomsByTag = groupBy(await teamRoomTags(store.db, teamId), (pair) => pair.tag);
      const byRoom = groupBy(await participationsOfRooms(store.db, teamId, [...new Set([...roomsByTag.values()].flat().map((pair) => pair.room_id))]), (p) => p.room_id);
      return [...roomsByTag.entries()]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([tag, pairs]) => {
          const participations = pairs.flatMap((pair) => byRoom.get(pair.room_id) ?? []);
          const { participation_minutes } = participationFigures(participations, ALL_TIME, now);
          return { tag, rooms: pairs.length, participants: participations.length, participation_minutes };
        });
    },

    async startedSessions(teamId, dates, window) {
      const openers = await sessionOpeners(store.db, teamId, dayRange(dates.date_start, dates.date_end));
      const sessionsByIdentity = new Map<string, Set<string>>();
      for (const opener of openers) {
        const identity = opener.external_id ?? opener.caller_number ?? opener.id;
        sessionsByIdentity.set(identity, (sessionsByIdentity.get(identity) ?? new Set()).add(opener.session_id));
      }
      const ranked = [...sessionsByIdentity]
        .map(([browser_id, sessionIds]) => ({ browser_id, sessions_started: sessionIds.size }))
        .sort((a, b) => b.sessions_started - a.sessions_started || (a.browser_id < b.browser_id ? -1 : 1));
      return { total_count: ranked.length, data: ranked.slice(window.offset, window.offset + window.limit) };
    },
  };
}
