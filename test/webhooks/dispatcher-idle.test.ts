import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createClient, waitFor } from '../helpers/server.js';
import { startServeProcess, tempDataDir, type ServeProcess } from '../helpers/process.js';
import { createBackend, type BackendInstance } from '../helpers/backend.js';
import { Receiver } from '../helpers/receiver.js';

const LOOKING = '"msg":"looking for webhook deliveries to send"';

/**
 * While deliveries wait on slow receivers the dispatcher has nothing to do: a sender finishing
 * looks for work, and so does the poll timer. Each time it looks it says so at trace level, so
 * the server's own log counts its searches while nothing can move.
 */
describe('webhook dispatcher while receivers are slow', () => {
  const data = tempDataDir();
  const receiver = new Receiver();
  let backend: BackendInstance | undefined;
  let server: ServeProcess | undefined;
  afterAll(async () => {
    await server?.stop();
    await receiver.stop();
    await backend?.dispose();
    data.remove();
  });

  it('waits for a delivery in flight, and for a free sender, instead of searching for work again and again', async () => {
    await receiver.start();
    receiver.mode = { kind: 'slow', delayMs: 2_500 };
    backend = await createBackend();
    const key = `idle-test-${randomUUID()}`;
    server = await startServeProcess({
      ...backend.env,
      ROOMLINE_DATA_DIR: data.dataDir,
      ROOMLINE_TEAM_ID: randomUUID(),
      ROOMLINE_DEVELOPER_KEY: key,
      LOG_LEVEL: 'trace',
      ROOMLINE_WEBHOOK_TIMEOUT_MS: '10000',
      ROOMLINE_WEBHOOK_CONCURRENCY: '2',
    });
    const running = server;
    const api = createClient(running.url, { kind: 'bearer', key });
    const room = await api.post('/api/v1/rooms', { telephony_enabled: true });
    const join = (callId: string) => api.post(`/api/v1/rooms/${room.body.id}/phone-participants/joined`, [{ call_id: callId, name: callId }]);
    const addWebhook = async () => expect((await api.post('/api/v1/webhooks', { endpoint: receiver.url, events: ['participant_joined'] })).status).toBe(200);
    /** The dispatcher's searches over a second in which every delivery waits on the receiver. */
    const searchesWhileWaiting = async () => {
      const from = running.output().length;
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      return running.output().slice(from).split(LOOKING).length - 1;
    };

    // One webhook, its delivery held by the receiver: a sender is free, and the head is leased.
    await addWebhook();
    expect((await join('first')).status).toBe(200);
    await waitFor(() => (receiver.requests.length === 1 ? true : undefined), 10_000, 'the first attempt');
    expect(await searchesWhileWaiting()).toBeLessThan(5);
    await waitFor(() => (receiver.accepted.length === 1 ? true : undefined), 10_000, 'the first answer');

    // Three webhooks and two senders: two deliveries held, one due and waiting for a sender.
    await addWebhook();
    await addWebhook();
    expect((await join('second')).status).toBe(200);
    await waitFor(() => (receiver.requests.length === 3 ? true : undefined), 10_000, 'two attempts at once');
    expect(await searchesWhileWaiting()).toBeLessThan(5);

    // The one that waited goes as soon as a sender is free: every webhook gets the second join.
    await waitFor(() => (receiver.accepted.length === 4 ? true : undefined), 15_000, 'every delivery');
    expect(receiver.accepted.slice(1).map((request) => request.json.data.call_id)).toEqual(['second', 'second', 'second']);
    // The test is only worth something if the searches are logged at all.
    expect(running.output()).toContain(LOOKING);
  });
});
