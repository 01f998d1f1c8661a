import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackend, type BackendInstance } from '../helpers/backend.js';
import { startServeProcess, tempDataDir, type ServeProcess } from '../helpers/process.js';
import { createClient, waitFor, type ApiClient } from '../helpers/server.js';

/** PostgreSQL dropping a node's idle connections (a restart, a failover, an administrator). */
describe('cluster: connections PostgreSQL drops', () => {
  const key = `cluster-key-${randomUUID()}`;
  const data = tempDataDir();
  let backend: BackendInstance;
  let node: ServeProcess;
  let api: ApiClient;

  beforeAll(async () => {
    backend = await createBackend('cluster');
    node = await startServeProcess({ ...(backend.env as Record<string, string>), ROOMLINE_DATA_DIR: data.dataDir, ROOMLINE_TEAM_ID: randomUUID(), ROOMLINE_DEVELOPER_KEY: key });
    api = createClient(node.url, { kind: 'bearer', key });
  });
  afterAll(async () => {
    await node?.stop();
    await backend?.dispose();
    data.remove();
  });

  it('are replaced: the node keeps answering, and says what happened', async () => {
    const room = (await api.post('/api/v1/rooms', { telephony_enabled: true })).body;
    expect((await api.post(`/api/v1/rooms/${room.id}/phone-participants/joined`, [{ call_id: 'a', name: 'A' }])).status).toBe(200);

    const database = new URL(backend.env.DATABASE_URL!).pathname.slice(1);
    const admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
    await admin.connect();
    try {
      const { rowCount } = await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()', [database]);
      expect(rowCount).toBeGreaterThan(0);
    } finally {
      await admin.end();
    }

    await waitFor(() => (node.output().includes('a PostgreSQL connection was lost') ? true : undefined), 10_000, 'the lost connection to be reported');
    expect((await api.post(`/api/v1/rooms/${room.id}/phone-participants/left`, ['a'])).status).toBe(200);
    expect((await api.get(`/api/v1/rooms/${room.id}/live`)).body.live_participants).toBe(0);
    expect(node.child.exitCode).toBeNull();
  });
});
