import pino, { type Logger } from 'pino';
import type { LogLevel } from './config/config.js';

/**
 * The process logger. Credentials never reach it: Authorization headers are redacted and
 * a room page's `?token=` is cut from logged URLs.
 */
export function createLogger(level: LogLevel, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      redact: { paths: ['req.headers.authorization', 'headers.authorization', 'developer_key', '*.developer_key'], censor: '[redacted]' },
      serializers: {
        req(request: { method?: string; url?: string; id?: string; hostname?: string }) {
          return { method: request.method, url: withoutSecrets(request.url), id: request.id };
        },
      },
    },
    destination,
  );
}

/** The URL with the values of `token` (and any `key`) query parameters replaced. */
export function withoutSecrets(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  return url.replace(/([?&](?:token|key|developer_key)=)[^&#]*/gi, '$1[redacted]');
}
