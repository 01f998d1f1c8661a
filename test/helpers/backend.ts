import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Environment } from '../../src/config/config.js';

/**
 * Which backend this test run drives: `embedded` (SQLite, in-process bus) or `cluster`
 * (PostgreSQL from TEST_DATABASE_URL, Redis from TEST_REDIS_URL). vitest.config.ts runs the
 * API suite once per backend.
 */
export type Backend = 'embedded' | 'cluster';

export function currentBackend(): Backend {
  return process.env.ROOMLINE_TEST_BACKEND === 'cluster' ? 'cluster' : 'embedded';
}

export interface ClusterServices {
  databaseUrl: string;
  redisUrl: string;
}

/** TEST_DATABASE_URL and TEST_REDIS_URL, when both are set. */
export function clusterServices(): ClusterServices | undefined {
  const databaseUrl = process.env.TEST_DATABASE_URL;
  const redisUrl = process.env.TEST_REDIS_URL;
  return databaseUrl && redisUrl ? { databaseUrl, redisUrl } : undefined;
}

export interface BackendInstance {
  /** What the server's configuration needs for this backend. */
  env: Environment;
  /** Removes what the instance created (its database). */
  dispose(): Promise<void>;
}

/**
 * A fresh, isolated backend for one test server: nothing for embedded mode (the server gets
 * its own data folder); in cluster mode a new PostgreSQL database and a Redis prefix of its own,
 * so servers running side by side never see each other's rows or events.
 */
export async function createBackend(backend: Backend = currentBackend()): Promise<BackendInstance> {
  if (backend === 'embedded') return { env: {}, dispose: async () => {} };
  const services = clusterServices();
  if (services === undefined) throw new Error('cluster tests need TEST_DATABASE_URL and TEST_REDIS_URL');
  const name = `roomline_test_${randomBytes(6).toString('hex')}`;
  await withAdmin(services.databaseUrl, (admin) => admin.query(`create database ${name}`));
  const url = new URL(services.databaseUrl);
  url.pathname = `/${name}`;
  return {
    env: { DATABASE_URL: url.toString(), REDIS_URL: services.redisUrl, ROOMLINE_REDIS_PREFIX: `roomline-test:${name}` },
    async dispose() {
      await withAdmin(services.databaseUrl, (admin) => admin.query(`drop database if exists ${name} with (force)`));
    },
  };
}

async function withAdmin<T>(databaseUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
