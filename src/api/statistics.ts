import { Type, type TSchema } from 'typebox';
import type { Statistics } from '../domain/sessions.js';
import { ROOM_METRICS, SESSION_METRICS, TEAM_METRICS, pickMetrics } from '../domain/statistics.js';
import { errorResponses, fieldError, notFound } from './errors.js';
import { ListOf, Offset } from './pagination.js';
import { RoomParams } from './phone-participants.js';
import type { Api, RouteOptions } from './types.js';

const TAGS = ['Statistics'];

export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

// --- query parts shared by the session, participant and statistics endpoints ------------------

const Day = (description: string) => Type.Optional(Type.String({ format: 'date', description: `${description} Must be a valid date in the format Y-m-d.` }));

/** date_start and date_end (whole UTC days, date_end included). */
export const DateRangeFields = { date_start: Day('Period start date.'), date_end: Day('Period end date.') };

/** A range must not end before it starts. */
export function checkDateRange(query: { date_start?: string; date_end?: string }): void {
  if (query.date_start !== undefined && query.date_end !== undefined && query.date_end < query.date_start) {
    throw fieldError('date_end', 'The date_end field must be a date after or equal to date_start.');
  }
}

const MetricsQuery = Type.Object(
  {
    metrics: Type.Optional(
      Type.String({
        maxLength: 4000,
        description: 'Metrics in the result dataset, field names separated by commas (Ex: participation_minutes,phone_participation_minutes). All when absent.',
      }),
    ),
  },
  { additionalProperties: false },
);
const PeriodQuery = Type.Object({ ...DateRangeFields, ...MetricsQuery.properties }, { additionalProperties: false });

/** The metrics a `metrics` parameter asks for, in the answer's order; every metric when absent or empty. */
export function metricsAsked<M extends string>(metrics: string | undefined, known: readonly M[]): readonly M[] {
  const asked = (metrics ?? '').split(',').map((name) => name.trim()).filter((name) => name !== '');
  if (asked.length === 0) return known;
  const unknown = asked.filter((name) => !(known as readonly string[]).includes(name));
  if (unknown.length > 0) throw fieldError('metrics', `The selected metrics is invalid: ${unknown.join(', ')}.`);
  return known.filter((name) => asked.includes(name));
}

/** What the statistics are about, then the metrics asked for. */
export function statisticsAnswer<About extends object, M extends string>(statistics: Statistics<About, M>, metrics: readonly M[]) {
  return { ...statistics.about, ...pickMetrics(statistics.figures, metrics) };
}

// --- answer shapes -------------------------------------------------------------------------

const Metric = Type.Optional(Type.Integer());

/** Each metric as an optional integer: an answer carries the ones asked for. */
function metricFields<const M extends readonly string[]>(names: M): { [K in M[number]]: typeof Metric } {
  return Object.fromEntries(names.map((name) => [name, Metric])) as { [K in M[number]]: typeof Metric };
}

const PeriodFields = { date_start: Type.String(), date_end: Type.String() };

const RoomAboutFields = {
  room_id: Type.String(),
  room_external_id: Nullable(Type.String()),
  room_description: Nullable(Type.String()),
  room_friendly_url: Nullable(Type.String({ description: 'Null only for a room deleted before roomline kept room history.' })),
  room_privacy: Nullable(Type.String()),
  room_source: Type.String(),
  room_max_participants: Nullable(Type.Integer()),
  room_is_deleted: Type.Boolean(),
};

export const SessionStatistics = Type.Object({
  ...RoomAboutFields,
  session_id: Type.String(),
  session_duration: Type.Integer({ description: 'Minutes.' }),
  session_live: Type.Boolean(),
  session_start_time: Type.String(),
  session_end_time: Nullable(Type.String()),
  ...metricFields(SESSION_METRICS),
});
export const SessionStatisticsQuery = MetricsQuery;

const RoomStatistics = Type.Object({ ...RoomAboutFields, ...metricFields(ROOM_METRICS), ...PeriodFields });
const TeamStatistics = Type.Object({ ...metricFields(TEAM_METRICS), ...PeriodFields });

const CurrentStatistics = Type.Object({
  participation_minutes: Type.Integer(),
  live_sessions: Type.Integer(),
  live_participants: Type.Integer(),
  active_recorders: Type.Integer(),
  recorded_minutes: Type.Integer(),
  transcription_minutes: Type.Integer(),
  stored_recorded_minutes: Type.Integer(),
  max_concurrent_participants: Type.Integer(),
  max_concurrent_sessions: Type.Integer(),
  ...PeriodFields,
});

