import { Type } from 'typebox';
import { EVENT_NAMES } from '../bus/events.js';
import { errorResponses } from './errors.js';
import type { Api, RouteOptions } from './types.js';

/** `GET /api/v1/events`: the event names a webhook can subscribe to. */
export async function eventsRoutes(app: Api, _options: RouteOptions): Promise<void> {
  app.get(
    '/events',
    { schema: { tags: ['Webhooks'], summary: 'The webhook event names.', response: { 200: Type.Array(Type.String()), ...errorResponses(401) } } },
    async function listEvents() {
      return [...EVENT_NAMES];
    },
  );
}
