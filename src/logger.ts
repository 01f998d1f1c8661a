import pino, { type Logger } from 'pino';
import type { LogLevel } from './config/config.js';

/**
 * The process logger. Credentials never reach it: Authorization headers are redacted and
 * a room page's `?token=` is cut from logged URLs.
 */
export function createLogger(level: LogLevel, destination: pino.DestinationStream = standardOutput()): Logger {
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

/** How long a write to standard output is retried while nobody reads it, and how much waits meanwhile. */
const STALLED_OUTPUT_RETRY_MS = 2000;
const STALLED_OUTPUT_BUFFER_BYTES = 16 * 1024 * 1024;

/**
 * Standard output, written asynchronously, as pino's own default, with two limits for a reader
 * that stops reading (a log collector that stalled or went away). Its writes would be retried for
 * good: pino's flush at exit then spun for ever, and a server stopped with SIGTERM never ended.
 * Now a write is retried for 2 s at most, what waits is kept up to 16 MB (past that, lines are
 * dropped), and what is left at exit is dropped rather than waited for.
 */
function standardOutput(): pino.DestinationStream {
  let stalledSince = 0;
  let lastRefusal = 0;
  const output = pino.destination({
    dest: 1,
    sync: false,
    maxLength: STALLED_OUTPUT_BUFFER_BYTES,
    retryEAGAIN() {
      const now = Date.now();
      // A refusal long after the last one starts a new stall.
      if (now - lastRefusal > STALLED_OUTPUT_RETRY_MS) stalledSince = now;
      lastRefusal = now;
      return now - stalledSince < STALLED_OUTPUT_RETRY_MS;
    },
  });
  // A write given up on is an error of the stream: the line is lost, and nothing else.
  output.on('error', () => {});
  const flushSync = output.flushSync.bind(output);
  output.flushSync = () => {
    try {
      flushSync();
    } catch {
      // At exit, with nobody reading: what is left is dropped.
    }
  };
  return output;
}
