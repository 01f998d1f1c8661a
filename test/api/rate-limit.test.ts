import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { currentBackend } from '../helpers/backend.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

describe('per-team rate limit', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ env: { ROOMLINE_RATE_LIMIT: '5' } });
  });
  afterAll(async () => t.stop());

  it('answers 429 with Retry-After past the team’s limit, and leaves other teams alone', async () => {
    for (let i = 0; i < 5; i++) expect((await t.api.get('/api/v1/rooms')).status).toBe(200);
    const limited = await t.api.get('/api/v1/rooms');
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(limited.body.message).toMatch(/^Too Many Attempts\./);
    // Nothing a limited request asks for happens.
    expect((await t.api.post('/api/v1/rooms', {})).status).toBe(429);
    expect((await t.apiB.get('/api/v1/rooms')).status).toBe(200);
    // Health checks and pages are not the API: never limited.
    expect((await t.client().get('/healthz')).status).toBe(200);
  });

  // A cluster case only: embedded mode has one node.
  if (currentBackend() !== 'cluster') return;
  it('counts one limit across the nodes of a cluster', async () => {
    const other = await startTestServer({ env: { ROOMLINE_RATE_LIMIT: '5' }, state: t.state });
    try {
      // Team B has used 1 of its 5 on the first node; four more on the second, then the limit.
      for (let i = 0; i < 4; i++) expect((await other.apiB.get('/api/v1/rooms')).status).toBe(200);
      expect((await other.apiB.get('/api/v1/rooms')).status).toBe(429);
    } finally {
      await other.stop({ keepState: true });
    }
  });
});
