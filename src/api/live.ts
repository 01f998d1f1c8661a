import { Type, type TSchema } from 'typebox';
import { errorResponses, notFound } from './errors.js';
import { invalidAfter, ListOf, ListQuery, pageFrom } from './pagination.js';
import { RoomParams } from './phone-participants.js';
import type { LiveParticipant, LiveRoom } from '../domain/participant-view.js';
import type { Api, RouteOptions } from './types.js';

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

/** A live participant: the DS fields, then roomline's (type, call and device details). */
const LiveParticipant = Type.Object({
  id: Type.String(),
  external_id: Nullable(Type.String()),
  name: Nullable(Type.String()),
  role: Nullable(Type.String({ description: 'The role name.' })),
  join_time: Type.String(),
  type: Type.Union([Type.Literal('phone'), Type.Literal('web')]),
  call_id: Nullable(Type.String()),
  caller_number: Nullable(Type.String()),
  muted: Type.Boolean(),
  hand_raised: Type.Boolean(),
  device: Type.String(),
});

function LiveRoom<T extends TSchema>(liveParticipants: T) {
  return Type.Object({
    id: Type.String(),
    external_id: Nullable(Type.String()),
    start_time: Nullable(Type.String({ description: "The live session's start; null when nobody is live." })),
    session_duration: Type.Integer({ description: 'Seconds since the session started.' }),
    live_participants: liveParticipants,
  });
}

const LiveRoomCount = LiveRoom(Type.Integer());
const LiveRoomParticipants = LiveRoom(Type.Array(LiveParticipant));

const TAGS = ['Live'];

/**
 * Who is in the team's rooms right now. The all-rooms lists leave out rooms nobody is in; a
 * single room with nobody in it answers a count of 0 or an empty list.
 */
export async function liveRoutes(app: Api, { services }: RouteOptions): Promise<void> {
  const { roster } = services;

  app.get(
    '/rooms/live',
    {
      schema: {
        summary: 'Get rooms with live participants count.',
        tags: TAGS,
        querystring: ListQuery,
        response: { 200: ListOf(LiveRoomCount), ...errorResponses(401, 422) },
      },
    },
    async function liveRooms(request) {
      const list = await roster.liveRooms(request.team.id, pageFrom(request.query));
      if (list === undefined) throw invalidAfter();
      return list;
    },
  );

  app.get(
    '/rooms/live/participants',
    {
      schema: {
        summary: 'Get rooms with live participants data.',
        tags: TAGS,
        querystring: ListQuery,
        response: { 200: ListOf(LiveRoomParticipants), ...errorResponses(401, 422) },
      },
    },
    async function liveRoomsParticipants(request) {
      const list = await roster.liveRoomsParticipants(request.team.id, pageFrom(request.query));
      if (list === undefined) throw invalidAfter();
      return list;
    },
  );

  app.get(
    '/rooms/:room/live',
    {
      schema: {
        summary: 'Get single room with live participants count.',
        tags: TAGS,
        params: RoomParams,
        response: { 200: LiveRoomCount, ...errorResponses(401, 404) },
      },
    },
    async function liveRoom(request) {
      const room = await roster.liveRoom(request.team.id, request.params.room);
      if (room === undefined) throw notFound();
      return room;
    },
  );

  app.get(
    '/rooms/:room/live/participants',
    {
      schema: {
        summary: "Get single room with live participants' data.",
        tags: TAGS,
        params: RoomParams,
        response: { 200: LiveRoomParticipants, ...errorResponses(401, 404) },
      },
    },
    async function liveRoomParticipants(request, reply) {
      const room = await roster.liveRoomParticipants(request.team.id, request.params.room);
      if (room === undefined) throw notFound();
      // Already JSON: Fastify sends bytes as they are, past the schema's serializer.
      return reply.type('application/json; charset=utf-8').send(liveRoomJson(room) as never);
    },
  );
}

/** Each cached roster's participants as JSON, and the last answer made with them. */
const answers = new WeakMap<readonly LiveParticipant[], { participants: string; head: string; body: Buffer | undefined }>();

/**
 * A room's live entry as the schema above writes it (the same fields, in the same order). While
 * the room's roster is unchanged its list is the same array (see LiveRosterCache), so the
 * participants' JSON is written once per change of the room, and the answer's bytes once per
 * second of its session_duration: polls in between send the same bytes. Making the answer
 * afresh each time (a 20 kB string, then encoded for the socket) was most of such a read's
 * cost and garbage (B4's room read: 5,500 → 8,200 req/s on average over 6 pairs).
 */
function liveRoomJson(room: LiveRoom<LiveParticipant[]>): Buffer {
  let answer = answers.get(room.live_participants);
  if (answer === undefined) {
    answer = { participants: JSON.stringify(room.live_participants), head: '', body: undefined };
    answers.set(room.live_participants, answer);
  }
  const { id, external_id, start_time, session_duration } = room;
  const head = JSON.stringify({ id, external_id, start_time, session_duration }).slice(0, -1);
  if (answer.body === undefined || answer.head !== head) {
    answer.head = head;
    answer.body = Buffer.from(`${head},"live_participants":${answer.participants}}`);
  }
  return answer.body;
}
