import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProxiedNode, type ProxiedNode } from '../helpers/proxied-node.js';

/** A node told to stop while PostgreSQL does not answer: it goes within its grace period and a few seconds, not after the queries' own timeout (a minute). */
describe('cluster: stopping while the database is silent', () => {
  let cluster: ProxiedNode;
  beforeAll(async () => {
    cluster = await startProxiedNode('DATABASE_URL', { ROOMLINE_SHUTDOWN_GRACE_SECONDS: '1', LOG_LEVEL: 'info' });
  });
  afterAll(async () => {
    await cluster?.proxy.restore();
    await cluster?.stop();
  });

  it('exits, saying why, though closing the database would wait a minute', async () => {
    // A change is under way when the database goes silent: its connection holds a query that waits for good.
    cluster.proxy.silence();
    const stuck = cluster.api.post(`/api/v1/rooms/${cluster.room.id}/phone-participants/joined`, [{ call_id: 'stuck', name: 'Stuck' }]).catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 500));
    cluster.node.child.kill('SIGTERM');
    // Well inside the queries' own timeout (60 s): within the grace (1 s) and the backends' 5 s.
    const exited = await Promise.race([cluster.node.exited, new Promise<'running'>((resolve) => setTimeout(() => resolve('running'), 20_000))]);
    expect(exited).toEqual({ code: 1, signal: null });
    expect(cluster.node.output()).toMatch(/stopping took too long \(a database or Redis that does not answer\?\): exiting without waiting/);
    await stuck;
  });
});
