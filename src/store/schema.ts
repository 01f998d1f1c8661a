import type { Generated } from 'kysely';
/**
 * The tables, as Kysely sees them. One shape for both dialects: timestamps are epoch
 * milliseconds (bigint), booleans are 0/1 integers and documents are JSON text, so every
 * query reads and writes the same values on SQLite and PostgreSQL.
 */
export interface Database {
  teams: TeamTable;
  roles: RoleTable;
  rooms: RoomTable;
  room_roles: RoomRoleTable;
  room_tags: RoomTagTable;
  room_links: RoomLinkTable;
  sessions: SessionTable;
  participants: ParticipantTable;
  participant_activity: ParticipantActivityTable;
  call_tombstones: CallTombstoneTable;
  room_history: RoomHistoryTable;
  webhooks: WebhookTable;
  webhook_sequences: WebhookSequenceTable;
  webhook_heads: WebhookHeadTable;
  webhook_deliveries: WebhookDeliveryTable;
  web_presence: WebPresenceTable;
}

/** 0 or 1: how both dialects store a boolean. */
export type Flag = number;

export interface TeamTable {
  id: string;
  name: string;
  developer_key: string;
  /** sha256 of the developer key: the index a Bearer key is looked up by. */
  key_hash: string;
  /** The team's default room settings (a JSON object of DS fields). */
  room_settings: string;
  created_at: number;
  updated_at: number;
}

export interface RoleTable {
  id: string;
  team_id: string;
  name: string;
  display_name: string;
  description: string | null;
  is_builtin: Flag;
  /** JSON object: permission name → boolean (or a role-name list for manage_roles). */
  permissions: string;
  created_at: number;
  updated_at: number;
}

export interface RoomTable {
  id: string;
  team_id: string;
  friendly_url: string;
  description: string | null;
  privacy: string;
  external_id: string | null;
  is_locked: Flag;
  /** Minutes after which a session ends by itself; null is unlimited. */
  session_length: number | null;
  /** When the room is deleted by itself (epoch ms); null is never. */
  expires_at: number | null;
  default_role_id: string;
  max_participants: number;
  telephony_enabled: Flag;
  telephony_phone_number: string | null;
  telephony_pin_dtmf: string | null;
  /** Whether the room's SIP bridge is connected (phone/connect, phone/disconnect). */
  phone_connected: Flag;
  /** The last sequence number given to an event of this room (the stream's `id:`). */
  event_seq: number;
  /** The remaining DS room settings (a JSON object). */
  settings: string;
  created_at: number;
  updated_at: number;
}

export interface RoomRoleTable {
  room_id: string;
  role_id: string;
  position: number;
}

export interface RoomTagTable {
  room_id: string;
  tag: string;
}

/** Which room a page link `/{friendly_url}` opens: one room of one team per name (migration 012). */
export interface RoomLinkTable {
  friendly_url: string;
  room_id: string;
}

export interface SessionTable {
  id: string;
  team_id: string;
  room_id: string;
  start_time: number;
  end_time: number | null;
  end_reason: string | null;
  /** How many participants are live in this session now (kept in the same transaction as joins and leaves). */
  live_participants: number;
}

export type ParticipantType = 'web' | 'phone';

export interface ParticipantTable {
  id: string;
  team_id: string;
  room_id: string;
  session_id: string;
  type: ParticipantType;
  name: string | null;
  external_id: string | null;
  role_id: string | null;
  role_name: string | null;
  call_id: string | null;
  caller_number: string | null;
  /** desktop, mobile, tablet, smarttv or phone. */
  device: string;
  join_time: number;
  leave_time: number | null;
  leave_reason: string | null;
  muted: Flag;
  hand_raised: Flag;
}

/** What happened to a participant while live: mute periods and hand raises, for attendance detail. */
export interface ParticipantActivityTable {
  id: string;
  participant_id: string;
  kind: string;
  at: number;
}

/** Call ids that have left a room: a late or reordered `joined` never brings them back. */
export interface CallTombstoneTable {
  team_id: string;
  room_id: string;
  call_id: string;
  left_at: number;
}

/** A room as it was when one of its sessions last started or ended: what its history shows once it is deleted. */
export interface RoomHistoryTable {
  room_id: string;
  team_id: string;
  friendly_url: string;
  description: string | null;
  external_id: string | null;
  privacy: string;
  max_participants: number;
  recorded_at: number;
  /** 1 while the deleted room's records wait to be anonymised (delete_history). */
  anonymise_pending: Generated<Flag>;
}

export interface WebhookTable {
  id: string;
  team_id: string;
  name: string | null;
  endpoint: string;
  authorization_header: string | null;
  /** JSON array of event names. */
  events: string;
  created_at: number;
  updated_at: number;
}

/** A webhook's numbering, apart from its row (migration 010): every change that enqueues a delivery moves it. */
export interface WebhookSequenceTable {
  webhook_id: string;
  /** The sequence number of the webhook's last enqueued delivery (X-Roomline-Sequence). */
  last_sequence: number;
}

/** How far a webhook's queue is settled, apart from its row (migration 010): every settled delivery moves it. */
export interface WebhookHeadTable {
  webhook_id: string;
  /** Every delivery numbered up to this one is settled (delivered or given up); the next is the queue's head. */
  settled_through: number;
}

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

export interface WebhookDeliveryTable {
  id: string;
  webhook_id: string;
  team_id: string;
  /** The event's id: the same on every attempt (X-Roomline-Event-Id). */
  event_id: string;
  event: string;
  sequence: number;
  /** The exact JSON body sent on every attempt. */
  payload: string;
  status: DeliveryStatus;
  attempts: number;
  next_attempt_at: number;
  /** A sender's lease on this row; null or past means free. */
  claimed_until: number | null;
  last_status_code: number | null;
  last_error: string | null;
  last_attempt_at: number | null;
  delivered_at: number | null;
  created_at: number;
  /** When the delivery entered its queue: its event's time, or the time of a manual retry. Giving up counts from here. */
  queued_at: number;
}

/** A web participant's presence: the credential its room page acts with, and its lease. */
export interface WebPresenceTable {
  participant_id: string;
  team_id: string;
  room_id: string;
  /** sha256 (hex) of the participant credential's secret. */
  credential_hash: string;
  /** Renewed while a node holds the participant's live connection; past it, the participant leaves. */
  lease_expires_at: number;
}
