import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { WebhookAddresses } from '../config/config.js';
import { AddressNotAllowedError, type RefusedAddressKind } from './addresses.js';

/**
 * Webhook attempts' HTTP exchanges run on a thread of their own (sender-thread.ts); the
 * dispatcher keeps everything else — which delivery goes, its claim, its outcome — on the event
 * loop, with the store.
 *
 * An exchange is an HTTP client's work from end to end: the connection, the request's headers
 * and body, parsing the answer, and, at an https endpoint, TLS. On the event loop a delivery
 * cost 0.34 ms of a core (0.43 over https), half of it this exchange, while every API request
 * of every team waited. Here it goes on another core, and the signature is made there too, just
 * before the request goes. Each attempt crosses to the thread and back, 0.1–0.2 ms more for one
 * webhook's deliveries one after another, where a remote receiver's round trip is milliseconds.
 */

/** One attempt as it goes to the thread; `headers` are all but the signature. */
export interface Post {
  id: number;
  endpoint: string;
  headers: Record<string, string>;
  body: string;
  /** The team's developer key, which signs the body (signature.ts). */
  signingKey: string;
}

/** How the attempt ended: an HTTP status, or why there was none (`refused` for the server's log). */
export type PostOutcome =
  | { id: number; statusCode: number }
  | { id: number; error: string; refused?: { address: string; kind: RefusedAddressKind | 'unresolved'; detail?: string } };

export interface SenderSettings {
  /** Which addresses endpoints may reach (ROOMLINE_WEBHOOK_ADDRESSES), checked at each connection. */
  addressMode: WebhookAddresses;
  /** How long one attempt may take, from its connection to its answer's last byte. */
  timeoutMs: number;
}

type Outcome<T> = T extends unknown ? Omit<T, 'id'> : never;

export interface WebhookSender {
  /** Makes the attempt; never rejects: a thread that failed is an attempt that failed. */
  post(post: Omit<Post, 'id'>): Promise<Outcome<PostOutcome>>;
  /** Waits for the thread to close its connections and end. */
  close(): Promise<void>;
}

/** An attempt the thread did not answer: it ended (or never started) first. Tried again, as a broken connection is. */
const STOPPED = 'webhook sender stopped before the answer';

/** The thread's code: built beside this file, or, run from the TypeScript sources (the tests), the built one. */
const THREAD = import.meta.url.endsWith('.ts') ? new URL('../../dist/webhooks/sender-thread.js', import.meta.url) : new URL('./sender-thread.js', import.meta.url);

export function createWebhookSender(settings: SenderSettings, logger: Logger): WebhookSender {
  let worker: Worker | undefined;
  const pending = new Map<number, (outcome: PostOutcome) => void>();
  let nextId = 0;
  let closed = false;

  /** The thread, started at the first attempt and again after one ended. */
  function started(): Worker {
    if (worker !== undefined) return worker;
    // Its memory is a few connections and the answers being read (64 KB each at most).
    const thread = new Worker(THREAD, { workerData: settings, resourceLimits: { maxOldGenerationSizeMb: 128 } });
    thread.on('message', (outcome: PostOutcome | 'ready') => {
      if (outcome === 'ready') return;
      const settle = pending.get(outcome.id);
      if (settle === undefined) return;
      pending.delete(outcome.id);
      if (pending.size === 0) thread.unref();
      settle(outcome);
    });
    thread.on('error', (error) => logger.error({ err: error }, 'the webhook sender thread failed'));
    thread.on('exit', (code) => {
      if (worker === thread) worker = undefined;
      // Its attempts fail as a connection that broke would: their deliveries are tried again.
      for (const [id, settle] of pending) settle({ id, error: STOPPED });
      pending.clear();
      if (!closed && code !== 0) logger.warn({ code }, 'the webhook sender thread exited; the next attempt starts another');
    });
    // Between attempts the thread only waits: it keeps the process alive only while one runs.
    thread.unref();
    worker = thread;
    return thread;
  }

  return {
    post(post) {
      if (closed) return Promise.resolve({ error: STOPPED });
      let thread: Worker;
      try {
        thread = started();
      } catch (error) {
        logger.error({ err: error }, 'the webhook sender thread could not start');
        return Promise.resolve({ error: STOPPED });
      }
      const id = nextId++;
      const outcome = new Promise<PostOutcome>((resolve) => pending.set(id, resolve));
      if (pending.size === 1) thread.ref();
      thread.postMessage({ ...post, id } satisfies Post);
      return outcome.then(({ id: _id, ...rest }) => rest as Outcome<PostOutcome>);
    },
    async close() {
      closed = true;
      const thread = worker;
      if (thread === undefined) return;
      const exited = new Promise<void>((resolve) => thread.once('exit', () => resolve()));
      thread.ref();
      thread.postMessage('stop');
      // Called once the attempts in flight have ended: the thread only closes idle connections.
      const deadline = setTimeout(() => void thread.terminate(), 2000);
      await exited;
      clearTimeout(deadline);
    },
  };
}

/** An attempt's failure as its delivery records it (`last_error`). */
export function describeFailure(cause: unknown): string {
  // Said as it is and no more: which address, or what kind, is for the server's log alone.
  if (cause instanceof AddressNotAllowedError) return cause.message;
  if (cause instanceof Error) {
    const code = (cause as { code?: string }).code;
    if (cause.name === 'TimeoutError' || cause.name === 'AbortError') return 'timeout';
    return code !== undefined ? `${code}: ${cause.message}` : cause.message;
  }
  return String(cause);
}
