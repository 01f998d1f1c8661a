import { Type, type Static } from 'typebox';
import { isoTime } from '../domain/clock.js';
import { RoomSettingSchemas } from '../domain/room-settings.js';
import type { Room } from '../domain/rooms.js';
import { errorResponses } from './errors.js';
import { ListOf, listQueryWith, pageFrom } from './pagination.js';
import type { Api, RouteOptions } from './types.js';

const TAGS = ['Rooms'];

const RoleRef = Type.String({ minLength: 1, maxLength: 255, description: 'A role id or name.' });

/** The role references rooms and default settings accept. */
export const RoleRefFields = {
  roles: Type.Optional(Type.Array(RoleRef, { minItems: 1, maxItems: 100, description: 'The roles offered, in panel order: role ids or names.' })),
  default_role: Type.Optional(Type.String({ ...RoleRef, description: 'One of the roles: the role of participants who join without one.' })),
  private_group_chat_roles: Type.Optional(Type.Array(RoleRef, { maxItems: 100, description: 'Roles in the private group chat: role ids or names.' })),
};

export const RoleSummary = Type.Object({ id: Type.String(), name: Type.String(), display_name: Type.String() });
export const RoomRole = Type.Object({ ...RoleSummary.properties, allow_private_group_chat: Type.Boolean() });

const FriendlyUrl = Type.String({
  minLength: 3,
  maxLength: 32,
  pattern: '^[A-Za-z0-9_-]*$',
  description: 'Unique in the team; letters, digits, dashes and underscores. Generated when absent.',
});
const Tag = Type.String({ minLength: 1, maxLength: 100, pattern: '^[^,]*$', description: 'A room tag (no commas: the list filter splits on them).' });

/** POST and PATCH /rooms: every field optional, unknown fields refused. */
const RoomBody = Type.Object(
  {
    friendly_url: Type.Optional(FriendlyUrl),
    tags: Type.Optional(Type.Array(Tag, { maxItems: 50 })),
    breakouts: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { maxItems: 50, description: 'Breakout room names (or ids to keep).' })),
    ...RoleRefFields,
    ...Type.Partial(Type.Object(RoomSettingSchemas)).properties,
  },
  { additionalProperties: false },
);

const RoomResponse = Type.Object({
  id: Type.String({ format: 'uuid' }),
  friendly_url: Type.String(),
  room_url: Type.String(),
  topic: Type.Unsafe<string | null>({ type: ['string', 'null'], description: 'The description, as the DS list shows it.' }),
  ...RoomSettingSchemas,
  default_role: RoleSummary,
  roles: Type.Array(RoomRole),
  breakouts: Type.Array(Type.Object({ id: Type.String(), name: Type.String() })),
  files: Type.Array(Type.Object({})),
  files_panel_enabled: Type.Boolean(),
  tags: Type.Array(Type.String()),
  created_at: Type.String(),
  updated_at: Type.String(),
});
type RoomWire = Static<typeof RoomResponse>;

const RoomParams = Type.Object({ room: Type.String({ description: 'The UUID or friendly_url of the room.' }) });

const ResourceFlags = {
  delete_resources: Type.Optional(Type.Boolean({ description: 'roomline keeps no session content; refused for a live room.' })),
  delete_history: Type.Optional(Type.Boolean()),
  delete_library: Type.Optional(Type.Boolean()),
};
const DeleteRoomBody = Type.Object(ResourceFlags, { additionalProperties: false });
const DeleteTaggedBody = Type.Object(
  { tags: Type.Union([Tag, Type.Array(Tag, { minItems: 1, maxItems: 50 })], { description: 'One tag or a list; each must be a tag of the team.' }), ...ResourceFlags },
  { additionalProperties: false },
);

const TagFilter = Type.Optional(Type.Array(Type.String({ maxLength: 1000 }), { description: 'tag1,tag2 or tag[]=tag1&tag[]=tag2: rooms with any of them.' }));
const RoomListQuery = listQueryWith({ tag: TagFilter, 'tag[]': TagFilter });

