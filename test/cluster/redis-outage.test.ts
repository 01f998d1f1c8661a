import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterServices } from '../helpers/backend.js';
import type { ServeProcess } from '../helpers/process.js';
import { startProxiedNode, type ProxiedNode } from '../helpers/proxied-node.js';
import { createClient, waitFor, type ApiClient } from '../helpers/server.js';
import type { TcpProxy } from '../helpers/tcp-proxy.js';

/**
 * Redis carries events between nodes and counts request limits; it is not where changes are
 * kept. Out of reach (refusing connections, or gone silent), it must cost other nodes' streams
 * their freshness, never the API its answers: changes commit and answer, the request limit is
 * skipped, `/readyz` says the bus is unreachable while the node stays ready, and everything is
 * back to normal once Redis is. Needs TEST_DATABASE_URL and TEST_REDIS_URL (CI sets them).
 */
describe.skipIf(clusterServices() === undefined)('cluster: Redis out of reach', () => {
  let started: ProxiedNode;
  let node: ServeProcess;
  let proxy: TcpProxy;
  let api: ApiClient;
  let room: { id: string };

  beforeAll(async () => {
    // The request limit counts in Redis: on, as by default.
    started = await startProxiedNode('REDIS_URL', { ROOMLINE_RATE_LIMIT: '100000' });
    ({ node, proxy, api, room } = started);
  });
  afterAll(async () => started?.stop());

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

    // Once a probe has found it silent, requests are not counted at all, rather than each waiting for Redis.
    const pings = () => proxy.heardWhileSilent().match(/ping/gi)?.length ?? 0;
    await waitFor(() => (pings() >= 2 ? true : undefined), 10_000, 'the count’s second probe of a silent Redis');
    const heardBefore = proxy.heardWhileSilent().length;
    for (let i = 0; i < 5; i += 1) expect((await api.get('/api/v1/rooms')).status).toBe(200);
    expect(proxy.heardWhileSilent().slice(heardBefore)).not.toContain(':rate:');

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
