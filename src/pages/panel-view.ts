import type { RoomEvent } from '../bus/events.js';
import { liveParticipantFromEvent, type LiveParticipant, type ParticipantEventData } from '../domain/participant-view.js';
import type { EndReason, PanelMessage, PanelParticipant } from './panel-protocol.js';

/**
 * The participants panel's view of the roster: what anyone on a room page may see of the
 * others. Built from the same snapshots and events as the API's room stream, minus what is
 * not theirs to see (external ids, call ids, full phone numbers).
 */

/** Digits left visible at the end of a phone number; short numbers show fewer. */
const VISIBLE_DIGITS = 4;

/** "+1 555 000 1234" → "•••• 1234": enough to tell callers apart, not enough to call them. */
export function maskPhoneNumber(number: string): string {
  const digits = number.replace(/\D/g, '');
  const visible = digits.length > 2 * VISIBLE_DIGITS ? VISIBLE_DIGITS : Math.floor(digits.length / 2);
  return `••••${visible > 0 ? ` ${digits.slice(-visible)}` : ''}`;
}

export function panelParticipant(participant: LiveParticipant): PanelParticipant {
  const number = participant.type === 'phone' && participant.caller_number !== null ? maskPhoneNumber(participant.caller_number) : null;
  // A caller who gave only a number is shown by it: the masked one.
  const name = participant.name === null || participant.name === participant.caller_number ? (number ?? 'Guest') : participant.name;
  return {
    id: participant.id,
    name,
    role: participant.role,
    type: participant.type,
    device: participant.device,
    number,
    muted: participant.muted,
    hand_raised: participant.hand_raised,
  };
}

const UPDATES = new Set<string>([
  'participant_details_changed',
  'phone_participant_muted',
  'phone_participant_unmuted',
  'participant_hand_raised',
  'participant_hand_lowered',
]);

/** The leave reasons the page tells its participant about in words of their own. */
const END_REASONS: Record<string, EndReason> = {
  left: 'left',
  removed: 'removed',
  disconnected: 'disconnected',
  room_deleted: 'room_deleted',
  session_ended: 'session_ended',
  session_length_reached: 'session_ended',
};

/** Why a participant_left event took someone out, as the panel says it. */
export function endReasonOf(event: RoomEvent): EndReason {
  return END_REASONS[(event.data as unknown as ParticipantEventData).reason ?? 'left'] ?? 'other';
}

/** The panel message for a room event; undefined for events the panel does not show. */
export function panelMessageOf(event: RoomEvent): PanelMessage | undefined {
  if (event.name === 'room_locked' || event.name === 'room_unlocked') return { type: 'locked', locked: event.name === 'room_locked' };
  if (event.name === 'phone_participant_asked_to_unmute') return { type: 'asked_to_unmute', participant_id: String(event.data.participant_id) };
  if (event.name !== 'participant_joined' && event.name !== 'participant_left' && !UPDATES.has(event.name)) return undefined;
  const participant = panelParticipant(liveParticipantFromEvent(event.data as unknown as ParticipantEventData));
  if (event.name === 'participant_joined') return { type: 'joined', participant };
  if (event.name === 'participant_left') return { type: 'left', participant_id: participant.id, name: participant.name };
  return { type: 'updated', participant };
}
