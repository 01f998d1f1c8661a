import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Logger } from 'pino';
import type { Config } from './config/config.js';
import { createLogger } from './logger.js';
import { createStore } from './store/store.js';
import { createBus } from './bus/bus.js';
import { systemClock, type Clock } from './domain/clock.js';
import { createChangeRunner } from './domain/changes.js';
import { createTeamService } from './domain/teams.js';
import { createRoleService } from './domain/roles.js';
import { createRoomService } from './domain/rooms.js';
import { createRosterService } from './domain/roster.js';
import { createRoomHistoryHook, createSessionService } from './domain/sessions.js';
import { createUsageService } from './domain/usage.js';
import { createHistoryReads } from './domain/history-reads.js';
import { createAttendanceService } from './domain/attendance.js';
import { createScheduler } from './domain/scheduler.js';
import { createRoomFeed, type RoomFeedOptions } from './domain/room-feed.js';
import type { CoreDeps } from './domain/deps.js';
import { createRoomTokenService } from './domain/tokens.js';
import { createPresenceService, type PresenceOptions } from './domain/presence.js';
import { createModerationService } from './domain/moderation.js';
import { createOutboxHook } from './webhooks/outbox.js';
import { createDispatcher, DEFAULT_DISPATCHER_OPTIONS, type DispatcherOptions } from './webhooks/dispatcher.js';
import { createWebhookService } from './webhooks/webhook-service.js';
import { createAddressPolicy } from './webhooks/addresses.js';
import { answerClientError, answerFrameworkError, installErrorHandling } from './api/errors.js';
import { installValidators, refuseUnstorableText } from './api/validation.js';
import { installBodyParsing } from './api/body-parsing.js';
import { authenticateRequests } from './api/auth.js';
import { installTeamRateLimit } from './limits/rate-limit.js';
import { healthRoutes } from './api/health.js';
import { defaultSettingsRoutes } from './api/default-settings.js';
import { roomsRoutes } from './api/rooms.js';
import { rolesRoutes } from './api/roles.js';
import { phoneParticipantsRoutes } from './api/phone-participants.js';
import { phoneBridgeRoutes } from './api/phone-bridge.js';
import { liveRoutes } from './api/live.js';
import { liveEventsRoutes } from './api/live-events.js';
import { unsupportedRoutes } from './api/unsupported.js';
import { sessionsRoutes } from './api/sessions.js';
import { participantsRoutes } from './api/participants.js';
import { statisticsRoutes } from './api/statistics.js';
import { eventsRoutes } from './api/events.js';
import { webhooksRoutes } from './api/webhooks.js';
import { openApiRoutes } from './api/openapi.js';
import { roomTokenRoutes } from './api/room-token.js';
import { roomPageRoutes } from './pages/room-page.js';
import { NO_METRICS } from './metrics/metrics.js';
import type { MetricsServer, PrometheusMetrics } from './metrics/prometheus.js';
import { packageVersion } from './version.js';
import type { Services } from './services.js';
import type { Api } from './api/types.js';

export interface AppOptions {
  /** Defaults to the system clock; tests pass a ManualClock. */
  clock?: Clock;
  /** Defaults to a pino logger at config.logLevel on stdout. */
  logger?: Logger;
  /** Webhook delivery timing (tests shorten it). */
  webhookDispatch?: Partial<DispatcherOptions>;
  /** Web participants' presence grace period and lease timing. */
  presence?: Partial<PresenceOptions>;
  /** Room feed buffering and catch-up timing (tests shorten it). */
  feed?: Partial<RoomFeedOptions>;
}

export interface App {
  server: Api;
  services: Services;
}

/**
 * The start-up story, in order: config → store → bus → changes (outbox hooks) → domain
 * services → HTTP (errors, validation) → public routes → authenticated API → pages.
 * Read this file first.
 */
