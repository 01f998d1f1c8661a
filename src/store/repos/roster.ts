import type { Executor } from '../store.js';
import { pageByCreation, type PageCursor, type PageWindow } from './paging.js';
import type { RoomRow } from './rooms.js';
import type { ParticipantActivityTable, ParticipantTable, SessionTable } from '../schema.js';
import { prepared, preparedList, rowShape, VALUES } from './prepared.js';

export type ParticipantRow = ParticipantTable;
export type SessionRow = SessionTable;
export type ActivityRow = ParticipantActivityTable;

/** The fields of a live participant that may change while it stays in the room. */
export type ParticipantPatch = Partial<Pick<ParticipantRow, 'name' | 'caller_number' | 'external_id' | 'muted' | 'hand_raised'>>;

/**
 * Takes the room row's lock for the rest of the transaction (PostgreSQL) with a write that
 * changes nothing, so concurrent roster changes of one room run one after the other.
 * Answers false when the room is gone.
 */
export async function lockRoom(db: Executor, roomId: string): Promise<boolean> {
  const result = await lockRoomRow(db, roomId);
  return Number(result.numAffectedRows ?? 0) > 0;
}

const lockRoomRow = prepared(1, (db, roomId: string) =>
  db
    .updateTable('rooms')
    .set((eb) => ({ event_seq: eb.ref('event_seq') }))
    .where('id', '=', roomId),
);

/** Moves the room's event counter on by `count` and answers the new value (undefined when the room is gone). */
export async function advanceRoomSeq(db: Executor, roomId: string, count: number): Promise<number | undefined> {
  const [row] = (await advanceRoomSeqRow(db, count, roomId)).rows;
  return row === undefined ? undefined : Number(row.event_seq);
}

const advanceRoomSeqRow = prepared(2, (db, count: number, roomId: string) =>
  db
    .updateTable('rooms')
    .set((eb) => ({ event_seq: eb('event_seq', '+', count) }))
    .where('id', '=', roomId)
    .returning('event_seq'),
);

export async function findRoomSeq(db: Executor, roomId: string): Promise<number | undefined> {
  const row = await db.selectFrom('rooms').select('event_seq').where('id', '=', roomId).executeTakeFirst();
  return row === undefined ? undefined : Number(row.event_seq);
}

/** The last event number of each of these rooms (rooms that no longer exist are absent). */
export async function findRoomSeqs(db: Executor, roomIds: readonly string[]): Promise<Map<string, number>> {
  const seqs = new Map<string, number>();
  for (let start = 0; start < roomIds.length; start += 500) {
    const rows = await db.selectFrom('rooms').select(['id', 'event_seq']).where('id', 'in', roomIds.slice(start, start + 500)).execute();
    for (const row of rows) seqs.set(row.id, Number(row.event_seq));
  }
  return seqs;
}

export async function findRoleName(db: Executor, roleId: string): Promise<string | undefined> {
  return (await roleNameOf(db, roleId)).rows[0]?.name;
}

// Every join reads it: building the query each time cost more than running it.
const roleNameOf = prepared(1, (db, roleId: string) => db.selectFrom('roles').select('name').where('id', '=', roleId));

export async function setPhoneConnected(db: Executor, roomId: string, connected: boolean): Promise<void> {
  await db
    .updateTable('rooms')
    .set({ phone_connected: connected ? 1 : 0 })
    .where('id', '=', roomId)
    .execute();
}

// --- sessions -------------------------------------------------------------------------------

export async function findLiveSession(db: Executor, roomId: string): Promise<SessionRow | undefined> {
  return (await liveSessionOf(db, roomId)).rows[0];
}

const liveSessionOf = prepared(1, (db, roomId: string) => db.selectFrom('sessions').selectAll().where('room_id', '=', roomId).where('end_time', 'is', null));

export async function insertSession(db: Executor, session: SessionRow): Promise<void> {
  await db.insertInto('sessions').values(session).execute();
}

