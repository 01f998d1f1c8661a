import { Type, type Static } from 'typebox';
import { errorResponses } from './errors.js';
import { RoomParams } from './phone-participants.js';
import type { Api, RouteOptions } from './types.js';

/** Text DS also takes as null (meaning not given). */
const NullableText = (maxLength: number, description: string) =>
  Type.Optional(Type.Unsafe<string | null>({ type: ['string', 'null'], maxLength, description }));

/** A token time: a unix timestamp or a date-time string (and, for exp, minutes from now). */
const NullableTime = (description: string) =>
  Type.Optional(Type.Unsafe<number | string | null>({ type: ['integer', 'string', 'null'], minimum: 0, maxLength: 40, description }));

export const RoomTokenBody = Type.Object(
  {
    ud: NullableText(255, 'External user identifier.'),
    u: NullableText(255, 'User name. Without it, the room page asks for a name.'),
    initials: NullableText(10, 'Custom initials for user tiles.'),
    role: NullableText(255, 'Role ID or name: one of the room’s roles. Without it, the room’s default role.'),
    breakoutId: NullableText(255, 'Breakout room id: one of the room’s breakout rooms.'),
    avatar: NullableText(2048, 'The url of the user’s avatar image.'),
    nbf: NullableTime('Not before. Unix timestamp before which token is not valid. You can also use a string date time.'),
    exp: NullableTime(
      'Token expiration. Unix timestamp after which token is not valid. You can also use number of minutes until token expiration (a number below 1000000000), or a string date time (UTC unless it names an offset).',
    ),
  },
  { additionalProperties: false },
);
export type RoomTokenBody = Static<typeof RoomTokenBody>;

export const RoomTokenResponse = Type.Object({
  token: Type.String({ description: 'A JWT (HS256, signed with the team’s developer key): claims td, rd, ud, u, role, initials, avatar, breakoutId, iat, nbf, exp.' }),
  link: Type.String({ description: 'The room page link with the token: {public url}/{friendly_url}?token={token}.' }),
});
export type RoomTokenResponse = Static<typeof RoomTokenResponse>;

/** POST /rooms/{room}/token: a token (and the link carrying it) that lets its bearer into the room's page. */
export async function roomTokenRoutes(app: Api, { services }: RouteOptions): Promise<void> {
  app.post(
    '/rooms/:room/token',
    {
      schema: {
        summary: 'Create room token.',
        description: 'A private room’s page admits only a link with a valid token; a token also gives a participant its name, external id and role.',
        tags: ['Rooms'],
        params: RoomParams,
        body: RoomTokenBody,
        response: { 200: RoomTokenResponse, ...errorResponses(401, 404, 422) },
      },
    },
    async function createRoomToken(request): Promise<RoomTokenResponse> {
      const { token, room } = await services.tokens.issue(request.team.id, request.params.room, request.body);
      return { token, link: `${services.config.publicUrl}/${room.friendly_url}?token=${token}` };
    },
  );
}
