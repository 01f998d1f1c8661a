import type { Executor } from '../store.js';
import type { ParticipantTable, WebPresenceTable } from '../schema.js';
import { FRIENDLY_URL, UUID, type RoomRow } from './rooms.js';

/**
 * The queries of the room page: rooms found by their public link (any team's), and web
 * participants' presence (credential and lease).
 */

export type PresenceRow = WebPresenceTable;


/** Whether `ref` has the shape of a room id or friendly_url, so that a room page link may name it. */
export function isRoomRef(ref: string): boolean {
  return UUID.test(ref) || FRIENDLY_URL.test(ref);
}

/**
 * The rooms a page link `/{ref}` may name: the room with that id, else every team's room with
 * that friendly_url (friendly_urls are unique per team only), oldest first.
 */
export async function findRoomsByLink(db: Executor, ref: string): Promise<RoomRow[]> {
  if (UUID.test(ref)) {
    const byId = await db.selectFrom('rooms').selectAll().where('id', '=', ref.toLowerCase()).executeTakeFirst();
    if (byId !== undefined) return [byId];
  }
  if (!FRIENDLY_URL.test(ref)) return [];
  return db.selectFrom('rooms').selectAll().where('friendly_url', '=', ref).orderBy('created_at').orderBy('id').execute();
}

export async function findRoomById(db: Executor, roomId: string): Promise<RoomRow | undefined> {
  return db.selectFrom('rooms').selectAll().where('id', '=', roomId).executeTakeFirst();
}

/** A participant, live or not. */
export async function findParticipant(db: Executor, participantId: string): Promise<ParticipantTable | undefined> {
  return db.selectFrom('participants').selectAll().where('id', '=', participantId).executeTakeFirst();
}

export async function insertPresence(db: Executor, row: PresenceRow): Promise<void> {
  await db.insertInto('web_presence').values(row).execute();
}

export async function findPresence(db: Executor, participantId: string): Promise<PresenceRow | undefined> {
  return db.selectFrom('web_presence').selectAll().where('participant_id', '=', participantId).executeTakeFirst();
}

/** Moves the leases of these participants to `expiresAt`. */
export async function setLeases(db: Executor, participantIds: readonly string[], expiresAt: number): Promise<void> {
  if (participantIds.length === 0) return;
  await db
    .updateTable('web_presence')
    .set({ lease_expires_at: expiresAt })
    .where('participant_id', 'in', [...participantIds])
    .execute();
}

/** Up to `limit` presences whose lease ran out before `now`, oldest lease first. */
export async function expiredPresences(db: Executor, now: number, limit: number): Promise<PresenceRow[]> {
  return db.selectFrom('web_presence').selectAll().where('lease_expires_at', '<', now).orderBy('lease_expires_at').limit(limit).execute();
}

export async function deletePresences(db: Executor, participantIds: readonly string[]): Promise<void> {
  if (participantIds.length === 0) return;
  await db
    .deleteFrom('web_presence')
    .where('participant_id', 'in', [...participantIds])
    .execute();
}