/** Moves the session's live count by `delta` and answers the new count. */
export async function addLiveParticipants(db: Executor, sessionId: string, delta: number): Promise<number> {
  const [row] = (await addToLiveCount(db, delta, sessionId)).rows;
  if (row === undefined) throw new Error(`session ${sessionId} is gone`);
  return Number(row.live_participants);
}

const addToLiveCount = prepared(2, (db, delta: number, sessionId: string) =>
  db
    .updateTable('sessions')
    .set((eb) => ({ live_participants: eb('live_participants', '+', delta) }))
    .where('id', '=', sessionId)
    .returning('live_participants'),
);

export async function closeSession(db: Executor, sessionId: string, endTime: number, reason: string): Promise<SessionRow> {
  return db
    .updateTable('sessions')
    .set({ end_time: endTime, end_reason: reason })
    .where('id', '=', sessionId)
    .returningAll()
    .executeTakeFirstOrThrow();
}

// --- participants ---------------------------------------------------------------------------

export async function insertParticipants(db: Executor, rows: readonly ParticipantRow[]): Promise<void> {
  if (rows.length > 0) await insertParticipantRows(db, rows);
}

/** Every column of a participation row, in the order its values are bound. */
const PARTICIPANT_COLUMNS = [
  'id',
  'team_id',
  'room_id',
  'session_id',
  'type',
  'name',
  'external_id',
  'role_id',
  'role_name',
  'call_id',
  'caller_number',
  'device',
  'join_time',
  'leave_time',
  'leave_reason',
  'muted',
  'hand_raised',
] as const satisfies ReadonlyArray<keyof ParticipantRow>;

const insertParticipantRows = preparedList(rowShape<ParticipantRow>()(PARTICIPANT_COLUMNS), 0, (db, rows) => db.insertInto('participants').values([...rows]));

export async function updateParticipant(db: Executor, participantId: string, patch: ParticipantPatch): Promise<void> {
  await db.updateTable('participants').set(patch).where('id', '=', participantId).execute();
}

export async function markParticipantsLeft(db: Executor, participantIds: readonly string[], leaveTime: number, reason: string): Promise<void> {
  if (participantIds.length > 0) await markLeft(db, participantIds, leaveTime, reason);
}

const markLeft = preparedList(VALUES, 2, (db, ids, leaveTime: number, reason: string) =>
  db
    .updateTable('participants')
    .set({ leave_time: leaveTime, leave_reason: reason })
    .where('id', 'in', ids),
);

/** Forgets who the room's participants were: their names, external ids, phone numbers and call ids. */
/** Marks a room being deleted with `delete_history`: its records are anonymised once the deletion has committed. */
export async function markAnonymisePending(db: Executor, roomId: string): Promise<void> {
  await db.updateTable('room_history').set({ anonymise_pending: 1 }).where('room_id', '=', roomId).execute();
}

/** Deleted rooms whose records wait to be anonymised: the team's, or every team's. */
export async function pendingAnonymisations(db: Executor, teamId?: string): Promise<string[]> {
  let query = db.selectFrom('room_history').select('room_id').where('anonymise_pending', '=', 1);
  if (teamId !== undefined) query = query.where('team_id', '=', teamId);
  return (await query.execute()).map((row) => row.room_id);
}

export interface RecordCursor {
  join_time: number;
  id: string;
}

/**
 * Anonymises up to `rows` of a room's participation records, in order of join time after
 * `after`, and answers where the next step begins (undefined when none is left). The records
 * stay, with their times, roles and devices.
 */
