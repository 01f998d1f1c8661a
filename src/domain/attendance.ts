import { invalidAfter, type Page } from '../api/pagination.js';
import { findRoom } from '../store/repos/rooms.js';
import type { ActivityRow, ParticipantRow } from '../store/repos/roster.js';
import { activitiesOf, findLiveParticipant, findTeamParticipant, findTeamSession, isRecordId, pageParticipants, roomFacts, type RoomFacts } from '../store/repos/sessions.js';
import type { ParticipantType } from '../store/schema.js';
import { dsDateTime, isoTime } from './clock.js';
import { roomLane } from './changes.js';
import type { CoreDeps } from './deps.js';
import { changeParticipants, lockRosterRoom } from './roster-changes.js';
import { historyRoomId, roomIdFilter, type HistoryQuery, type List } from './sessions.js';
import { dayRange, spanOf, wholeMinutes } from './statistics.js';

/** The participant lists' filters: the session lists' and a session_id. */
export interface ParticipantQuery extends HistoryQuery {
  session_id?: string;
}

/** A participation record as the participant lists show it: the DS fields, then roomline's. */
export interface ParticipantEntry {
  id: string;
  external_id: string | null;
  session_id: string;
  room_id: string;
  room_external_id: string | null;
  room_is_deleted: boolean;
  name: string | null;
  role: string | null;
  friendly_url: string | null;
  join_time: string;
  leave_time: string | null;
  live: boolean;
  type: ParticipantType;
  device: string;
  call_id: string | null;
  caller_number: string | null;
  leave_reason: string | null;
}

export type SegmentKind = 'present' | 'muted' | 'hand_raised';

/** A stretch of a participant's attendance; `end` is null while it lasts. */
export interface Segment<Time = string> {
  kind: SegmentKind;
  start: Time;
  end: Time | null;
}

/** A participant's statistics (DS), then roomline's attendance detail. */
export interface ParticipantDetail {
  room_id: string;
  room_external_id: string | null;
  room_friendly_url: string | null;
  room_privacy: string | null;
  room_is_deleted: boolean;
  session_id: string;
  live: boolean;
  participant_name: string | null;
  role: string | null;
  join_time: string;
  leave_time: string | null;
  device: string;
  system: string | null;
  browser: string | null;
  e2ee: boolean;
  participation_minutes: number;
  public_chat_posts: number;
  questions: number;
  answers: number;
  id: string;
  type: ParticipantType;
  external_id: string | null;
  call_id: string | null;
  caller_number: string | null;
  muted: boolean;
  hand_raised: boolean;
  leave_reason: string | null;
  segments: Segment[];
}

/** Who attended the team's rooms: participation records, their detail, and hands raised from the API. */
export interface AttendanceService {
  /** The team's participation records; `after` must name one of them (else a 422). */
  list(teamId: string, query: ParticipantQuery, page: Page): Promise<List<ParticipantEntry>>;
  /** A room's records; undefined when the team has no such room. */
  listOfRoom(teamId: string, roomRef: string, query: ParticipantQuery, page: Page): Promise<List<ParticipantEntry> | undefined>;
  /** A session's records; undefined when the team has no such session. */
  listOfSession(teamId: string, sessionId: string, query: HistoryQuery, page: Page): Promise<List<ParticipantEntry> | undefined>;
  detail(teamId: string, participantId: string): Promise<ParticipantDetail | undefined>;
  /** Raises or lowers the hand of a participant live in the room; false when it is not. */
  setHand(teamId: string, roomRef: string, participantId: string, raised: boolean): Promise<boolean>;
}

export function createAttendanceService(deps: CoreDeps): AttendanceService {
  const { store, changes, clock } = deps;

  async function listParticipants(teamId: string, scope: { roomId?: string; sessionId?: string }, query: ParticipantQuery, page: Page): Promise<List<ParticipantEntry>> {
    const after = page.after === undefined ? undefined : await findTeamParticipant(store.db, teamId, page.after);
    if (page.after !== undefined && after === undefined) throw invalidAfter();
    const filter = { teamId, ...scope, live: query.live, joined: dayRange(query.date_start, query.date_end) };
    const { total, rows } = await pageParticipants(store.db, filter, page, after);
    const facts = await roomFacts(store.db, teamId, rows.map((row) => row.room_id));
    return { total_count: total, data: rows.map((row) => participantEntry(row, facts.get(row.room_id)!)) };
  }

  return {
    async list(teamId, query, page) {
      const roomId = query.room_id === undefined ? undefined : await roomIdFilter(store.db, teamId, query.room_id);
      const sessionId = sessionIdFilter(query.session_id);
      if (roomId === null || sessionId === null) return { total_count: 0, data: [] };
      return listParticipants(teamId, { roomId, sessionId }, query, page);
    },

    async listOfRoom(teamId, roomRef, query, page) {
      const roomId = await historyRoomId(store.db, teamId, roomRef);
      if (roomId === undefined) return undefined;
      const sessionId = sessionIdFilter(query.session_id);
      if (sessionId === null) return { total_count: 0, data: [] };
      return listParticipants(teamId, { roomId, sessionId }, query, page);
    },

    async listOfSession(teamId, sessionId, query, page) {
      const session = await findTeamSession(store.db, teamId, sessionId);
      return session === undefined ? undefined : listParticipants(teamId, { sessionId: session.id }, query, page);
    },

    async detail(teamId, participantId) {
      const participant = await findTeamParticipant(store.db, teamId, participantId);
      if (participant === undefined) return undefined;
      const [facts, activities] = await Promise.all([roomFacts(store.db, teamId, [participant.room_id]), activitiesOf(store.db, participant.id)]);
      return participantDetail(participant, facts.get(participant.room_id)!, activities, clock.now());
    },

    setHand: (teamId, roomRef, participantId, raised) =>
      changes.run(async function changeHand(change) {
        const room = await findRoom(change.trx, teamId, roomRef);
        if (room === undefined || !(await lockRosterRoom(change, room.id))) return false;
        const participant = await findLiveParticipant(change.trx, room.id, participantId);
        if (participant === undefined) return false;
        await changeParticipants(change, [{ participant, changes: { hand_raised: raised } }]);
        return true;
      }, { lane: roomLane(teamId, roomRef) }),
  };
}

