import { randomUUID } from 'node:crypto';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateToLatest } from '../../src/store/migrate.js';
import type { Database } from '../../src/store/schema.js';
import { createBackend, type BackendInstance } from '../helpers/backend.js';
import { runCli, startServeProcess, tempDataDir, type ServeProcess } from '../helpers/process.js';
import { Receiver } from '../helpers/receiver.js';
import { createClient, waitFor, type ApiClient } from '../helpers/server.js';
import { copyWhileJoining, expectWholePairs } from '../helpers/copy-under-load.js';

/**
 * `roomline copy`: a team that outgrew one machine moves its embedded data to a cluster, and a
 * cluster's data comes back to one machine, with every room, roster, session, web participant's
 * credential and queued webhook delivery as it was.
 */
describe('roomline copy: embedded to cluster and back', () => {
  const teamId = randomUUID();
  const key = `copy-key-${randomUUID()}`;
  const source = tempDataDir();
  const back = tempDataDir();
  const receiver = new Receiver();
  let backend: BackendInstance;
  let databaseUrl: string;
  const common = {
    ROOMLINE_TEAM_ID: teamId,
    ROOMLINE_DEVELOPER_KEY: key,
    LOG_LEVEL: 'info',
    // Every server answers the same room_url, whatever port it listens on.
    ROOMLINE_PUBLIC_URL: 'https://rooms.example.com',
    ROOMLINE_WEBHOOK_TIMEOUT_MS: '1000',
    ROOMLINE_WEBHOOK_RETRY_BASE_MS: '50',
    ROOMLINE_WEBHOOK_RETRY_MAX_MS: '200',
    // The web participant's page is gone while the data moves: a long grace keeps her in the
    // room for the test's length, as a page that reconnects would.
    ROOMLINE_PRESENCE_GRACE_MS: '120000',
  };
  const servers: ServeProcess[] = [];
  async function serve(env: Record<string, string>): Promise<{ server: ServeProcess; api: ApiClient }> {
    const server = await startServeProcess({ ...common, ...env });
    servers.push(server);
    return { server, api: createClient(server.url, { kind: 'bearer', key }) };
  }

  /** What the source answered, read by read, once its server stopped changing it. */
  let before: Record<string, unknown>;
  let mainRoomId: string;
  let webCredential: string;
  let queuedEventIds: string[];

  beforeAll(async () => {
    backend = await createBackend('cluster');
    databaseUrl = backend.env.DATABASE_URL!;
    // The receiver holds the first delivery without answering: it is in flight, leased to the
    // source's sender for its 30 s timeout, when the source stops, and the rest wait behind it.
    receiver.mode = { kind: 'slow', delayMs: 120_000 };
    await receiver.start();

    const { server, api } = await serve({ ROOMLINE_DATA_DIR: source.dataDir, ROOMLINE_WEBHOOK_TIMEOUT_MS: '30000' });
    const hook = (await api.post('/api/v1/webhooks', { endpoint: receiver.url, events: ['participant_joined', 'participant_left', 'session_ended'] })).body;
    const main = (await api.post('/api/v1/rooms', { friendly_url: 'moving-day', description: 'Kept across the move', tags: ['weekly', 'sales'], telephony_enabled: true })).body;
    mainRoomId = main.id;
    expect((await api.post(`/api/v1/rooms/${main.id}/phone-participants/left`, ['early-bird'])).status).toBe(200);
    await api.post(`/api/v1/rooms/${main.id}/phone-participants/joined`, [
      { call_id: 'alice', name: 'Alice', caller_number: '+15550100' },
      { call_id: 'bob', caller_number: '+15550101' },
      { call_id: 'carol', name: 'Carol', muted: true },
    ]);
    await api.post(`/api/v1/rooms/${main.id}/phone-participants/left`, ['alice']);
    await api.post(`/api/v1/rooms/${main.id}/phone-participants/bob/raise-hand`);
    const joined = await fetch(`${server.url}/room-page/api/rooms/${main.id}/join`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Dana on the web' }) });
    expect(joined.status).toBe(200);
    webCredential = ((await joined.json()) as { credential: string }).credential;

    const ended = (await api.post('/api/v1/rooms', { friendly_url: 'yesterday', telephony_enabled: true })).body;
    await api.post(`/api/v1/rooms/${ended.id}/phone-participants/joined`, [{ call_id: 'erin', name: 'Erin' }]);
    await api.post(`/api/v1/rooms/${ended.id}/phone-participants/left`, ['erin']);
    const gone = (await api.post('/api/v1/rooms', { friendly_url: 'gone', telephony_enabled: true })).body;
    await api.post(`/api/v1/rooms/${gone.id}/phone-participants/joined`, [{ call_id: 'frank', name: 'Frank' }]);
    expect((await api.delete(`/api/v1/rooms/${gone.id}`)).status).toBe(204);

    await waitFor(() => receiver.requests.length > 0 || undefined, 10_000, 'the first delivery to be in flight');
    const deliveries = (await api.get(`/api/v1/webhooks/${hook.id}/deliveries?limit=100`)).body.data;
    expect(deliveries.length).toBeGreaterThanOrEqual(6);
    queuedEventIds = deliveries.map((d: { event_id: string }) => d.event_id).sort();
    before = await readEverything(api, mainRoomId);
    // The machine is lost: no shutdown, the lease stays in the data.
    await server.stop('SIGKILL');
  });
  afterAll(async () => {
    await Promise.allSettled(servers.map((server) => server.stop()));
    await receiver.stop();
    await backend?.dispose();
    source.remove();
    back.remove();
  });

  let cluster: ApiClient;
  let clusterUrl: string;

  it('moves the embedded data to a cluster, where every read answers as before', async () => {
    const copied = await runCli(['copy', '--to', databaseUrl, '--json'], { ROOMLINE_DATA_DIR: source.dataDir });
    expect(copied.stderr).toBe('');
    expect(copied.code).toBe(0);
    const report = JSON.parse(copied.stdout);
    expect(report).toMatchObject({ from: source.dataDir, to: expect.stringContaining('***@'), rows: expect.any(Number) });
    expect(report.tables).toMatchObject({ teams: 1, rooms: 2, room_tags: 2, participants: 6, call_tombstones: 1, web_presence: 1, webhooks: 1 });
    expect(report.tables.webhook_deliveries).toBe(queuedEventIds.length);

    const node = await serve({ ...(backend.env as Record<string, string>), ROOMLINE_DATA_DIR: source.dataDir });
    expect(node.server.output()).toMatch(/cluster: postgres at/);
    cluster = node.api;
    clusterUrl = node.server.url;
    expect(normalise(await readEverything(cluster, mainRoomId))).toEqual(normalise(before));
  });

  it('sends every queued delivery at once, in order, the one in flight at the copy too', async () => {
    // Within the wait below only if the copy released the source's lease (30 s + 5 s).
    receiver.mode = { kind: 'ok' };
    const received = await waitFor(() => (receiver.accepted.length >= queuedEventIds.length ? receiver.accepted : undefined), 15_000, 'the queued deliveries');
    expect(receiver.requests[0]!.answered).toBe(0);
    const sent = received.map((request) => request.headers['x-roomline-event-id'] as string);
    expect([...new Set(sent)].sort()).toEqual(queuedEventIds);
    const sequences = received.map((request) => Number(request.headers['x-roomline-sequence']));
    expect(sequences).toEqual([...sequences].sort((a, b) => a - b));
  });

  it('carries the roster on: leaves apply, left calls stay left, the web page keeps its credential', async () => {
    expect((await cluster.post(`/api/v1/rooms/${mainRoomId}/phone-participants/left`, ['bob'])).status).toBe(200);
    // alice left before the move, early-bird's leave came before any join: neither comes back.
    expect((await cluster.post(`/api/v1/rooms/${mainRoomId}/phone-participants/joined`, [{ call_id: 'alice', name: 'Alice' }, { call_id: 'early-bird', name: 'Early' }])).status).toBe(200);
    const live = (await cluster.get(`/api/v1/rooms/${mainRoomId}/live/participants`)).body.live_participants;
    expect(live.map((p: { call_id: string | null; name: string }) => p.call_id ?? p.name)).toEqual(['carol', 'Dana on the web']);
    const alive = await fetch(`${clusterUrl}/room-page/api/alive`, { method: 'POST', headers: { authorization: `Bearer ${webCredential}` } });
    expect(alive.status).toBe(204);
  });

  it('refuses to copy into a database that holds data, and leaves it as it was', async () => {
    const rooms = (await cluster.get('/api/v1/rooms')).body;
    const again = await runCli(['copy', '--to', databaseUrl], { ROOMLINE_DATA_DIR: source.dataDir });
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/the target already holds data .* copy into a new, empty database or folder/);
    expect((await cluster.get('/api/v1/rooms')).body).toEqual(rooms);
  });

  it('copies a cluster that goes on serving as of one commit', async () => {
    const room = (await cluster.post('/api/v1/rooms', { telephony_enabled: true })).body;
    const snapshot = tempDataDir();
    try {
      const { copied, answeredBefore, answeredAfter } = await copyWhileJoining(cluster, room.id, () => runCli(['copy', '--from', databaseUrl, '--to', snapshot.dataDir], {}));
      expect(copied.code, copied.stderr).toBe(0);
      const embedded = await serve({ ROOMLINE_DATA_DIR: snapshot.dataDir });
      await expectWholePairs(embedded.api, room.id, answeredBefore, answeredAfter);
      await embedded.server.stop();
    } finally {
      snapshot.remove();
    }
  });

  it('copies the cluster back to one machine', async () => {
    const now = await readEverything(cluster, mainRoomId);
    const copied = await runCli(['copy', '--from', databaseUrl, '--to', back.dataDir], {});
    expect(copied.code).toBe(0);
    expect(copied.stdout).toMatch(/^copied \d+ rows from postgres:\/\/.* to .* in [\d.]+ s\n$/);
    const embedded = await serve({ ROOMLINE_DATA_DIR: back.dataDir });
    expect(embedded.server.output()).toMatch(/embedded: sqlite at/);
    expect(normalise(await readEverything(embedded.api, mainRoomId))).toEqual(normalise(now));
  });
});


