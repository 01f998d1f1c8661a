import { Type } from 'typebox';
import type { Api, RouteOptions } from './types.js';
import { ApiError, errorResponses } from './errors.js';

const Health = Type.Object({ status: Type.String() });
const Readiness = Type.Object({
  status: Type.String(),
  bus: Type.Union([Type.Literal('ok'), Type.Literal('unreachable')], {
    description: 'Whether events reach the other nodes (cluster mode: Redis). Unreachable leaves the node ready: its API works, other nodes catch up once Redis is back.',
  }),
});

/** Liveness and readiness, for process supervisors and load balancers. No authentication. */
export async function healthRoutes(app: Api, { services }: RouteOptions): Promise<void> {
  app.get('/healthz', { schema: { hide: true, response: { 200: Health } } }, async function alive() {
    return { status: 'ok' };
  });

  app.get('/readyz', { schema: { hide: true, response: { 200: Readiness, ...errorResponses(503) } } }, async function ready() {
    try {
      await services.store.ping();
    } catch (error) {
      services.logger.warn({ err: error }, 'store not reachable');
      throw new ApiError('unavailable', 'The store is not reachable.');
    }
    return { status: 'ready', bus: services.bus.reachable() ? 'ok' : 'unreachable' } as const;
  });
}
