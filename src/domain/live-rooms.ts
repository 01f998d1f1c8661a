import { findRoom, type RoomEntry } from '../store/repos/rooms.js';
import {
  countLiveRooms,
  findLiveSession,
  findRoomSeq,
  listLiveRooms,
  liveParticipants,
  liveParticipantsOfRooms,
  lockRoom,
  type LiveRoomRow,
  type SessionRow,
} from '../store/repos/roster.js';
import type { Executor } from '../store/store.js';
import type { ChangeRunner } from './changes.js';
import { liveParticipant, liveRoom, type LiveParticipant, type LiveRoom } from './participant-view.js';
import { sharedReads } from './shared-reads.js';

/** The DS list parameters of the all-rooms live endpoints. */
export interface LiveRoomsQuery {
  limit: number;
  offset: number;
  order: 'asc' | 'desc';
  /** A room id or friendly_url: the page starts after that room. */
  after: string | undefined;
}

export interface LiveRoomList<Participants> {
  total_count: number;
  data: Array<LiveRoom<Participants>>;
}

/** What a room stream starts with: the roster, as of the room's event number `seq`. */
export interface RosterSnapshot {
  seq: number;
  data: { room_id: string; session_id: string | null; participants: LiveParticipant[] };
}

/** One room's live entry with its count (0 when nobody is live). */
export async function liveRoomCount(db: Executor, room: RoomEntry, now: number): Promise<LiveRoom<number>> {
  const session = await findLiveSession(db, room.id);
  return liveRoom(room, session, session?.live_participants ?? 0, now);
}

/** A room's live roster as of its event number `seq`. */
interface CachedRoster {
  seq: number;
  session: SessionRow | undefined;
  participants: LiveParticipant[];
}

/**
 * The live rosters of recently read rooms, each kept with the room's event number. Every
 * change to a room's live participants or session emits a room event, which moves that
 * number in the change's own transaction, so a roster whose number still matches the room
 * row's is the current one, on one node or many: reading a 100-participant room costs one
 * room lookup instead of a query that builds 1,700 values. The number is read (with the room)
 * before the roster, so a roster cached under a number is never older than it. Bounded,
 * least recently used out.
 */
export class LiveRosterCache {
  private readonly rooms = new Map<string, CachedRoster>();

  constructor(private readonly capacity = 2000) {}

  /** One room's live entry with its participants (an empty list when nobody is live). */
  async read(db: Executor, room: RoomEntry, now: number): Promise<LiveRoom<LiveParticipant[]>> {
    let roster = this.rooms.get(room.id);
    if (roster !== undefined) this.rooms.delete(room.id);
    if (roster?.seq !== Number(room.event_seq)) {
      const session = await findLiveSession(db, room.id);
      const participants = session === undefined ? [] : (await liveParticipants(db, room.id)).map(liveParticipant);
      roster = { seq: Number(room.event_seq), session, participants };
    }
    this.rooms.set(room.id, roster);
    if (this.rooms.size > this.capacity) this.rooms.delete(this.rooms.keys().next().value as string);
    return liveRoom(room, roster.session, roster.participants, now);
  }
}

/** A page of the team's live rooms as read, before the time of a request is applied to it. */
interface LiveRoomsPage<Participants> {
  total: number;
  rooms: Array<{ row: LiveRoomRow; participants: Participants }>;
}

/**
 * The team's live rooms pages, kept while the store's data version stands (sharedReads). The
 * version moves with every commit on any connection (embedded mode: see Store.dataVersion), so
 * a page kept under the current version is exactly what the queries would read again: a
 * dashboard polling `/rooms/live` between changes costs a version read instead of a count and a
 * hundred-room join. Where the store has no version (cluster mode) every read is a fresh one,
 * shared by the polls of one page that come while it runs. Bounded by weight (rooms plus
 * participants); the time-dependent fields are computed per request.
 */
export class LiveRoomsCache {
  private readonly pages: (key: string, load: () => Promise<LiveRoomsPage<unknown> | undefined>) => Promise<LiveRoomsPage<unknown> | undefined>;

