import type { Executor } from '../store.js';
import { pageByCreation, type PageCursor, type PageWindow } from './paging.js';
import type { ActivityRow, ParticipantRow, SessionRow } from './roster.js';

/**
 * Session history: sessions and participation records as the lists and detail endpoints read
 * them, live or long over, and what a room looked like for the history of a deleted room.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Ids are UUIDs: anything else names nothing and never reaches the database. */
export function isRecordId(value: string): boolean {
  return UUID.test(value);
}

/** [from, to) in epoch ms, each bound optional. */
export interface TimeBounds {
  from?: number;
  to?: number;
}

export interface SessionFilter {
  teamId: string;
  roomId?: string;
  live?: boolean;
  /** Sessions that started in this range. */
  started: TimeBounds;
}

export interface ParticipantFilter {
  teamId: string;
  roomId?: string;
  sessionId?: string;
  live?: boolean;
  /** Participation records that began in this range. */
  joined: TimeBounds;
}

export interface Page<Row> {
  total: number;
  rows: Row[];
}

function filteredSessions(db: Executor, filter: SessionFilter) {
  let query = db.selectFrom('sessions').where('team_id', '=', filter.teamId);
  if (filter.roomId !== undefined) query = query.where('room_id', '=', filter.roomId);
  if (filter.live !== undefined) query = query.where('end_time', filter.live ? 'is' : 'is not', null);
  if (filter.started.from !== undefined) query = query.where('start_time', '>=', filter.started.from);
  if (filter.started.to !== undefined) query = query.where('start_time', '<', filter.started.to);
  return query;
}

function filteredParticipants(db: Executor, filter: ParticipantFilter) {
  let query = db.selectFrom('participants');
  // A session's records are found by the session's index, its team checked on the session: with
  // the team's on the same query, SQLite (which has no statistics to tell them apart) walked the
  // team's whole history to find one session's records.
  if (filter.sessionId !== undefined) {
    const { sessionId, teamId } = filter;
    query = query.where('session_id', '=', sessionId).where((eb) => eb(eb.selectFrom('sessions').select('team_id').where('id', '=', sessionId), '=', teamId));
  } else {
    query = query.where('team_id', '=', filter.teamId);
  }
  if (filter.roomId !== undefined) query = query.where('room_id', '=', filter.roomId);
  if (filter.live !== undefined) query = query.where('leave_time', filter.live ? 'is' : 'is not', null);
  if (filter.joined.from !== undefined) query = query.where('join_time', '>=', filter.joined.from);
  if (filter.joined.to !== undefined) query = query.where('join_time', '<', filter.joined.to);
  return query;
}

export async function findTeamSession(db: Executor, teamId: string, sessionId: string): Promise<SessionRow | undefined> {
  if (!isRecordId(sessionId)) return undefined;
  return db.selectFrom('sessions').selectAll().where('team_id', '=', teamId).where('id', '=', sessionId.toLowerCase()).executeTakeFirst();
}

export async function findTeamParticipant(db: Executor, teamId: string, participantId: string): Promise<ParticipantRow | undefined> {
  if (!isRecordId(participantId)) return undefined;
  return db.selectFrom('participants').selectAll().where('team_id', '=', teamId).where('id', '=', participantId.toLowerCase()).executeTakeFirst();
}

/** One page of sessions, by start time (the shared paging orders by `created_at`: the start time goes by that name). */
export async function pageSessions(db: Executor, filter: SessionFilter, window: PageWindow, after: SessionRow | undefined): Promise<Page<SessionRow>> {
  const counted = await filteredSessions(db, filter)
    .select((eb) => eb.fn.countAll<number | string>().as('count'))
    .executeTakeFirstOrThrow();
  const listed = filteredSessions(db, filter).selectAll().select('start_time as created_at').as('listed');
  const cursor: PageCursor | undefined = after === undefined ? undefined : { createdAt: after.start_time, key: after.id };
  const rows = await pageByCreation(db.selectFrom(listed).selectAll(), window, 'id', cursor).execute();
  return { total: Number(counted.count), rows: rows.map(({ created_at: _createdAt, ...row }) => row) };
}

/** One page of participation records, by join time (named `created_at` for the shared paging). */
export async function pageParticipants(db: Executor, filter: ParticipantFilter, window: PageWindow, after: ParticipantRow | undefined): Promise<Page<ParticipantRow>> {
  const counted = await filteredParticipants(db, filter)
    .select((eb) => eb.fn.countAll<number | string>().as('count'))
    .executeTakeFirstOrThrow();
  const listed = filteredParticipants(db, filter).selectAll().select('join_time as created_at').as('listed');
  const cursor: PageCursor | undefined = after === undefined ? undefined : { createdAt: after.join_time, key: after.id };
  const rows = await pageByCreation(db.selectFrom(listed).selectAll(), window, 'id', cursor).execute();
  return { total: Number(counted.count), rows: rows.map(({ created_at: _createdAt, ...row }) => row) };
}

