import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, type Environment } from '../../src/config/config.js';
import { startServer, type RunningServer } from '../../src/server.js';
import type { Clock } from '../../src/domain/clock.js';
import type { DispatcherOptions } from '../../src/webhooks/dispatcher.js';
import type { RoomFeedOptions } from '../../src/domain/room-feed.js';
import type { TeamCredentials } from '../../src/domain/teams.js';
import { createBackend, type BackendInstance } from './backend.js';

export interface TestServer {
  url: string;
  running: RunningServer;
  dataDir: string;
  /** Pass to startTestServer({ state }) after stop({ keepState: true }) to restart on the same data. */
  state: TestState;
  /** Team A and team B, for isolation cases. */
  teamA: TeamCredentials;
  teamB: TeamCredentials;
  /** An API client authenticated as team A (Bearer developer key). */
  api: ApiClient;
  /** An API client authenticated as team B. */
  apiB: ApiClient;
  /** A client for any credentials or none. */
  client(auth?: Auth): ApiClient;
  /** Stops the server; its state is removed unless `keepState`. */
  stop(options?: { keepState?: boolean }): Promise<void>;
}

export type Auth =
  | { kind: 'bearer'; key: string }
  | { kind: 'basic'; teamId: string; key: string }
  | { kind: 'bearer-base64'; teamId: string; key: string }
  | { kind: 'header'; value: string }
  | { kind: 'none' };

export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  text: string;
  /** The parsed JSON body, or undefined when the body is empty or not JSON. */
  body: T;
}

export interface RequestOptions {
  body?: unknown;
  /** A raw body sent as is (for malformed JSON and the like). */
  raw?: string | Uint8Array;
  headers?: Record<string, string>;
}

export interface ApiClient {
  request<T = any>(method: string, path: string, options?: RequestOptions): Promise<ApiResponse<T>>;
  get<T = any>(path: string): Promise<ApiResponse<T>>;
  post<T = any>(path: string, body?: unknown): Promise<ApiResponse<T>>;
  patch<T = any>(path: string, body?: unknown): Promise<ApiResponse<T>>;
  put<T = any>(path: string, body?: unknown): Promise<ApiResponse<T>>;
  delete<T = any>(path: string, body?: unknown): Promise<ApiResponse<T>>;
}

export function authorizationHeader(auth: Auth): string | undefined {
  switch (auth.kind) {
    case 'bearer':
      return `Bearer ${auth.key}`;
    case 'basic':
      return `Basic ${Buffer.from(`${auth.teamId}:${auth.key}`).toString('base64')}`;
    case 'bearer-base64':
      return `Bearer ${Buffer.from(`${auth.teamId}:${auth.key}`).toString('base64')}`;
    case 'header':
      return auth.value;
    case 'none':
      return undefined;
  }
}

export function createClient(baseUrl: string, auth: Auth): ApiClient {
  async function request<T>(method: string, urlPath: string, options: RequestOptions = {}): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { ...options.headers };
    const authorization = authorizationHeader(auth);
    if (authorization !== undefined && headers.authorization === undefined) headers.authorization = authorization;
    let body: string | Uint8Array | undefined;
    if (options.raw !== undefined) body = options.raw;
    else if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    const response = await fetch(baseUrl + urlPath, { method, headers, body: body as BodyInit | undefined });
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    return { status: response.status, headers: response.headers, text, body: parsed as T };
  }
  return {
    request,
    get: (p) => request('GET', p),
    post: (p, b) => request('POST', p, { body: b }),
    patch: (p, b) => request('PATCH', p, { body: b }),
    put: (p, b) => request('PUT', p, { body: b }),
    delete: (p, b) => request('DELETE', p, { body: b }),
  };
}

/** Starts the real server on port 0 with its own data folder and two teams. */
/** What a test server keeps between a stop and a restart: its data folder and its backend. */
export interface TestState {
  dataDir: string;
  backend: BackendInstance;
}

export interface TestServerOptions {
  env?: Environment;
  clock?: Clock;
  webhookDispatch?: Partial<DispatcherOptions>;
  feed?: Partial<RoomFeedOptions>;
  /** Start on the state of a server stopped with `stop({ keepState: true })` (a restart). */
  state?: TestState;
}

/**
 * Starts the real server on port 0 with state of its own (a data folder; in the cluster run a
 * fresh PostgreSQL database and Redis prefix, see backend.ts) and two teams.
 */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const state: TestState = options.state ?? {
    dataDir: fs.mkdtempSync(path.join(os.tmpdir(), 'roomline-test-')),
    backend: await createBackend(),
  };
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    // Suites send thousands of requests a minute; the limit has a test of its own.
    ROOMLINE_RATE_LIMIT: '0',
    ROOMLINE_DATA_DIR: state.dataDir,
    ...state.backend.env,
    ...options.env,
  });
  const running = await startServer(config, { clock: options.clock, webhookDispatch: options.webhookDispatch, feed: options.feed, print: () => {} });
  const teamA = await testTeam(running, 'Team A');
  const teamB = await testTeam(running, 'Team B');
  const url = running.url;
  const client = (auth: Auth = { kind: 'none' }) => createClient(url, auth);
  return {
    url,
    running,
    dataDir: state.dataDir,
    state,
    teamA,
    teamB,
    api: client({ kind: 'bearer', key: teamA.developer_key }),
    apiB: client({ kind: 'bearer', key: teamB.developer_key }),
    client,
    async stop(stopOptions: { keepState?: boolean } = {}) {
      await running.stop();
      if (stopOptions.keepState) return;
      await state.backend.dispose();
      fs.rmSync(state.dataDir, { recursive: true, force: true });
    },
  };
}

/** The named team: created on a first start, found again after a restart. */
async function testTeam(running: RunningServer, name: string): Promise<TeamCredentials> {
  const existing = (await running.services.teams.list()).find((team) => team.name === name);
  if (existing === undefined) return running.services.teams.create({ name });
  return { team_id: existing.id, developer_key: existing.developerKey, name: existing.name };
}

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function waitFor<T>(check: () => T | undefined | Promise<T | undefined>, timeoutMs = 5000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
