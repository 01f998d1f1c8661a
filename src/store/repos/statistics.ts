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

/**
 * Participation records present in the range: joined before its end and not gone before its
 * start (one that joined and left at one instant inside it counts). An unbounded side is open.
 */
export async function participationsDuring(db: Executor, scope: UsageScope, range: TimeBounds): Promise<ParticipationRecord[]> {
  let query = db
    .selectFrom('participants')
    .select(PARTICIPATION_COLUMNS)
    .where('team_id', '=', scope.teamId);
  if (scope.roomId !== undefined) query = query.where('room_id', '=', scope.roomId);
  if (scope.sessionId !== undefined) query = query.where('session_id', '=', scope.sessionId);
  const { from, to } = range;
  if (to !== undefined) query = query.where('join_time', '<', to);
  if (from !== undefined) {
    query = query.where((eb) => eb.or([eb('leave_time', 'is', null), eb('leave_time', '>', from), eb('join_time', '>=', from)]));
  }
  return query.execute();
}

/** Sessions present in the range, by the same rule. */
export async function sessionsDuring(db: Executor, scope: UsageScope, range: TimeBounds): Promise<SessionRecord[]> {
  let query = db.selectFrom('sessions').select(['id', 'room_id', 'start_time', 'end_time']).where('team_id', '=', scope.teamId);
  if (scope.roomId !== undefined) query = query.where('room_id', '=', scope.roomId);
  if (scope.sessionId !== undefined) query = query.where('id', '=', scope.sessionId);
  const { from, to } = range;
  if (to !== undefined) query = query.where('start_time', '<', to);
  if (from !== undefined) {
    query = query.where((eb) => eb.or([eb('end_time', 'is', null), eb('end_time', '>', from), eb('start_time', '>=', from)]));
  }
  return query.execute();
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

/** The participation records of these rooms, ever. */
export async function participationsOfRooms(db: Executor, teamId: string, roomIds: readonly string[]): Promise<ParticipationRecord[]> {
  if (roomIds.length === 0) return [];
  return db
    .selectFrom('participants')
    .select(PARTICIPATION_COLUMNS)
    .where('team_id', '=', teamId)
    .where('room_id', 'in', [...roomIds])
    .execute();
}

/** The participation records of these sessions. */
export async function participationsOfSessions(db: Executor, sessionIds: readonly string[]): Promise<ParticipationRecord[]> {
  if (sessionIds.length === 0) return [];
  return db
    .selectFrom('participants')
    .select(PARTICIPATION_COLUMNS)
    .where('session_id', 'in', [...sessionIds])
    .execute();
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
