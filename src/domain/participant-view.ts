import type { ParticipantRow, SessionRow } from '../store/repos/roster.js';
import type { ParticipantType } from '../store/schema.js';
import { isoTime, isoTimeMicros } from './clock.js';

/**
 * The shapes participants and sessions take outside roomline, built in one place: the entries
 * of the live endpoints and the room stream, and the `data` of roster events (the DS webhook
 * `data`, also what the stream is built from).
 */

/** A live participant as the live endpoints and the room stream show it: the DS fields, then roomline's. */
export interface LiveParticipant {
  id: string;
  external_id: string | null;
  name: string | null;
  role: string | null;
  join_time: string;
  type: ParticipantType;
  call_id: string | null;
  caller_number: string | null;
  muted: boolean;
  hand_raised: boolean;
  device: string;
}

/** A room with a live session, as the live endpoints show it (`live_participants`: a count or the list). */
export interface LiveRoom<Participants> {
  id: string;
  external_id: string | null;
  start_time: string | null;
  session_duration: number;
  live_participants: Participants;
}

/** The `data` of every participant event: who, where, and their state at the time of the event. */
export interface ParticipantEventData {
  participant_id: string;
  room_id: string;
  session_id: string;
  name: string | null;
  role: string | null;
  external_id: string | null;
  type: ParticipantType;
  device: string;
  join_time: string;
  muted: boolean;
  hand_raised: boolean;
  /** Phone participants only. */
  call_id?: string | null;
  caller_number?: string | null;
  /** participant_left only. */
  leave_time?: string;
  reason?: string | null;
}

export interface SessionEventData {
  session_id: string;
  room_id: string;
  start: string;
  /** session_ended only. */
  end?: string;
  reason?: string | null;
}

/**
 * The live endpoints' time: whole seconds, written as DS writes them ("2022-05-13T12:31:19.000000Z").
 * The same few start and join times are written on every read of the live lists, and formatting
 * a date was the largest cost of building them: the texts are kept (a bounded set, emptied when full).
 */
function liveTime(epochMilliseconds: number): string {
  const second = Math.floor(epochMilliseconds / 1000);
  let text = liveTimes.get(second);
  if (text === undefined) {
    if (liveTimes.size >= 10_000) liveTimes.clear();
    text = isoTimeMicros(second * 1000);
    liveTimes.set(second, text);
  }
  return text;
}

const liveTimes = new Map<number, string>();

/** A phone caller who gave only a number is shown by that number. */
function displayName(participant: Pick<ParticipantRow, 'name' | 'caller_number'>): string | null {
  return participant.name ?? participant.caller_number;
}

export function liveParticipant(row: ParticipantRow): LiveParticipant {
  return {
    id: row.id,
    external_id: row.external_id,
    name: displayName(row),
    role: row.role_name,
    join_time: liveTime(row.join_time),
    type: row.type,
    call_id: row.call_id,
    caller_number: row.caller_number,
    muted: row.muted === 1,
    hand_raised: row.hand_raised === 1,
    device: row.device,
  };
}

/** The same entry, rebuilt from an event's data (the stream has only the event to go by). */
export function liveParticipantFromEvent(data: ParticipantEventData): LiveParticipant {
  return {
    id: data.participant_id,
    external_id: data.external_id,
    name: data.name,
    role: data.role,
    join_time: liveTime(Date.parse(data.join_time)),
    type: data.type,
    call_id: data.call_id ?? null,
    caller_number: data.caller_number ?? null,
    muted: data.muted,
    hand_raised: data.hand_raised,
    device: data.device,
  };
}

export function participantEventData(row: ParticipantRow): ParticipantEventData {
  const data: ParticipantEventData = {
    participant_id: row.id,
    room_id: row.room_id,
    session_id: row.session_id,
    name: displayName(row),
    role: row.role_name,
    external_id: row.external_id,
    type: row.type,
    device: row.device,
    join_time: isoTime(row.join_time),
    muted: row.muted === 1,
    hand_raised: row.hand_raised === 1,
  };
  if (row.type === 'phone') {
    data.call_id = row.call_id;
    data.caller_number = row.caller_number;
  }
  if (row.leave_time !== null) {
    data.leave_time = isoTime(row.leave_time);
    data.reason = row.leave_reason;
  }
  return data;
}

export function sessionEventData(session: SessionRow): SessionEventData {
  const data: SessionEventData = { session_id: session.id, room_id: session.room_id, start: isoTime(session.start_time) };
  if (session.end_time !== null) {
    data.end = isoTime(session.end_time);
    data.reason = session.end_reason;
  }
  return data;
}

/** A room's live entry; a room without a live session shows start_time null and a duration of 0. */
export function liveRoom<Participants>(
  room: { id: string; external_id: string | null },
  session: Pick<SessionRow, 'start_time'> | undefined,
  participants: Participants,
  now: number,
): LiveRoom<Participants> {
  return {
    id: room.id,
    external_id: room.external_id,
    start_time: session === undefined ? null : liveTime(session.start_time),
    session_duration: session === undefined ? 0 : Math.max(0, Math.floor((now - session.start_time) / 1000)),
    live_participants: participants,
  };
}
