/**
 * The events roomline publishes. Names are the Digital Samba webhook event names, so the
 * same event feeds the room's stream, the participants panel and (later) the webhook outbox.
 */
export const EVENT_NAMES = [
  'session_started',
  'session_ended',
  'participant_joined',
  'participant_left',
  'participant_hand_raised',
  'participant_hand_lowered',
  'phone_participant_muted',
  'phone_participant_unmuted',
  'phone_participant_asked_to_unmute',
  'room_locked',
  'room_unlocked',
  'room_deleted',
  'role_deleted',
] as const;

/** The events a webhook can subscribe to (GET /api/v1/events). */
export type WebhookEventName = (typeof EVENT_NAMES)[number];

/**
 * Events with no DS webhook: a live participant's details (name, number, external id)
 * changed. Streams and panels show it as `participant_updated`; no webhook receives it.
 */
export const STREAM_ONLY_EVENT_NAMES = ['participant_details_changed'] as const;

export type EventName = WebhookEventName | (typeof STREAM_ONLY_EVENT_NAMES)[number];

/** An event as a change produces it, before it is committed and numbered. */
export interface PendingEvent {
  name: EventName;
  teamId: string;
  /** The room it happened in; null for team-wide events (role_deleted). */
  roomId: string | null;
  /** The DS webhook `data` object. */
  data: Record<string, unknown>;
}

/** A committed event. */
export interface RoomEvent extends PendingEvent {
  /** Unique and stable: the webhook's event id, and what a receiver deduplicates by. */
  id: string;
  /** Per-room sequence number, gap-free and increasing (the stream's `id:`); 0 for team-wide events. */
  seq: number;
  /** Epoch milliseconds of the change. */
  at: number;
}
