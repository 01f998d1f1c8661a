import { Type, type Static } from 'typebox';
import { isoTime } from '../domain/clock.js';
import { PERMISSIONS, type PermissionSet } from '../domain/permissions.js';
import type { Permissions, Role } from '../domain/roles.js';
import { errorResponses } from './errors.js';
import { ListOf, ListQuery, pageFrom } from './pagination.js';
import type { Api, RouteOptions } from './types.js';

const TAGS = ['Roles and permissions'];

/** Each permission is a flag, except manage_roles: the names of the roles it may manage. */
const permissionProperties = Object.fromEntries(
  PERMISSIONS.map((name) => [name, name === 'manage_roles' ? { type: 'array', items: { type: 'string', minLength: 1, maxLength: 30 }, maxItems: 100 } : { type: 'boolean' }]),
);
const PermissionsInput = Type.Unsafe<PermissionSet>({
  type: 'object',
  properties: permissionProperties,
  additionalProperties: false,
  description: 'Permission name → true or false (manage_roles: role names). Unknown names are refused; omitted ones are false on creation and unchanged on update.',
});
const PermissionsOutput = Type.Unsafe<Permissions>({ type: 'object', properties: permissionProperties });

const RoleFields = {
  name: Type.String({ minLength: 1, maxLength: 30, pattern: '^[A-Za-z0-9_-]*$', description: 'Letters, digits, dashes and underscores; unique in the team.' }),
  display_name: Type.String({ minLength: 3, maxLength: 100 }),
  description: Type.Optional(Type.Unsafe<string | null>({ type: ['string', 'null'], maxLength: 1000 })),
};
const CreateRoleBody = Type.Object({ ...RoleFields, permissions: PermissionsInput }, { additionalProperties: false });
const UpdateRoleBody = Type.Partial(CreateRoleBody, { additionalProperties: false });

const RoleListItem = Type.Object({
  id: Type.String({ format: 'uuid' }),
  name: Type.String(),
  display_name: Type.String(),
  description: Type.Unsafe<string | null>({ type: ['string', 'null'] }),
  default: Type.Boolean({ description: "Whether this is the team's default role." }),
  created_at: Type.String(),
  updated_at: Type.String(),
});
const RoleWithPermissions = Type.Object({ ...RoleListItem.properties, permissions: PermissionsOutput });
type RoleWire = Static<typeof RoleWithPermissions>;

const RoleParams = Type.Object({ role: Type.String({ description: 'The UUID or name of the role.' }) });
const Deleted = Type.Null({ description: 'An empty body.' });

function toWire(role: Role): RoleWire {
  return { ...role, created_at: isoTime(role.created_at), updated_at: isoTime(role.updated_at) };
}

/** The DS roles resource and the permission catalogue. */
export async function rolesRoutes(app: Api, { services }: RouteOptions): Promise<void> {
  const { roles } = services;

  app.get(
    '/roles',
    { schema: { summary: 'Get available roles for the team.', tags: TAGS, querystring: ListQuery, response: { 200: ListOf(RoleListItem), ...errorResponses(401, 422) } } },
    async function listRoles(request) {
      const { after, ...window } = pageFrom(request.query);
      const { total, roles: found } = await roles.list(request.team.id, window, after);
      // The list answer leaves permissions out, as DS does; its schema drops them.
      return { total_count: total, data: found.map(toWire) };
    },
  );

  app.post(
    '/roles',
    {
      schema: {
        summary: 'Create a new role.',
        tags: TAGS,
        body: CreateRoleBody,
        response: { 200: RoleWithPermissions, ...errorResponses(400, 401, 413, 415, 422) },
      },
    },
    async function createRole(request) {
      return toWire(await roles.create(request.team.id, request.body));
    },
  );

  app.get(
    '/roles/:role',
    { schema: { summary: 'Get the specified role.', tags: TAGS, params: RoleParams, response: { 200: RoleWithPermissions, ...errorResponses(401, 404) } } },
    async function getRole(request) {
      return toWire(await roles.get(request.team.id, request.params.role));
    },
  );

  app.patch(
    '/roles/:role',
    {
      schema: {
        summary: 'Update the specified role.',
        description: 'Changes the fields given; `permissions` changes only the permissions it names. A new name follows the role into other roles’ manage_roles.',
        tags: TAGS,
        params: RoleParams,
        body: UpdateRoleBody,
        response: { 200: RoleWithPermissions, ...errorResponses(400, 401, 404, 413, 415, 422) },
      },
    },
    async function updateRole(request) {
      return toWire(await roles.update(request.team.id, request.params.role, request.body));
    },
  );

  app.delete(
    '/roles/:role',
    {
      schema: {
        summary: 'Delete the specified role.',
        description: "Refused (422) while a room or the team's default settings use the role. Emits role_deleted.",
        tags: TAGS,
        params: RoleParams,
        response: { 204: Deleted, ...errorResponses(401, 404, 422) },
      },
    },
    async function deleteRole(request, reply) {
      await roles.remove(request.team.id, request.params.role);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/permissions',
    {
      schema: {
        summary: 'Get available permissions for roles',
        tags: TAGS,
        response: { 200: Type.Array(Type.String()), ...errorResponses(401) },
      },
    },
    async function listPermissions() {
      return [...PERMISSIONS];
    },
  );
}
