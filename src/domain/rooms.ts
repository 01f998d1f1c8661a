import { randomBytes, randomUUID } from 'node:crypto';
import { ApiError, fieldError, notFound, validationError } from '../api/errors.js';
import { invalidAfter } from '../api/pagination.js';
import { listTeamRoles, type RoleRow } from '../store/repos/roles.js';
import { webhooksForTeam } from '../store/repos/webhooks.js';
import { anonymiseStep, clearAnonymisePending, markAnonymisePending, pendingAnonymisations, type RecordCursor } from '../store/repos/roster.js';
import { nextTurn } from '../store/group-commit.js';
import {
  deleteRoom,
  existingTeamTags,
  findRoom,
  claimRoomLink,
  friendlyUrlTaken,
  insertRoom,
  listRooms,
  listRoomsWithTags,
  readTeamRoomSettings,
  replaceRoomRoles,
  replaceRoomTags,
  roomHasLiveSession,
  roomRoleIds,
  roomTags,
  updateRoom,
  type RoomRow,
} from '../store/repos/rooms.js';
import type { PageWindow } from '../store/repos/paging.js';
import type { Executor } from '../store/store.js';
import type { Change } from './changes.js';
import { leaveEveryone, lockRosterRoom } from './roster-changes.js';
import { isoTime } from './clock.js';
import type { CoreDeps } from './deps.js';
import { applyRoleRefs, chooseTeamRoles, describeRoles, type RoleChoice, type RoleRefs, type RoleSummary, type RoomRole } from './roles.js';
import {
  ROOM_SETTING_FALLBACKS,
  SHARED_SETTING_NAMES,
  fromColumns,
  parseExpiry,
  readTeamDefaults,
  toColumns,
  updateTeamDefaults,
  type Breakout,
  type RoomSettings,
  type TeamDefaults,
  type TeamDefaultsDocument,
  type TeamDefaultsInput,
} from './room-settings.js';

/** A room with its settings and its role, breakout and tag lists resolved. */
export interface Room {
  id: string;
  friendly_url: string;
  settings: RoomSettings;
  roles: RoomRole[];
  default_role: RoleSummary;
  breakouts: Breakout[];
  tags: string[];
  created_at: number;
  updated_at: number;
}

/** What POST and PATCH /rooms accept: plain settings, role references and the room's own lists. */
export interface RoomInput extends Partial<RoomSettings>, RoleRefs {
  friendly_url?: string;
  tags?: string[];
  /** Names of new breakout rooms, or ids of this room's breakout rooms to keep. */
  breakouts?: string[];
}

export interface RoomListFilter {
  window: PageWindow;
  /** A room id or friendly_url the page starts after. */
  after: string | undefined;
  /** Rooms carrying any of these tags; all rooms when empty. */
  tags: string[];
}

/**
 * What resource flags a delete asked for. roomline keeps no media or library, so
 * `delete_resources` and `delete_library` only guard live rooms; `delete_history` also
 * anonymises the room's participation records, as DS does.
 */
export interface DeleteOptions {
  delete_resources?: boolean;
  delete_history?: boolean;
  delete_library?: boolean;
}

export interface RoomService {
  list(teamId: string, filter: RoomListFilter): Promise<{ total: number; rooms: Room[] }>;
  /** The room named by its id or friendly_url; not found (404) otherwise. */
  get(teamId: string, ref: string): Promise<Room>;
  /** Creates a room; what it does not set comes from the team's default room settings. */
  create(teamId: string, input: RoomInput): Promise<Room>;
  /** Changes what is given; locking or unlocking emits room_locked / room_unlocked. */
  update(teamId: string, ref: string, input: RoomInput): Promise<Room>;
  /** Deletes the room and emits room_deleted. */
  remove(teamId: string, ref: string, options: DeleteOptions): Promise<void>;
  /** Deletes every room carrying any of `tags` (each must be a tag of the team); how many went. */
  removeTagged(teamId: string, tags: string[], options: DeleteOptions): Promise<number>;
  /** Finishes anonymising the records of rooms deleted with `delete_history` (at start, after a stop broke it off). */
  anonymisePending(): Promise<void>;
  /** The team's default room settings (GET /api/v1). */
  defaults(teamId: string): Promise<TeamDefaults>;
  /** Changes the team's defaults; rooms created afterwards inherit them (PATCH /api/v1). */
  updateDefaults(teamId: string, input: TeamDefaultsInput): Promise<TeamDefaults>;
}

/** First path segments the server answers itself: a room page there would be hidden. */
export const SERVER_PATH_NAMES: readonly string[] = ['api', 'docs', 'healthz', 'readyz'];

/**
 * friendly_urls a room may not take: the server's own first path segments, and `live`, which
 * `/rooms/live` answers with the team's live rooms, so a room of that name could not be read,
 * changed or deleted by it.
 */
