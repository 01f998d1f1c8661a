import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createClient, waitFor } from '../helpers/server.js';
import { startServeProcess, tempDataDir } from '../helpers/process.js';
import { Receiver } from '../helpers/receiver.js';

describe('webhook outbox across kill -9', () => {
  const data = tempDataDir();
  const receiver = new Receiver();
  afterAll(async () => {
    await receiver.stop();
    data.remove();
  });

  it('delivers every committed event after a crash and a restart, in order', async () => {
    await receiver.start();
    // A slow receiver keeps deliveries queued, so the crash lands while many are pending.
    receiver.mode = { kind: 'slow', delayMs: 60 };
    const teamId = randomUUID();
    const key = `crash-test-${randomUUID()}`;
    const env = {
      ROOMLINE_DATA_DIR: data.dataDir,
      ROOMLINE_TEAM_ID: teamId,
      ROOMLINE_DEVELOPER_KEY: key,
      LOG_LEVEL: 'info',
      ROOMLINE_WEBHOOK_TIMEOUT_MS: '1000',
      ROOMLINE_WEBHOOK_RETRY_BASE_MS: '50',
      ROOMLINE_WEBHOOK_RETRY_MAX_MS: '200',
    };

    const first = await startServeProcess(env);
    const api = createClient(first.url, { kind: 'bearer', key });
    const hook = await api.post('/api/v1/webhooks', { endpoint: receiver.url, events: ['participant_joined'] });
    expect(hook.status).toBe(200);
    const room = await api.post('/api/v1/rooms', { telephony_enabled: true });
    expect(room.status).toBe(200);

    // Four clients post joins until the server dies under them.
    const acknowledged = new Set<string>();
    let next = 0;
    let killed = false;
    const poster = async () => {
      while (!killed) {
        const callId = `crash-${next++}`;
        try {
          const response = await api.post(`/api/v1/rooms/${room.body.id}/phone-participants/joined`, [{ call_id: callId, name: callId }]);
          if (response.status === 200) acknowledged.add(callId);
        } catch {
          return; // the connection died with the process
        }
        if (acknowledged.size >= 40 && !killed) {
          killed = true;
          first.child.kill('SIGKILL');
        }
      }
    };
    await Promise.all([poster(), poster(), poster(), poster()]);
    expect((await first.exited).signal).toBe('SIGKILL');
    expect(receiver.accepted.length).toBeLessThan(acknowledged.size);

    const second = await startServeProcess(env);
    try {
      receiver.mode = { kind: 'ok' };
      const delivered = () => new Set(receiver.accepted.map((r) => r.json.data.call_id as string));
      await waitFor(() => ([...acknowledged].every((id) => delivered().has(id)) ? true : undefined), 30_000, 'every acknowledged join');

      // In order per webhook: first arrivals of each event id carry increasing sequence numbers,
      // and any repeat is a retry of an event already sent (same id, same sequence).
      const sequenceOf = new Map<string, number>();
      let last = 0;
      for (const request of receiver.accepted) {
        const id = String(request.headers['x-roomline-event-id']);
        const sequence = Number(request.headers['x-roomline-sequence']);
        if (sequenceOf.has(id)) {
          expect(sequenceOf.get(id)).toBe(sequence);
          continue;
        }
        expect(sequence).toBe(last + 1);
        sequenceOf.set(id, sequence);
        last = sequence;
      }
    } finally {
      await second.stop();
    }
  });

  it('sends a delivery that was in flight at the crash again as the server starts, not once its lease has run out', async () => {
    const inFlight = tempDataDir();
    const slowReceiver = new Receiver();
    await slowReceiver.start();
    // The receiver takes its time; the attempt may take up to two minutes, its lease longer.
    slowReceiver.mode = { kind: 'slow', delayMs: 300_000 };
    const key = `crash-test-${randomUUID()}`;
    const env = { ROOMLINE_DATA_DIR: inFlight.dataDir, ROOMLINE_TEAM_ID: randomUUID(), ROOMLINE_DEVELOPER_KEY: key, ROOMLINE_WEBHOOK_TIMEOUT_MS: '120000' };
    try {
      const first = await startServeProcess(env);
      const api = createClient(first.url, { kind: 'bearer', key });
      expect((await api.post('/api/v1/webhooks', { endpoint: slowReceiver.url, events: ['participant_joined'] })).status).toBe(200);
      const room = (await api.post('/api/v1/rooms', { telephony_enabled: true })).body;
      expect((await api.post(`/api/v1/rooms/${room.id}/phone-participants/joined`, [{ call_id: 'in-flight', name: 'In flight' }])).status).toBe(200);
      await waitFor(() => (slowReceiver.requests.length === 1 ? true : undefined), 10_000, 'the attempt to reach the receiver');
      first.child.kill('SIGKILL');
      await first.exited;

      slowReceiver.mode = { kind: 'ok' };
      const second = await startServeProcess(env);
      try {
        // Well within the lease the killed process took (the attempt's two minutes, and more).
        await waitFor(() => (slowReceiver.accepted.length === 1 ? true : undefined), 30_000, 'the delivery to go again');
        expect(slowReceiver.accepted[0]!.json.data.call_id).toBe('in-flight');
      } finally {
        await second.stop();
      }
    } finally {
      await slowReceiver.stop();
      inFlight.remove();
    }
  }, 60_000);
});
