import { isIP } from 'node:net';
import path from 'node:path';

/**
 * Everything roomline reads from its environment, parsed and validated once at start.
 * A wrong value stops the process with a message naming the variable (see ConfigError).
 */
export interface Config {
  port: number;
  host: string;
  /** Where the embedded SQLite file lives. */
  dataDir: string;
  /** postgres://… selects cluster mode (a later capability); unset means embedded SQLite. */
  databaseUrl: string | undefined;
  redisUrl: string | undefined;
  /** Prefix of roomline's Redis keys and channels: one per cluster sharing a Redis server. */
  redisPrefix: string;
  logLevel: LogLevel;
  /** Base of `room_url` and token links, without a trailing slash. */
  publicUrl: string;
  /** A team that must exist with this key after start (CI, containers, scripts). */
  bootstrapTeam: { teamId: string; developerKey: string } | undefined;
  /** SQLite `synchronous` pragma: NORMAL survives a process crash (kill -9); FULL also survives power loss. */
  sqliteSynchronous: 'NORMAL' | 'FULL';
  /**
   * Whether cluster mode sends its key look-ups as named (prepared) statements, which PostgreSQL
   * plans once per connection. Off for a pooler that cannot carry them (PgBouncer in
   * transaction mode before 1.21, or without max_prepared_statements).
   */
  postgresPreparedStatements: boolean;
  /**
   * The longest a cluster statement may run before PostgreSQL cancels it (0: no limit). A
   * statement whose answer has not come by twice this is taken as lost with its connection.
   */
  postgresStatementTimeoutMs: number;
  /** The longest opening a PostgreSQL connection, or waiting for a free one, may take. */
  postgresConnectTimeoutMs: number;
  /** Largest request body accepted, in bytes. */
  bodyLimit: number;
  /**
   * The longest a client may take to send a whole request (headers and body): one that drips
   * its body never answers and holds its connection for as long as it likes otherwise.
   */
  requestTimeoutMs: number;
  /** Seconds a graceful shutdown waits for in-flight requests before closing connections. */
  shutdownGraceSeconds: number;
  /** Interval of the comment heartbeat on event streams, in milliseconds. */
  streamHeartbeatMs: number;
  /** CSP frame-ancestors of the room page: who may embed rooms in an iframe. */
  frameAncestors: string;
  /** Event streams one team may hold open at once on one server. */
  maxStreamsPerTeam: number;
  /** Requests a minute each team may make on /api/v1; 0 means no limit. */
  rateLimitPerMinute: number;
  /**
   * Where Prometheus metrics are served (GET /metrics on metricsHost at this port), apart from
   * the API; undefined serves none. 0 takes any free port.
   */
  metricsPort: number | undefined;
  /** The address the metrics port binds: loopback unless the monitoring network is elsewhere. */
  metricsHost: string;
  /** How long a web participant whose page lost its connection stays in the room (a reload within it keeps the same participant). */
  presenceGraceMs: number;
  /**
   * Which addresses webhook endpoints may reach: `private` adds loopback and private networks to
   * the public addresses (a bridge on the same host or LAN); `public` is for a server whose teams
   * must not reach its network. Link-local, unspecified, multicast and broadcast never.
   */
  webhookAddresses: WebhookAddresses;
  /** Webhook delivery timing. */
  webhooks: {
    /** One attempt's limit; a slower receiver counts as failed. */
    timeoutMs: number;
    /** First retry delay; each retry doubles it (with jitter) up to retryMaxMs. */
    retryBaseMs: number;
    retryMaxMs: number;
    /** How long a delivery is retried before it is marked failed and the next one proceeds. */
    giveUpAfterMs: number;
    /** Webhooks a node sends to at once (each has one delivery in flight at most). */
    concurrency: number;
    /** How long delivered and failed deliveries stay in the delivery log. */
    retentionMs: number;
  };
}

export type WebhookAddresses = 'private' | 'public';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** A configuration value that cannot be used; the message names the variable and why. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    reason: string,
  ) {
    super(`${variable}: ${reason}`);
    this.name = 'ConfigError';
  }
}

export type Environment = Record<string, string | undefined>;

