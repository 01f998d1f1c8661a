import { Type, type Static } from 'typebox';
import { EVENT_NAMES } from '../bus/events.js';
import { isoTime } from '../domain/clock.js';
import type { DeliveryRow, WebhookRow } from '../store/repos/webhooks.js';
import type { WebhookProblems } from '../webhooks/webhook-service.js';
import { ApiError, errorResponses, notFound, toApiError, validationError, type FieldErrors } from './errors.js';
import { ListOf, ListQuery, pageFrom } from './pagination.js';
import type { Api, RouteOptions } from './types.js';

const Webhook = Type.Object({
  id: Type.String({ format: 'uuid' }),
  endpoint: Type.String(),
  authorization_header: Type.Union([Type.String(), Type.Null()]),
  name: Type.Union([Type.String(), Type.Null()]),
  events: Type.Array(Type.String()),
  created_at: Type.String(),
  updated_at: Type.String(),
});
export type Webhook = Static<typeof Webhook>;

const WebhookBody = Type.Object(
  {
    endpoint: Type.String({ minLength: 3, maxLength: 100, description: 'Must be a valid http(s) URL.' }),
    name: Type.Optional(Type.Union([Type.String({ minLength: 3, maxLength: 100 }), Type.Null()])),
    authorization_header: Type.Optional(
      Type.Union([Type.String({ maxLength: 1000 }), Type.Null()], { description: 'Sent verbatim as the Authorization header: tabs and printable characters up to U+00FF, no line breaks or other control characters.' }),
    ),
    events: Type.Array(Type.String({ enum: [...EVENT_NAMES] }), { minItems: 1, maxItems: EVENT_NAMES.length * 2 }),
  },
  { additionalProperties: false },
);
const WebhookPatch = Type.Partial(WebhookBody, { additionalProperties: false });

const WebhookParams = Type.Object({ webhook: Type.String({ maxLength: 255 }) });
const DeliveryParams = Type.Object({ webhook: Type.String({ maxLength: 255 }), delivery: Type.String({ maxLength: 255 }) });

const Delivery = Type.Object({
  id: Type.String(),
  event: Type.String(),
  event_id: Type.String(),
  sequence: Type.Integer(),
  status: Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('failed')]),
  attempts: Type.Integer(),
  last_status_code: Type.Union([Type.Integer(), Type.Null()]),
  last_error: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.String(),
  last_attempt_at: Type.Union([Type.String(), Type.Null()]),
  next_attempt_at: Type.Union([Type.String(), Type.Null()]),
  delivered_at: Type.Union([Type.String(), Type.Null()]),
});

function toWebhook(row: WebhookRow): Webhook {
  return {
    id: row.id,
    endpoint: row.endpoint,
    authorization_header: row.authorization_header,
    name: row.name,
    events: JSON.parse(row.events) as string[],
    created_at: isoTime(row.created_at),
    updated_at: isoTime(row.updated_at),
  };
}

function toDelivery(row: DeliveryRow): Static<typeof Delivery> {
  const optionalTime = (value: number | null) => (value === null ? null : isoTime(value));
  return {
    id: row.id,
    event: row.event,
    event_id: row.event_id,
    sequence: row.sequence,
    status: row.status,
    attempts: row.attempts,
    last_status_code: row.last_status_code,
    last_error: row.last_error,
    created_at: isoTime(row.created_at),
    last_attempt_at: optionalTime(row.last_attempt_at),
    next_attempt_at: row.status === 'pending' ? isoTime(row.next_attempt_at) : null,
    delivered_at: optionalTime(row.delivered_at),
  };
}

function refuse(problems: WebhookProblems, alsoRefused: FieldErrors = {}): ApiError {
  return validationError({ ...alsoRefused, ...Object.fromEntries(Object.entries(problems).map(([field, message]) => [field, [message]])) });
}

const isProblems = (value: object): value is WebhookProblems => !('id' in value);

