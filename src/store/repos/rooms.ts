import type { QueryResult } from 'kysely';
import { pageByCreation, type PageWindow } from './paging.js';
import type { Executor } from '../store.js';
import type { RoomTable } from '../schema.js';
import { prepared } from './prepared.js';

export type RoomRow = RoomTable;

/** A room id. */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** What a friendly_url can look like (and a little more, for rooms made before the rule). */
export const FRIENDLY_URL = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * The team's room named by `ref`: its UUID or its friendly_url. Another team's room is
 * simply not found, exactly like a missing one.
 */
export async function findRoom(db: Executor, teamId: string, ref: string): Promise<RoomRow | undefined> {
  return byRef(db, teamId, ref, roomById, roomByFriendlyUrl);
}

/** What the live endpoints need of a room: who it is, and its event number (their cache's key). */
export type RoomEntry = Pick<RoomRow, 'id' | 'external_id' | 'event_seq'>;

/**
 * The room named by `ref`, as findRoom finds it, without its settings: those are kilobytes,
 * and the live endpoints, read many times a second, never need them.
 */
export async function findRoomEntry(db: Executor, teamId: string, ref: string): Promise<RoomEntry | undefined> {
  return byRef(db, teamId, ref, entryById, entryByFriendlyUrl);
}

type RoomLookup<R> = (db: Executor, teamId: string, key: string) => Promise<QueryResult<R>>;

/** Looks `ref` up as an id, then as a friendly_url. */
async function byRef<R>(db: Executor, teamId: string, ref: string, byId: RoomLookup<R>, byFriendlyUrl: RoomLookup<R>): Promise<R | undefined> {
  if (UUID.test(ref)) {
    const [found] = (await byId(db, teamId, ref.toLowerCase())).rows;
    if (found !== undefined) return found;
  }
  // A ref that can be neither names nothing; it never reaches the database (PostgreSQL refuses NUL bytes).
  if (!FRIENDLY_URL.test(ref)) return undefined;
  return (await byFriendlyUrl(db, teamId, ref)).rows[0];
}

const roomById = prepared(2, (db, teamId: string, id: string) => db.selectFrom('rooms').selectAll().where('team_id', '=', teamId).where('id', '=', id));
const roomByFriendlyUrl = prepared(2, (db, teamId: string, friendlyUrl: string) =>
  db.selectFrom('rooms').selectAll().where('team_id', '=', teamId).where('friendly_url', '=', friendlyUrl),
);
const ENTRY = ['id', 'external_id', 'event_seq'] as const;
const entryById = prepared(2, (db, teamId: string, id: string) => db.selectFrom('rooms').select(ENTRY).where('team_id', '=', teamId).where('id', '=', id));
const entryByFriendlyUrl = prepared(2, (db, teamId: string, friendlyUrl: string) =>
  db.selectFrom('rooms').select(ENTRY).where('team_id', '=', teamId).where('friendly_url', '=', friendlyUrl),
);

/** The team's rooms carrying any of `tags` (all rooms when `tags` is empty). */
function teamRooms(db: Executor, teamId: string, tags: readonly string[]) {
  let query = db.selectFrom('rooms').where('team_id', '=', teamId);
  if (tags.length > 0) {
    query = query.where('id', 'in', db.selectFrom('room_tags').select('room_id').where('tag', 'in', [...tags]));
  }
  return query;
}

export async function listRooms(
  db: Executor,
  teamId: string,
  filter: { tags: readonly string[]; window: PageWindow; after: RoomRow | undefined },
): Promise<{ total: number; rows: RoomRow[] }> {
  const counted = await teamRooms(db, teamId, filter.tags)
    .select((eb) => eb.fn.countAll<number | string>().as('count'))
    .executeTakeFirstOrThrow();
  const cursor = filter.after === undefined ? undefined : { createdAt: filter.after.created_at, key: filter.after.id };
  const rows = await pageByCreation(teamRooms(db, teamId, filter.tags).selectAll(), filter.window, 'id', cursor).execute();
  return { total: Number(counted.count), rows };
}