describe('roomline copy: what it refuses', () => {
  const backends: BackendInstance[] = [];
  const folders: ReturnType<typeof tempDataDir>[] = [];
  async function database(): Promise<string> {
    const backend = await createBackend('cluster');
    backends.push(backend);
    return backend.env.DATABASE_URL!;
  }
  async function embeddedSource(): Promise<string> {
    const folder = tempDataDir();
    folders.push(folder);
    const made = await runCli(['team', 'create', '--name', 'Source'], { ROOMLINE_DATA_DIR: folder.dataDir });
    expect(made.code, made.stderr).toBe(0);
    return folder.dataDir;
  }
  async function count(url: string, table: string): Promise<number> {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return Number((await client.query(`select count(*) as n from ${table}`)).rows[0].n);
    } finally {
      await client.end();
    }
  }
  afterAll(async () => {
    for (const backend of backends) await backend.dispose();
    for (const folder of folders) folder.remove();
  });

  it('lets one of two copies into one database at once copy, and refuses the other', async () => {
    const [first, second, target] = [await embeddedSource(), await embeddedSource(), await database()];
    const results = await Promise.all([runCli(['copy', '--from', first, '--to', target], {}), runCli(['copy', '--from', second, '--to', target], {})]);
    expect(results.map((result) => result.code).sort()).toEqual([0, 1]);
    expect(results.find((result) => result.code === 1)!.stderr).toMatch(/the target already holds data/);
    expect(await count(target, 'teams')).toBe(1);
  });

  it('refuses a PostgreSQL source an older roomline migrated, and leaves it as it was', async () => {
    const url = await database();
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 1 }) }) });
    await migrateToLatest(db, '010_webhook_counters');
    await db.destroy();
    const copy = tempDataDir();
    folders.push(copy);
    const refused = await runCli(['copy', '--from', url, '--to', copy.dataDir], {});
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/last migrated by an older roomline \(it lacks migration 011_call_records\): upgrade it first/);
    expect(await count(url, 'kysely_migration')).toBe(9);
  });

  it('names a row PostgreSQL cannot store, and leaves the target empty', async () => {
    const source = await embeddedSource();
    const file = new BetterSqlite3(path.join(source, 'roomline.db'));
    // Text with a NUL character, as roomline accepted it before it refused such text at its API.
    file.prepare('update teams set name = ?').run('Nul \u0000 team');
    file.close();
    const target = await database();
    const refused = await runCli(['copy', '--from', source, '--to', target], {});
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^roomline: teams \(id = "[0-9a-f-]{36}"\): its name holds a NUL character, which PostgreSQL cannot store/);
    expect(await count(target, 'teams')).toBe(0);
  });
});

/** Every read a team makes of its data, by path. */
async function readEverything(api: ApiClient, roomId: string): Promise<Record<string, unknown>> {
  const paths = [
    '/api/v1/rooms',
    `/api/v1/rooms/${roomId}`,
    `/api/v1/rooms/${roomId}/live/participants`,
    `/api/v1/rooms/${roomId}/participants`,
    `/api/v1/rooms/${roomId}/sessions`,
    '/api/v1/sessions',
    '/api/v1/participants',
    '/api/v1/roles',
    '/api/v1/webhooks',
    '/api/v1/statistics/totals',
  ];
  const reads: Record<string, unknown> = {};
  for (const path of paths) {
    const answer = await api.get(path);
    expect(answer.status, path).toBe(200);
    reads[path] = answer.body;
  }
  return reads;
}

/** Figures that grow while the test runs (a live session's length, its minutes so far). */
function normalise(reads: Record<string, unknown>): unknown {
  return JSON.parse(JSON.stringify(reads), (name, value) => (name === 'session_duration' || name === 'participation_minutes' ? undefined : value));
}