/** Reads the configuration from `env`, with `overrides` (CLI flags) taking precedence. */
export function loadConfig(env: Environment = process.env, overrides: Environment = {}): Config {
  const read = (name: string): string | undefined => {
    const value = overrides[name] ?? env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  };

  const port = parseInteger('PORT', read('PORT') ?? '3000', 0, 65535);
  const host = parseHost(read('HOST') ?? '127.0.0.1');
  const dataDir = path.resolve(read('ROOMLINE_DATA_DIR') ?? './data');
  const rawMetricsPort = read('ROOMLINE_METRICS_PORT');
  const metricsPort = rawMetricsPort === undefined ? undefined : parseInteger('ROOMLINE_METRICS_PORT', rawMetricsPort, 0, 65535);
  if (metricsPort !== undefined && metricsPort !== 0 && metricsPort === port) {
    throw new ConfigError('ROOMLINE_METRICS_PORT', `must differ from PORT (${port}): metrics are served apart from the API`);
  }

  const databaseUrl = read('DATABASE_URL');
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL', 'must be a postgres:// or postgresql:// URL (leave it unset for embedded SQLite)');
  }
  const redisUrl = read('REDIS_URL');
  if (redisUrl !== undefined && !/^rediss?:\/\//.test(redisUrl)) {
    throw new ConfigError('REDIS_URL', 'must be a redis:// or rediss:// URL');
  }

  const redisPrefix = read('ROOMLINE_REDIS_PREFIX') ?? 'roomline';
  if (!/^[A-Za-z0-9:_-]{1,64}$/.test(redisPrefix)) {
    throw new ConfigError('ROOMLINE_REDIS_PREFIX', 'must be 1–64 letters, digits, ":", "_" or "-"');
  }

  const logLevel = (read('LOG_LEVEL') ?? 'info').toLowerCase();
  if (!LOG_LEVELS.includes(logLevel as LogLevel)) {
    throw new ConfigError('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}`);
  }

  const publicUrl = parsePublicUrl(read('ROOMLINE_PUBLIC_URL') ?? `http://${urlHost(host)}:${port}`);

  const teamId = read('ROOMLINE_TEAM_ID');
  const developerKey = read('ROOMLINE_DEVELOPER_KEY');
  if ((teamId === undefined) !== (developerKey === undefined)) {
    throw new ConfigError(
      teamId === undefined ? 'ROOMLINE_TEAM_ID' : 'ROOMLINE_DEVELOPER_KEY',
      'ROOMLINE_TEAM_ID and ROOMLINE_DEVELOPER_KEY must be set together',
    );
  }
  if (teamId !== undefined && !UUID.test(teamId)) {
    throw new ConfigError('ROOMLINE_TEAM_ID', 'must be a UUID');
  }
  if (developerKey !== undefined && (developerKey.length < 16 || developerKey.length > 255 || /[\s:]/.test(developerKey))) {
    throw new ConfigError('ROOMLINE_DEVELOPER_KEY', 'must be 16–255 characters without spaces or colons');
  }

  const sqliteSynchronous = (read('ROOMLINE_SQLITE_SYNCHRONOUS') ?? 'NORMAL').toUpperCase();
  if (sqliteSynchronous !== 'NORMAL' && sqliteSynchronous !== 'FULL') {
    throw new ConfigError('ROOMLINE_SQLITE_SYNCHRONOUS', 'must be NORMAL or FULL');
  }

  const preparedStatements = (read('ROOMLINE_POSTGRES_PREPARED_STATEMENTS') ?? 'on').toLowerCase();
  if (preparedStatements !== 'on' && preparedStatements !== 'off') {
    throw new ConfigError('ROOMLINE_POSTGRES_PREPARED_STATEMENTS', 'must be on or off');
  }

  const webhookAddresses = (read('ROOMLINE_WEBHOOK_ADDRESSES') ?? 'private').toLowerCase();
  if (webhookAddresses !== 'private' && webhookAddresses !== 'public') {
    throw new ConfigError('ROOMLINE_WEBHOOK_ADDRESSES', 'must be private (public addresses, loopback and private networks) or public (public addresses only)');
  }

  const retryBaseMs = parseInteger('ROOMLINE_WEBHOOK_RETRY_BASE_MS', read('ROOMLINE_WEBHOOK_RETRY_BASE_MS') ?? '1000', 10, 3_600_000);
  const retryMaxMs = parseInteger('ROOMLINE_WEBHOOK_RETRY_MAX_MS', read('ROOMLINE_WEBHOOK_RETRY_MAX_MS') ?? '3600000', 10, 86_400_000);
  if (retryMaxMs < retryBaseMs) {
    throw new ConfigError('ROOMLINE_WEBHOOK_RETRY_MAX_MS', `must not be below ROOMLINE_WEBHOOK_RETRY_BASE_MS (${retryBaseMs}), got ${retryMaxMs}`);
  }

  return {
    port,
    host,
    dataDir,
    databaseUrl,
    redisUrl,
    redisPrefix,
    logLevel: logLevel as LogLevel,
    publicUrl,
    bootstrapTeam: teamId !== undefined && developerKey !== undefined ? { teamId: teamId.toLowerCase(), developerKey } : undefined,
    sqliteSynchronous,
    postgresPreparedStatements: preparedStatements === 'on',
    postgresStatementTimeoutMs: parseInteger('ROOMLINE_POSTGRES_STATEMENT_TIMEOUT_MS', read('ROOMLINE_POSTGRES_STATEMENT_TIMEOUT_MS') ?? '30000', 0, 3_600_000),
    postgresConnectTimeoutMs: parseInteger('ROOMLINE_POSTGRES_CONNECT_TIMEOUT_MS', read('ROOMLINE_POSTGRES_CONNECT_TIMEOUT_MS') ?? '10000', 100, 600_000),
    bodyLimit: parseInteger('ROOMLINE_BODY_LIMIT', read('ROOMLINE_BODY_LIMIT') ?? String(1024 * 1024), 1024, 64 * 1024 * 1024),
    requestTimeoutMs: parseInteger('ROOMLINE_REQUEST_TIMEOUT_MS', read('ROOMLINE_REQUEST_TIMEOUT_MS') ?? '30000', 1000, 3_600_000),
    shutdownGraceSeconds: parseInteger('ROOMLINE_SHUTDOWN_GRACE_SECONDS', read('ROOMLINE_SHUTDOWN_GRACE_SECONDS') ?? '10', 0, 600),
    streamHeartbeatMs: parseInteger('ROOMLINE_STREAM_HEARTBEAT_MS', read('ROOMLINE_STREAM_HEARTBEAT_MS') ?? '15000', 100, 3_600_000),
    frameAncestors: parseFrameAncestors(read('ROOMLINE_FRAME_ANCESTORS') ?? '*'),
    maxStreamsPerTeam: parseInteger('ROOMLINE_MAX_STREAMS_PER_TEAM', read('ROOMLINE_MAX_STREAMS_PER_TEAM') ?? '1000', 1, 1_000_000),
    rateLimitPerMinute: parseInteger('ROOMLINE_RATE_LIMIT', read('ROOMLINE_RATE_LIMIT') ?? '1000', 0, 10_000_000),
    metricsPort,
    metricsHost: parseHost(read('ROOMLINE_METRICS_HOST') ?? '127.0.0.1', 'ROOMLINE_METRICS_HOST'),
    presenceGraceMs: parseInteger('ROOMLINE_PRESENCE_GRACE_MS', read('ROOMLINE_PRESENCE_GRACE_MS') ?? '5000', 1000, 600_000),
    webhookAddresses,
    webhooks: {
      timeoutMs: parseInteger('ROOMLINE_WEBHOOK_TIMEOUT_MS', read('ROOMLINE_WEBHOOK_TIMEOUT_MS') ?? '10000', 50, 120_000),
      retryBaseMs,
      retryMaxMs,
      giveUpAfterMs: parseInteger('ROOMLINE_WEBHOOK_GIVE_UP_MS', read('ROOMLINE_WEBHOOK_GIVE_UP_MS') ?? '86400000', 100, 30 * 86_400_000),
      concurrency: parseInteger('ROOMLINE_WEBHOOK_CONCURRENCY', read('ROOMLINE_WEBHOOK_CONCURRENCY') ?? '64', 1, 10_000),
      retentionMs: parseInteger('ROOMLINE_DELIVERY_RETENTION_DAYS', read('ROOMLINE_DELIVERY_RETENTION_DAYS') ?? '7', 1, 3650) * 86_400_000,
    },
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function parseInteger(variable: string, raw: string, min: number, max: number): number {
  if (!/^\d+$/.test(raw)) throw new ConfigError(variable, `must be a whole number, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(variable, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

/** An address or a host name to bind: a URL or a host:port here would only fail later, at listen. */
function parseHost(raw: string, variable = 'HOST'): string {
  if (isIP(raw) !== 0 || /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/i.test(raw)) return raw;
  throw new ConfigError(variable, `must be an IP address or a host name (no scheme or port), got "${raw}"`);
}

/** A CSP source list: `*`, `'self'`, `'none'` or origins such as https://app.example.com. */
function parseFrameAncestors(raw: string): string {
  const sources = raw.split(/\s+/).filter((source) => source !== '');
  const valid = /^('self'|'none'|\*|https?:\/\/(\*\.)?[A-Za-z0-9.-]+(:\d+)?)$/;
  const invalid = sources.find((source) => !valid.test(source));
  if (sources.length === 0 || invalid !== undefined) {
    throw new ConfigError('ROOMLINE_FRAME_ANCESTORS', `must be *, 'self', 'none' or origins like https://app.example.com separated by spaces${invalid ? `, got "${invalid}"` : ''}`);
  }
  return sources.join(' ');
}

function parsePublicUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError('ROOMLINE_PUBLIC_URL', `must be an absolute http(s) URL, got "${raw}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError('ROOMLINE_PUBLIC_URL', 'must use http or https');
  }
  return url.toString().replace(/\/+$/, '');
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return 'localhost';
  return host.includes(':') ? `[${host}]` : host;
}

/** A service's URL (DATABASE_URL, REDIS_URL) without its password, for messages. */
export function withoutPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    // libpq also takes it as a parameter: postgres:///db?password=…
    if (parsed.searchParams.has('password')) parsed.searchParams.set('password', '***');
    return parsed.toString();
  } catch {
    return '(a URL that does not parse)';
  }
}