  constructor(
    private readonly db: Executor,
    dataVersion: () => number | undefined,
    maxWeight = 50_000,
  ) {
    this.pages = sharedReads({ version: dataVersion, weigh: pageWeight, maxWeight });
  }

  /** The team's live rooms with their counts. The counts are the sessions' own (kept with every join and leave): one indexed query however many are live. */
  async counts(teamId: string, query: LiveRoomsQuery, now: number): Promise<LiveRoomList<number> | undefined> {
    const page = await this.read(`counts ${teamId} ${pageKey(query)}`, async () => {
      const found = await liveRoomPage(this.db, teamId, query);
      return found && { total: found.total, rooms: found.rows.map((row) => ({ row, participants: row.live_participants })) };
    });
    return page && listOf(page, now);
  }

  /** The team's live rooms, each with its live participants. */
  async participants(teamId: string, query: LiveRoomsQuery, now: number): Promise<LiveRoomList<LiveParticipant[]> | undefined> {
    const page = await this.read(`participants ${teamId} ${pageKey(query)}`, async () => {
      const found = await liveRoomPage(this.db, teamId, query);
      if (found === undefined) return undefined;
      const participants = await liveParticipantsOfRooms(this.db, found.rows.map((row) => row.room_id));
      const byRoom = new Map<string, LiveParticipant[]>(found.rows.map((row) => [row.room_id, []]));
      for (const participant of participants) byRoom.get(participant.room_id)?.push(liveParticipant(participant));
      return { total: found.total, rooms: found.rows.map((row) => ({ row, participants: byRoom.get(row.room_id) ?? [] })) };
    });
    return page && listOf(page, now);
  }

  private read<Participants>(key: string, load: () => Promise<LiveRoomsPage<Participants> | undefined>): Promise<LiveRoomsPage<Participants> | undefined> {
    return this.pages(key, load) as Promise<LiveRoomsPage<Participants> | undefined>;
  }
}

/** A page's weight: its rooms, and their participants where it lists them. */
function pageWeight(page: LiveRoomsPage<unknown> | undefined): number {
  return 1 + (page?.rooms.reduce((sum, room) => sum + 1 + (Array.isArray(room.participants) ? room.participants.length : 0), 0) ?? 0);
}

function pageKey(query: LiveRoomsQuery): string {
  return `${query.limit} ${query.offset} ${query.order} ${query.after ?? ''}`;
}

function listOf<Participants>(page: LiveRoomsPage<Participants>, now: number): LiveRoomList<Participants> {
  return { total_count: page.total, data: page.rooms.map(({ row, participants }) => liveRoom(entryOf(row), row, participants, now)) };
}

/**
 * Reads a room's roster together with its event number, consistently: the room's lock makes a
 * roster change in flight finish first (PostgreSQL), so no event numbered at or below `seq` is
 * missing from the roster and none above it is in it. Runs as a change, as everything that
 * takes a write lock does; it emits nothing. Undefined when the room is gone.
 */
export async function readRosterSnapshot(changes: ChangeRunner, roomId: string): Promise<RosterSnapshot | undefined> {
  return changes.run(async function readSnapshot(change) {
    if (!(await lockRoom(change.trx, roomId))) return undefined;
    const seq = (await findRoomSeq(change.trx, roomId)) ?? 0;
    const session = await findLiveSession(change.trx, roomId);
    const participants = session === undefined ? [] : await liveParticipants(change.trx, roomId);
    return { seq, data: { room_id: roomId, session_id: session?.id ?? null, participants: participants.map(liveParticipant) } };
  });
}

/** The page's rows; undefined when `after` names no room of the team. */
async function liveRoomPage(db: Executor, teamId: string, query: LiveRoomsQuery): Promise<{ total: number; rows: LiveRoomRow[] } | undefined> {
  const after = query.after === undefined ? undefined : await findRoom(db, teamId, query.after);
  if (query.after !== undefined && after === undefined) return undefined;
  const total = await countLiveRooms(db, teamId);
  return { total, rows: await listLiveRooms(db, teamId, query, after) };
}

function entryOf(row: LiveRoomRow): { id: string; external_id: string | null } {
  return { id: row.room_id, external_id: row.external_id };
}
