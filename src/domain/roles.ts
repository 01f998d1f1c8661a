import { randomUUID } from 'node:crypto';
import type { Transaction } from 'kysely';
import { ApiError, fieldError, notFound, validationError, type FieldErrors } from '../api/errors.js';
import { invalidAfter } from '../api/pagination.js';
import type { Database } from '../store/schema.js';
import type { Executor } from '../store/store.js';
import { countRoomsUsingRole, readTeamRoomSettings, writeTeamRoomSettings } from '../store/repos/rooms.js';
import type { PageWindow } from '../store/repos/paging.js';
import {
  deleteRole,
  findRole,
  insertRole,
  listTeamRoles,
  pageRoles,
  updateRole,
  updateRolePermissions,
  type RoleRow,
} from '../store/repos/roles.js';
import type { CoreDeps } from './deps.js';
import { BUILTIN_ROLES, DEFAULT_ROLE_NAME, PERMISSIONS, type Permission, type PermissionSet } from './permissions.js';
import type { TeamDefaultsDocument } from './room-settings.js';

export type Permissions = Record<Permission, boolean | string[]>;

/** A role as the API shows it; `default` says whether it is the team's default role. */
export interface Role {
  id: string;
  name: string;
  display_name: string;
  description: string | null;
  default: boolean;
  permissions: Permissions;
  created_at: number;
  updated_at: number;
}

export interface RoleInput {
  name?: string;
  display_name?: string;
  description?: string | null;
  permissions?: PermissionSet;
}

export interface NewRole extends RoleInput {
  name: string;
  display_name: string;
}

export interface RoleService {
  /** One page of the team's roles (`after` is a role id or name) and how many there are in all. */
  list(teamId: string, window: PageWindow, after: string | undefined): Promise<{ total: number; roles: Role[] }>;
  /** The role named by its id or name; not found (404) otherwise. */
  get(teamId: string, ref: string): Promise<Role>;
  create(teamId: string, input: NewRole): Promise<Role>;
  /** Changes what is given; `permissions` changes only the permissions it names. */
  update(teamId: string, ref: string, input: RoleInput): Promise<Role>;
  /** Deletes an unused role (422 while a room or the team's defaults use it) and emits role_deleted. */
  remove(teamId: string, ref: string): Promise<void>;
}

export function createRoleService(deps: CoreDeps): RoleService {
  const { store, changes } = deps;

  async function list(teamId: string, window: PageWindow, after: string | undefined): Promise<{ total: number; roles: Role[] }> {
    const afterRow = after === undefined ? undefined : await findRole(store.db, teamId, after);
    if (after !== undefined && afterRow === undefined) throw invalidAfter();
    const { total, rows } = await pageRoles(store.db, teamId, window, afterRow);
    const defaultRoleId = await teamDefaultRoleId(store.db, teamId);
    return { total, roles: rows.map((row) => toRole(row, defaultRoleId)) };
  }

  async function get(teamId: string, ref: string): Promise<Role> {
    const row = await findRole(store.db, teamId, ref);
    if (row === undefined) throw notFound();
    return toRole(row, await teamDefaultRoleId(store.db, teamId));
  }

  async function create(teamId: string, input: NewRole): Promise<Role> {
    return changes.run(async function createRole(change) {
      const teamRoles = await listTeamRoles(change.trx, teamId);
      if (teamRoles.some((role) => role.name === input.name)) throw fieldError('name', 'The name has already been taken.');
      const permissions = completePermissions({}, input.permissions ?? {});
      checkManagedRoles(permissions, [...teamRoles.map((role) => role.name), input.name]);
      const row: RoleRow = {
        id: randomUUID(),
        team_id: teamId,
        name: input.name,
        display_name: input.display_name,
        description: input.description ?? null,
        is_builtin: 0,
        permissions: JSON.stringify(permissions),
        created_at: change.now,
        updated_at: change.now,
      };
      await insertRole(change.trx, row);
      return toRole(row, await teamDefaultRoleId(change.trx, teamId));
    });
  }

  async function update(teamId: string, ref: string, input: RoleInput): Promise<Role> {
    return changes.run(async function updateRoleSettings(change) {
      const current = await findRole(change.trx, teamId, ref);
      if (current === undefined) throw notFound();
      const teamRoles = await listTeamRoles(change.trx, teamId);
      const name = input.name ?? current.name;
      if (teamRoles.some((role) => role.name === name && role.id !== current.id)) throw fieldError('name', 'The name has already been taken.');
      const changed = completePermissions(JSON.parse(current.permissions) as PermissionSet, input.permissions ?? {});
      const permissions = renameManaged(changed, current.name, name);
      checkManagedRoles(permissions, teamRoles.map((role) => (role.id === current.id ? name : role.name)));
      if (name !== current.name) await renameInTeam(change.trx, teamId, current, name, change.now);
      const row: RoleRow = {
        ...current,
        name,
        display_name: input.display_name ?? current.display_name,
        description: input.description === undefined ? current.description : input.description,
        permissions: JSON.stringify(permissions),
        updated_at: change.now,
      };
      await updateRole(change.trx, row);
      return toRole(row, await teamDefaultRoleId(change.trx, teamId));
    });
  }

  async function remove(teamId: string, ref: string): Promise<void> {
    await changes.run(async function deleteUnusedRole(change) {
      const role = await findRole(change.trx, teamId, ref);
      if (role === undefined) throw notFound();
      const document = JSON.parse(await readTeamRoomSettings(change.trx, teamId)) as TeamDefaultsDocument;
      const teamChoice = chooseTeamRoles(await listTeamRoles(change.trx, teamId), document);
      if (teamChoice.defaultRoleId === role.id) {
        throw new ApiError('unprocessable', `The role ${role.name} is the team's default role and cannot be deleted.`);
      }
      if (document.roles?.includes(role.id) === true) {
        throw new ApiError('unprocessable', `The role ${role.name} is one of the team's default room roles and cannot be deleted.`);
      }
      const rooms = await countRoomsUsingRole(change.trx, teamId, role.id);
      if (rooms > 0) {
        throw new ApiError('unprocessable', `The role ${role.name} is used by ${rooms} room${rooms === 1 ? '' : 's'} (as default role or in its roles) and cannot be deleted.`);
      }
      await renameInOtherRoles(change.trx, teamId, role.id, role.name, undefined);
      await deleteRole(change.trx, role.id);
      change.emit({ name: 'role_deleted', teamId, roomId: null, data: { role_id: role.id, role_name: role.name } });
    });
  }

  return { list, get, create, update, remove };
}

