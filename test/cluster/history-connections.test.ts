import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackend, type BackendInstance } from '../helpers/backend.js';
import { runCli, startServeProcess, tempDataDir, type ServeProcess } from '../helpers/process.js';
import { createClient, type ApiClient } from '../helpers/server.js';

/**
 * Statistics of several teams at once, in cluster mode: each holds a snapshot's connection of
 * the history reads' own pool for as long as it reads, and none may wait for one past the
 * connect timeout (a 503 "database could not be reached" with the database well).
 */
describe('cluster: history reads of several teams at once', () => {
  const data = tempDataDir();
  let backend: BackendInstance;
  let server: ServeProcess;
  const apis: ApiClient[] = [];

  beforeAll(async () => {
    backend = await createBackend('cluster');
    const env = { ...(backend.env as Record<string, string>), ROOMLINE_DATA_DIR: data.dataDir };
    const key = `history-key-${randomUUID()}`;
    // A connect timeout shorter than a statistics read: waiting for a connection shows at once.
    server = await startServeProcess({ ...env, ROOMLINE_TEAM_ID: randomUUID(), ROOMLINE_DEVELOPER_KEY: key, ROOMLINE_RATE_LIMIT: '0', ROOMLINE_POSTGRES_CONNECT_TIMEOUT_MS: '150' });
    apis.push(createClient(server.url, { kind: 'bearer', key }));
    for (const name of ['Second', 'Third']) {
      const created = await runCli(['team', 'create', '--name', name, '--json'], env);
      expect(created.code, created.stderr).toBe(0);
      apis.push(createClient(server.url, { kind: 'bearer', key: (JSON.parse(created.stdout) as { developer_key: string }).developer_key }));
    }
    // Two teams with a history that takes a while to read; the third with none.
    for (const api of apis.slice(0, 2)) {
      const room = (await api.post('/api/v1/rooms', { telephony_enabled: true })).body;
      for (let round = 0; round < 20; round++) {
        const calls = Array.from({ length: 1000 }, (_, i) => ({ call_id: `h-${round}-${i}`, name: `Caller ${i}` }));
        expect((await api.post(`/api/v1/rooms/${room.id}/phone-participants/joined`, calls)).status).toBe(200);
        expect((await api.post(`/api/v1/rooms/${room.id}/phone-participants/left`, calls.map((call) => call.call_id))).status).toBe(200);
      }
    }
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
    await backend?.dispose();
    data.remove();
  });

  it('answers every team, the ones that wait for the thread included', async () => {
    for (let round = 0; round < 3; round++) {
      const answers = await Promise.all(apis.map((api) => api.get('/api/v1/statistics')));
      expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200]);
      expect(answers.map((answer) => answer.body.active_participants)).toEqual([20_000, 20_000, 0]);
    }
  });
});