/** What happened to a participant while live (mute, hands), in time order. */
export async function activitiesOf(db: Executor, participantId: string): Promise<ActivityRow[]> {
  return db.selectFrom('participant_activity').selectAll().where('participant_id', '=', participantId).orderBy('at', 'asc').execute();
}

export async function findLiveParticipant(db: Executor, roomId: string, participantId: string): Promise<ParticipantRow | undefined> {
  if (!isRecordId(participantId)) return undefined;
  return db
    .selectFrom('participants')
    .selectAll()
    .where('room_id', '=', roomId)
    .where('id', '=', participantId.toLowerCase())
    .where('leave_time', 'is', null)
    .executeTakeFirst();
}

/** A live session of a room with a session_length, on any team. */
export interface LimitedSession {
  session_id: string;
  team_id: string;
  room_id: string;
  start_time: number;
  session_length: number;
}

export async function liveSessionsWithLength(db: Executor): Promise<LimitedSession[]> {
  // From the rooms with a length (their own index, 009_timed_rooms) to each one's live session.
  const rows = await db
    .selectFrom('rooms')
    .innerJoin('sessions', 'sessions.room_id', 'rooms.id')
    .select(['sessions.id as session_id', 'sessions.team_id', 'sessions.room_id', 'sessions.start_time', 'rooms.session_length'])
    .where('rooms.session_length', 'is not', null)
    .where('sessions.end_time', 'is', null)
    .execute();
  return rows.map((row) => ({ ...row, session_length: Number(row.session_length) }));
}

// --- rooms in history -----------------------------------------------------------------------

/** What history shows of a room: the room itself, or what was recorded of it before it was deleted. */
export interface RoomFacts {
  id: string;
  friendly_url: string | null;
  description: string | null;
  external_id: string | null;
  privacy: string | null;
  max_participants: number | null;
  is_deleted: boolean;
}

/** The facts of each room, live or deleted; a room deleted before anything was recorded keeps only its id. */
export async function roomFacts(db: Executor, teamId: string, roomIds: readonly string[]): Promise<Map<string, RoomFacts>> {
  const ids = [...new Set(roomIds)];
  const facts = new Map<string, RoomFacts>();
  if (ids.length === 0) return facts;
  const columns = ['friendly_url', 'description', 'external_id', 'privacy', 'max_participants'] as const;
  const rooms = await db.selectFrom('rooms').select(['id', ...columns]).where('team_id', '=', teamId).where('id', 'in', ids).execute();
  for (const room of rooms) facts.set(room.id, { ...room, is_deleted: false });
  const deleted = ids.filter((id) => !facts.has(id));
  if (deleted.length > 0) {
    const recorded = await db.selectFrom('room_history').select(['room_id', ...columns]).where('team_id', '=', teamId).where('room_id', 'in', deleted).execute();
    for (const { room_id, ...room } of recorded) facts.set(room_id, { id: room_id, ...room, is_deleted: true });
  }
  for (const id of deleted) {
    if (!facts.has(id)) facts.set(id, { id, friendly_url: null, description: null, external_id: null, privacy: null, max_participants: null, is_deleted: true });
  }
  return facts;
}

/** Whether the team's history records this room (one that had a session, deleted or not). */
export async function isRecordedRoom(db: Executor, teamId: string, roomId: string): Promise<boolean> {
  const row = await db.selectFrom('room_history').select('room_id').where('team_id', '=', teamId).where('room_id', '=', roomId).executeTakeFirst();
  return row !== undefined;
}

/** Records the room as it is now, replacing what was recorded before; nothing when the room is gone. */
export async function recordRoomHistory(db: Executor, roomId: string, now: number): Promise<void> {
  const room = await db
    .selectFrom('rooms')
    .select(['id', 'team_id', 'friendly_url', 'description', 'external_id', 'privacy', 'max_participants'])
    .where('id', '=', roomId)
    .executeTakeFirst();
  if (room === undefined) return;
  const { id, ...facts } = room;
  await db
    .insertInto('room_history')
    .values({ room_id: id, ...facts, recorded_at: now })
    .onConflict((oc) => oc.column('room_id').doUpdateSet({ ...facts, recorded_at: now }))
    .execute();
}