/** The DS webhooks API, plus roomline's delivery log (deliveries and retry). */
export async function webhooksRoutes(app: Api, { services }: RouteOptions): Promise<void> {
  const { webhooks } = services;

  /**
   * A definition the schema refused is a 422 that also names what the service's own checks
   * find on the other fields (a private address, a header that cannot be sent): all at once,
   * as Laravel reports them, not one round of fixes per kind of check.
   */
  function refuseInvalid(request: { validationError?: Error; body: unknown }): void {
    if (request.validationError === undefined) return;
    const fieldErrors: FieldErrors = toApiError(request.validationError).fieldErrors ?? {};
    const body = request.body;
    const checkable =
      body !== null && typeof body === 'object' && !Array.isArray(body)
        ? Object.fromEntries(Object.entries(body).filter(([field, value]) => typeof value === 'string' && fieldErrors[field] === undefined))
        : {};
    throw refuse(webhooks.problems(checkable), fieldErrors);
  }

  app.get(
    '/webhooks',
    { schema: { tags: ['Webhooks'], summary: 'List the team’s webhooks.', querystring: ListQuery, response: { 200: ListOf(Webhook, { countAsText: true }), ...errorResponses(401, 422) } } },
    async function listWebhooks(request) {
      const { total, rows } = await webhooks.list(request.team.id, pageFrom(request.query));
      return { total_count: total, data: rows.map(toWebhook) };
    },
  );

  app.post(
    '/webhooks',
    { schema: { tags: ['Webhooks'], summary: 'Create a webhook.', body: WebhookBody, response: { 200: Webhook, ...errorResponses(401, 422) } }, attachValidation: true },
    async function createWebhook(request) {
      refuseInvalid(request);
      const created = await webhooks.create(request.team.id, request.body);
      if (isProblems(created)) throw refuse(created);
      return toWebhook(created);
    },
  );

  app.get(
    '/webhooks/:webhook',
    { schema: { tags: ['Webhooks'], summary: 'Get a webhook.', params: WebhookParams, response: { 200: Webhook, ...errorResponses(401, 404) } } },
    async function getWebhook(request) {
      const row = await webhooks.get(request.team.id, request.params.webhook);
      if (row === undefined) throw notFound();
      return toWebhook(row);
    },
  );

  app.patch(
    '/webhooks/:webhook',
    {
      schema: { tags: ['Webhooks'], summary: 'Update a webhook.', params: WebhookParams, body: WebhookPatch, response: { 200: Webhook, ...errorResponses(401, 404, 422) } },
      attachValidation: true,
    },
    async function updateWebhook(request) {
      refuseInvalid(request);
      const updated = await webhooks.update(request.team.id, request.params.webhook, request.body ?? {});
      if (updated === undefined) throw notFound();
      if (isProblems(updated)) throw refuse(updated);
      return toWebhook(updated);
    },
  );

  app.delete(
    '/webhooks/:webhook',
    { schema: { tags: ['Webhooks'], summary: 'Delete a webhook and its pending deliveries.', params: WebhookParams, response: { 204: Type.Null(), ...errorResponses(401, 404) } } },
    async function deleteWebhook(request, reply) {
      if (!(await webhooks.remove(request.team.id, request.params.webhook))) throw notFound();
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/webhooks/:webhook/deliveries',
    {
      schema: {
        tags: ['Webhooks'],
        summary: 'The webhook’s delivery log (roomline extension), newest first by default.',
        params: WebhookParams,
        querystring: ListQuery,
        response: { 200: ListOf(Delivery), ...errorResponses(401, 404, 422) },
      },
    },
    async function listDeliveries(request) {
      const page = await webhooks.deliveries(request.team.id, request.params.webhook, pageFrom(request.query));
      if (page === undefined) throw notFound();
      return { total_count: page.total, data: page.rows.map(toDelivery) };
    },
  );

  app.post(
    '/webhooks/:webhook/deliveries/:delivery/retry',
    {
      schema: {
        tags: ['Webhooks'],
        summary: 'Send a delivered or failed delivery again (roomline extension).',
        params: DeliveryParams,
        response: { 200: Delivery, ...errorResponses(401, 404, 422) },
      },
    },
    async function retryDelivery(request) {
      const outcome = await webhooks.retry(request.team.id, request.params.webhook, request.params.delivery);
      if (outcome === undefined) throw notFound();
      if (outcome === 'pending') throw new ApiError('unprocessable', 'This delivery is still pending: it will be sent without a retry.');
      return toDelivery(outcome);
    },
  );
}