/** The session id a `session_id` filter means; null when it cannot name a session. */
function sessionIdFilter(value: string | undefined): string | null | undefined {
  if (value === undefined) return undefined;
  return isRecordId(value) ? value.toLowerCase() : null;
}

/** A phone caller who gave only a number is shown by that number, as on the live endpoints. */
function shownName(participant: ParticipantRow): string | null {
  return participant.name ?? participant.caller_number;
}

function participantEntry(participant: ParticipantRow, room: RoomFacts): ParticipantEntry {
  return {
    id: participant.id,
    external_id: participant.external_id,
    session_id: participant.session_id,
    room_id: participant.room_id,
    room_external_id: room.external_id,
    room_is_deleted: room.is_deleted,
    name: shownName(participant),
    role: participant.role_name,
    friendly_url: room.friendly_url,
    // The participants lists' own form, as DS sends it: "2024-03-03 08:01:01", in UTC.
    join_time: dsDateTime(participant.join_time),
    leave_time: participant.leave_time === null ? null : dsDateTime(participant.leave_time),
    live: participant.leave_time === null,
    type: participant.type,
    device: participant.device,
    call_id: participant.call_id,
    caller_number: participant.caller_number,
    leave_reason: participant.leave_reason,
  };
}

function participantDetail(participant: ParticipantRow, room: RoomFacts, activities: readonly ActivityRow[], now: number): ParticipantDetail {
  const span = spanOf(participant.join_time, participant.leave_time, now);
  const time = (at: number | null) => (at === null ? null : isoTime(at));
  return {
    room_id: participant.room_id,
    room_external_id: room.external_id,
    room_friendly_url: room.friendly_url,
    room_privacy: room.privacy,
    room_is_deleted: room.is_deleted,
    session_id: participant.session_id,
    live: participant.leave_time === null,
    participant_name: shownName(participant),
    role: participant.role_name,
    join_time: isoTime(participant.join_time),
    leave_time: time(participant.leave_time),
    device: participant.device,
    // roomline sees no user agent, no encryption and no chat or Q&A.
    system: null,
    browser: null,
    e2ee: false,
    participation_minutes: wholeMinutes(span.end - span.start),
    public_chat_posts: 0,
    questions: 0,
    answers: 0,
    id: participant.id,
    type: participant.type,
    external_id: participant.external_id,
    call_id: participant.call_id,
    caller_number: participant.caller_number,
    muted: participant.muted === 1,
    hand_raised: participant.hand_raised === 1,
    leave_reason: participant.leave_reason,
    segments: attendanceSegments(participant, activities).map((segment) => ({ ...segment, start: isoTime(segment.start), end: time(segment.end) })),
  };
}

/** Which activity opens and which closes each kind of period. */
const PERIODS = [
  { kind: 'muted', opens: 'muted', closes: 'unmuted' },
  { kind: 'hand_raised', opens: 'hand_raised', closes: 'hand_lowered' },
] as const;

/**
 * A participant's attendance as segments, by start time: present from join to leave, then each
 * mute period and each raised hand. A period still open when the participant left ends with
 * the leave; one still open on a live participant has no end yet. Activities at one instant
 * are read in the order they happened (their time-ordered ids); where an id does not tell
 * (rows written before ids were time-ordered), opening first, so a period opened and closed at
 * once still shows.
 */
export function attendanceSegments(participant: Pick<ParticipantRow, 'join_time' | 'leave_time'>, activities: readonly ActivityRow[]): Array<Segment<number>> {
  const segments: Array<Segment<number>> = [{ kind: 'present', start: participant.join_time, end: participant.leave_time }];
  for (const { kind, opens, closes } of PERIODS) {
    const relevant = activities
      .filter((activity) => activity.kind === opens || activity.kind === closes)
      .sort((a, b) => a.at - b.at || (isTimeOrdered(a.id) && isTimeOrdered(b.id) ? (a.id < b.id ? -1 : 1) : Number(a.kind === closes) - Number(b.kind === closes)));
    let openedAt: number | undefined;
    for (const activity of relevant) {
      if (activity.kind === opens && openedAt === undefined) openedAt = activity.at;
      else if (activity.kind === closes && openedAt !== undefined) {
        segments.push({ kind, start: openedAt, end: activity.at });
        openedAt = undefined;
      }
    }
    if (openedAt !== undefined) segments.push({ kind, start: openedAt, end: participant.leave_time });
  }
  // A stable sort: at one start time, presence first, then mute, then hand.
  return segments.sort((a, b) => a.start - b.start);
}

/** A UUID of version 7 (domain/ids.ts): ids made later sort after. */
function isTimeOrdered(id: string): boolean {
  return id.length === 36 && id[14] === '7';
}