export const RESERVED_FRIENDLY_URLS: readonly string[] = [...SERVER_PATH_NAMES, 'live'];

/** Records anonymised per transaction, and rooms deleted by tag per change: a few milliseconds' work each. */
const ANONYMISE_STEP_ROWS = 1000;
const ROOMS_PER_CHANGE = 100;

export function createRoomService(deps: CoreDeps): RoomService {
  const { store, changes } = deps;

  async function list(teamId: string, filter: RoomListFilter): Promise<{ total: number; rooms: Room[] }> {
    const after = filter.after === undefined ? undefined : await findRoom(store.db, teamId, filter.after);
    if (filter.after !== undefined && after === undefined) throw invalidAfter();
    const { total, rows } = await listRooms(store.db, teamId, { tags: filter.tags, window: filter.window, after });
    return { total, rooms: await describeRooms(store.db, teamId, rows) };
  }

  async function get(teamId: string, ref: string): Promise<Room> {
    const row = await findRoom(store.db, teamId, ref);
    if (row === undefined) throw notFound();
    return describeOne(store.db, teamId, row);
  }

  async function create(teamId: string, input: RoomInput): Promise<Room> {
    return changes.run(async function createRoom(change) {
      const { friendly_url: friendlyUrl, tags, breakouts, roles, default_role, private_group_chat_roles, ...plain } = input;
      const teamRoles = await listTeamRoles(change.trx, teamId);
      const teamDefaults = JSON.parse(await readTeamRoomSettings(change.trx, teamId)) as TeamDefaultsDocument;
      const choice = applyRoleRefs(teamRoles, chooseTeamRoles(teamRoles, teamDefaults), { roles, default_role, private_group_chat_roles });
      const inherited = Object.fromEntries(SHARED_SETTING_NAMES.filter((name) => teamDefaults[name] !== undefined).map((name) => [name, teamDefaults[name]]));
      const id = randomUUID();
      const settings = withinLimits({ ...ROOM_SETTING_FALLBACKS, ...inherited, ...checkExpiry(await checkRoomWebhooks(change.trx, teamId, plain), change.now) });
      const row: RoomRow = {
        ...toColumns(settings, choice, toBreakouts([], breakouts)),
        id,
        team_id: teamId,
        friendly_url: friendlyUrl === undefined ? await generateFriendlyUrl(change.trx, teamId) : await checkFriendlyUrl(change.trx, teamId, friendlyUrl, id),
        phone_connected: 0,
        event_seq: 0,
        created_at: change.now,
        updated_at: change.now,
      };
      await insertRoom(change.trx, row);
      await claimRoomLink(change.trx, id, row.friendly_url);
      await replaceRoomRoles(change.trx, id, choice.roleIds);
      await replaceRoomTags(change.trx, id, uniqueTags(tags ?? []));
      return describeOne(change.trx, teamId, row);
    });
  }

  async function update(teamId: string, ref: string, input: RoomInput): Promise<Room> {
    return changes.run(async function updateRoomSettings(change) {
      const current = await findRoom(change.trx, teamId, ref);
      if (current === undefined) throw notFound();
      const { friendly_url: friendlyUrl, tags, breakouts, roles, default_role, private_group_chat_roles, ...plain } = input;
      const stored = fromColumns(current);
      const currentChoice: RoleChoice = {
        roleIds: (await roomRoleIds(change.trx, [current.id])).get(current.id) ?? [],
        defaultRoleId: current.default_role_id,
        privateGroupChatRoleIds: stored.privateGroupChatRoleIds,
      };
      const choice = applyRoleRefs(await listTeamRoles(change.trx, teamId), currentChoice, { roles, default_role, private_group_chat_roles });
      const settings = withinLimits({ ...stored.settings, ...checkExpiry(await checkRoomWebhooks(change.trx, teamId, plain), change.now) });
      const row = {
        ...current,
        ...toColumns(settings, choice, toBreakouts(stored.breakouts, breakouts)),
        // Its own name again is no change: a room that shares an older link's name keeps it.
        friendly_url: friendlyUrl === undefined || friendlyUrl === current.friendly_url ? current.friendly_url : await checkFriendlyUrl(change.trx, teamId, friendlyUrl, current.id),
        updated_at: change.now,
      };
      const { event_seq: _seq, phone_connected: _phone, ...columns } = row;
      await updateRoom(change.trx, columns);
      if (row.friendly_url !== current.friendly_url) await claimRoomLink(change.trx, current.id, row.friendly_url);
      if (roles !== undefined) await replaceRoomRoles(change.trx, current.id, choice.roleIds);
      if (tags !== undefined) await replaceRoomTags(change.trx, current.id, uniqueTags(tags));
      if (row.is_locked !== current.is_locked) {
        change.emit({ name: row.is_locked === 1 ? 'room_locked' : 'room_unlocked', teamId, roomId: row.id, data: { ...roomEventData(row), is_locked: row.is_locked === 1 } });
      }
      return describeOne(change.trx, teamId, row);
    });
  }

  async function remove(teamId: string, ref: string, options: DeleteOptions): Promise<void> {
    await changes.run(async function deleteOneRoom(change) {
      const room = await findRoom(change.trx, teamId, ref);
      if (room === undefined) throw notFound();
      await deleteRoomWithEvent(change, room, options);
    });
    if (options.delete_history === true) await anonymisePending(teamId);
  }

  /**
   * Anonymises the records of the deleted rooms marked for it (the team's, or every team's at
   * start), a thousand records a transaction with a turn of the event loop between: one UPDATE
   * of a room's whole history held an embedded server's other requests for as long (160 ms for
   * a room of 100,000 records here). The mark goes once all are done, so a stop in between is
   * finished at the next start; meanwhile the room is deleted, and its request not yet answered.
   */
  async function anonymisePending(teamId?: string): Promise<void> {
    for (const roomId of await pendingAnonymisations(store.db, teamId)) {
      let after: RecordCursor | undefined;
      do {
        const from = after;
        after = await store.transaction((trx) => anonymiseStep(trx, roomId, from, ANONYMISE_STEP_ROWS));
        await nextTurn();
      } while (after !== undefined);
      await store.transaction((trx) => clearAnonymisePending(trx, roomId));
    }
  }

  async function removeTagged(teamId: string, tags: string[], options: DeleteOptions): Promise<number> {
    // No tag would match every room: never read it as "delete them all".
    if (tags.length === 0) throw fieldError('tags', 'The tags field is required.');
    const known = await existingTeamTags(store.db, teamId, tags);
    const unknown = Object.fromEntries(tags.flatMap((tag, index) => (known.has(tag) ? [] : [[`tags.${index}`, [`The selected tags.${index} is invalid.`]]])));
    if (Object.keys(unknown).length > 0) throw validationError(unknown);
    // A hundred rooms a change, with a turn of the event loop between: in one change, 2,500
    // rooms held an embedded server's other requests for 0.4–0.7 s. Each change reads its rooms
    // again, so a room deleted or untagged meanwhile is left alone. Broken off, the same request
    // again deletes the rest.
    const ids = (await listRoomsWithTags(store.db, teamId, tags)).map((room) => room.id);
    let deleted = 0;
    for (let from = 0; from < ids.length; from += ROOMS_PER_CHANGE) {
      deleted += await changes.run(async function deleteTaggedRooms(change) {
        let count = 0;
        for (const room of await listRoomsWithTags(change.trx, teamId, tags, ids.slice(from, from + ROOMS_PER_CHANGE))) {
          // As DS does, a room whose session is live is skipped: a tag's clean-up never ends a
          // call in progress. Locked first, so nobody joins between the check and the delete.
          await lockRosterRoom(change, room.id);
          if (await roomHasLiveSession(change.trx, room.id)) continue;
          await deleteRoomWithEvent(change, room, options);
          count++;
        }
        return count;
      });
      await nextTurn();
    }
    if (options.delete_history === true) await anonymisePending(teamId);
    return deleted;
  }

  return {
    list,
    get,
    create,
    update,
    remove,
    removeTagged,
    anonymisePending: () => anonymisePending(),
    defaults: (teamId) => readTeamDefaults(store.db, teamId),
    updateDefaults: (teamId, input) => changes.run((change) => updateTeamDefaults(change, teamId, input)),
  };
}

