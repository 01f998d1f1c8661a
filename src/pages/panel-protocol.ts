/**
 * What the room page and its server say to each other: the shapes shared by the page API
 * (src/pages/page-api.ts) and the browser client (src/pages/client/). Types only, so the
 * client bundle carries none of the server's code.
 */

import type { Capabilities } from '../domain/capabilities.js';

/** A live participant as the panel shows it: no external id, no call id, a phone number masked. */
export interface PanelParticipant {
  id: string;
  /** The name, or a phone caller's masked number when it gave no name. */
  name: string;
  role: string | null;
  type: 'web' | 'phone';
  /** desktop, mobile, tablet, smarttv or phone. */
  device: string;
  /** A phone caller's number with all but its last digits hidden ("•••• 1234"); null for web participants. */
  number: string | null;
  muted: boolean;
  hand_raised: boolean;
}

/** What the page may offer its participant (the server checks each action again). */
export type PanelCapabilities = Capabilities;

/** POST /room-page/api/rooms/{roomId}/join. */
export interface JoinRequest {
  name?: string;
  token?: string;
}

export interface JoinAnswer {
  /** What the page's later calls authenticate with (Authorization: Bearer …); kept per browser tab. */
  credential: string;
  participant_id: string;
}

/** Why a participant is no longer in the room, as the panel stream says it. */
export type EndReason = 'left' | 'removed' | 'disconnected' | 'room_deleted' | 'session_ended' | 'other';

/** One line of the panel stream (GET /room-page/api/stream, newline-delimited JSON). */
export type PanelMessage =
  | {
      type: 'hello';
      self: PanelParticipant;
      capabilities: PanelCapabilities;
      /** How often the server pings this stream. */
      heartbeat_ms: number;
      /** How often a page that opened the stream with `alive=1` says it is there (POST /room-page/api/alive). */
      alive_ms: number;
    }
  | { type: 'snapshot'; participants: PanelParticipant[]; locked: boolean }
  | { type: 'joined'; participant: PanelParticipant }
  | { type: 'updated'; participant: PanelParticipant }
  | { type: 'left'; participant_id: string; name: string }
  | { type: 'locked'; locked: boolean }
  | { type: 'asked_to_unmute'; participant_id: string }
  | { type: 'ended'; reason: EndReason }
  | { type: 'ping' };

/** The moderator actions on a participant (POST /room-page/api/participants/{id}/{action}). */
export const PARTICIPANT_ACTIONS = ['mute', 'unmute', 'ask-to-unmute', 'lower-hand', 'remove'] as const;
export type ParticipantActionPath = (typeof PARTICIPANT_ACTIONS)[number];