/** The team's rooms with any of the tags; of these rooms only, when given. */
export async function listRoomsWithTags(db: Executor, teamId: string, tags: readonly string[], among?: readonly string[]): Promise<RoomRow[]> {
  if (among?.length === 0) return [];
  let query = teamRooms(db, teamId, tags).selectAll();
  if (among !== undefined) query = query.where('id', 'in', [...among]);
  return query.execute();
}

/**
 * Whether another room has this friendly_url: a room of the team, or any team's room whose page
 * link it is (room_links), so that no team's room can take another team's link.
 */
export async function friendlyUrlTaken(db: Executor, teamId: string, friendlyUrl: string, exceptRoomId?: string): Promise<boolean> {
  let query = db.selectFrom('rooms').select('id').where('team_id', '=', teamId).where('friendly_url', '=', friendlyUrl);
  if (exceptRoomId !== undefined) query = query.where('id', '!=', exceptRoomId);
  if ((await query.executeTakeFirst()) !== undefined) return true;
  const link = await db.selectFrom('room_links').select('room_id').where('friendly_url', '=', friendlyUrl).executeTakeFirst();
  return link !== undefined && link.room_id !== exceptRoomId;
}

/**
 * Makes the room's friendly_url its page link, in place of the name it had. A name another
 * room took meanwhile (another node, between the check and this write) fails the change with
 * the unique index's error, which answers 422.
 */
export async function claimRoomLink(db: Executor, roomId: string, friendlyUrl: string): Promise<void> {
  await db.deleteFrom('room_links').where('room_id', '=', roomId).execute();
  await db.insertInto('room_links').values({ friendly_url: friendlyUrl, room_id: roomId }).execute();
}

export async function insertRoom(db: Executor, row: RoomRow): Promise<void> {
  await db.insertInto('rooms').values(row).execute();
}

/** Writes a room's own columns; the event counter is left alone (only event numbering moves it). */
export async function updateRoom(db: Executor, row: Omit<RoomRow, 'event_seq' | 'phone_connected'>): Promise<void> {
  await db.updateTable('rooms').set(row).where('id', '=', row.id).execute();
}

/** Rooms whose expiry has come by `now`, the earliest first: at most `limit` of them. */
export async function roomsExpiredBy(db: Executor, now: number, limit: number): Promise<Array<Pick<RoomRow, 'id' | 'team_id'>>> {
  return db
    .selectFrom('rooms')
    .select(['id', 'team_id'])
    .where('expires_at', 'is not', null)
    .where('expires_at', '<=', now)
    .orderBy('expires_at')
    .limit(limit)
    .execute();
}

/**
 * The settings of the rooms each transaction deleted: its last events (the leaves, the session's
 * end, `room_deleted`) are sent at its end to the webhooks the room's settings name, which the
 * outbox reads then (findRoomSettings), when the row is gone.
 */
const settingsOfDeleted = new WeakMap<Executor, Map<string, string>>();

export async function deleteRoom(db: Executor, roomId: string): Promise<void> {
  const settings = await findRoomSettings(db, roomId);
  if (settings !== undefined) {
    let deleted = settingsOfDeleted.get(db);
    if (deleted === undefined) settingsOfDeleted.set(db, (deleted = new Map()));
    deleted.set(roomId, settings);
  }
  await db.deleteFrom('room_links').where('room_id', '=', roomId).execute();
  await db.deleteFrom('room_roles').where('room_id', '=', roomId).execute();
  await db.deleteFrom('room_tags').where('room_id', '=', roomId).execute();
  // A tombstone only stops a late `joined` to the room, which its deletion now answers.
  await db.deleteFrom('call_tombstones').where('room_id', '=', roomId).execute();
  await db.deleteFrom('rooms').where('id', '=', roomId).execute();
}

/** The role ids of each room, in the order its participants panel shows them. */
export async function roomRoleIds(db: Executor, roomIds: readonly string[]): Promise<Map<string, string[]>> {
  const byRoom = new Map<string, string[]>(roomIds.map((id) => [id, []]));
  if (roomIds.length === 0) return byRoom;
  const rows = await db.selectFrom('room_roles').selectAll().where('room_id', 'in', [...roomIds]).orderBy('room_id').orderBy('position').execute();
  for (const row of rows) byRoom.get(row.room_id)?.push(row.role_id);
  return byRoom;
}

