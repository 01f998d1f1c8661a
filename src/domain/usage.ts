import { roomFacts } from '../store/repos/sessions.js';
import {
  countCustomRoles,
  countLive,
  eachParticipationDuring,
  eachSessionDuring,
  participationTotalsOfRooms,
  sessionOpeners,
  teamRoomTags,
  type UsageScope,
} from '../store/repos/statistics.js';
import type { CoreDeps } from './deps.js';
import { historyRoomId, roomAbout, type List, type RoomAbout, type Statistics } from './sessions.js';
import {
  MEDIA_PLANE_ZEROS,
  ParticipationSweep,
  SessionSweep,
  dayRange,
  groupBy,
  periodOf,
  wholeMinutes,
  type RoomMetric,
  type TeamMetric,
} from './statistics.js';

/**
 * Team and room usage figures for the statistics endpoints: current periods, totals and the
 * sessions participants started. The computations themselves are in statistics.ts.
 */

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

  /**
   * A period's figures, computed as its records are read (in order, a page at a time), all in
   * one snapshot of the store: one instant's records, however many pages they take.
   */
  async function periodFigures(scope: UsageScope, dates: Dates) {
    const now = clock.now();
    const period = periodOf(dates.date_start, dates.date_end, now);
    const participations = new ParticipationSweep(period.window, now);
    const sessions = new SessionSweep(period.window, now);
    const live = await store.snapshot(async (trx) => {
      await eachParticipationDuring(trx, scope, period.window, (record) => participations.add(record));
      await eachSessionDuring(trx, scope, period.window, (session) => sessions.add(session));
      return countLive(trx, scope);
    });
    return {
      about: { date_start: period.date_start, date_end: period.date_end },
      live,
      participation: participations.figures(),
      session: sessions.figures(participations),
    };
  }

  return {
    async team(teamId, dates) {
      const [{ about, live, participation, session }, customRoles] = await Promise.all([periodFigures({ teamId }, dates), countCustomRoles(store.db, teamId)]);
      return { about, figures: { ...MEDIA_PLANE_ZEROS, ...participation, ...session, live_participants: live.participants, custom_roles: customRoles } };
    },

    async room(teamId, roomRef, dates) {
      const roomId = await historyRoomId(store.db, teamId, roomRef);
      if (roomId === undefined) return undefined;
      const [{ about, live, participation, session }, facts] = await Promise.all([periodFigures({ teamId, roomId }, dates), roomFacts(store.db, teamId, [roomId])]);
      return {
        about: { ...roomAbout(facts.get(roomId)!), ...about },
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
      const byRoom = await participationTotalsOfRooms(store.db, teamId, [...new Set([...roomsByTag.values()].flat().map((pair) => pair.room_id))], now);
      return [...roomsByTag.entries()]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([tag, pairs]) => {
          let participants = 0;
          let milliseconds = 0;
          for (const { room_id } of pairs) {
            participants += byRoom.get(room_id)?.records ?? 0;
            milliseconds += byRoom.get(room_id)?.milliseconds ?? 0;
          }
          return { tag, rooms: pairs.length, participants, participation_minutes: wholeMinutes(milliseconds) };
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
