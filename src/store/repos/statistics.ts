import { sql } from 'kysely';
import type { Executor } from '../store.js';
import type { ParticipantRow, SessionRow } from './roster.js';
import type { TimeBounds } from './sessions.js';

/**
 * What the usage figures are computed from: the participation records and sessions present
 * in a time range, read with only the columns the figures need. The figures themselves are
 * computed in domain/statistics.ts, in one place for every dialect.
 */

/** A team, optionally narrowed to one room or one session. */
export interface UsageScope {
  teamId: string;
  roomId?: string;
  sessionId?: string;
}

/** The columns of a participation record the figures need. */
const PARTICIPATION_COLUMNS = ['id', 'session_id', 'room_id', 'role_id', 'device', 'join_time', 'leave_time'] as const;
export type ParticipationRecord = Pick<ParticipantRow, (typeof PARTICIPATION_COLUMNS)[number]>;
export type SessionRecord = Pick<SessionRow, 'id' | 'room_id' | 'start_time' | 'end_time'>;

/** How many records a paged read takes at once: however long a team's history, only this many are held. */
const PAGE = 5000;

/**
 * Visits the participation records present in the range — joined before its end and not gone
 * before its start (one that joined and left at one instant inside it counts; an unbounded side
 * is open) — in order of join time, a page at a time. Run it in a snapshot for one instant's view.
 */
export async function eachParticipationDuring(db: Executor, scope: UsageScope, range: TimeBounds, visit: (record: ParticipationRecord) => void): Promise<void> {
  const { from, to } = range;
  await visitPages(async (after: ParticipationRecord | undefined) => {
    let query = db.selectFrom('participants').select(PARTICIPATION_COLUMNS).where('team_id', '=', scope.teamId);
    if (scope.roomId !== undefined) query = query.where('room_id', '=', scope.roomId);
    if (scope.sessionId !== undefined) query = query.where('session_id', '=', scope.sessionId);
    if (to !== undefined) query = query.where('join_time', '<', to);
    if (from !== undefined) query = query.where((eb) => eb.or([eb('leave_time', 'is', null), eb('leave_time', '>', from), eb('join_time', '>=', from)]));
    if (after !== undefined) query = query.where('join_time', '>=', after.join_time).where((eb) => eb.or([eb('join_time', '>', after.join_time), eb('id', '>', after.id)]));
    return query.orderBy('join_time').orderBy('id').limit(PAGE).execute();
  }, visit);
}

/** Visits the sessions present in the range, by the same rule, in order of start. */
export async function eachSessionDuring(db: Executor, scope: UsageScope, range: TimeBounds, visit: (session: SessionRecord) => void): Promise<void> {
  const { from, to } = range;
  await visitPages(async (after: SessionRecord | undefined) => {
    let query = db.selectFrom('sessions').select(['id', 'room_id', 'start_time', 'end_time']).where('team_id', '=', scope.teamId);
    if (scope.roomId !== undefined) query = query.where('room_id', '=', scope.roomId);
    if (scope.sessionId !== undefined) query = query.where('id', '=', scope.sessionId);
    if (to !== undefined) query = query.where('start_time', '<', to);
    if (from !== undefined) query = query.where((eb) => eb.or([eb('end_time', 'is', null), eb('end_time', '>', from), eb('start_time', '>=', from)]));
    if (after !== undefined) query = query.where('start_time', '>=', after.start_time).where((eb) => eb.or([eb('start_time', '>', after.start_time), eb('id', '>', after.id)]));
    return query.orderBy('start_time').orderBy('id').limit(PAGE).execute();
  }, visit);
}

/** Reads one page after another, each after the last row of the one before, and visits every row, until a page is not full. */
async function visitPages<R>(read: (after: R | undefined) => Promise<R[]>, visit: (row: R) => void): Promise<void> {
  for (let after: R | undefined; ; ) {
    const page = await read(after);
    for (const row of page) visit(row);
    if (page.length < PAGE) return;
    after = page[page.length - 1];
  }
}

