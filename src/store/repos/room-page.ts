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
 * The room a page link `/{ref}` opens: the room with that id, else the room whose link that
 * friendly_url is (room_links: one per name, whatever the team). A room token names its team:
 * with `teamId`, that team's room of that name comes first, so a token still opens a room
 * that shares an older link's name.
 */
export async function findRoomByLink(db: Executor, ref: string, teamId?: string): Promise<RoomRow | undefined> {
  if (UUID.test(ref)) {
    const byId = await db.selectFrom('rooms').selectAll().where('id', '=', ref.toLowerCase()).executeTakeFirst();
    if (byId !== undefined) return byId;
  }
  if (!FRIENDLY_URL.test(ref)) return undefined;
  if (teamId !== undefined) {
    const own = await db.selectFrom('rooms').selectAll().where('team_id', '=', teamId).where('friendly_url', '=', ref).executeTakeFirst();
    if (own !== undefined) return own;
  }
  return db
    .selectFrom('room_links')
    .innerJoin('rooms', 'rooms.id', 'room_links.room_id')
    .selectAll('rooms')
    .where('room_links.friendly_url', '=', ref)
    .executeTakeFirst();
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