/** Deletes a room in a change: whoever is in it leaves (at `leftAt`, if earlier: an expiry), its session ends, and room_deleted is emitted. */
export async function deleteRoomWithEvent(change: Change, room: RoomRow, options: DeleteOptions, leftAt?: number): Promise<void> {
  const wantsResourcesGone = options.delete_resources === true || options.delete_history === true || options.delete_library === true;
  if (wantsResourcesGone && (await roomHasLiveSession(change.trx, room.id))) {
    throw new ApiError('unprocessable', 'Cannot delete resources of a live room.');
  }
  // Whoever is still in the room leaves with it, and its session ends: the records stay.
  await lockRosterRoom(change, room.id);
  await leaveEveryone(change, room, 'room_deleted', leftAt);
  // DS: "anonymises PII for all archived participants of this room". The records stay, with
  // their times, roles and devices, so usage and statistics are unchanged. They are anonymised
  // once this change commits, a step at a time (anonymisePending): marked here, in the change.
  if (options.delete_history === true) await markAnonymisePending(change.trx, room.id);
  await deleteRoom(change.trx, room.id);
  change.emit({ name: 'room_deleted', teamId: room.team_id, roomId: room.id, data: roomEventData(room) });
}

function roomEventData(room: RoomRow): Record<string, unknown> {
  return { room_id: room.id, friendly_url: room.friendly_url, external_id: room.external_id };
}

