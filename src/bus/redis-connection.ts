import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

/**
 * Logs a Redis connection's trouble once per outage, through the app's logger: ioredis emits an
 * error for every attempt to reconnect (several a second while Redis is down), and one with no
 * listener at all is printed as plain text past the JSON logs.
 */
export function watchRedisConnection(connection: Redis, logger: Logger, what: string): void {
  let down = false;
  connection.on('error', (error: Error) => {
    if (down) return;
    down = true;
    logger.warn({ err: error }, `redis unreachable (${what}); retrying`);
  });
  connection.on('ready', () => {
    if (!down) return;
    down = false;
    logger.info(`redis reachable again (${what})`);
  });
}
