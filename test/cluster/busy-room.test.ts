import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackend, type BackendInstance } from '../helpers/backend.js';
import { startServeProcess, tempDataDir, type ServeProcess } from '../helpers/process.js';
import { createClient, waitFor, type ApiClient } from '../helpers/server.js';

/**
 * A room whose changes queue behind its lock (a bridge reporting a burst of hang-ups while a
 * long change holds the room) must not hold up the node's other rooms. Each waiting change
 * used to hold a pooled connection while it waited, so a burst of them took the whole pool.
 */
describe('cluster: a busy room', () => {
  const key = `cluster-key-${randomUUID()}`;
  const data = tempDataDir();
  let backend: BackendInstance;
  let node: ServeProcess;
  let api: ApiClient;
  let admin: pg.Client;

  beforeAll(async () => {
    backend = await createBackend('cluster');
    node = await startServeProcess({ ...(backend.env as Record<string, string>), ROOMLINE_DATA_DIR: data.dataDir, ROOMLINE_TEAM_ID: randomUUID(), ROOMLINE_DEVELOPER_KEY: key });
    api = createClient(node.url, { kind: 'bearer', key });
    admin = new pg.Client({ connectionString: backend.env.DATABASE_URL });
    await admin.connect();
  });
  afterAll(async () => {
    await admin?.end();
    await node?.stop();
    await backend?.dispose();
    data.remove();
  });

  /** The node's connections waiting for a lock now. */
  async function lockWaiters(): Promise<number> {
    const { rows } = await admin.query("select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'");
    return rows[0].n;
  }

  it('holds one connection however many of its changes wait, and the other rooms go on', async () => {
    const busy = (await api.post('/api/v1/rooms', { telephony_enabled: true })).body;
    const other = (await api.post('/api/v1/rooms', { telephony_enabled: true })).body;
    const callIds = Array.from({ length: 30 }, (_, n) => `busy-${n}`);
    expect((await api.post(`/api/v1/rooms/${busy.id}/phone-participants/joined`, [{ call_id: 'anchor', name: 'Anchor' }, ...callIds.map((call_id) => ({ call_id, name: call_id }))])).status).toBe(200);

    // Another client of the database holds the busy room's row, as a long change would.
    await admin.query('begin');
    await admin.query('select id from rooms where id = $1 for update', [busy.id]);
    const leaves = callIds.map((callId) => api.post(`/api/v1/rooms/${busy.id}/phone-participants/left`, [callId]));
    try {
      await waitFor(async () => ((await lockWaiters()) > 0 ? true : undefined), 10_000, 'a change of the busy room to wait for its lock');
      // The pool has 10 connections: 30 changes waiting one per connection would leave none.
      const joined = await api.post(`/api/v1/rooms/${other.id}/phone-participants/joined`, [{ call_id: 'elsewhere', name: 'Elsewhere' }]);
      expect(joined.status).toBe(200);
      const roster = await api.get(`/api/v1/rooms/${other.id}/live/participants`);
      expect(roster.body.live_participants.map((participant: { name: string }) => participant.name)).toEqual(['Elsewhere']);
      expect(await lockWaiters()).toBe(1);
    } finally {
      await admin.query('commit');
    }

    // Once the room is free every queued change goes through, none lost or doubled.
    expect((await Promise.all(leaves)).map((response) => response.status)).toEqual(callIds.map(() => 200));
    const live = await api.get(`/api/v1/rooms/${busy.id}/live/participants`);
    expect(live.body.live_participants.map((participant: { name: string }) => participant.name)).toEqual(['Anchor']);
  });
});
