import type { Executor } from '../store.js';
import type { TeamTable } from '../schema.js';
import { prepared } from './prepared.js';
import { forgetSettledOf } from './webhooks.js';

export type TeamRow = TeamTable;

const teamById = prepared(1, (db, teamId: string) => db.selectFrom('teams').selectAll().where('id', '=', teamId));
const teamByKeyHash = prepared(1, (db, keyHash: string) => db.selectFrom('teams').selectAll().where('key_hash', '=', keyHash));

export async function findTeamById(db: Executor, teamId: string): Promise<TeamRow | undefined> {
  return (await teamById(db, teamId)).rows[0];
}

/** Every authenticated request's first query. */
export async function findTeamByKeyHash(db: Executor, keyHash: string): Promise<TeamRow | undefined> {
  return (await teamByKeyHash(db, keyHash)).rows[0];
}

export async function listTeams(db: Executor): Promise<TeamRow[]> {
  return db.selectFrom('teams').selectAll().orderBy('created_at', 'asc').execute();
}

export async function countTeams(db: Executor): Promise<number> {
  const row = await db.selectFrom('teams').select((eb) => eb.fn.countAll<number>().as('count')).executeTakeFirstOrThrow();
  return Number(row.count);
}

export async function insertTeam(db: Executor, team: TeamRow): Promise<void> {
  await db.insertInto('teams').values(team).execute();
}

export async function updateTeamKey(db: Executor, teamId: string, developerKey: string, keyHash: string, now: number): Promise<boolean> {
  const result = await db
    .updateTable('teams')
    .set({ developer_key: developerKey, key_hash: keyHash, updated_at: now })
    .where('id', '=', teamId)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/**
 * Deletes up to `rows` of a team's history, in its own transaction: participation records (with
 * their activity and presence), then sessions none of whose records remain, then the settled
 * part of its webhooks' delivery log. Answers how many went; 0 once none is left. What remains
 * (rooms, roles, webhooks, the queue) goes with the team in deleteTeam.
 */
export async function deleteTeamHistoryStep(db: Executor, teamId: string, rows: number): Promise<number> {
  const participants = await db
    .deleteFrom('participants')
    .where('id', 'in', db.selectFrom('participants').select('id').where('team_id', '=', teamId).limit(rows))
    .executeTakeFirst();
  if (Number(participants.numDeletedRows) > 0) return Number(participants.numDeletedRows);
  // A room page may still add a record to a live session meanwhile: that session waits for deleteTeam.
  const emptySessions = db
    .selectFrom('sessions')
    .select('id')
    .where('team_id', '=', teamId)
    .where((eb) => eb.not(eb.exists(eb.selectFrom('participants').select('participants.id').whereRef('participants.session_id', '=', 'sessions.id'))))
    .limit(rows);
  const sessions = await db.deleteFrom('sessions').where('id', 'in', emptySessions).executeTakeFirst();
  if (Number(sessions.numDeletedRows) > 0) return Number(sessions.numDeletedRows);
  // Settled deliveries only: the queue's heads and counters stay as they are until the webhooks go.
  return forgetSettledOf(db, { teamId }, rows);
}

/**
 * Deletes a team and everything it owns. Most of its rows' foreign keys cascade from the team
 * (roles, sessions, webhooks and their outbox, tombstones, history); three references do not
 * (a participation record's session, a room's roles), and PostgreSQL checks those as each
 * cascade runs, so what holds them goes first: participants (with their activity and presence),
 * then rooms (with their tags and roles). A room's link (room_links) names no team: the links of
 * its rooms are freed, for another team to take. Answers whether the team existed.
 */
export async function deleteTeam(db: Executor, teamId: string): Promise<boolean> {
  const teamRooms = db.selectFrom('rooms').select('id').where('team_id', '=', teamId);
  await db.deleteFrom('room_links').where('room_id', 'in', teamRooms).execute();
  await db.deleteFrom('participants').where('team_id', '=', teamId).execute();
  await db.deleteFrom('rooms').where('team_id', '=', teamId).execute();
  const result = await db.deleteFrom('teams').where('id', '=', teamId).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}
