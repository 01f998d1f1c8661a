import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Worker } from 'node:worker_threads';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebhookSender, type WebhookSender } from '../../src/webhooks/sender.js';
import { verifySignature } from '../../src/webhooks/signature.js';

const NOT_ALLOWED = 'address not allowed: this endpoint has no address webhooks may be sent to';
const logger = pino({ level: 'silent' });

/**
 * A receiver on a thread of the test's own, so it answers while the test's event loop is held.
 * It raises `arrived[0]` as each request comes in, and hands the request over as a message.
 */
function receiverThread(arrived: Int32Array): Promise<{ worker: Worker; port: number }> {
  const worker = new Worker(
    `
    const http = require('node:http');
    const { parentPort, workerData } = require('node:worker_threads');
    const server = http.createServer((request, response) => {
      const chunks = [];
      request.on('data', (chunk) => chunks.push(chunk));
      request.on('end', () => {
        Atomics.add(workerData.arrived, 0, 1);
        Atomics.notify(workerData.arrived, 0);
        parentPort.postMessage({ headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
        response.writeHead(204).end();
      });
    });
    server.listen(0, '127.0.0.1', () => parentPort.postMessage({ port: server.address().port }));
    `,
    { eval: true, workerData: { arrived } },
  );
  return new Promise((resolve) => worker.once('message', ({ port }: { port: number }) => resolve({ worker, port })));
}

describe('the webhook sender thread', () => {
  const arrived = new Int32Array(new SharedArrayBuffer(4));
  let receiver: { worker: Worker; port: number };
  let sender: WebhookSender;
  const received: Array<{ headers: http.IncomingHttpHeaders; body: string }> = [];

  beforeAll(async () => {
    receiver = await receiverThread(arrived);
    receiver.worker.on('message', (request: { headers: http.IncomingHttpHeaders; body: string }) => received.push(request));
    sender = createWebhookSender({ addressMode: 'private', timeoutMs: 5_000 }, logger);
  });
  afterAll(async () => {
    await sender.close();
    await receiver.worker.terminate();
  });

  it('makes the exchange while the event loop is held, and signs the body there', async () => {
    const endpoint = `http://127.0.0.1:${receiver.port}/hook`;
    const post = { endpoint, headers: { 'content-type': 'application/json', 'x-roomline-event-id': 'e-1' }, body: '{"event":"participant_left"}', signingKey: 'team-key' };
    // The thread started and connected, as a serving server's has.
    expect(await sender.post(post)).toEqual({ statusCode: 204 });

    const before = Atomics.load(arrived, 0);
    const outcome = sender.post({ ...post, headers: { ...post.headers, 'x-roomline-event-id': 'e-2' } });
    // Holds this thread (a long synchronous piece of work on the event loop) until the receiver
    // has the request, for 5 s at most: on the event loop the request would not even be written.
    // (It may have come before the wait began: either way this thread has not yielded.)
    Atomics.wait(arrived, 0, before, 5_000);
    expect(Atomics.load(arrived, 0)).toBe(before + 1);
    expect(await outcome).toEqual({ statusCode: 204 });

    await expect.poll(() => received.length).toBe(2);
    const last = received[1]!;
    expect(last.headers['x-roomline-event-id']).toBe('e-2');
    expect(last.body).toBe(post.body);
    expect(verifySignature('team-key', last.body, String(last.headers['x-roomline-signature']))).toBe(true);
  });

  it('answers a refused address with what the log needs, and a silent receiver as a timeout', async () => {
    const strict = createWebhookSender({ addressMode: 'public', timeoutMs: 200 }, logger);
    const silent = http.createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()));
    try {
      // `localhost` is looked up as it is connected to, on the thread: 127.0.0.1 is refused in public mode.
      const refused = await strict.post({ endpoint: `http://localhost:${receiver.port}/hook`, headers: {}, body: '{}', signingKey: 'k' });
      expect(refused).toMatchObject({ error: NOT_ALLOWED, refused: { kind: 'loopback' } });

      const lenient = createWebhookSender({ addressMode: 'private', timeoutMs: 200 }, logger);
      const port = (silent.address() as AddressInfo).port;
      expect(await lenient.post({ endpoint: `http://127.0.0.1:${port}/hook`, headers: {}, body: '{}', signingKey: 'k' })).toEqual({ error: 'timeout' });
      await lenient.close();
    } finally {
      silent.closeAllConnections();
      silent.close();
      await strict.close();
    }
  });

  it('fails attempts after it is closed, without waiting', async () => {
    const closing = createWebhookSender({ addressMode: 'private', timeoutMs: 1_000 }, logger);
    expect(await closing.post({ endpoint: `http://127.0.0.1:${receiver.port}/hook`, headers: {}, body: '{}', signingKey: 'k' })).toEqual({ statusCode: 204 });
    await closing.close();
    expect(await closing.post({ endpoint: `http://127.0.0.1:${receiver.port}/hook`, headers: {}, body: '{}', signingKey: 'k' })).toEqual({ error: 'webhook sender stopped before the answer' });
  });
});
