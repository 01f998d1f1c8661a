import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';

describe('authentication', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => t.stop());

  it('accepts the three DS schemes', async () => {
    const { team_id: teamId, developer_key: key } = t.teamA;
    for (const auth of [
      { kind: 'bearer', key },
      { kind: 'basic', teamId, key },
      { kind: 'bearer-base64', teamId, key },
    ] as const) {
      const response = await t.client(auth).get('/api/v1/roles');
      expect(response.status, auth.kind).toBe(200);
    }
  });

  it('refuses wrong, malformed and missing credentials with the DS body', async () => {
    const { team_id: teamId, developer_key: key } = t.teamA;
    const cases = [
      { kind: 'none' },
      { kind: 'bearer', key: key + 'x' },
      { kind: 'bearer', key: t.teamB.developer_key.slice(0, -1) },
      { kind: 'basic', teamId, key: t.teamB.developer_key },
      { kind: 'basic', teamId: t.teamB.team_id, key },
      { kind: 'basic', teamId: '00000000-0000-0000-0000-000000000000', key },
      { kind: 'bearer-base64', teamId: t.teamB.team_id, key },
      { kind: 'header', value: 'Bearer' },
      { kind: 'header', value: 'Basic !!!notbase64' },
      { kind: 'header', value: `Token ${key}` },
      { kind: 'header', value: `Basic ${Buffer.from(key).toString('base64')}` },
    ] as const;
    for (const auth of cases) {
      const response = await t.client(auth).get('/api/v1/roles');
      expect(response.status, JSON.stringify(auth)).toBe(401);
      expect(response.body).toEqual({ message: 'Unauthenticated.' });
    }
  });

  it('guards every room, role and default-settings route', async () => {
    const routes = [
      ['GET', '/api/v1'],
      ['PATCH', '/api/v1'],
      ['GET', '/api/v1/rooms'],
      ['POST', '/api/v1/rooms'],
      ['DELETE', '/api/v1/rooms'],
      ['GET', '/api/v1/rooms/some-room'],
      ['PATCH', '/api/v1/rooms/some-room'],
      ['DELETE', '/api/v1/rooms/some-room'],
      ['GET', '/api/v1/roles'],
      ['POST', '/api/v1/roles'],
      ['GET', '/api/v1/roles/moderator'],
      ['PATCH', '/api/v1/roles/moderator'],
      ['DELETE', '/api/v1/roles/moderator'],
      ['GET', '/api/v1/permissions'],
    ] as const;
    for (const [method, path] of routes) {
      const response = await t.client().request(method, path, { body: method === 'GET' ? undefined : {} });
      expect(response.status, `${method} ${path}`).toBe(401);
      expect(response.body).toEqual({ message: 'Unauthenticated.' });
    }
    expect((await t.api.get('/api/v1/roles/moderator')).status).toBe(200);
  });
});
