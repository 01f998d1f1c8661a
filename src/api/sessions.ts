import { Type } from 'typebox';
import { SESSION_METRICS } from '../domain/statistics.js';
import { ApiError, errorResponses, notFound } from './errors.js';
import { ListOf, listQueryWith, pageFrom } from './pagination.js';
import { HistoryListQuery, ParticipantEntry } from './participants.js';
import { EmptyReply, RoomParams } from './phone-participants.js';
import { checkDateRange, DateRangeFields, metricsAsked, Nullable, SessionStatistics, SessionStatisticsQuery, statisticsAnswer } from './statistics.js';
import type { Api, RouteOptions } from './types.js';

const TAGS = ['Sessions'];

const Time = Type.String({ description: 'UTC, ISO-8601 with a Z ("2024-03-21T05:09:31.000000Z").' });

/** A session in a list: the DS fields, then roomline's end_reason. */
const SessionEntry = Type.Object({
  id: Type.String(),
  start_time: Time,
  end_time: Nullable(Time),
  room_id: Type.String(),
  room_external_id: Nullable(Type.String()),
  description: Nullable(Type.String()),
  friendly_url: Nullable(Type.String()),
  room_is_deleted: Type.Boolean(),
  participants_live: Type.Integer(),
  participants_total: Type.Integer({ description: 'Participation records of the session (a web participant who rejoins counts again).' }),
  participants_max: Type.Integer({ description: 'The most participants present at one instant.' }),
  live: Type.Boolean(),
  end_reason: Nullable(
    Type.String({ description: 'last_participant_left, session_ended, session_length, room_deleted, or the reason every participant left at once.' }),
  ),
});

const Live = Type.Optional(Type.Boolean({ description: 'Only live sessions (true) or only ended ones (false).' }));
const SessionsQuery = listQueryWith({
  ...DateRangeFields,
  live: Live,
  room_id: Type.Optional(Type.String({ minLength: 1, maxLength: 255, description: 'The UUID of the room to filter sessions by.' })),
});

const SessionParams = Type.Object({ session: Type.String({ minLength: 1, maxLength: 255, description: 'The UUID of the session.' }) });

const LIST_DESCRIPTION = 'By start time; `date_start` and `date_end` filter on it. `after` is a session id.';

/** The sessions of the team's rooms: lists, one session's statistics and participants, and ending a live one. */
export async function sessionsRoutes(app: Api, { services }: RouteOptions): Promise<void> {
  const { sessions, attendance } = services;

  app.get(
    '/sessions',
    {
      schema: {
        summary: 'Get all sessions.',
        description: LIST_DESCRIPTION,
        tags: TAGS,
        querystring: SessionsQuery,
        response: { 200: ListOf(SessionEntry, { countAsText: true }), ...errorResponses(401, 422) },
      },
    },
    async function listSessions(request) {
      checkDateRange(request.query);
      return sessions.list(request.team.id, request.query, pageFrom(request.query));
    },
  );

  app.get(
    '/rooms/:room/sessions',
    {
      schema: {
        summary: 'Get all room sessions.',
        description: LIST_DESCRIPTION,
        tags: TAGS,
        params: RoomParams,
        querystring: HistoryListQuery,
        response: { 200: ListOf(SessionEntry, { countAsText: true }), ...errorResponses(401, 404, 422) },
      },
    },
    async function listRoomSessions(request) {
      checkDateRange(request.query);
      const list = await sessions.listOfRoom(request.team.id, request.params.room, request.query, pageFrom(request.query));
      if (list === undefined) throw notFound();
      return list;
    },
  );

  for (const [path, tag] of [
    ['/sessions/:session', 'Sessions'],
    ['/sessions/:session/statistics', 'Statistics'],
  ] as const) {
    app.get(
      path,
      {
        schema: {
          summary: 'Get session statistics.',
          description: 'A live session counts up to now; `session_duration` is in minutes. Media-plane figures are 0.',
          tags: [tag],
          params: SessionParams,
          querystring: SessionStatisticsQuery,
          response: { 200: SessionStatistics, ...errorResponses(401, 404, 422) },
        },
      },
      async function sessionStatistics(request) {
        const metrics = metricsAsked(request.query.metrics, SESSION_METRICS);
        const statistics = await sessions.statistics(request.team.id, request.params.session);
        if (statistics === undefined) throw notFound();
        return statisticsAnswer(statistics, metrics);
      },
    );
  }

  app.get(
    '/sessions/:session/participants',
    {
      schema: {
        summary: 'Get all session participants.',
        description: 'By join time; `date_start` and `date_end` filter on it. `after` is a participant id.',
        tags: TAGS,
        params: SessionParams,
        querystring: HistoryListQuery,
        response: { 200: ListOf(ParticipantEntry, { countAsText: true }), ...errorResponses(401, 404, 422) },
      },
    },
    async function listSessionParticipants(request) {
      checkDateRange(request.query);
      const list = await attendance.listOfSession(request.team.id, request.params.session, request.query, pageFrom(request.query));
      if (list === undefined) throw notFound();
      return list;
    },
  );

  app.post(
    '/sessions/:session/end',
    {
      schema: {
        summary: 'End the specified live session.',
        description: 'Everyone leaves (reason `session_ended`, with their events) and the session ends. A session that has already ended is a 422.',
        tags: TAGS,
        params: SessionParams,
        response: { 200: EmptyReply, ...errorResponses(401, 404, 422) },
      },
    },
    async function endSession(request, reply) {
      const result = await sessions.end(request.team.id, request.params.session);
      if (result === 'not_found') throw notFound();
      if (result === 'already_ended') throw new ApiError('unprocessable', 'The session has already ended.');
      return reply.code(200).send();
    },
  );
}
