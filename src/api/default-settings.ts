import { Type, type Static } from 'typebox';
import { dsDateTime } from '../domain/clock.js';
import { TeamSettingSchemas, type TeamDefaults } from '../domain/room-settings.js';
import type { Team } from '../domain/teams.js';
import { errorResponses } from './errors.js';
import { RoleRefFields, RoleSummary, RoomRole } from './rooms.js';
import type { Api, RouteOptions } from './types.js';

const TAGS = ['Default room settings'];

/** The most participants a room may allow: roomline's "plan". */
const MAX_PARTICIPANTS_PER_ROOM = 2000;

const DefaultSettingsBody = Type.Object(
  { ...RoleRefFields, ...Type.Partial(Type.Object(TeamSettingSchemas)).properties },
  { additionalProperties: false },
);

const DefaultSettings = Type.Object({
  id: Type.String({ description: 'The team id.' }),
  owner_id: Type.String({ description: 'The team id: roomline has no separate owner account.' }),
  ...TeamSettingSchemas,
  default_role: RoleSummary,
  roles: Type.Array(RoomRole),
  files_panel_enabled: Type.Boolean(),
  custom_cname: Type.Null(),
  max_participants: Type.Integer({ description: 'The most a room may allow.' }),
  max_sessions: Type.Null({ description: 'No limit on concurrent sessions.' }),
  subscription_start: Type.String({ description: 'When the team was created: UTC, "YYYY-MM-DD hh:mm:ss", as DS sends it.', example: '2024-04-17 00:00:00' }),
  subscription_end: Type.Null({ description: 'A self-hosted team never expires.' }),
});
type DefaultSettingsWire = Static<typeof DefaultSettings>;

function toWire(team: Team, defaults: TeamDefaults): DefaultSettingsWire {
  return {
    id: team.id,
    owner_id: team.id,
    ...defaults.settings,
    default_role: defaults.default_role,
    roles: defaults.roles,
    files_panel_enabled: true,
    custom_cname: null,
    max_participants: MAX_PARTICIPANTS_PER_ROOM,
    max_sessions: null,
    subscription_start: dsDateTime(team.createdAt),
    subscription_end: null,
  };
}

/** The team's default room settings (GET and PATCH /api/v1): what every new room starts from. */
export async function defaultSettingsRoutes(app: Api, { services }: RouteOptions): Promise<void> {
  const { rooms } = services;

  app.get(
    '/',
    { schema: { summary: 'Get default room settings.', tags: TAGS, response: { 200: DefaultSettings, ...errorResponses(401) } } },
    async function getDefaultSettings(request) {
      return toWire(request.team, await rooms.defaults(request.team.id));
    },
  );

  app.patch(
    '/',
    {
      schema: {
        summary: 'Update default room settings.',
        description: 'Changes the fields given. Rooms created afterwards start from these values; existing rooms keep theirs.',
        tags: TAGS,
        body: DefaultSettingsBody,
        response: { 200: DefaultSettings, ...errorResponses(400, 401, 413, 415, 422) },
      },
    },
    async function updateDefaultSettings(request) {
      return toWire(request.team, await rooms.updateDefaults(request.team.id, request.body));
    },
  );
}