/**
 * A room's `webhooks` must name webhooks of the team (DS: "an array of webhooks IDs"): an id that
 * names none would quietly turn every webhook off for the room. Kept in lower case, as the ids
 * of webhooks are, and once each.
 */
async function checkRoomWebhooks(db: Executor, teamId: string, input: Partial<RoomSettings>): Promise<Partial<RoomSettings>> {
  if (input.webhooks === undefined || input.webhooks.length === 0) return input;
  const known = new Set((await webhooksForTeam(db, teamId)).map((webhook) => webhook.id));
  const ids = input.webhooks.map((id) => id.toLowerCase());
  const problems = Object.fromEntries(ids.flatMap((id, index) => (known.has(id) ? [] : [[`webhooks.${index}`, [`The selected webhooks.${index} is invalid.`]]])));
  if (Object.keys(problems).length > 0) throw validationError(problems);
  return { ...input, webhooks: [...new Set(ids)] };
}

/** A given expiry must be a real date in the future; it is kept as ISO-8601 with a Z. */
function checkExpiry(input: Partial<RoomSettings>, now: number): Partial<RoomSettings> {
  if (input.expires_at === undefined || input.expires_at === null) return input;
  const time = parseExpiry(input.expires_at);
  if (Number.isNaN(time)) throw fieldError('expires_at', 'The expires_at field must be a valid date (YYYY-MM-DD hh:mm:ss).');
  if (time <= now) throw fieldError('expires_at', 'The expires_at field must be a date after now.');
  return { ...input, expires_at: isoTime(time) };
}

/** Broadcasters are limited by participants: a larger max_broadcasters is lowered to max_participants. */
function withinLimits(settings: RoomSettings): RoomSettings {
  return { ...settings, max_broadcasters: Math.min(settings.max_broadcasters, settings.max_participants) };
}

async function checkFriendlyUrl(db: Executor, teamId: string, friendlyUrl: string, roomId: string): Promise<string> {
  if (RESERVED_FRIENDLY_URLS.includes(friendlyUrl.toLowerCase())) throw fieldError('friendly_url', 'The selected friendly_url is reserved.');
  if (await friendlyUrlTaken(db, teamId, friendlyUrl, roomId)) throw fieldError('friendly_url', 'The friendly_url has already been taken.');
  return friendlyUrl;
}

const URL_SAFE = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** 32 random letters and digits, like DS generates, unique in the team. */
async function generateFriendlyUrl(db: Executor, teamId: string): Promise<string> {
  for (;;) {
    const candidate = [...randomBytes(32)].map((byte) => URL_SAFE[byte % URL_SAFE.length]).join('');
    if (!(await friendlyUrlTaken(db, teamId, candidate))) return candidate;
  }
}

function uniqueTags(tags: readonly string[]): string[] {
  return [...new Set(tags)];
}

/** Breakout refs keep this room's breakout rooms they name by id; any other ref is the name of a new one. */
function toBreakouts(current: readonly Breakout[], refs: readonly string[] | undefined): Breakout[] {
  if (refs === undefined) return [...current];
  return refs.map((ref) => current.find((breakout) => breakout.id === ref) ?? { id: randomUUID(), name: ref });
}

async function describeOne(db: Executor, teamId: string, row: RoomRow): Promise<Room> {
  const [room] = await describeRooms(db, teamId, [row]);
  return room!;
}

async function describeRooms(db: Executor, teamId: string, rows: readonly RoomRow[]): Promise<Room[]> {
  const ids = rows.map((row) => row.id);
  const teamRoles = await listTeamRoles(db, teamId);
  const rolesByRoom = await roomRoleIds(db, ids);
  const tagsByRoom = await roomTags(db, ids);
  return rows.map((row) => describeRoom(row, teamRoles, rolesByRoom.get(row.id) ?? [], tagsByRoom.get(row.id) ?? []));
}

function describeRoom(row: RoomRow, teamRoles: readonly RoleRow[], roleIds: string[], tags: string[]): Room {
  const { settings, privateGroupChatRoleIds, breakouts } = fromColumns(row);
  const { roles, default_role } = describeRoles(teamRoles, { roleIds, defaultRoleId: row.default_role_id, privateGroupChatRoleIds });
  return { id: row.id, friendly_url: row.friendly_url, settings, roles, default_role, breakouts, tags, created_at: row.created_at, updated_at: row.updated_at };
}
