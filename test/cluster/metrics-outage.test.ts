import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProxiedNode, type ProxiedNode } from '../helpers/proxied-node.js';
import { waitFor } from '../helpers/server.js';

/** Metrics while PostgreSQL does not answer: the scrape still answers, and says so. */
describe('cluster: metrics while the database is silent', () => {
  let cluster: ProxiedNode;
  let metricsUrl: string;
  /** Prometheus gives up on a scrape after 10 s by default: one that takes longer shows nothing at all. */
  const scrape = async () => {
    const answer = await fetch(metricsUrl, { signal: AbortSignal.timeout(9000) });
    expect(answer.status).toBe(200);
    return answer.text();
  };
  beforeAll(async () => {
    cluster = await startProxiedNode('DATABASE_URL', { ROOMLINE_METRICS_PORT: '0', LOG_LEVEL: 'info' });
    metricsUrl = await waitFor(() => /"metricsUrl":"(http:\/\/[^"]+\/metrics)"/.exec(cluster.node.output())?.[1], 5000, 'the metrics URL');
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('answers the scrape with the store unreachable, and the rest as before', async () => {
    await cluster.api.post(`/api/v1/rooms/${cluster.room.id}/phone-participants/joined`, [{ call_id: 'seen', name: 'Seen' }]);
    const before = await scrape();
    expect(before).toMatch(/^roomline_store_reachable 1$/m);
    expect(before).toMatch(/^roomline_live_participants\{type="phone"\} 1$/m);

    // Connections stay open and nothing comes back: a query would wait for its own timeout (a
    // minute). Each scrape still answers (the store is read every 5 s at most, so within two).
    cluster.proxy.silence();
    const text = await waitFor(async () => {
      const scraped = await scrape();
      return /^roomline_store_reachable 0$/m.test(scraped) ? scraped : undefined;
    }, 20_000, 'the store to be reported unreachable');
    // The last values read stay, with the process's own figures.
    expect(text).toMatch(/^roomline_live_participants\{type="phone"\} 1$/m);
    expect(text).toMatch(/^roomline_bus_reachable 1$/m);
    expect(text).toMatch(/^process_resident_memory_bytes \d+/m);

    await cluster.proxy.restore();
    await waitFor(async () => ((await scrape()).includes('\nroomline_store_reachable 1\n') ? true : undefined), 30_000, 'the store to answer again');
  });
});
