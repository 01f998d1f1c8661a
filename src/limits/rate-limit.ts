import rateLimit from '@fastify/rate-limit';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { watchRedisConnection } from '../bus/redis-connection.js';
import type { Config } from '../config/config.js';
import type { Api } from '../api/types.js';
import { ApiError } from '../api/errors.js';

/** The longest a request waits for Redis to count it (normally well under a millisecond); past it, it is not counted. */
const COUNT_TIMEOUT_MS = 250;
/** How often the count's Redis is asked whether it answers. */
const PROBE_EVERY_MS = 1000;

/**
 * Per-team request limits on /api/v1, DS-like: ROOMLINE_RATE_LIMIT requests a minute per team
 * (0 turns them off), then 429 with `Retry-After`. Counted in this process in embedded mode, and
 * in Redis in cluster mode so every node counts against one limit: the one place that choice is
 * made for limits.
 */
export async function installTeamRateLimit(api: Api, config: Config, logger: Logger): Promise<void> {
  if (config.rateLimitPerMinute === 0) return;
  // A count that Redis cannot take (out of reach: no offline queue; not answering: the command's
  // timeout) is skipped, so requests never wait for Redis to come back.
  const redis =
    config.redisUrl === undefined
      ? undefined
      : new Redis(config.redisUrl, { connectTimeout: 1000, commandTimeout: COUNT_TIMEOUT_MS, maxRetriesPerRequest: 0, enableOfflineQueue: false, lazyConnect: true });
  // While Redis does not answer (connected, but silent), each count would wait its whole
  // timeout: a ping each second says whether to count at all, so only the requests of the first
  // second of such an outage wait.
  let counting = true;
  if (redis !== undefined) {
    watchRedisConnection(redis, logger, 'counting requests');
    // Connected before the API serves, so the first requests are counted too; the bus has just
    // reached the same Redis. One that fails here retries by itself, and counts are skipped meanwhile.
    await redis.connect().catch(() => undefined);
    const probe = setInterval(() => {
      redis.ping().then(
        () => (counting = true),
        () => (counting = false),
      );
    }, PROBE_EVERY_MS);
    probe.unref();
    api.addHook('onClose', async () => {
      clearInterval(probe);
      await redis.quit();
    });
  }
  await api.register(rateLimit, {
    max: config.rateLimitPerMinute,
    timeWindow: 60_000,
    // After authentication, so the count is the team's, whichever address it calls from.
    hook: 'preHandler',
    keyGenerator: (request) => request.team.id,
    ...(redis === undefined ? {} : { redis, nameSpace: `${config.redisPrefix}:rate:` }),
    // A limits store that cannot be reached must not take the API down with it.
    skipOnError: true,
    allowList: () => !counting,
    errorResponseBuilder: (_request, context) =>
      new ApiError('too_many_requests', `Too Many Attempts. Retry in ${Math.ceil(context.ttl / 1000)} seconds.`),
  });
}
