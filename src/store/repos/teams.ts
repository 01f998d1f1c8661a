import type { Executor } from '../store.js';
import type { TeamTable } from '../schema.js';
import { prepared } from './prepared.js';

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