export async function buildApp(config: Config, options: AppOptions = {}): Promise<App> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const clock = options.clock ?? systemClock;

  // State and fan-out: the one place each backend is chosen, logged once.
  const store = await createStore(config, logger);
  const bus = await createBus(config, logger);
  logger.info(`${store.kind === 'sqlite' ? 'embedded' : 'cluster'}: ${store.describe()}, ${bus.describe()}`);
  // Either half of cluster mode alone works on one node, and breaks on several: say so.
  if (config.databaseUrl !== undefined && config.redisUrl === undefined) {
    logger.warn('DATABASE_URL without REDIS_URL: events and request limits stay on this node; run one node only, or set REDIS_URL for several');
  }
  if (config.databaseUrl === undefined && config.redisUrl !== undefined) {
    logger.warn('REDIS_URL without DATABASE_URL: the embedded SQLite database serves this process alone, so Redis carries its events to nobody; set DATABASE_URL for cluster mode');
  }

  // Prometheus metrics, when ROOMLINE_METRICS_PORT asks for them: counted as the work goes, and
  // served on a port of their own once the app is ready (below).
  const metrics = config.metricsPort === undefined ? undefined : (await import('./metrics/prometheus.js')).createPrometheusMetrics();

  // Every state change runs through here: one transaction, numbered events, then the bus.
  const changes = createChangeRunner({ store, bus, clock });

  // The outbox: each change writes its webhook deliveries in its own transaction; the
  // dispatcher sends them, in order per webhook, from this node (and every other node).
  // Delivery timing (retries, leases, giving up) runs on the real clock even when tests drive
  // the app's clock: it is about the network, not about the rooms' time.
  const deliveryClock = systemClock;
  // Where webhooks may be sent: checked when one is defined, and again at each connection.
  const webhookAddresses = createAddressPolicy(config.webhookAddresses);
  const dispatcher = createDispatcher({ store, clock: deliveryClock, logger, addresses: webhookAddresses, metrics: metrics ?? NO_METRICS }, { ...DEFAULT_DISPATCHER_OPTIONS, ...config.webhooks, ...options.webhookDispatch });
  changes.addCommitHook(createOutboxHook({ deliveryClock, afterEnqueued: (webhookIds) => dispatcher.wake(webhookIds) }));
  // Session history keeps naming a room after it is deleted.
  changes.addCommitHook(createRoomHistoryHook());

  // Domain services: pure logic over the store and the bus, no HTTP.
  const core: CoreDeps = { config, logger, store, bus, clock, changes };
  const teams = createTeamService({ store, clock });
  const rooms = createRoomService(core);
  // Reads whose cost grows with a team's history (statistics, session and participant lists)
  // run on a thread of their own, so that one team's cannot stall everyone's requests. An
  // in-memory database has no second connection to give it.
  const history = config.databaseUrl === undefined && config.dataDir === ':memory:' ? undefined : createHistoryReads(config, logger, clock);
  const services: Services = {
    ...core,
    teams,
    roles: createRoleService(core),
    rooms,
    roster: createRosterService(core),
    feed: createRoomFeed(core, options.feed),
    webhooks: createWebhookService({ store, changes, deliveryClock, addresses: webhookAddresses, onRetry: () => dispatcher.wake() }),
    sessions: { ...createSessionService(core), ...history?.sessions },
    attendance: { ...createAttendanceService(core), ...history?.attendance },
    usage: history?.usage ?? createUsageService(core),
    tokens: createRoomTokenService(core),
    presence: createPresenceService(core, { graceMs: config.presenceGraceMs, ...options.presence }),
    moderation: createModerationService({ ...core, rooms }),
  };

  const server = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    bodyLimit: config.bodyLimit,
    // A request not wholly received in time gets a 408 and its connection closes. Given to
    // node:http's constructor: Node 20 takes the limit from there only (Fastify's own
    // `requestTimeout`, set on the server after it is made, left a dripping body open for good).
    // Node looks for such requests every 30 s by default, which would double a short limit.
    requestTimeout: config.requestTimeoutMs,
    http: { requestTimeout: config.requestTimeoutMs, connectionsCheckingInterval: Math.min(1000, config.requestTimeoutMs) },
    requestIdHeader: 'x-request-id',
    // Fastify's own two lines a request (at info) are replaced by one at debug, written as the
    // answer goes (logRequests): at info they would cost more than the seed endpoint itself.
    logController: new LogController({ requestIdLogLabel: 'reqId', disableRequestLogging: true }),
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 512 },
    return503OnClosing: true,
    frameworkErrors: answerFrameworkError,
    clientErrorHandler: answerClientError,
  }).withTypeProvider<TypeBoxTypeProvider>();
  if (logger.isLevelEnabled('debug')) logRequests(server, logger.isLevelEnabled('trace'));
  if (metrics !== undefined) countRequests(server, metrics);

  installErrorHandling(server);
  installValidators(server);
  installBodyParsing(server);
  refuseUnstorableText(server);

  // The OpenAPI document and /docs come first: they collect every route registered after them.
  await server.register(openApiRoutes, { services });
  await server.register(healthRoutes, { services });

  // The DS REST API: every route under /api/v1 belongs to the authenticated caller's team.
  await server.register(
    async function authenticatedApi(api: Api) {
      api.addHook('onRequest', authenticateRequests(teams));
      await installTeamRateLimit(api, config, logger);
      await api.register(defaultSettingsRoutes, { services });
      await api.register(roomsRoutes, { services });
      await api.register(roomTokenRoutes, { services });
      await api.register(rolesRoutes, { services });
      await api.register(phoneParticipantsRoutes, { services });
      await api.register(phoneBridgeRoutes, { services });
      await api.register(liveRoutes, { services });
      await api.register(liveEventsRoutes, { services });
      await api.register(eventsRoutes, { services });
      await api.register(webhooksRoutes, { services });
      await api.register(sessionsRoutes, { services });
      await api.register(participantsRoutes, { services });
      await api.register(statisticsRoutes, { services });
      await api.register(unsupportedRoutes, { services });
    },
    { prefix: '/api/v1' },
  );

  // The room page (`/{friendly_url or id}`), its client and its own API: public, so registered last.
  await server.register(roomPageRoutes, { services });

  if (metrics !== undefined) {
    metrics.readFrom({ store, dispatcher, senders: config.webhooks.concurrency, bus, feed: services.feed, clock: deliveryClock, mode: store.kind === 'sqlite' ? 'embedded' : 'cluster', version: packageVersion() }, logger);
    let metricsServer: MetricsServer | undefined;
    server.addHook('onReady', async function startMetrics() {
      metricsServer = await metrics.serve(config.metricsHost, config.metricsPort!, logger);
      // Not `url`: that field names the API's address in the start-up log, which scripts read.
      logger.info({ metricsUrl: metricsServer.url }, 'metrics are served');
    });
    server.addHook('onClose', async function stopMetrics() {
      await metricsServer?.close();
    });
  }

  server.addHook('onReady', async function startDispatcher() {
    dispatcher.start();
  });
  // Sessions past their room's session_length end and expired rooms go, including what came due while the server was down.
  const scheduler = createScheduler(core);
  server.addHook('onReady', async function startScheduler() {
    await scheduler.start();
  });
  // Rooms deleted with delete_history whose anonymising a stop broke off: finished in the background.
  server.addHook('onReady', async function finishAnonymising() {
    void rooms.anonymisePending().catch((error: unknown) => logger.error({ err: error }, 'anonymising deleted rooms\' records failed; the next start tries again'));
  });
  server.addHook('onClose', async function closeBackends() {
    await scheduler.stop();
    await dispatcher.stop();
    await history?.close();
    await bus.close();
    await store.close();
  });

  return { server, services };
}

/** Each answered request in the metrics, by its route's pattern (a request no route took counts as "(none)"). */
function countRequests(server: FastifyInstance, metrics: PrometheusMetrics): void {
  server.addHook('onResponse', async function countRequest(request, reply) {
    metrics.request(request.method, request.routeOptions.url ?? '(none)', reply.statusCode, reply.elapsedTime / 1000);
  });
}

/**
 * One line per answered request, at debug: method, URL (its secrets cut, see logger.ts), status
 * and time; at trace, one more as each request arrives (before its body).
 */
function logRequests(server: FastifyInstance, arrivals: boolean): void {
  if (arrivals) {
    server.addHook('onRequest', async function logArrival(request) {
      request.log.trace({ req: request }, 'incoming request');
    });
  }
  server.addHook('onResponse', async function logRequest(request, reply) {
    request.log.debug({ req: request, status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10 }, 'request');
  });
}
