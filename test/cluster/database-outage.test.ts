import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServeProcess } from '../helpers/process.js';
import { startProxiedNode, type ProxiedNode } from '../helpers/proxied-node.js';
import { waitFor, type ApiClient, type ApiResponse } from '../helpers/server.js';
import type { TcpProxy } from '../helpers/tcp-proxy.js';

/**
 * PostgreSQL too slow, refusing connections, or gone silent. The node answers a 503 with
 * Retry-After within its timeouts, never hangs, keeps running, and is back to normal once the
 * database is.
 */
describe('cluster: a database that is too slow or out of reach', () => {
  let started: ProxiedNode;
  let node: ServeProcess;
  let proxy: TcpProxy;
  let api: ApiClient;
  let room: { id: string };

  beforeAll(async () => {
    started = await startProxiedNode('DATABASE_URL', { ROOMLINE_POSTGRES_STATEMENT_TIMEOUT_MS: '1000', ROOMLINE_POSTGRES_CONNECT_TIMEOUT_MS: '1000' });
    ({ node, proxy, api, room } = started);
  });
  afterAll(async () => started?.stop());

  const live = async () => (await api.get(`/api/v1/rooms/${room.id}/live`)).body.live_participants;
  const join = (callId: string) => api.post(`/api/v1/rooms/${room.id}/phone-participants/joined`, [{ call_id: callId, name: callId }]);

  function expectUnavailable(response: ApiResponse): void {
    expect(response.status, response.text).toBe(503);
    expect(response.headers.get('retry-after')).toBe('5');
    expect(response.body).toEqual({ message: 'The database could not be reached or did not answer in time. Try again.' });
  }

  async function backToNormal(): Promise<void> {
    await waitFor(async () => ((await api.get('/api/v1/rooms')).status === 200 ? true : undefined), 15_000, 'the node to reach the database again');
  }

  /** Runs `work` while another connection holds the room's row locked, as another node's change would. */
  async function whileRoomLocked(work: (admin: pg.Client) => Promise<void>): Promise<void> {
    const admin = new pg.Client({ connectionString: started.serviceUrl });
    await admin.connect();
    try {
      await admin.query('begin');
      await admin.query('select id from rooms where id = $1 for update', [room.id]);
      await work(admin);
    } finally {
      await admin.query('rollback');
      await admin.end();
    }
  }

  it('a change held past the statement timeout is a 503 and applies nothing', async () => {
    await whileRoomLocked(async () => expectUnavailable(await join('held')));
    expect(await live()).toBe(0);
    expect((await join('held')).status).toBe(200);
    expect(await live()).toBe(1);
  });

  it('a connection lost in the middle of a change fails that change with a 503, and the node goes on', async () => {
    await whileRoomLocked(async (admin) => {
      const lost = join('lost');
      // The change waits for the room's lock on one of the node's connections when they are cut.
      await waitFor(
        async () => ((await admin.query("select 1 from pg_stat_activity where wait_event_type = 'Lock' and pid <> pg_backend_pid()")).rowCount ? true : undefined),
        5000,
        'the change to wait for the lock',
      );
      await proxy.refuse();
      expectUnavailable(await lost);
    });
    await proxy.restore();
    await backToNormal();
    expect(await live()).toBe(1);
    expect(node.child.exitCode).toBeNull();
  });

  it('a database that refuses connections is a 503, until it is back', async () => {
    await proxy.refuse();
    expectUnavailable(await api.get('/api/v1/rooms'));
    expectUnavailable(await join('refused'));
    // Statistics and session lists, read on a thread with connections of its own, alike.
    expectUnavailable(await api.get('/api/v1/statistics'));
    expectUnavailable(await api.get('/api/v1/sessions'));
    await proxy.restore();
    await backToNormal();
    expect(await live()).toBe(1);
  });

  it('a database that takes connections but never answers them is a 503 after the connect timeout', async () => {
    const before = node.output().length;
    proxy.silence({ closeOpen: true });
    // A request may still meet a connection closed a moment ago (a 503 too) before the node needs a new one.
    for (let attempt = 0; attempt < 5 && !node.output().slice(before).includes('connection timeout'); attempt++) {
      expectUnavailable(await api.get('/api/v1/rooms'));
    }
    expect(node.output().slice(before)).toContain('Connection terminated due to connection timeout');
    await proxy.restore();
    await backToNormal();
  });

  it('a database gone silent on open connections is a 503 within the timeouts, not a request that waits for good', async () => {
    // The statistics' thread has its connections open too.
    expect((await api.get('/api/v1/statistics')).status).toBe(200);
    proxy.silence();
    expectUnavailable(await api.get('/api/v1/rooms'));
    expectUnavailable(await join('silent'));
    expectUnavailable(await api.get('/api/v1/statistics'));
    await proxy.restore();
    await backToNormal();
    expect((await api.get('/api/v1/statistics')).status).toBe(200);
    expect(await live()).toBe(1);
    expect((await join('after')).status).toBe(200);
    expect(await live()).toBe(2);
    expect(node.child.exitCode).toBeNull();
  });
});
