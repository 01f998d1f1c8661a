import type { Executor } from '../store.js';
import type { TeamTable } from '../schema.js';

export type TeamRow = TeamTable;

export async function findTeamById(db: Executor, teamId: string): Promise<TeamRow | undefined> {
  return db.selectFrom('teams').selectAll().where('id', '=', teamId).executeTakeFirst();
}

export async function findTeamByKeyHash(db: Executor, keyHash: string): Promise<TeamRow | undefined> {
  return db.selectFrom('teams').selectAll().where('key_hash', '=', keyHash).executeTakeFirst();
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
