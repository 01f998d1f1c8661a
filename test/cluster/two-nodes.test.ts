import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackend, type BackendInstance } from '../helpers/backend.js';
import { startServeProcess, tempDataDir, type ServeProcess } from '../helpers/process.js';
import { Receiver } from '../helpers/receiver.js';
import { createClient, waitFor, type ApiClient } from '../helpers/server.js';
import { openEventStream } from '../helpers/sse.js';
import { launchBrowser, participantRow, RoomPages } from '../helpers/browser.js';

/** Two roomline processes on one PostgreSQL database and one Redis, as a cluster runs. */
describe('cluster: two nodes, one PostgreSQL and one Redis', () => {
  const teamId = randomUUID();
  const key = `cluster-key-${randomUUID()}`;
  const data = tempDataDir();
  let backend: BackendInstance;
  let env: Record<string, string>;
  let nodeA: ServeProcess;
  let nodeB: ServeProcess;
  let apiA: ApiClient;
  let apiB: ApiClient;

  const startNode = () => startServeProcess(env);

  beforeAll(async () => {
    backend = await createBackend('cluster');
    env = {
      ...(backend.env as Record<string, string>),
      ROOMLINE_DATA_DIR: data.dataDir,
      ROOMLINE_TEAM_ID: teamId,
      ROOMLINE_DEVELOPER_KEY: key,
      LOG_LEVEL: 'info',
      ROOMLINE_WEBHOOK_TIMEOUT_MS: '1000',
      ROOMLINE_WEBHOOK_RETRY_BASE_MS: '50',
      ROOMLINE_WEBHOOK_RETRY_MAX_MS: '200',
    };
    nodeA = await startNode();
    nodeB = await startNode();
    apiA = createClient(nodeA.url, { kind: 'bearer', key });
    apiB = createClient(nodeB.url, { kind: 'bearer', key });
  });
  afterAll(async () => {
    await Promise.allSettled([nodeA?.stop(), nodeB?.stop()]);
    await backend?.dispose();
    data.remove();
  });

  it('says at start that it runs as a cluster', () => {
    expect(nodeA.output()).toMatch(/cluster: postgres at .*redis bus/);
  });

  it('a stream on node B sees a left posted to node A, in order and numbered', async () => {
    const room = (await apiA.post('/api/v1/rooms', { telephony_enabled: true })).body;
    expect((await apiA.post(`/api/v1/rooms/${room.id}/phone-participants/joined`, [{ call_id: 'x', name: 'X' }, { call_id: 'y', name: 'Y' }])).status).toBe(200);
    const stream = await openEventStream(`${nodeB.url}/api/v1/rooms/${room.id}/live/events`, { authorization: `Bearer ${key}` });
    try {
      const snapshot = await stream.nextNamed('snapshot');
      expect(snapshot.data.participants.map((p: any) => p.call_id).sort()).toEqual(['x', 'y']);
      expect((await apiA.post(`/api/v1/rooms/${room.id}/phone-participants/left`, ['x'])).status).toBe(200);
      const left = await stream.nextNamed('participant_left');
      expect(left.data.participant.call_id).toBe('x');
      expect(Number(left.id)).toBe(Number(snapshot.id) + 1);
      // And the other way round: a change on B reaches a stream that B serves too.
      await apiB.post(`/api/v1/rooms/${room.id}/phone-participants/y/mute`);
      const updated = await stream.nextNamed('participant_updated');
      expect(updated.data.participant).toMatchObject({ call_id: 'y', muted: true });
      expect(Number(updated.id)).toBe(Number(left.id) + 1);
    } finally {
      stream.close();
    }
  });

  it('the room page on node B updates live for changes posted to node A', async () => {
    const room = (await apiA.post('/api/v1/rooms', { telephony_enabled: true })).body;
    const browser = await launchBrowser();
    const pages = new RoomPages(browser, nodeB.url);
    try {
      const tab = await pages.join(`/${room.friendly_url}`, 'Watcher on B');
      expect((await apiA.post(`/api/v1/rooms/${room.id}/phone-participants/joined`, [{ call_id: 'pa', name: 'Posted to A' }])).status).toBe(200);
      await participantRow(tab, 'Posted to A').waitFor({ timeout: 5000 });
      expect((await apiA.post(`/api/v1/rooms/${room.id}/phone-participants/left`, ['pa'])).status).toBe(200);
      await participantRow(tab, 'Posted to A').waitFor({ state: 'detached', timeout: 5000 });
    } finally {
      await pages.close();
      await browser.close();
    }
  });

  it('100 concurrent clients spread over both nodes leave exactly the expected roster', async () => {
    const room = (await apiA.post('/api/v1/rooms', { telephony_enabled: true })).body;
    const expected = new Set<string>();
    await Promise.all(
      Array.from({ length: 100 }, async (_, client) => {
        const api = client % 2 === 0 ? apiA : apiB;
        const calls = [0, 1, 2].map((n) => `c${client}-${n}`);
        for (const callId of calls) {
          expect((await api.post(`/api/v1/rooms/${room.id}/phone-participants/joined`, [{ call_id: callId, name: callId }])).status).toBe(200);
        }
        // Each client hangs up its first call; the other two stay.
        expect((await api.post(`/api/v1/rooms/${room.id}/phone-participants/left`, [calls[0]])).status).toBe(200);
        expected.add(calls[1]!).add(calls[2]!);
      }),
    );
    for (const api of [apiA, apiB]) {
      const live = await api.get(`/api/v1/rooms/${room.id}/live/participants`);
      expect(live.body.live_participants.map((p: any) => p.call_id).sort()).toEqual([...expected].sort());
      expect((await api.get(`/api/v1/rooms/${room.id}/live`)).body.live_participants).toBe(200);
    }
  });

  it('webhooks deleted on node B while node A takes a bridge’s reports: every report is applied', async () => {
    const room = (await apiA.post('/api/v1/rooms', { telephony_enabled: true })).body;
    // Nobody listens there: the deliveries wait, which is all this needs.
    const webhooks: string[] = [];
    for (let n = 0; n < 40; n++) {
      webhooks.push((await apiB.post('/api/v1/webhooks', { endpoint: `http://127.0.0.1:9/gone-${n}`, events: ['participant_joined'] })).body.id);
    }
    const reports = (async () => {
      const statuses: number[] = [];
      for (let round = 0; round < 40; round++) {
        const batch = await Promise.all(
          [0, 1, 2, 3].map((lane) => apiA.post(`/api/v1/rooms/${room.id}/phone-participants/joined`, [{ call_id: `race-${round}-${lane}`, name: 'Racer' }])),
        );
        statuses.push(...batch.map((answer) => answer.status));
      }
      return statuses;
    })();
    const deletions = Promise.all(webhooks.map(async (id) => (await apiB.delete(`/api/v1/webhooks/${id}`)).status));
    expect(new Set(await deletions)).toEqual(new Set([204]));
    expect(new Set(await reports)).toEqual(new Set([200]));
    expect((await apiA.get(`/api/v1/rooms/${room.id}/live`)).body.live_participants).toBe(160);
  });

  it('node A killed with kill -9 while webhooks are pending: node B delivers every one, in order', async () => {
    const receiver = new Receiver();
    await receiver.start();
    receiver.mode = { kind: 'slow', delayMs: 50 };
    try {
      expect((await apiA.post('/api/v1/webhooks', { endpoint: receiver.url, events: ['participant_joined'] })).status).toBe(200);
      const room = (await apiA.post('/api/v1/rooms', { telephony_enabled: true })).body;
      const acknowledged: string[] = [];
      for (let i = 0; i < 40; i++) {
        const callId = `w-${i}`;
        if ((await apiA.post(`/api/v1/rooms/${room.id}/phone-participants/joined`, [{ call_id: callId, name: callId }])).status === 200) acknowledged.push(callId);
      }
      nodeA.child.kill('SIGKILL');
      expect((await nodeA.exited).signal).toBe('SIGKILL');
      expect(receiver.accepted.length).toBeLessThan(acknowledged.length);
      receiver.mode = { kind: 'ok' };

      const delivered = () => new Set(receiver.accepted.map((r) => r.json.data.call_id as string));
      await waitFor(() => (acknowledged.every((id) => delivered().has(id)) ? true : undefined), 30_000, 'node B to deliver every event');
      const firstArrivals: number[] = [];
      const seen = new Set<string>();
      for (const request of receiver.accepted) {
        const id = String(request.headers['x-roomline-event-id']);
        if (seen.has(id)) continue;
        seen.add(id);
        firstArrivals.push(Number(request.headers['x-roomline-sequence']));
      }
      expect(firstArrivals).toEqual(firstArrivals.map((_, index) => index + 1));
    } finally {
      await receiver.stop();
      nodeA = await startNode(); // for any later case
    }
  });
});
