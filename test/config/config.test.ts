import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, withoutPassword, type Environment } from '../../src/config/config.js';

const TEAM_ID = '0b6f8a52-3c1d-4e2f-9a8b-7c6d5e4f3a2b';

function configError(env: Environment): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(env)}`);
}

describe('loadConfig', () => {
  it('has defaults for an embedded start on a fresh clone', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 3000,
      host: '127.0.0.1',
      dataDir: path.resolve('data'),
      databaseUrl: undefined,
      redisUrl: undefined,
      logLevel: 'info',
      publicUrl: 'http://127.0.0.1:3000',
      bootstrapTeam: undefined,
      sqliteSynchronous: 'NORMAL',
      postgresPreparedStatements: true,
      postgresStatementTimeoutMs: 30_000,
      postgresConnectTimeoutMs: 10_000,
      bodyLimit: 1024 * 1024,
      requestTimeoutMs: 30_000,
      shutdownGraceSeconds: 10,
      webhookAddresses: 'private',
      metricsPort: undefined,
      metricsHost: '127.0.0.1',
    });
  });

  it('reads every variable, and CLI flags take precedence over the environment', () => {
    const config = loadConfig(
      {
        PORT: '8080',
        HOST: '0.0.0.0',
        LOG_LEVEL: 'DEBUG',
        ROOMLINE_DATA_DIR: '/var/lib/roomline',
        DATABASE_URL: 'postgres://roomline@db/roomline',
        REDIS_URL: 'redis://cache:6379',
        ROOMLINE_PUBLIC_URL: 'https://rooms.example.com/',
        ROOMLINE_TEAM_ID: TEAM_ID.toUpperCase(),
        ROOMLINE_DEVELOPER_KEY: 'a-developer-key-of-some-length',
        ROOMLINE_SQLITE_SYNCHRONOUS: 'full',
        ROOMLINE_POSTGRES_PREPARED_STATEMENTS: 'OFF',
        ROOMLINE_POSTGRES_STATEMENT_TIMEOUT_MS: '0',
        ROOMLINE_POSTGRES_CONNECT_TIMEOUT_MS: '2500',
        ROOMLINE_BODY_LIMIT: '2048',
        ROOMLINE_REQUEST_TIMEOUT_MS: '5000',
        ROOMLINE_SHUTDOWN_GRACE_SECONDS: '0',
        ROOMLINE_STREAM_HEARTBEAT_MS: '500',
        ROOMLINE_WEBHOOK_ADDRESSES: 'Public',
        ROOMLINE_DELIVERY_RETENTION_DAYS: '30',
        ROOMLINE_METRICS_PORT: '9464',
        ROOMLINE_METRICS_HOST: '0.0.0.0',
      },
      { PORT: '9090' },
    );
    expect(config).toMatchObject({
      port: 9090,
      host: '0.0.0.0',
      logLevel: 'debug',
      dataDir: '/var/lib/roomline',
      databaseUrl: 'postgres://roomline@db/roomline',
      redisUrl: 'redis://cache:6379',
      publicUrl: 'https://rooms.example.com',
      bootstrapTeam: { teamId: TEAM_ID, developerKey: 'a-developer-key-of-some-length' },
      sqliteSynchronous: 'FULL',
      postgresPreparedStatements: false,
      postgresStatementTimeoutMs: 0,
      postgresConnectTimeoutMs: 2500,
      bodyLimit: 2048,
      requestTimeoutMs: 5000,
      shutdownGraceSeconds: 0,
      streamHeartbeatMs: 500,
      webhookAddresses: 'public',
      webhooks: { retentionMs: 30 * 86_400_000 },
      metricsPort: 9464,
      metricsHost: '0.0.0.0',
    });
  });

  it('derives the public URL from the bind address, a wildcard as localhost', () => {
    expect(loadConfig({ HOST: '0.0.0.0', PORT: '4000' }).publicUrl).toBe('http://localhost:4000');
    expect(loadConfig({ HOST: '::1', PORT: '4000' }).publicUrl).toBe('http://[::1]:4000');
  });

  it('refuses a wrong value with a message that names the variable and why', () => {
    const cases: [Environment, string][] = [
      [{ PORT: 'abc' }, 'PORT'],
      [{ PORT: '70000' }, 'PORT'],
      [{ HOST: 'http://0.0.0.0' }, 'HOST'],
      [{ HOST: 'localhost:3000' }, 'HOST'],
      [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
      [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
      [{ REDIS_URL: 'localhost:6379' }, 'REDIS_URL'],
      [{ ROOMLINE_PUBLIC_URL: 'rooms.example.com' }, 'ROOMLINE_PUBLIC_URL'],
      [{ ROOMLINE_PUBLIC_URL: 'ftp://rooms.example.com' }, 'ROOMLINE_PUBLIC_URL'],
      [{ ROOMLINE_TEAM_ID: TEAM_ID }, 'ROOMLINE_DEVELOPER_KEY'],
      [{ ROOMLINE_DEVELOPER_KEY: 'a-developer-key-of-some-length' }, 'ROOMLINE_TEAM_ID'],
      [{ ROOMLINE_TEAM_ID: 'team-1', ROOMLINE_DEVELOPER_KEY: 'a-developer-key-of-some-length' }, 'ROOMLINE_TEAM_ID'],
      [{ ROOMLINE_TEAM_ID: TEAM_ID, ROOMLINE_DEVELOPER_KEY: 'short' }, 'ROOMLINE_DEVELOPER_KEY'],
      [{ ROOMLINE_TEAM_ID: TEAM_ID, ROOMLINE_DEVELOPER_KEY: 'has:a-colon-inside-it' }, 'ROOMLINE_DEVELOPER_KEY'],
      [{ ROOMLINE_SQLITE_SYNCHRONOUS: 'OFF' }, 'ROOMLINE_SQLITE_SYNCHRONOUS'],
      [{ ROOMLINE_POSTGRES_PREPARED_STATEMENTS: 'yes' }, 'ROOMLINE_POSTGRES_PREPARED_STATEMENTS'],
      [{ ROOMLINE_POSTGRES_STATEMENT_TIMEOUT_MS: '30s' }, 'ROOMLINE_POSTGRES_STATEMENT_TIMEOUT_MS'],
      [{ ROOMLINE_POSTGRES_CONNECT_TIMEOUT_MS: '0' }, 'ROOMLINE_POSTGRES_CONNECT_TIMEOUT_MS'],
      [{ ROOMLINE_BODY_LIMIT: '1mb' }, 'ROOMLINE_BODY_LIMIT'],
      [{ ROOMLINE_SHUTDOWN_GRACE_SECONDS: '-1' }, 'ROOMLINE_SHUTDOWN_GRACE_SECONDS'],
      [{ ROOMLINE_STREAM_HEARTBEAT_MS: '10' }, 'ROOMLINE_STREAM_HEARTBEAT_MS'],
      [{ ROOMLINE_REDIS_PREFIX: 'has space' }, 'ROOMLINE_REDIS_PREFIX'],
      [{ ROOMLINE_FRAME_ANCESTORS: "https://ok.example 'unsafe-inline'" }, 'ROOMLINE_FRAME_ANCESTORS'],
      [{ ROOMLINE_FRAME_ANCESTORS: 'javascript:x' }, 'ROOMLINE_FRAME_ANCESTORS'],
      [{ ROOMLINE_RATE_LIMIT: 'lots' }, 'ROOMLINE_RATE_LIMIT'],
      [{ ROOMLINE_MAX_STREAMS_PER_TEAM: '0' }, 'ROOMLINE_MAX_STREAMS_PER_TEAM'],
      [{ ROOMLINE_PRESENCE_GRACE_MS: '10' }, 'ROOMLINE_PRESENCE_GRACE_MS'],
      [{ ROOMLINE_WEBHOOK_TIMEOUT_MS: '1' }, 'ROOMLINE_WEBHOOK_TIMEOUT_MS'],
      [{ ROOMLINE_WEBHOOK_CONCURRENCY: '0' }, 'ROOMLINE_WEBHOOK_CONCURRENCY'],
      [{ ROOMLINE_WEBHOOK_ADDRESSES: 'all' }, 'ROOMLINE_WEBHOOK_ADDRESSES'],
      [{ ROOMLINE_WEBHOOK_ADDRESSES: 'public,private' }, 'ROOMLINE_WEBHOOK_ADDRESSES'],
      // A ceiling below the first delay would make every retry wait longer than the ceiling says.
      [{ ROOMLINE_WEBHOOK_RETRY_BASE_MS: '100000', ROOMLINE_WEBHOOK_RETRY_MAX_MS: '10' }, 'ROOMLINE_WEBHOOK_RETRY_MAX_MS'],
      [{ ROOMLINE_DELIVERY_RETENTION_DAYS: '0' }, 'ROOMLINE_DELIVERY_RETENTION_DAYS'],
      [{ ROOMLINE_METRICS_PORT: 'on' }, 'ROOMLINE_METRICS_PORT'],
      [{ ROOMLINE_METRICS_PORT: '70000' }, 'ROOMLINE_METRICS_PORT'],
      // Metrics apart from the API: one port cannot be both.
      [{ PORT: '4000', ROOMLINE_METRICS_PORT: '4000' }, 'ROOMLINE_METRICS_PORT'],
      [{ PORT: '4000', ROOMLINE_METRICS_PORT: '04000' }, 'ROOMLINE_METRICS_PORT'],
      [{ ROOMLINE_METRICS_HOST: 'http://0.0.0.0' }, 'ROOMLINE_METRICS_HOST'],
    ];
    for (const [env, variable] of cases) {
      const error = configError(env);
      expect(error.variable, JSON.stringify(env)).toBe(variable);
      expect(error.message).toMatch(new RegExp(`^${variable}: \\S`));
    }
  });

  it('never repeats a secret in its messages', () => {
    const key = 'secret-key-with:colon-0123456789';
    expect(configError({ ROOMLINE_TEAM_ID: TEAM_ID, ROOMLINE_DEVELOPER_KEY: key }).message).not.toContain(key);
    expect(configError({ DATABASE_URL: 'mysql://root:hunter2@db/x' }).message).not.toContain('hunter2');
  });

  it('masks a URL\'s password for messages, as user:password or as a parameter', () => {
    expect(withoutPassword('postgres://roomline:hunter2@db:5432/roomline')).toBe('postgres://roomline:***@db:5432/roomline');
    expect(withoutPassword('postgres:///roomline?host=db&password=hunter2&user=roomline')).toBe('postgres:///roomline?host=db&password=***&user=roomline');
  });

  it('is documented: the README configuration table lists every variable it reads', () => {
    const source = fs.readFileSync(path.resolve('src/config/config.ts'), 'utf8');
    const variables = [...source.matchAll(/read\('([A-Z_]+)'\)/g)].map((match) => match[1]!);
    expect(variables.length).toBeGreaterThan(10);
    const readme = fs.readFileSync(path.resolve('README.md'), 'utf8');
    for (const variable of new Set(variables)) expect(readme, variable).toMatch(new RegExp(`^\\| \`${variable}\` \\|`, 'm'));
  });
});