export async function replaceRoomRoles(db: Executor, roomId: string, roleIds: readonly string[]): Promise<void> {
  await db.deleteFrom('room_roles').where('room_id', '=', roomId).execute();
  if (roleIds.length === 0) return;
  await db
    .insertInto('room_roles')
    .values(roleIds.map((roleId, position) => ({ room_id: roomId, role_id: roleId, position })))
    .execute();
}

/** The tags of each room, sorted. */
export async function roomTags(db: Executor, roomIds: readonly string[]): Promise<Map<string, string[]>> {
  const byRoom = new Map<string, string[]>(roomIds.map((id) => [id, []]));
  if (roomIds.length === 0) return byRoom;
  const rows = await db.selectFrom('room_tags').selectAll().where('room_id', 'in', [...roomIds]).orderBy('room_id').orderBy('tag').execute();
  for (const row of rows) byRoom.get(row.room_id)?.push(row.tag);
  return byRoom;
}

export async function replaceRoomTags(db: Executor, roomId: string, tags: readonly string[]): Promise<void> {
  await db.deleteFrom('room_tags').where('room_id', '=', roomId).execute();
  if (tags.length === 0) return;
  await db
    .insertInto('room_tags')
    .values(tags.map((tag) => ({ room_id: roomId, tag })))
    .execute();
}

/** Which of `tags` at least one of the team's rooms carries. */
export async function existingTeamTags(db: Executor, teamId: string, tags: readonly string[]): Promise<Set<string>> {
  if (tags.length === 0) return new Set();
  const rows = await db
    .selectFrom('room_tags')
    .innerJoin('rooms', 'rooms.id', 'room_tags.room_id')
    .select('room_tags.tag')
    .distinct()
    .where('rooms.team_id', '=', teamId)
    .where('room_tags.tag', 'in', [...tags])
    .execute();
  return new Set(rows.map((row) => row.tag));
}

/** How many of the team's rooms use the role, as their default role or in their roles list. */
export async function countRoomsUsingRole(db: Executor, teamId: string, roleId: string): Promise<number> {
  const row = await db
    .selectFrom('rooms')
    .select((eb) => eb.fn.countAll<number | string>().as('count'))
    // A role is its team's own: only its team's rooms are read (the condition below uses no index).
    .where('team_id', '=', teamId)
    .where((eb) => eb.or([eb('default_role_id', '=', roleId), eb('id', 'in', eb.selectFrom('room_roles').select('room_id').where('role_id', '=', roleId))]))
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

/** Whether a session of the room is live now. */
export async function roomHasLiveSession(db: Executor, roomId: string): Promise<boolean> {
  const row = await db.selectFrom('sessions').select('id').where('room_id', '=', roomId).where('end_time', 'is', null).executeTakeFirst();
  return row !== undefined;
}

/** The team's default room settings document (JSON text; '{}' means every default). */
export async function readTeamRoomSettings(db: Executor, teamId: string): Promise<string> {
  const row = await db.selectFrom('teams').select('room_settings').where('id', '=', teamId).executeTakeFirstOrThrow();
  return row.room_settings;
}

export async function writeTeamRoomSettings(db: Executor, teamId: string, document: string, now: number): Promise<void> {
  await db.updateTable('teams').set({ room_settings: document, updated_at: now }).where('id', '=', teamId).execute();
}


/** A room's own settings (JSON), by the room's id (a change's hooks know no more). */
/** A room's settings document; within the transaction that deleted the room, the settings it had. */
export async function findRoomSettings(db: Executor, roomId: string): Promise<string | undefined> {
  return (await roomSettings(db, roomId)).rows[0]?.settings ?? settingsOfDeleted.get(db)?.get(roomId);
}

const roomSettings = prepared(1, (db, roomId: string) => db.selectFrom('rooms').select('settings').where('id', '=', roomId));
