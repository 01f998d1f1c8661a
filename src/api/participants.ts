import { Type } from 'typebox';
import { errorResponses, notFound } from './errors.js';
import { ListOf, listQueryWith, pageFrom } from './pagination.js';
import { EmptyReply, RoomParams } from './phone-participants.js';
import { checkDateRange, DateRangeFields, Nullable } from './statistics.js';
import type { Api, RouteOptions } from './types.js';

const TAGS = ['Participants'];

const ParticipantType = Type.Union([Type.Literal('web'), Type.Literal('phone')]);
const Time = Type.String({ description: 'UTC, ISO-8601 with a Z.' });
/** The participants lists' own form, as DS sends it. */
const ListTime = Type.String({ description: 'UTC, "YYYY-MM-DD hh:mm:ss".', example: '2024-03-03 08:01:01' });

/** A participation record in a list: the DS fields, then roomline's (type, device, call details, leave reason). */
export const ParticipantEntry = Type.Object({
  id: Type.String(),
  external_id: Nullable(Type.String()),
  session_id: Type.String(),
  room_id: Type.String(),
  room_external_id: Nullable(Type.String()),
  room_is_deleted: Type.Boolean(),
  name: Nullable(Type.String()),
  role: Nullable(Type.String()),
  friendly_url: Nullable(Type.String()),
  join_time: ListTime,
  leave_time: Nullable(ListTime),
  live: Type.Boolean(),
  type: ParticipantType,
  device: Type.String({ description: 'desktop, mobile, tablet, smarttv or phone.' }),
  call_id: Nullable(Type.String()),
  caller_number: Nullable(Type.String()),
  leave_reason: Nullable(Type.String()),
});

const Segment = Type.Object({
  kind: Type.Union([Type.Literal('present'), Type.Literal('muted'), Type.Literal('hand_raised')]),
  start: Time,
  end: Nullable(Type.String({ description: 'Null while it lasts.' })),
});

/** A participant's statistics (DS), then roomline's attendance detail. */
const ParticipantDetail = Type.Object({
  room_id: Type.String(),
  room_external_id: Nullable(Type.String()),
  room_friendly_url: Nullable(Type.String()),
  room_privacy: Nullable(Type.String()),
  room_is_deleted: Type.Boolean(),
  session_id: Type.String(),
  live: Type.Boolean(),
  participant_name: Nullable(Type.String()),
  role: Nullable(Type.String()),
  join_time: Time,
  leave_time: Nullable(Time),
  device: Type.String(),
  system: Nullable(Type.String({ description: 'Always null: roomline sees no user agent.' })),
  browser: Nullable(Type.String({ description: 'Always null: roomline sees no user agent.' })),
  e2ee: Type.Boolean(),
  participation_minutes: Type.Integer(),
  public_chat_posts: Type.Integer(),
  questions: Type.Integer(),
  answers: Type.Integer(),
  id: Type.String(),
  type: ParticipantType,
  external_id: Nullable(Type.String()),
  call_id: Nullable(Type.String()),
  caller_number: Nullable(Type.String()),
  muted: Type.Boolean(),
  hand_raised: Type.Boolean(),
  leave_reason: Nullable(Type.String()),
  segments: Type.Array(Segment, { description: 'Presence (join to leave), then each mute period and raised hand, by start time.' }),
});

const Live = Type.Optional(Type.Boolean({ description: 'Only live participants (true) or only those who left (false).' }));
const IdFilter = (description: string) => Type.Optional(Type.String({ minLength: 1, maxLength: 255, description }));
const SessionIdFilter = IdFilter('The UUID of the session to filter participants by.');

/** The session participants' list: dates and live; the room and session are in the path. */
export const HistoryListQuery = listQueryWith({ ...DateRangeFields, live: Live });
const RoomParticipantsQuery = listQueryWith({ ...DateRangeFields, live: Live, session_id: SessionIdFilter });
const ParticipantsQuery = listQueryWith({ ...DateRangeFields, live: Live, room_id: IdFilter('The UUID of the room to filter participants by.'), session_id: SessionIdFilter });

const ParticipantParams = Type.Object({ participant: Type.String({ minLength: 1, maxLength: 255, description: 'The UUID of the participant.' }) });
const RoomParticipantParams = Type.Object({ ...RoomParams.properties, ...ParticipantParams.properties });

const HAND_ACTIONS = [
  { path: 'raise-hand', summary: 'Raise hand', description: 'Raises the hand of the room participant', raised: true },
  { path: 'lower-hand', summary: 'Lower hand', description: 'Lowers the hand of the room participant', raised: false },
] as const;

/**
 * Participation records of the team's rooms (web and phone, live or long gone), one
 * participant's attendance, and raising or lowering a live participant's hand.
 */
export async function participantsRoutes(app: Api, { services }: RouteOptions): Promise<void> {
  const { attendance } = services;

  app.get(
    '/participants',
    {
      schema: {
        summary: 'Get all participants.',
        description: 'By join time. `after` is a participant id.',
        tags: TAGS,
        querystring: ParticipantsQuery,
        response: { 200: ListOf(ParticipantEntry, { countAsText: true }), ...errorResponses(401, 422) },
      },
    },
    async function listParticipants(request) {
      checkDateRange(request.query);
      return attendance.list(request.team.id, request.query, pageFrom(request.query));
    },
  );

  app.get(
    '/rooms/:room/participants',
    {
      schema: {
        summary: 'Get all room participants.',
        description: 'By join time. `after` is a participant id.',
        tags: TAGS,
        params: RoomParams,
        querystring: RoomParticipantsQuery,
        response: { 200: ListOf(ParticipantEntry, { countAsText: true }), ...errorResponses(401, 404, 422) },
      },
    },
    async function listRoomParticipants(request) {
      checkDateRange(request.query);
      const list = await attendance.listOfRoom(request.team.id, request.params.room, request.query, pageFrom(request.query));
      if (list === undefined) throw notFound();
      return list;
    },
  );

  for (const path of ['/participants/:participant', '/participants/:participant/statistics']) {
    app.get(
      path,
      {
        schema: {
          summary: 'Get participant statistics.',
          description: 'With roomline\'s attendance detail: `segments` (presence, mute periods, raised hands) and the leave reason.',
          tags: TAGS,
          params: ParticipantParams,
          response: { 200: ParticipantDetail, ...errorResponses(401, 404) },
        },
      },
      async function participantStatistics(request) {
        const detail = await attendance.detail(request.team.id, request.params.participant);
        if (detail === undefined) throw notFound();
        return detail;
      },
    );
  }

  for (const action of HAND_ACTIONS) {
    app.post(
      `/rooms/:room/participants/:participant/${action.path}`,
      {
        schema: {
          summary: action.summary,
          description: `${action.description}. The participant must be live in the room; repeating it changes nothing.`,
          tags: TAGS,
          params: RoomParticipantParams,
          response: { 200: EmptyReply, ...errorResponses(401, 404) },
        },
      },
      async function changeHand(request, reply) {
        const { room, participant } = request.params;
        if (!(await attendance.setHand(request.team.id, room, participant, action.raised))) throw notFound();
        return reply.code(200).send();
      },
    );
  }
}