export async function anonymiseStep(db: Executor, roomId: string, after: RecordCursor | undefined, rows: number): Promise<RecordCursor | undefined> {
  let query = db.selectFrom('participants').select(['join_time', 'id']).where('room_id', '=', roomId);
  if (after !== undefined) query = query.where('join_time', '>=', after.join_time).where((eb) => eb.or([eb('join_time', '>', after.join_time), eb('id', '>', after.id)]));
  const step = await query.orderBy('join_time').orderBy('id').limit(rows).execute();
  if (step.length === 0) return undefined;
  await db
    .updateTable('participants')
    .set({ name: null, external_id: null, caller_number: null, call_id: null })
    .where('id', 'in', step.map((row) => row.id))
    .execute();
  return step.length < rows ? undefined : step[step.length - 1];
}

/** The room's records are all anonymised. */
export async function clearAnonymisePending(db: Executor, roomId: string): Promise<void> {
  await db.updateTable('room_history').set({ anonymise_pending: 0 }).where('room_id', '=', roomId).execute();
}

/** The latest leave of a session's participants; undefined while none has left. */
export async function lastLeaveTime(db: Executor, sessionId: string): Promise<number | undefined> {
  const row = await db
    .selectFrom('participants')
    .select((eb) => eb.fn.max('leave_time').as('last'))
    .where('session_id', '=', sessionId)
    .executeTakeFirst();
  return row?.last === null || row?.last === undefined ? undefined : Number(row.last);
}

/** The room's live participants, in the order they joined. */
export async function liveParticipants(db: Executor, roomId: string): Promise<ParticipantRow[]> {
  return db
    .selectFrom('participants')
    .selectAll()
    .where('room_id', '=', roomId)
    .where('leave_time', 'is', null)
    .orderBy('join_time', 'asc')
    .orderBy('id', 'asc')
    .execute();
}

/** The live participants of several rooms, in the order they joined. */
export async function liveParticipantsOfRooms(db: Executor, roomIds: readonly string[]): Promise<ParticipantRow[]> {
  if (roomIds.length === 0) return [];
  return db
    .selectFrom('participants')
    .selectAll()
    .where('room_id', 'in', [...roomIds])
    .where('leave_time', 'is', null)
    .orderBy('join_time', 'asc')
    .orderBy('id', 'asc')
    .execute();
}

export async function livePhoneParticipants(db: Executor, roomId: string): Promise<ParticipantRow[]> {
  return db
    .selectFrom('participants')
    .selectAll()
    .where('room_id', '=', roomId)
    .where('leave_time', 'is', null)
    .where('type', '=', 'phone')
    .orderBy('join_time', 'asc')
    .orderBy('id', 'asc')
    .execute();
}

export async function liveParticipantsByCallIds(db: Executor, roomId: string, callIds: readonly string[]): Promise<ParticipantRow[]> {
  if (callIds.length === 0) return [];
  return (await liveByCallIds(db, callIds, roomId)).rows;
}

const liveByCallIds = preparedList(VALUES, 1, (db, callIds, roomId: string) =>
  db.selectFrom('participants').selectAll().where('room_id', '=', roomId).where('leave_time', 'is', null).where('call_id', 'in', callIds),
);

/**
 * The participation rows of these calls in the room, live or left: a call joins a room at most
 * once (the unique index `participants_call`), so a call has one row here or none.
 */
export async function participantsByCallIds(db: Executor, roomId: string, callIds: readonly string[]): Promise<ParticipantRow[]> {
  if (callIds.length === 0) return [];
  return (await byCallIds(db, callIds, roomId)).rows;
}

const byCallIds = preparedList(VALUES, 1, (db, callIds, roomId: string) =>
  db.selectFrom('participants').selectAll().where('room_id', '=', roomId).where('call_id', 'in', callIds),
);

export async function insertActivity(db: Executor, rows: readonly ActivityRow[]): Promise<void> {
  if (rows.length > 0) await db.insertInto('participant_activity').values([...rows]).execute();
}

// --- call tombstones ------------------------------------------------------------------------

/**
 * Records that these calls left the room before they ever joined it (a `left` that overtook
 * its `joined`); a call already recorded keeps its first time. A call that joined needs none:
 * its participation row records when it left.
 */
