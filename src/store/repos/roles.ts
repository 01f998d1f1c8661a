import type { Executor } from '../store.js';
import type { RoleTable } from '../schema.js';
import { pageByCreation, type PageWindow } from './paging.js';

export type RoleRow = RoleTable;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** What a role name can look like. */
const ROLE_NAME = /^[A-Za-z0-9_-]{1,30}$/;

/** The team's role named by `ref`: its UUID or its name. Another team's role is not found. */
export async function findRole(db: Executor, teamId: string, ref: string): Promise<RoleRow | undefined> {
  const query = db.selectFrom('roles').selectAll().where('team_id', '=', teamId);
  if (UUID.test(ref)) return query.where('id', '=', ref.toLowerCase()).executeTakeFirst();
  if (!ROLE_NAME.test(ref)) return undefined;
  return query.where('name', '=', ref).executeTakeFirst();
}

/** Every role of the team, oldest first (the built-in roles by name). */
export async function listTeamRoles(db: Executor, teamId: string): Promise<RoleRow[]> {
  return db.selectFrom('roles').selectAll().where('team_id', '=', teamId).orderBy('created_at').orderBy('name').execute();
}

export async function pageRoles(
  db: Executor,
  teamId: string,
  window: PageWindow,
  after: RoleRow | undefined,
): Promise<{ total: number; rows: RoleRow[] }> {
  const counted = await db
    .selectFrom('roles')
    .select((eb) => eb.fn.countAll<number | string>().as('count'))
    .where('team_id', '=', teamId)
    .executeTakeFirstOrThrow();
  // Names are unique in a team, so (created_at, name) orders the roles created together (the built-ins) by name.
  const cursor = after === undefined ? undefined : { createdAt: after.created_at, key: after.name };
  const rows = await pageByCreation(db.selectFrom('roles').selectAll().where('team_id', '=', teamId), window, 'name', cursor).execute();
  return { total: Number(counted.count), rows };
}

export async function insertRole(db: Executor, row: RoleRow): Promise<void> {
  await db.insertInto('roles').values(row).execute();
}

export async function updateRole(db: Executor, row: RoleRow): Promise<void> {
  await db.updateTable('roles').set(row).where('id', '=', row.id).execute();
}

export async function updateRolePermissions(db: Executor, roleId: string, permissions: string): Promise<void> {
  await db.updateTable('roles').set({ permissions }).where('id', '=', roleId).execute();
}

export async function deleteRole(db: Executor, roleId: string): Promise<void> {
  await db.deleteFrom('roles').where('id', '=', roleId).execute();
}