/** How many sessions and participants are live in the scope now. */
export async function countLive(db: Executor, scope: UsageScope): Promise<{ sessions: number; participants: number }> {
  let sessions = db.selectFrom('sessions').where('team_id', '=', scope.teamId).where('end_time', 'is', null);
  let participants = db.selectFrom('participants').where('team_id', '=', scope.teamId).where('leave_time', 'is', null);
  if (scope.roomId !== undefined) {
    sessions = sessions.where('room_id', '=', scope.roomId);
    participants = participants.where('room_id', '=', scope.roomId);
  }
  if (scope.sessionId !== undefined) {
    sessions = sessions.where('id', '=', scope.sessionId);
    participants = participants.where('session_id', '=', scope.sessionId);
  }
  const [liveSessions, liveParticipants] = await Promise.all([
    sessions.select((eb) => eb.fn.countAll<number | string>().as('count')).executeTakeFirstOrThrow(),
    participants.select((eb) => eb.fn.countAll<number | string>().as('count')).executeTakeFirstOrThrow(),
  ]);
  return { sessions: Number(liveSessions.count), participants: Number(liveParticipants.count) };
}

/** The team's roles that are not built in. */
export async function countCustomRoles(db: Executor, teamId: string): Promise<number> {
  const row = await db
    .selectFrom('roles')
    .select((eb) => eb.fn.countAll<number | string>().as('count'))
    .where('team_id', '=', teamId)
    .where('is_builtin', '=', 0)
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

/** Every (tag, room) pair of the team's rooms. */
export async function teamRoomTags(db: Executor, teamId: string): Promise<Array<{ tag: string; room_id: string }>> {
  return db
    .selectFrom('room_tags')
    .innerJoin('rooms', 'rooms.id', 'room_tags.room_id')
    .select(['room_tags.tag', 'room_tags.room_id'])
    .where('rooms.team_id', '=', teamId)
    .execute();
}

/**
 * Per room of these, ever: its participation records and their milliseconds present (a live
 * one's until now), summed by the database.
 */
export async function participationTotalsOfRooms(db: Executor, teamId: string, roomIds: readonly string[], now: number): Promise<Map<string, { records: number; milliseconds: number }>> {
  const totals = new Map<string, { records: number; milliseconds: number }>();
  if (roomIds.length === 0) return totals;
  const rows = await db
    .selectFrom('participants')
    .select((eb) => [
      'room_id',
      eb.fn.countAll<number | string>().as('records'),
      // A live record lasts until now, or not at all if it joined later (spanOf).
      sql<number | string>`sum(case when leave_time is not null then leave_time - join_time when join_time < ${now} then ${now} - join_time else 0 end)`.as('milliseconds'),
    ])
    .where('team_id', '=', teamId)
    .where('room_id', 'in', [...roomIds])
    .groupBy('room_id')
    .execute();
  for (const row of rows) totals.set(row.room_id, { records: Number(row.records), milliseconds: Number(row.milliseconds) });
  return totals;
}

/** Visits the participation records of these sessions, in order of join time, a page at a time. */
export async function eachParticipationOfSessions(db: Executor, sessionIds: readonly string[], visit: (record: ParticipationRecord) => void): Promise<void> {
  if (sessionIds.length === 0) return;
  await visitPages(async (after: ParticipationRecord | undefined) => {
    let query = db.selectFrom('participants').select(PARTICIPATION_COLUMNS).where('session_id', 'in', [...sessionIds]);
    if (after !== undefined) query = query.where('join_time', '>=', after.join_time).where((eb) => eb.or([eb('join_time', '>', after.join_time), eb('id', '>', after.id)]));
    return query.orderBy('join_time').orderBy('id').limit(PAGE).execute();
  }, visit);
}

/** Who was there at each session's first instant (the batch that opened it, and any join at that same instant), for sessions started in the range. */
export async function sessionOpeners(
  db: Executor,
  teamId: string,
  started: TimeBounds,
): Promise<Array<Pick<ParticipantRow, 'id' | 'session_id' | 'external_id' | 'caller_number'>>> {
  let query = db
    .selectFrom('participants')
    .innerJoin('sessions', 'sessions.id', 'participants.session_id')
    .select(['participants.id', 'participants.session_id', 'participants.external_id', 'participants.caller_number'])
    .where('sessions.team_id', '=', teamId)
    .whereRef('participants.join_time', '=', 'sessions.start_time');
  if (started.from !== undefined) query = query.where('sessions.start_time', '>=', started.from);
  if (started.to !== undefined) query = query.where('sessions.start_time', '<', started.to);
  return query.execute();
}
