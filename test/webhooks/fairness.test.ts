import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, waitFor, type TestServer } from '../helpers/server.js';
import { Receiver } from '../helpers/receiver.js';

/**
 * A node's senders are shared by every team: one team's webhooks, however many and however slow
 * their receivers, must not keep another team's deliveries waiting until their backlog is gone.
 */
describe('webhook senders shared between teams', () => {
  let t: TestServer;
  beforeAll(async () => {
    // Two senders for the whole node: team A's two webhooks take both.
    t = await startTestServer({ webhookDispatch: { concurrency: 2, timeoutMs: 2000, retryBaseMs: 20, retryMaxMs: 200, pollMs: 50 } });
  });
  afterAll(async () => t.stop());

  it('hands a sender to a team kept waiting, after the attempt in flight, instead of going on with a backlog', async () => {
    const slow = new Receiver();
    slow.mode = { kind: 'slow', delayMs: 150 };
    const quick = new Receiver();
    await slow.start();
    await quick.start();
    try {
      for (const name of ['a1', 'a2']) {
        expect((await t.api.post('/api/v1/webhooks', { endpoint: `${slow.url}/${name}`, events: ['participant_joined'] })).status).toBe(200);
      }
      expect((await t.apiB.post('/api/v1/webhooks', { endpoint: quick.url, events: ['participant_joined'] })).status).toBe(200);
      const roomA = (await t.api.post('/api/v1/rooms', { telephony_enabled: true })).body;
      const roomB = (await t.apiB.post('/api/v1/rooms', { telephony_enabled: true })).body;

      // Team A: a backlog of 8 deliveries on each of its webhooks, about 1.2 s of sending each.
      for (let n = 0; n < 8; n++) {
        expect((await t.api.post(`/api/v1/rooms/${roomA.id}/phone-participants/joined`, [{ call_id: `a-${n}`, name: 'A' }])).status).toBe(200);
      }
      expect((await t.apiB.post(`/api/v1/rooms/${roomB.id}/phone-participants/joined`, [{ call_id: 'b-1', name: 'B' }])).status).toBe(200);

      const answeredToA = await waitFor(() => (quick.accepted.length > 0 ? slow.requests.length : undefined), 10_000, 'team B’s delivery');
      // Before: team B's delivery waited for one of team A's webhooks to send its whole backlog.
      expect(answeredToA).toBeLessThan(8);
      await waitFor(() => (slow.accepted.length === 16 ? true : undefined), 10_000, 'team A’s backlog');
      // Team A loses nothing: each of its calls reached both of its webhooks.
      const calls = slow.accepted.map((request) => request.json.data.call_id as string).sort();
      expect(calls).toEqual(Array.from({ length: 8 }, (_, n) => [`a-${n}`, `a-${n}`]).flat().sort());
    } finally {
      await slow.stop();
      await quick.stop();
    }
  });

  it('hands a sender on to a webhook of the same team kept waiting, instead of one webhook sending its whole backlog', async () => {
    const slow = new Receiver();
    slow.mode = { kind: 'slow', delayMs: 100 };
    await slow.start();
    try {
      // Three webhooks, two senders: the third waits.
      const ids: string[] = [];
      for (const name of ['w1', 'w2', 'w3']) {
        ids.push((await t.apiB.post('/api/v1/webhooks', { endpoint: `${slow.url}/${name}`, events: ['phone_participant_muted'] })).body.id);
      }
      const room = (await t.apiB.post('/api/v1/rooms', { telephony_enabled: true })).body;
      expect((await t.apiB.post(`/api/v1/rooms/${room.id}/phone-participants/joined`, [{ call_id: 'm', name: 'M' }])).status).toBe(200);
      for (let n = 0; n < 6; n++) {
        await t.apiB.post(`/api/v1/rooms/${room.id}/phone-participants/m/mute`);
        await t.apiB.post(`/api/v1/rooms/${room.id}/phone-participants/m/unmute`);
      }
      // Each webhook has 6 deliveries: 18 in all, 9 rounds of two senders.
      await waitFor(() => (slow.accepted.length === 18 ? true : undefined), 15_000, 'every delivery');
      // Each webhook's first delivery is among the first half: none waited for another's backlog.
      const order = slow.accepted.map((request) => request.headers['x-roomline-delivery-id'] as string);
      const firstOf = await Promise.all(
        ids.map(async (id) => {
          const log = (await t.apiB.get(`/api/v1/webhooks/${id}/deliveries?order=asc&limit=1`)).body.data as Array<{ id: string }>;
          return order.indexOf(log[0]!.id);
        }),
      );
      for (const position of firstOf) expect(position).toBeLessThan(9);
    } finally {
      await slow.stop();
    }
  });
});