export async function insertTombstones(db: Executor, teamId: string, roomId: string, callIds: readonly string[], leftAt: number): Promise<void> {
  if (callIds.length > 0) await tombstone(db, callIds, teamId, roomId, leftAt);
}

const tombstone = preparedList(VALUES, 3, (db, callIds, teamId: string, roomId: string, leftAt: number) =>
  db
    .insertInto('call_tombstones')
    .values(callIds.map((callId) => ({ team_id: teamId, room_id: roomId, call_id: callId, left_at: leftAt })))
    .onConflict((oc) => oc.columns(['room_id', 'call_id']).doNothing()),
);

/** Which of these calls left the room before they ever joined it. */
export async function tombstonedCallIds(db: Executor, roomId: string, callIds: readonly string[]): Promise<Set<string>> {
  if (callIds.length === 0) return new Set();
  const { rows } = await tombstonesOf(db, callIds, roomId);
  return new Set(rows.map((row) => row.call_id));
}

const tombstonesOf = preparedList(VALUES, 1, (db, callIds, roomId: string) =>
  db.selectFrom('call_tombstones').select('call_id').where('room_id', '=', roomId).where('call_id', 'in', callIds),
);

// --- live rooms -----------------------------------------------------------------------------

/** A room with a live session, as the live endpoints list it. */
export interface LiveRoomRow {
  room_id: string;
  external_id: string | null;
  session_id: string;
  start_time: number;
  live_participants: number;
}

function liveRoomsOfTeam(db: Executor, teamId: string) {
  return db
    .selectFrom('sessions')
    .innerJoin('rooms', 'rooms.id', 'sessions.room_id')
    .where('sessions.team_id', '=', teamId)
    .where('rooms.team_id', '=', teamId)
    .where('sessions.end_time', 'is', null);
}

/** Counted from the team's live sessions alone (a session's team is its room's), one index range. */
export async function countLiveRooms(db: Executor, teamId: string): Promise<number> {
  const [row] = (await liveSessionCount(db, teamId)).rows;
  return Number(row?.count ?? 0);
}

const liveSessionCount = prepared(
  1,
  (db, teamId: string) =>
    db
      .selectFrom('sessions')
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .where('team_id', '=', teamId)
      .where('end_time', 'is', null),
  { planEachRun: true },
);

/** One page of the team's live rooms, ordered like the rooms list (by the rooms' creation). */
export async function listLiveRooms(db: Executor, teamId: string, window: PageWindow, after: RoomRow | undefined): Promise<LiveRoomRow[]> {
  // created_at is the room's: sessions have no such column.
  const pages = LIVE_ROOM_PAGES[window.order];
  const result =
    after === undefined
      ? await pages.first(db, teamId, window.limit, window.offset)
      : await pages.after(db, teamId, window.limit, window.offset, after.created_at, after.id);
  return result.rows;
}

function liveRoomPageQuery(db: Executor, teamId: string, window: PageWindow, cursor: PageCursor | undefined) {
  const query = liveRoomsOfTeam(db, teamId).select([
    'rooms.id as room_id',
    'rooms.external_id',
    'sessions.id as session_id',
    'sessions.start_time',
    'sessions.live_participants',
  ]);
  return pageByCreation(query, window, 'rooms.id', cursor);
}

/** The live rooms page in one order, from the start or after a room: each shape prepared. */
function liveRoomPagesIn(order: PageWindow['order']) {
  return {
    first: prepared(3, (db, teamId: string, limit: number, offset: number) => liveRoomPageQuery(db, teamId, { limit, offset, order }, undefined), {
      planEachRun: true,
    }),
    after: prepared(
      5,
      (db, teamId: string, limit: number, offset: number, createdAt: number, key: string) => liveRoomPageQuery(db, teamId, { limit, offset, order }, { createdAt, key }),
      { planEachRun: true },
    ),
  };
}

const LIVE_ROOM_PAGES = { asc: liveRoomPagesIn('asc'), desc: liveRoomPagesIn('desc') };