/** The id of the team's default role: the one its defaults name, else the built-in moderator. */
async function teamDefaultRoleId(db: Executor, teamId: string): Promise<string> {
  const document = JSON.parse(await readTeamRoomSettings(db, teamId)) as TeamDefaultsDocument;
  return chooseTeamRoles(await listTeamRoles(db, teamId), document).defaultRoleId;
}

function toRole(row: RoleRow, defaultRoleId: string): Role {
  return {
    id: row.id,
    name: row.name,
    display_name: row.display_name,
    description: row.description,
    default: row.id === defaultRoleId,
    permissions: completePermissions(JSON.parse(row.permissions) as PermissionSet, {}),
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

/** Every permission, in the DS order: the change where given, else the current value, else none. */
function completePermissions(current: PermissionSet, change: PermissionSet): Permissions {
  return Object.fromEntries(PERMISSIONS.map((name) => [name, change[name] ?? current[name] ?? (name === 'manage_roles' ? [] : false)])) as Permissions;
}

/** manage_roles lists role names, each a role of the team. */
function checkManagedRoles(permissions: Permissions, teamRoleNames: readonly string[]): void {
  const managed = permissions.manage_roles;
  if (!Array.isArray(managed)) return;
  const errors: FieldErrors = {};
  managed.forEach((name, index) => {
    if (!teamRoleNames.includes(name)) errors[`permissions.manage_roles.${index}`] = [`The selected permissions.manage_roles.${index} is invalid.`];
  });
  if (Object.keys(errors).length > 0) throw validationError(errors);
}

function renameManaged(permissions: Permissions, from: string, to: string | undefined): Permissions {
  const managed = permissions.manage_roles;
  if (!Array.isArray(managed) || !managed.includes(from)) return permissions;
  const renamed = to === undefined ? managed.filter((name) => name !== from) : managed.map((name) => (name === from ? to : name));
  return { ...permissions, manage_roles: renamed };
}

/** Other roles name this one in manage_roles: follow its new name, or forget it (`to` undefined). */
async function renameInOtherRoles(trx: Transaction<Database>, teamId: string, roleId: string, from: string, to: string | undefined): Promise<void> {
  for (const other of await listTeamRoles(trx, teamId)) {
    if (other.id === roleId) continue;
    const permissions = JSON.parse(other.permissions) as Permissions;
    const renamed = renameManaged(permissions, from, to);
    if (renamed !== permissions) await updateRolePermissions(trx, other.id, JSON.stringify(renamed));
  }
}

/**
 * A rename keeps the role's place everywhere: other roles' manage_roles follow it, and when it
 * is the team's default only by its built-in name, the default is pinned to its id first.
 */
async function renameInTeam(trx: Transaction<Database>, teamId: string, role: RoleRow, to: string, now: number): Promise<void> {
  await renameInOtherRoles(trx, teamId, role.id, role.name, to);
  const document = JSON.parse(await readTeamRoomSettings(trx, teamId)) as TeamDefaultsDocument;
  if (document.default_role === undefined && role.name === DEFAULT_ROLE_NAME) {
    await writeTeamRoomSettings(trx, teamId, JSON.stringify({ ...document, default_role: role.id }), now);
  }
}

/** Which roles a room (or the team's defaults) offers, which one is the default, which share the private group chat. */
export interface RoleChoice {
  roleIds: string[];
  defaultRoleId: string;
  privateGroupChatRoleIds: string[];
}

/** The DS role references of a room or of the team's defaults: role ids or names. */
export interface RoleRefs {
  roles?: string[];
  default_role?: string;
  private_group_chat_roles?: string[];
}

/**
 * The team's default choice: what its defaults name, else its built-in roles (moderator,
 * speaker, attendee) with the built-in moderator as the default role.
 */
export function chooseTeamRoles(teamRoles: readonly RoleRow[], document: TeamDefaultsDocument): RoleChoice {
  const rank = (role: RoleRow) => {
    const index = BUILTIN_ROLES.findIndex((builtin) => builtin.name === role.name);
    return index === -1 ? BUILTIN_ROLES.length : index;
  };
  const builtins = teamRoles.filter((role) => role.is_builtin === 1).sort((a, b) => rank(a) - rank(b));
  const roleIds = document.roles ?? (builtins.length > 0 ? builtins : teamRoles).map((role) => role.id);
  const defaultRoleId = document.default_role ?? teamRoles.find((role) => role.name === DEFAULT_ROLE_NAME)?.id ?? roleIds[0]!;
  const privateGroupChatRoleIds = (document.private_group_chat_roles ?? []).filter((id) => roleIds.includes(id));
  return { roleIds, defaultRoleId, privateGroupChatRoleIds };
}

/**
 * Applies role references to a choice. Each must name a role of the team; the default role
 * and the private-group-chat roles must be among the chosen roles. A new roles list without
 * a default keeps the current default when it stays, else takes the first role.
 */
export function applyRoleRefs(teamRoles: readonly RoleRow[], current: RoleChoice, refs: RoleRefs): RoleChoice {
  const errors: FieldErrors = {};
  const find = (ref: string) => teamRoles.find((role) => role.id === ref.toLowerCase() || role.name === ref)?.id;
  const findAll = (field: string, list: readonly string[]): string[] => {
    const ids = list.map((ref, index) => {
      const id = find(ref);
      if (id === undefined) errors[`${field}.${index}`] = [`The selected ${field}.${index} is invalid.`];
      return id;
    });
    return [...new Set(ids.filter((id) => id !== undefined))];
  };

  const roleIds = refs.roles === undefined ? current.roleIds : findAll('roles', refs.roles);
  let defaultRoleId = roleIds.includes(current.defaultRoleId) ? current.defaultRoleId : roleIds[0]!;
  if (refs.default_role !== undefined) {
    const id = find(refs.default_role);
    if (id === undefined) errors.default_role = ['The selected default_role is invalid.'];
    else if (!roleIds.includes(id)) errors.default_role = ['The default_role must be one of the selected roles.'];
    else defaultRoleId = id;
  }
  let privateGroupChatRoleIds = current.privateGroupChatRoleIds.filter((id) => roleIds.includes(id));
  if (refs.private_group_chat_roles !== undefined) {
    privateGroupChatRoleIds = findAll('private_group_chat_roles', refs.private_group_chat_roles);
    refs.private_group_chat_roles.forEach((ref, index) => {
      const id = find(ref);
      if (id !== undefined && !roleIds.includes(id)) {
        errors[`private_group_chat_roles.${index}`] = [`The private_group_chat_roles.${index} must be one of the selected roles.`];
      }
    });
  }
  if (Object.keys(errors).length > 0) throw validationError(errors);
  return { roleIds, defaultRoleId, privateGroupChatRoleIds };
}

/** A role as rooms and default settings name it. */
export interface RoleSummary {
  id: string;
  name: string;
  display_name: string;
}

/** One of a room's roles, and whether it takes part in the private group chat. */
export interface RoomRole extends RoleSummary {
  allow_private_group_chat: boolean;
}

/** A role choice as DS shows it: the roles in order and the default role. */
export function describeRoles(teamRoles: readonly RoleRow[], choice: RoleChoice): { roles: RoomRole[]; default_role: RoleSummary } {
  const summary = (id: string): RoleSummary => {
    const role = teamRoles.find((candidate) => candidate.id === id);
    return { id, name: role?.name ?? '', display_name: role?.display_name ?? '' };
  };
  return {
    roles: choice.roleIds.map((id) => ({ ...summary(id), allow_private_group_chat: choice.privateGroupChatRoleIds.includes(id) })),
    default_role: summary(choice.defaultRoleId),
  };
}
