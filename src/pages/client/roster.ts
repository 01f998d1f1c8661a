import type { PanelMessage, PanelParticipant } from '../panel-protocol.js';

/** What the panel shows: the live participants in the order they joined, the room's lock, who was asked to unmute. */
export interface Roster {
  participants: PanelParticipant[];
  locked: boolean;
  askedToUnmute: ReadonlySet<string>;
}

export const EMPTY_ROSTER: Roster = { participants: [], locked: false, askedToUnmute: new Set() };

/**
 * The roster after a message, and what to announce to screen readers (joins and leaves as
 * they happen; a snapshot only restates what is there, so it announces nothing).
 */
export function applyMessage(roster: Roster, message: PanelMessage): { roster: Roster; announcement?: string } {
  switch (message.type) {
    case 'snapshot':
      return { roster: { participants: message.participants, locked: message.locked, askedToUnmute: new Set() } };
    case 'joined':
      if (roster.participants.some((participant) => participant.id === message.participant.id)) return { roster: replace(roster, message.participant) };
      return { roster: { ...roster, participants: [...roster.participants, message.participant] }, announcement: `${message.participant.name} joined` };
    case 'updated':
      return { roster: replace(roster, message.participant) };
    case 'left': {
      const participants = roster.participants.filter((participant) => participant.id !== message.participant_id);
      if (participants.length === roster.participants.length) return { roster };
      return { roster: { ...roster, participants, askedToUnmute: without(roster.askedToUnmute, message.participant_id) }, announcement: `${message.name} left` };
    }
    case 'locked':
      return { roster: { ...roster, locked: message.locked }, announcement: message.locked ? 'The room is locked' : 'The room is unlocked' };
    case 'asked_to_unmute':
      return { roster: { ...roster, askedToUnmute: new Set([...roster.askedToUnmute, message.participant_id]) } };
    default:
      return { roster };
  }
}

function replace(roster: Roster, updated: PanelParticipant): Roster {
  // Once unmuted, the request to unmute is answered.
  const askedToUnmute = updated.muted ? roster.askedToUnmute : without(roster.askedToUnmute, updated.id);
  return { ...roster, askedToUnmute, participants: roster.participants.map((participant) => (participant.id === updated.id ? updated : participant)) };
}

function without(set: ReadonlySet<string>, id: string): ReadonlySet<string> {
  if (!set.has(id)) return set;
  const copy = new Set(set);
  copy.delete(id);
  return copy;
}

/** The panel's headline figures. */
export function countsOf(participants: readonly PanelParticipant[]): { total: number; web: number; phone: number; hands: number } {
  const phone = participants.filter((participant) => participant.type === 'phone').length;
  const hands = participants.filter((participant) => participant.hand_raised).length;
  return { total: participants.length, web: participants.length - phone, phone, hands };
}