const TagTotal = Type.Object({ tag: Type.String(), rooms: Type.Integer(), participants: Type.Integer(), participation_minutes: Type.Integer() });

const StartedSessionsQuery = Type.Object(
  {
    ...DateRangeFields,
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 100, description: 'Maximum and default is 100.' })),
    offset: Offset(),
  },
  { additionalProperties: false },
);
const SessionsStarted = Type.Object({
  browser_id: Type.String({ description: "Who opened the sessions: the participant's external_id, else a phone caller's number, else its id." }),
  sessions_started: Type.Integer(),
});

const PERIOD_DESCRIPTION = 'Without dates, the current period: the month up to today (UTC). Phone participants have figures of their own (`phone_…`); media-plane figures are 0.';

/** Usage figures of the team and its rooms, computed from participation records (web and phone). */
export async function statisticsRoutes(app: Api, { services }: RouteOptions): Promise<void> {
  const { usage } = services;

  app.get(
    '/statistics',
    {
      schema: {
        summary: 'Get team global statistics by period.',
        description: PERIOD_DESCRIPTION,
        tags: TAGS,
        querystring: PeriodQuery,
        response: { 200: TeamStatistics, ...errorResponses(401, 422) },
      },
    },
    async function teamStatistics(request) {
      const metrics = metricsAsked(request.query.metrics, TEAM_METRICS);
      checkDateRange(request.query);
      return statisticsAnswer(await usage.team(request.team.id, request.query), metrics);
    },
  );

  app.get(
    '/statistics/team/current',
    {
      schema: {
        summary: 'Get team global statistics by current period.',
        description: PERIOD_DESCRIPTION,
        tags: TAGS,
        querystring: MetricsQuery,
        response: { 200: TeamStatistics, ...errorResponses(401, 422) },
      },
    },
    async function teamCurrentStatistics(request) {
      const metrics = metricsAsked(request.query.metrics, TEAM_METRICS);
      return statisticsAnswer(await usage.team(request.team.id, {}), metrics);
    },
  );

  app.get(
    '/statistics/current',
    { schema: { summary: 'Get team statistics for current period.', description: PERIOD_DESCRIPTION, tags: TAGS, response: { 200: CurrentStatistics, ...errorResponses(401) } } },
    async function currentStatistics(request) {
      return usage.current(request.team.id);
    },
  );

  app.get(
    '/statistics/totals',
    {
      schema: {
        summary: 'Get team global statistics by tags.',
        description: "Per tag of the team's rooms, over all time: rooms carrying it, their participation records, and those records' minutes.",
        tags: TAGS,
        response: { 200: Type.Array(TagTotal), ...errorResponses(401) },
      },
    },
    async function tagTotals(request) {
      return usage.tagTotals(request.team.id);
    },
  );

  app.get(
    '/statistics/participants/started-sessions',
    {
      schema: {
        summary: 'Get started sessions by participant UUIDs',
        description: 'Who opened the sessions started in the range (all time without dates), most sessions first.',
        tags: TAGS,
        querystring: StartedSessionsQuery,
        response: { 200: ListOf(SessionsStarted), ...errorResponses(401, 422) },
      },
    },
    async function startedSessions(request) {
      checkDateRange(request.query);
      const { limit = 100, offset = 0 } = request.query;
      return usage.startedSessions(request.team.id, request.query, { limit, offset });
    },
  );

  app.get(
    '/rooms/:room/statistics',
    {
      schema: {
        summary: 'Get room statistics by period.',
        description: PERIOD_DESCRIPTION,
        tags: TAGS,
        params: RoomParams,
        querystring: PeriodQuery,
        response: { 200: RoomStatistics, ...errorResponses(401, 404, 422) },
      },
    },
    async function roomStatistics(request) {
      const metrics = metricsAsked(request.query.metrics, ROOM_METRICS);
      checkDateRange(request.query);
      const statistics = await usage.room(request.team.id, request.params.room, request.query);
      if (statistics === undefined) throw notFound();
      return statisticsAnswer(statistics, metrics);
    },
  );

  app.get(
    '/rooms/:room/statistics/current',
    {
      schema: {
        summary: 'Get room statistics by current period.',
        description: PERIOD_DESCRIPTION,
        tags: TAGS,
        params: RoomParams,
        querystring: MetricsQuery,
        response: { 200: RoomStatistics, ...errorResponses(401, 404, 422) },
      },
    },
    async function roomCurrentStatistics(request) {
      const metrics = metricsAsked(request.query.metrics, ROOM_METRICS);
      const statistics = await usage.room(request.team.id, request.params.room, {});
      if (statistics === undefined) throw notFound();
      return statisticsAnswer(statistics, metrics);
    },
  );
}
