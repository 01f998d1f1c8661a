import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Bus } from '../bus/bus.js';
import type { Clock } from '../domain/clock.js';
import type { RoomFeed } from '../domain/room-feed.js';
import type { Store } from '../store/store.js';
import type { Dispatcher } from '../webhooks/dispatcher.js';
import { countLive, outboxBacklog } from '../store/repos/gauges.js';
import type { Metrics } from './metrics.js';

/** What the gauges read when Prometheus scrapes, rather than keeping counts of their own. */
export interface MetricsSources {
  store: Store;
  dispatcher: Pick<Dispatcher, 'sending'>;
  /** ROOMLINE_WEBHOOK_CONCURRENCY: what `sending` is measured against. */
  senders: number;
  bus: Bus;
  feed: RoomFeed;
  clock: Clock;
  mode: 'embedded' | 'cluster';
  version: string;
}

export interface PrometheusMetrics extends Metrics {
  readonly registry: Registry;
  /** Adds the gauges read from the store, the dispatcher, the bus and the room feed as they are scraped. */
  readFrom(sources: MetricsSources, logger: Logger): void;
  /** Serves them (serveMetrics). */
  serve(host: string, port: number, logger: Logger): Promise<MetricsServer>;
}

/** The longest a scrape waits for the store's reads. */
const STORE_READ_DEADLINE_MS = 2000;
/** The store is read at most this often, however often the metrics are asked for. */
const STORE_READ_EVERY_MS = 5000;

export interface PrometheusOptions {
  /** How often the store may be read for the gauges, at the most (tests lengthen it). */
  storeReadEveryMs: number;
}

function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

/** Seconds: from a cached room read (a millisecond) to a batch of 1000 calls or a slow receiver. */
const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * The Prometheus metrics (prom-client): the process's own under their standard names
 * (`process_*`, `nodejs_*`: CPU, memory, heap, event loop delay, garbage collection), counters
 * and histograms of requests and webhook attempts, and gauges read as they are scraped (the
 * store's at most every storeReadEveryMs). roomline's own names start with `roomline_`.
 */
export function createPrometheusMetrics(options: PrometheusOptions = { storeReadEveryMs: STORE_READ_EVERY_MS }): PrometheusMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const requests = new Counter({ name: 'roomline_http_requests_total', help: 'Answered HTTP requests, by method, route pattern and status code (event streams and panels that open are not counted; those refused are).', labelNames: ['method', 'route', 'code'] as const, registers: [registry] });
  const requestSeconds = new Histogram({ name: 'roomline_http_request_duration_seconds', help: 'From a request’s arrival to its answer, by method and route pattern.', labelNames: ['method', 'route'] as const, buckets: DURATION_BUCKETS, registers: [registry] });
  const attempts = new Counter({ name: 'roomline_webhook_attempts_total', help: 'Webhook delivery attempts made by this node, by outcome: delivered, retrying (failed, tried again later) or failed (given up).', labelNames: ['outcome'] as const, registers: [registry] });
  // Every outcome from 0, so that the first failure is an increase, not a new series.
  for (const outcome of ['delivered', 'retrying', 'failed'] as const) attempts.inc({ outcome }, 0);
  const attemptSeconds = new Histogram({ name: 'roomline_webhook_attempt_duration_seconds', help: 'How long webhook receivers took to answer an attempt (or to fail it).', buckets: DURATION_BUCKETS, registers: [registry] });

  return {
    registry,
    request(method, route, status, seconds) {
      requests.inc({ method, route, code: String(status) });
      requestSeconds.observe({ method, route }, seconds);
    },
    webhookAttempt(outcome, seconds) {
      attempts.inc({ outcome });
      attemptSeconds.observe(seconds);
    },
    readFrom(sources, logger) {
      readGauges(registry, sources, logger, options.storeReadEveryMs);
    },
    serve: (host, port, logger) => serveMetrics(registry, host, port, logger),
  };
}

