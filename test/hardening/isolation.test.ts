import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, waitFor, type TestServer } from '../helpers/server.js';
import { call, createPhoneRoom } from '../helpers/rooms.js';
import { Receiver } from '../helpers/receiver.js';

/**
 * The isolation sweep: team B, with valid credentials of its own, against every operation of the
 * API document that names one of team A's resources → 404, exactly like a missing one; and no
 * list, statistic or stream of B ever shows A's data.
 */
/** A body that passes validation, so what answers is the lookup of A's resource, not the schema. */
function validBody(method: string, path: string): unknown {
  if (method === 'get' || method === 'delete') return undefined;
  if (path.endsWith('/phone-participants/joined')) return [call('team-b-call')];
  if (path.endsWith('/phone-participants/left')) return ['team-a-call'];
  if (method === 'put' && path.endsWith('/phone-participants')) return [];
  return {};
}

describe('isolation between teams, on every route', () => {
  let t: TestServer;
  const receiver = new Receiver();
  const a: Record<string, string> = {};

  beforeAll(async () => {
    t = await startTestServer();
    await receiver.start();
    const webhook = await t.api.post('/api/v1/webhooks', { endpoint: receiver.url, events: ['participant_joined'] });
    const room = await createPhoneRoom(t.api, { external_id: 'team-a-external' });
    await t.api.post(`/api/v1/rooms/${room.id}/phone-participants/joined`, [call('team-a-call', { caller_number: '+15550009999' })]);
    const role = await t.api.post('/api/v1/roles', { name: 'team-a-role', display_name: 'Team A role', permissions: { raise_hand: true } });
    const participant = (await t.api.get(`/api/v1/rooms/${room.id}/live/participants`)).body.live_participants[0];
    const session = (await t.api.get('/api/v1/sessions')).body.data[0];
    const delivery = await waitFor(async () => (await t.api.get(`/api/v1/webhooks/${webhook.body.id}/deliveries`)).body.data[0], 5000, 'a delivery');
    Object.assign(a, {
      room: room.id,
      friendlyUrl: room.friendly_url,
      callId: 'team-a-call',
      participant: participant.id,
      session: session.id,
      webhook: webhook.body.id,
      delivery: delivery.id,
      role: role.body.id,
    });
  });
  afterAll(async () => {
    await receiver.stop();
    await t.stop();
  });

  it('answers 404 to team B on every operation that names a resource of team A, and changes nothing', async () => {
    const document = (await t.client().get('/api/v1/openapi.json')).body;
    let checked = 0;
    for (const [path, operations] of Object.entries(document.paths as Record<string, Record<string, { tags?: string[] }>>)) {
      const names = [...path.matchAll(/\{(\w+)\}/g)].map((match) => match[1]!);
      if (names.length === 0 || !path.startsWith('/api/v1/')) continue;
      for (const [method, operation] of Object.entries(operations)) {
        if (operation.tags?.includes('Not supported')) continue; // 501 before any lookup
        for (const roomRef of names.includes('room') ? [a.room!, a.friendlyUrl!] : [undefined]) {
          const url = path.replace(/\{(\w+)\}/g, (_, name: string) => (name === 'room' ? roomRef! : a[name] ?? a.room!));
          const response = await t.apiB.request(method.toUpperCase(), url, { body: validBody(method, path) });
          expect(response.status, `${method.toUpperCase()} ${url}`).toBe(404);
          expect(response.body, `${method.toUpperCase()} ${url}`).toEqual({ message: 'Not Found', error: 'not-found' });
          checked += 1;
        }
      }
    }
    expect(checked).toBeGreaterThan(40);
    // Team A's resources are all still there, unchanged.
    expect((await t.api.get(`/api/v1/rooms/${a.room}/live/participants`)).body.live_participants.map((p: any) => p.call_id)).toEqual(['team-a-call']);
    expect((await t.api.get(`/api/v1/webhooks/${a.webhook}`)).status).toBe(200);
    expect((await t.api.get(`/api/v1/roles/${a.role}`)).status).toBe(200);
  });

  it('never shows team A’s data in any list, statistic or live view of team B', async () => {
    const document = (await t.client().get('/api/v1/openapi.json')).body;
    const secrets = Object.values(a).concat(['team-a-external', '+15550009999']);
    for (const [path, operations] of Object.entries(document.paths as Record<string, Record<string, { tags?: string[] }>>)) {
      if (!('get' in operations) || path.includes('{') || !path.startsWith('/api/v1') || operations.get!.tags?.includes('Not supported')) continue;
      const response = await t.apiB.get(path);
      expect(response.status, path).toBeLessThan(500);
      for (const secret of secrets) expect(response.text, `${path} shows ${secret}`).not.toContain(secret);
    }
  });
});
