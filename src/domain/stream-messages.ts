import type { EventName, RoomEvent } from '../bus/events.js';
import type { RosterSnapshot } from './live-rooms.js';
import { liveParticipantFromEvent, type LiveParticipant, type ParticipantEventData } from './participant-view.js';

/**
 * What the room stream (GET /rooms/{room}/live/events) sends: a `snapshot` of the roster,
 * then `participant_joined`, `participant_left`, `participant_updated` (mute and hand, with
 * the whole participant and what changed) and the room's other events as they are.
 */
export interface StreamMessage {
  event: string;
  /** The room's event number (the SSE `id:`); absent for the final events of a deleted room. */
  id: number | undefined;
  data: unknown;
}

/** What each participant-update event changed. */
const UPDATES: Partial<Record<EventName, Partial<Pick<LiveParticipant, 'muted' | 'hand_raised'>> | 'details'>> = {
  participant_details_changed: 'details',
  phone_participant_muted: { muted: true },
  phone_participant_unmuted: { muted: false },
  participant_hand_raised: { hand_raised: true },
  participant_hand_lowered: { hand_raised: false },
};

export function snapshotMessage(snapshot: RosterSnapshot): StreamMessage {
  return { event: 'snapshot', id: snapshot.seq, data: snapshot.data };
}

export function eventMessage(event: RoomEvent): StreamMessage {
  const id = event.seq === 0 ? undefined : event.seq;
  const changed = UPDATES[event.name];
  if (event.name !== 'participant_joined' && event.name !== 'participant_left' && changed === undefined) {
    return { event: event.name, id, data: event.data };
  }
  const data = event.data as unknown as ParticipantEventData;
  const about = { room_id: data.room_id, session_id: data.session_id, participant: liveParticipantFromEvent(data) };
  if (changed === 'details') {
    // The details the change wrote (roster-changes.ts); all three for an event that names none.
    const { name, external_id, caller_number } = about.participant;
    const details = (event.data as { changed?: Record<string, unknown> }).changed ?? { name, external_id, caller_number };
    return { event: 'participant_updated', id, data: { ...about, changed: details } };
  }
  if (changed !== undefined) return { event: 'participant_updated', id, data: { ...about, changed } };
  if (event.name === 'participant_left') return { event: event.name, id, data: { ...about, leave_time: data.leave_time, reason: data.reason } };
  return { event: event.name, id, data: about };
}
