import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, waitFor, type TestServer } from '../helpers/server.js';
import { Receiver } from '../helpers/receiver.js';
import { verifySignature } from '../../src/webhooks/signature.js';
import { EVENT_NAMES } from '../../src/bus/events.js';
import { nextDueTime, pruneSettled } from '../../src/store/repos/webhooks.js';

/** Sequence numbers of the accepted requests, in arrival order. */
const sequences = (receiver: Receiver) => receiver.accepted.map((r) => Number(r.headers['x-roomline-sequence']));

describe('webhook delivery', () => {
  let t: TestServer;
  let receiver: Receiver;

  beforeAll(async () => {
    t = await startTestServer({ webhookDispatch: { timeoutMs: 300, retryBaseMs: 20, retryMaxMs: 200, pollMs: 50 } });
  });
  afterAll(async () => t.stop());
  afterEach(async () => receiver?.stop());

  async function setUp(events: readonly string[] = EVENT_NAMES, authorization = 'Bearer receiver-secret') {
    receiver = new Receiver();
    await receiver.start();
    const hook = await t.api.post('/api/v1/webhooks', { endpoint: receiver.url, name: 'Bridge', events, authorization_header: authorization });
    expect(hook.status).toBe(200);
    const room = await t.api.post('/api/v1/rooms', { telephony_enabled: true });
    expect(room.status).toBe(200);
    return { webhookId: hook.body.id as string, roomId: room.body.id as string };
  }

  it('sends joins, mutes, hands, leaves and the session in order, with the DS body and roomline headers', async () => {
    const { roomId } = await setUp();
    const base = `/api/v1/rooms/${roomId}/phone-participants`;
    expect((await t.api.post(`${base}/joined`, [{ call_id: 'call-1', name: 'Ann', caller_number: '+15550001' }])).status).toBe(200);
    expect((await t.api.post(`${base}/joined`, [{ call_id: 'call-2', caller_number: '+15550002' }])).status).toBe(200);
    expect((await t.api.post(`${base}/call-1/mute`)).status).toBe(200);
    expect((await t.api.post(`${base}/call-2/raise-hand`)).status).toBe(200);
    expect((await t.api.post(`${base}/call-2/lower-hand`)).status).toBe(200);
    expect((await t.api.post(`${base}/call-1/unmute`)).status).toBe(200);
    expect((await t.api.post(`${base}/left`, ['call-1', 'call-2'])).status).toBe(200);

    await waitFor(() => (receiver.accepted.length >= 10 ? true : undefined), 10_000, 'ten deliveries');
    const received = receiver.accepted;
    const names = received.map((r) => r.json.event);
    expect(names).toEqual([
      'session_started',
      'participant_joined',
      'participant_joined',
      'phone_participant_muted',
      'participant_hand_raised',
      'participant_hand_lowered',
      'phone_participant_unmuted',
      'participant_left',
      'participant_left',
      'session_ended',
    ]);
    expect(sequences(receiver)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(new Set(received.map((r) => r.headers['x-roomline-event-id'])).size).toBe(10);

    for (const request of received) {
      expect(request.headers.authorization).toBe('Bearer receiver-secret');
      expect(request.headers['content-type']).toBe('application/json');
      expect(verifySignature(t.teamA.developer_key, request.body, String(request.headers['x-roomline-signature']))).toBe(true);
      expect(Object.keys(request.json).sort()).toEqual(['data', 'event', 'timestamp']);
      expect(request.json.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      expect(request.json.data.room_id).toBe(roomId);
    }

    const [started, joined1, joined2, muted, , , , left1] = received.map((r) => r.json.data);
    expect(started.session_id).toEqual(expect.any(String));
    expect(joined1).toMatchObject({ call_id: 'call-1', caller_number: '+15550001', name: 'Ann', type: 'phone', session_id: started.session_id });
    expect(joined1.participant_id).toEqual(expect.any(String));
    expect(joined2).toMatchObject({ call_id: 'call-2', caller_number: '+15550002', type: 'phone' });
    expect(muted).toMatchObject({ call_id: 'call-1', room_id: roomId });
    expect(left1).toMatchObject({ call_id: 'call-1', participant_id: joined1.participant_id, reason: 'left' });
    expect(left1.leave_time).toEqual(expect.any(String));
    const ended = received[9]!.json.data;
    expect(ended).toMatchObject({ session_id: started.session_id, room_id: roomId });
  });

  it('delivers only subscribed events, and none of another team', async () => {
    const { roomId } = await setUp(['participant_left']);
    const other = await t.apiB.post('/api/v1/rooms', { telephony_enabled: true });
    const base = `/api/v1/rooms/${roomId}/phone-participants`;
    await t.api.post(`${base}/joined`, [{ call_id: 'x-1', name: 'Bo' }]);
    await t.apiB.post(`/api/v1/rooms/${other.body.id}/phone-participants/joined`, [{ call_id: 'b-1', name: 'Other' }]);
    await t.apiB.post(`/api/v1/rooms/${other.body.id}/phone-participants/left`, ['b-1']);
    await t.api.post(`${base}/left`, ['x-1']);
    await waitFor(() => (receiver.accepted.length >= 1 ? true : undefined), 10_000, 'one delivery');
    // The later left of team A arrives; the earlier one of team B never does.
    expect(receiver.accepted.map((r) => [r.json.event, r.json.data.call_id])).toEqual([['participant_left', 'x-1']]);
  });

  it('sends a room’s events only to the webhooks the room names, up to the events of its deletion', async () => {
    receiver = new Receiver();
    await receiver.start();
    const other = new Receiver();
    await other.start();
    try {
      const listed = (await t.api.post('/api/v1/webhooks', { endpoint: receiver.url, events: EVENT_NAMES })).body.id as string;
      expect((await t.api.post('/api/v1/webhooks', { endpoint: other.url, events: EVENT_NAMES })).status).toBe(200);
      // Named in capitals: webhook ids are compared as the webhooks API looks them up.
      const room = (await t.api.post('/api/v1/rooms', { telephony_enabled: true, webhooks: [listed.toUpperCase()] })).body;
      expect(room.webhooks).toEqual([listed]);
      expect((await t.api.post(`/api/v1/rooms/${room.id}/phone-participants/joined`, [{ call_id: 'named-1', name: 'Named' }])).status).toBe(200);
      expect((await t.api.request('DELETE', `/api/v1/rooms/${room.id}`)).status).toBe(204);
      await waitFor(() => (receiver.accepted.some((r) => r.json.event === 'room_deleted') ? true : undefined), 10_000, 'room_deleted');
      expect(receiver.accepted.map((r) => r.json.event)).toEqual(['session_started', 'participant_joined', 'participant_left', 'session_ended', 'room_deleted']);

      // A room that names no webhook goes to all: once its event reaches the other webhook, in
      // order, anything of the first room would have arrived before it.
      const open = (await t.api.post('/api/v1/rooms', { telephony_enabled: true })).body;
      await t.api.post(`/api/v1/rooms/${open.id}/phone-participants/joined`, [{ call_id: 'open-1', name: 'Open' }]);
      await waitFor(() => (other.accepted.some((r) => r.json.data?.call_id === 'open-1') ? true : undefined), 10_000, 'the open room’s join');
      expect(other.accepted.filter((r) => r.json.data?.room_id === room.id)).toEqual([]);
    } finally {
      await other.stop();
    }
  });

  it('sends an authorization header with a tab and Latin-1 characters as it was given', async () => {
    const header = 'Bearer é\tÿ-secret';
    const { roomId } = await setUp(['participant_joined'], header);
    await t.api.post(`/api/v1/rooms/${roomId}/phone-participants/joined`, [{ call_id: 'h-1', name: 'Hal' }]);
    await waitFor(() => (receiver.accepted.length >= 1 ? true : undefined), 10_000, 'one delivery');
    // Node's HTTP server reads header bytes as Latin-1, as undici writes them.
    expect(receiver.accepted[0]!.headers.authorization).toBe(header);
  });

  it('survives refusal, errors and a slow receiver: every event arrives, in order, repeats only as retries', async () => {
    const { roomId, webhookId } = await setUp(['participant_joined', 'participant_left']);
    const base = `/api/v1/rooms/${roomId}/phone-participants`;
    const port = receiver.port;
    await receiver.refuse();
    for (let i = 0; i < 5; i++) expect((await t.api.post(`${base}/joined`, [{ call_id: `r-${i}`, name: `Caller ${i}` }])).status).toBe(200);

    // Connection refused for a while: the first delivery has failed attempts recorded.
    const first = await waitFor(async () => {
      const log = await t.api.get(`/api/v1/webhooks/${webhookId}/deliveries?order=asc`);
      return log.body.data[0]?.attempts >= 2 ? log.body.data[0] : undefined;
    }, 10_000, 'failed attempts while refused');
    expect(first).toMatchObject({ status: 'pending', last_status_code: null, last_error: expect.stringContaining('ECONNREFUSED') });
    // A pending delivery is not retried by hand: it will be sent anyway.
    expect((await t.api.post(`/api/v1/webhooks/${webhookId}/deliveries/${first.id}/retry`)).status).toBe(422);

    receiver.port = port;
    receiver.mode = { kind: 'fail', status: 500 };
    await receiver.start();
    for (let i = 0; i < 5; i++) await t.api.post(`${base}/left`, [`r-${i}`]);
    await waitFor(() => (receiver.requests.filter((r) => r.answered === 500).length >= 2 ? true : undefined), 10_000, 'answers 500');

    receiver.mode = { kind: 'slow', delayMs: 1000 };
    await waitFor(() => (receiver.requests.filter((r) => r.answered === 0).length >= 2 ? true : undefined), 10_000, 'timeouts');

    receiver.mode = { kind: 'ok' };
    await waitFor(() => (receiver.accepted.length >= 10 ? true : undefined), 15_000, 'recovery');

    const accepted = receiver.accepted;
    expect(accepted.map((r) => `${r.json.event}:${r.json.data.call_id}`)).toEqual([
      ...[0, 1, 2, 3, 4].map((i) => `participant_joined:r-${i}`),
      ...[0, 1, 2, 3, 4].map((i) => `participant_left:r-${i}`),
    ]);
    expect(sequences(receiver)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    // Every request, failed ones included, carried one of the ten event ids: repeats are retries only.
    const ids = new Set(accepted.map((r) => r.headers['x-roomline-event-id']));
    expect(ids.size).toBe(10);
    for (const request of receiver.requests) expect(ids.has(request.headers['x-roomline-event-id'])).toBe(true);
    // Nothing after an event was sent before that event was accepted.
    let highestAccepted = 0;
    for (const request of receiver.requests) {
      const sequence = Number(request.headers['x-roomline-sequence']);
      expect(sequence).toBeLessThanOrEqual(highestAccepted + 1);
      if (request.answered >= 200 && request.answered < 300) highestAccepted = Math.max(highestAccepted, sequence);
    }

    const log = await t.api.get(`/api/v1/webhooks/${webhookId}/deliveries?order=asc`);
    expect(log.status).toBe(200);
    expect(log.body.total_count).toBe(10);
    expect(log.body.data[0]).toMatchObject({ event: 'participant_joined', status: 'delivered', sequence: 1, last_status_code: 204 });
    // Delivery ids are time-ordered (UUID version 7): the log's order is the ids' order.
    const deliveryIds: string[] = log.body.data.map((delivery: any) => delivery.id);
    for (const id of deliveryIds) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect([...deliveryIds].sort()).toEqual(deliveryIds);
    expect(log.body.data[0].attempts).toBeGreaterThan(1);
  });

  it('forgets settled deliveries past the retention, never a pending one', async () => {
    const { roomId, webhookId } = await setUp(['participant_joined']);
    const joined = (callId: string) => t.api.post(`/api/v1/rooms/${roomId}/phone-participants/joined`, [{ call_id: callId, name: callId }]);
    for (const callId of ['s-1', 's-2', 's-3']) expect((await joined(callId)).status).toBe(200);
    await waitFor(() => (receiver.accepted.length >= 3 ? true : undefined), 10_000, 'three deliveries');
    await receiver.refuse();
    for (const callId of ['p-1', 'p-2']) expect((await joined(callId)).status).toBe(200);
    const log = () => t.api.get(`/api/v1/webhooks/${webhookId}/deliveries?order=asc`);
    await waitFor(async () => ((await log()).body.data[3]?.attempts >= 1 ? true : undefined), 10_000, 'a refused attempt');

    // Everything queued before now is past a retention that ends now: only the settled ones go.
    const { store } = t.running.services;
    // In batches: one of two, then the rest.
    expect(await store.transaction((trx) => pruneSettled(trx, Date.now() + 1, 2))).toBe(2);
    expect(await store.transaction((trx) => pruneSettled(trx, Date.now() + 1, 1000))).toBeGreaterThanOrEqual(1);
    const left = (await log()).body;
    expect(left.data.map((delivery: any) => [delivery.sequence, delivery.status])).toEqual([
      [4, 'pending'],
      [5, 'pending'],
    ]);
  });

  it('gives up after the retry window and lets the next event through; a manual retry sends it again', async () => {
    const slowToGiveUp = await startTestServer({ webhookDispatch: { timeoutMs: 200, retryBaseMs: 20, retryMaxMs: 50, pollMs: 20, giveUpAfterMs: 300 } });
    try {
      receiver = new Receiver();
      await receiver.start();
      receiver.mode = { kind: 'fail', status: 503 };
      const hook = await slowToGiveUp.api.post('/api/v1/webhooks', { endpoint: receiver.url, events: ['participant_joined'] });
      const room = await slowToGiveUp.api.post('/api/v1/rooms', { telephony_enabled: true });
      await slowToGiveUp.api.post(`/api/v1/rooms/${room.body.id}/phone-participants/joined`, [{ call_id: 'g-1', name: 'First' }]);
      const log = () => slowToGiveUp.api.get(`/api/v1/webhooks/${hook.body.id}/deliveries?order=asc`);
      const failed = await waitFor(async () => {
        const first = (await log()).body.data[0];
        return first?.status === 'failed' ? first : undefined;
      }, 10_000, 'the delivery to be given up');
      expect(failed.last_status_code).toBe(503);

      receiver.mode = { kind: 'ok' };
      await slowToGiveUp.api.post(`/api/v1/rooms/${room.body.id}/phone-participants/joined`, [{ call_id: 'g-2', name: 'Second' }]);
      await waitFor(() => (receiver.accepted.length === 1 ? true : undefined), 10_000, 'the next event');
      expect(receiver.accepted[0]!.json.data.call_id).toBe('g-2');

      const retried = await slowToGiveUp.api.post(`/api/v1/webhooks/${hook.body.id}/deliveries/${failed.id}/retry`);
      expect(retried.status).toBe(200);
      expect(retried.body).toMatchObject({ status: 'pending', event_id: failed.event_id, sequence: 3, attempts: 0 });
      await waitFor(() => (receiver.accepted.length === 2 ? true : undefined), 10_000, 'the retried event');
      // The same event, sent again at the back of the queue.
      expect(receiver.accepted[1]!.json.data.call_id).toBe('g-1');
      expect(receiver.accepted[1]!.headers['x-roomline-event-id']).toBe(failed.event_id);
      expect(receiver.accepted[1]!.headers['x-roomline-sequence']).toBe('3');
      // The receiver has its answer before the server has recorded it: wait for the record.
      const entries = await waitFor(async () => {
        const data = (await log()).body.data;
        return data.at(-1)?.status === 'delivered' ? data : undefined;
      }, 10_000, 'the retried delivery to be recorded');
      expect(entries.map((d: any) => [d.sequence, d.status])).toEqual([
        [1, 'failed'],
        [2, 'delivered'],
        [3, 'delivered'],
      ]);
    } finally {
      await slowToGiveUp.stop();
    }
  });

  it('sends each attempt where the webhook points then: a new endpoint and header apply from the next delivery of a backlog', async () => {
    const patient = await startTestServer({ webhookDispatch: { timeoutMs: 10_000, pollMs: 1_000 } });
    const moved = new Receiver();
    try {
      receiver = new Receiver();
      await receiver.start();
      await moved.start();
      receiver.mode = { kind: 'slow', delayMs: 1_500 };
      const hook = await patient.api.post('/api/v1/webhooks', { endpoint: receiver.url, events: ['participant_joined'], authorization_header: 'Bearer old' });
      const room = await patient.api.post('/api/v1/rooms', { telephony_enabled: true });
      await patient.api.post(`/api/v1/rooms/${room.body.id}/phone-participants/joined`, ['a', 'b', 'c'].map((call_id) => ({ call_id, name: call_id })));
      await waitFor(() => (receiver.requests.length === 1 ? true : undefined), 10_000, 'the first attempt to arrive');

      // While the first delivery is at the old receiver, the webhook moves.
      const patched = await patient.api.patch(`/api/v1/webhooks/${hook.body.id}`, { endpoint: moved.url, authorization_header: 'Bearer new' });
      expect(patched.status).toBe(200);
      await waitFor(() => (moved.accepted.length === 2 ? true : undefined), 10_000, 'the rest of the backlog at the new endpoint');

      expect(sequences(receiver)).toEqual([1]);
      expect(sequences(moved)).toEqual([2, 3]);
      expect(moved.accepted.map((request) => request.headers.authorization)).toEqual(['Bearer new', 'Bearer new']);
      expect(moved.accepted.map((request) => request.json.data.call_id)).toEqual(['b', 'c']);
    } finally {
      await moved.stop();
      await patient.stop();
    }
  });

  it('waits for an attempt in flight rather than searching for work again: its head is next due when its lease runs out', async () => {
    // An attempt may last this long, and its sender's lease longer still.
    const patient = await startTestServer({ webhookDispatch: { timeoutMs: 10_000, pollMs: 1_000 } });
    try {
      receiver = new Receiver();
      await receiver.start();
      receiver.mode = { kind: 'slow', delayMs: 3_000 };
      await patient.api.post('/api/v1/webhooks', { endpoint: receiver.url, events: ['participant_joined'] });
      const room = await patient.api.post('/api/v1/rooms', { telephony_enabled: true });
      const claimedAt = Date.now();
      await patient.api.post(`/api/v1/rooms/${room.body.id}/phone-participants/joined`, [{ call_id: 'slow', name: 'Slow' }]);
      await waitFor(() => (receiver.requests.length === 1 ? true : undefined), 10_000, 'the attempt to arrive');

      // In flight: the head is leased for the attempt's timeout and more, so nothing is due before then.
      const next = await nextDueTime(patient.running.services.store.db);
      expect(next).toBeGreaterThanOrEqual(claimedAt + 10_000);

      // Answered, recorded, and nothing left to send.
      await waitFor(() => (receiver.accepted.length === 1 ? true : undefined), 10_000, 'the slow answer');
      await waitFor(async () => ((await nextDueTime(patient.running.services.store.db)) === undefined ? true : undefined), 10_000, 'the queue to settle');
    } finally {
      await patient.stop();
    }
  });
});