function readGauges(registry: Registry, sources: MetricsSources, logger: Logger, storeReadEveryMs: number): void {
  const { store, bus, feed, clock, dispatcher } = sources;
  const registers = [registry];
  new Gauge({ name: 'roomline_build_info', help: 'Always 1: the version and mode (embedded or cluster) as labels.', labelNames: ['version', 'mode'] as const, registers }).set({ version: sources.version, mode: sources.mode }, 1);
  new Gauge({
    name: 'roomline_bus_reachable',
    help: '0 while publishing to Redis fails (other nodes’ panels and streams miss this node’s events meanwhile), 1 otherwise (always in embedded mode). A silent Redis is noticed at the next publish.',
    registers,
    collect() {
      this.set(bus.reachable() ? 1 : 0);
    },
  });
  new Gauge({
    name: 'roomline_webhook_senders_busy',
    help: 'Webhook attempts in flight from this node: at ROOMLINE_WEBHOOK_CONCURRENCY (roomline_webhook_senders), due deliveries wait for a sender.',
    registers,
    collect() {
      this.set(dispatcher.sending());
    },
  });
  new Gauge({ name: 'roomline_webhook_senders', help: 'Webhook attempts this node makes at once, at most (ROOMLINE_WEBHOOK_CONCURRENCY).', registers }).set(sources.senders);
  if (store.connections() !== undefined) {
    new Gauge({
      name: 'roomline_store_connections',
      help: 'This node’s PostgreSQL connections: open and idle (of 10), and requests waiting for one (cluster mode).',
      labelNames: ['state'] as const,
      registers,
      collect() {
        const connections = store.connections();
        if (connections === undefined) return;
        this.set({ state: 'open' }, connections.open);
        this.set({ state: 'idle' }, connections.idle);
        this.set({ state: 'waiting' }, connections.waiting);
      },
    });
  }
  new Gauge({
    name: 'roomline_rooms_watched',
    help: 'Rooms with an event stream or a participants panel open on this node.',
    registers,
    collect() {
      this.set(feed.watching().rooms);
    },
  });
  new Gauge({
    name: 'roomline_room_watchers',
    help: 'Event streams and participants panels open on this node.',
    registers,
    collect() {
      this.set(feed.watching().watchers);
    },
  });

  // Read from the store: the whole deployment's, the same on every node of a cluster. One read
  // serves every gauge below (prom-client collects them side by side), at most one is in flight,
  // and scrapes closer together than storeReadEveryMs share the last: however often the port
  // is asked, the store is read at that pace.
  let reading: Promise<void> | undefined;
  let readAt = -Infinity;
  const readOnce = async () => {
    if (reading === undefined && performance.now() - readAt >= storeReadEveryMs) {
      readAt = performance.now();
      reading = readStore().finally(() => (reading = undefined));
    }
    if (reading === undefined) return;
    // A scrape answers within the scraper's own timeout (10 s by default) even while the
    // database does not: the read goes on, and the next scrape waits for the same one.
    await withDeadline(reading, STORE_READ_DEADLINE_MS).catch(() => reachable.set(0));
  };
  const reachable = new Gauge({ name: 'roomline_store_reachable', help: '1 when the store answered its last read, 0 when it failed or took over 2 s (the store’s gauges then keep their last values).', registers, collect: readOnce });
  const liveParticipants = new Gauge({ name: 'roomline_live_participants', help: 'Live participants in all rooms, by type (web or phone); the same on every node of a cluster.', labelNames: ['type'] as const, registers, collect: readOnce });
  const liveSessions = new Gauge({ name: 'roomline_live_sessions', help: 'Rooms with a live session; the same on every node of a cluster.', registers, collect: readOnce });
  const pending = new Gauge({ name: 'roomline_webhook_deliveries_pending', help: 'Webhook deliveries waiting to be delivered (in flight, retrying or queued behind another); the same on every node of a cluster.', registers, collect: readOnce });
  const oldest = new Gauge({
    name: 'roomline_webhook_oldest_pending_age_seconds',
    help: 'How long the longest-waiting webhook queue’s head has waited since it was queued (its event, or a manual retry); 0 when none waits.',
    registers,
    collect: readOnce,
  });
  async function readStore(): Promise<void> {
    try {
      const [live, backlog] = await Promise.all([countLive(store.db), outboxBacklog(store.db)]);
      liveParticipants.set({ type: 'web' }, live.web);
      liveParticipants.set({ type: 'phone' }, live.phone);
      liveSessions.set(live.sessions);
      pending.set(backlog.pending);
      oldest.set(backlog.oldestQueuedAt === null ? 0 : Math.max(0, (clock.now() - backlog.oldestQueuedAt) / 1000));
      reachable.set(1);
    } catch (error) {
      logger.warn({ err: error }, 'metrics: the store did not answer');
      reachable.set(0);
    }
  }
}

export interface MetricsServer {
  url: string;
  close(): Promise<void>;
}

/**
 * Serves `GET /metrics` on a port of its own (ROOMLINE_METRICS_PORT): a monitoring network
 * reaches it without reaching the API, and the API's clients never see it. Plain node:http: it
 * answers one path, to one scraper.
 */
export async function serveMetrics(registry: Registry, host: string, port: number, logger: Logger): Promise<MetricsServer> {
  const server = http.createServer(function answerScrape(request, response) {
    if (request.method !== 'GET' || request.url?.split('?', 1)[0] !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('GET /metrics\n');
      return;
    }
    registry.metrics().then(
      (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (error: unknown) => {
        logger.error({ err: error }, 'metrics: a scrape failed');
        response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('metrics failed\n');
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      const taken = error.code === 'EADDRINUSE' ? `another program listens on ${host}:${port}; choose another with ROOMLINE_METRICS_PORT` : error.message;
      reject(new Error(`ROOMLINE_METRICS_PORT: cannot serve the metrics: ${taken}`, { cause: error }));
    });
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}/metrics`;
  return {
    url,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
