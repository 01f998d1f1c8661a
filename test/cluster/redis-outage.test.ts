import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterServices, createBackend, type BackendInstance } from '../helpers/backend.js';
import { startServeProcess, tempDataDir, type ServeProcess } from '../helpers/process.js';
import { createClient, waitFor, type ApiClient } from '../helpers/server.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';

/**
 * Redis carries events between nodes and counts request limits; it is not where changes are
 * kept. Out of reach (refusing connections, or gone silent), it must cost other nodes' streams
 * their freshness, never the API its answers: changes commit and answer, the request limit is
 * skipped, `/readyz` says the bus is unreachable while the node stays ready, and everything is
 * back to normal once Redis is. Needs TEST_DATABASE_URL and TEST_REDIS_URL (CI sets them).
 */
describe.skipIf(clusterServices() === undefined)('cluster: Redis out of reach', () => {
  const key = `cluster-key-${randomUUID()}`;
  const data = tempDataDir();
  let backend: BackendInstance;
  let proxy: TcpProxy;
  let node: ServeProcess;
  let api: ApiClient;
  let room: { id: string };

  beforeAll(async () => {
    backend = await createBackend('cluster');
    const redis = new URL(backend.env.REDIS_URL!);
    proxy = await startTcpProxy({ host: redis.hostname, port: Number(redis.port || 6379) });
    node = await startServeProcess({
      ...(backend.env as Record<string, string>),
      REDIS_URL: proxy.via(backend.env.REDIS_URL!),
      // The request limit counts in Redis: on, as by default.
      ROOMLINE_RATE_LIMIT: '100000',
      ROOMLINE_DATA_DIR: data.dataDir,
      ROOMLINE_TEAM_ID: randomUUID(),
      ROOMLINE_DEVELOPER_KEY: key,
    });
    api = createClient(node.url, { kind: 'bearer', key });
    room = (await api.post('/api/v1/rooms', { telephony_enabled: true })).body;
  });
  afterAll(async () => {
    await node?.stop();
    await proxy?.close();
    await backend?.dispose();
    data.remove();
  });

  const readiness = async () => (await createClient(node.url, { kind: 'none' }).get('/readyz')).body;
  const live = async () => (await api.get(`/api/v1/rooms/${room.id}/live`)).body.live_participants;

  it('answers every change while Redis is silent or refusing, says so on /readyz, and is back to normal after', async () => {
    expect(await readiness()).toEqual({ status: 'ready', bus: 'ok' });

    // Silent: connections open, nothing answered. A publish or a count that waited for Redis would wait for ever.
    proxy.silence();
    for (let i = 0; i < 5; i += 1) {
      expect((await api.post(`/api/v1/rooms/${room.id}/phone-participants/joined`, [{ call_id: `silent-${i}`, name: 'Caller' }])).status).toBe(200);
    }
    expect(await live()).toBe(5);
    expect(await readiness()).toEqual({ status: 'ready', bus: 'unreachable' });

    // Refusing: connections closed and refused.
    await proxy.refuse();
    for (let i = 0; i < 5; i += 1) {
      expect((await api.post(`/api/v1/rooms/${room.id}/phone-participants/left`, [`silent-${i}`])).status).toBe(200);
    }
    expect(await live()).toBe(0);
    expect(await readiness()).toEqual({ status: 'ready', bus: 'unreachable' });

    await proxy.restore();
    await waitFor(async () => ((await readiness()).bus === 'ok' ? true : undefined), 20_000, 'the bus to reach Redis again');
    expect((await api.post(`/api/v1/rooms/${room.id}/phone-participants/joined`, [{ call_id: 'after', name: 'After' }])).status).toBe(200);
    expect(await live()).toBe(1);
    // Its trouble went to the JSON log, once per outage, not as ioredis's plain-text warnings.
    expect(node.output()).not.toContain('[ioredis] Unhandled error event');
    expect(node.output().split('could not publish events to redis')).toHaveLength(2);
  });
});