const NoContent = Type.Unsafe<undefined>({ description: 'An empty body.' });

/** The DS rooms resource: create, list, read, change and delete the team's rooms. */
export async function roomsRoutes(app: Api, { services }: RouteOptions): Promise<void> {
  const { rooms, config } = services;
  const toWire = (room: Room): RoomWire => ({
    id: room.id,
    friendly_url: room.friendly_url,
    room_url: `${config.publicUrl}/${room.friendly_url}`,
    topic: room.settings.description,
    ...room.settings,
    default_role: room.default_role,
    roles: room.roles,
    breakouts: room.breakouts,
    files: [],
    files_panel_enabled: true,
    tags: room.tags,
    created_at: isoTime(room.created_at),
    updated_at: isoTime(room.updated_at),
  });

  app.post(
    '/rooms',
    {
      schema: {
        summary: 'Create a new room.',
        description: 'Every field is optional; what the room does not set comes from the default room settings.',
        tags: TAGS,
        body: RoomBody,
        response: { 200: RoomResponse, ...errorResponses(400, 401, 413, 415, 422) },
      },
    },
    async function createRoom(request) {
      return toWire(await rooms.create(request.team.id, request.body));
    },
  );

  app.get(
    '/rooms',
    {
      schema: { summary: 'Get all team rooms.', tags: TAGS, querystring: RoomListQuery, response: { 200: ListOf(RoomResponse, { countAsText: true }), ...errorResponses(401, 422) } },
    },
    async function listRooms(request) {
      const { tag = [], 'tag[]': tagList = [], ...page } = request.query;
      const tags = [...tag, ...tagList].flatMap((value) => value.split(',')).map((value) => value.trim()).filter((value) => value !== '');
      const { after, ...window } = pageFrom(page);
      const { total, rooms: found } = await rooms.list(request.team.id, { window, after, tags });
      return { total_count: total, data: found.map(toWire) };
    },
  );

  app.delete(
    '/rooms',
    {
      schema: {
        summary: 'Delete rooms by tag.',
        description: 'Deletes every room carrying any of the tags, except those whose session is live (skipped, as DS skips them); each tag must be used by a room of the team.',
        tags: TAGS,
        body: DeleteTaggedBody,
        response: { 202: Type.Object({}, { description: 'An empty object: DS answers `{}`.' }), ...errorResponses(400, 401, 422) },
      },
    },
    async function deleteTaggedRooms(request, reply) {
      const { tags, ...flags } = request.body;
      await rooms.removeTagged(request.team.id, Array.isArray(tags) ? tags : [tags], flags);
      return reply.code(202).send({});
    },
  );

  app.get(
    '/rooms/:room',
    { schema: { summary: 'Get the specified room.', tags: TAGS, params: RoomParams, response: { 200: RoomResponse, ...errorResponses(401, 404) } } },
    async function getRoom(request) {
      return toWire(await rooms.get(request.team.id, request.params.room));
    },
  );

  app.patch(
    '/rooms/:room',
    {
      schema: {
        summary: 'Update room.',
        description: 'Changes the fields given. Locking or unlocking the room emits room_locked / room_unlocked.',
        tags: TAGS,
        params: RoomParams,
        body: RoomBody,
        response: { 200: RoomResponse, ...errorResponses(400, 401, 404, 413, 415, 422) },
      },
    },
    async function updateRoom(request) {
      return toWire(await rooms.update(request.team.id, request.params.room, request.body));
    },
  );

  app.delete(
    '/rooms/:room',
    {
      schema: {
        summary: 'Delete room',
        description: 'Emits room_deleted. The resource flags are accepted; with one set, a live room is refused (422).',
        tags: TAGS,
        params: RoomParams,
        body: DeleteRoomBody,
        response: { 204: NoContent, ...errorResponses(400, 401, 404, 422) },
      },
    },
    async function deleteRoom(request, reply) {
      await rooms.remove(request.team.id, request.params.room, request.body);
      return reply.code(204).send();
    },
  );
}
