import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * A client that sends its request slowly, a byte now and then, must not hold a connection (and
 * the server's memory for it) for as long as it likes: past ROOMLINE_REQUEST_TIMEOUT_MS the
 * server answers 408 and closes, with or without a key. Streams are unaffected.
 */
describe('requests sent too slowly', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ env: { ROOMLINE_REQUEST_TIMEOUT_MS: '1000', ROOMLINE_STREAM_HEARTBEAT_MS: '200' } });
  });
  afterAll(async () => t.stop());

  /** Sends `head`, then one byte of body every 200 ms; resolves with what the server sent once it closes. */
  function drip(head: string): Promise<{ answer: string; bytesSent: number }> {
    const { hostname, port } = new URL(t.url);
    return new Promise((resolve, reject) => {
      const socket = net.connect(Number(port), hostname);
      let answer = '';
      let bytesSent = 0;
      const timer = setInterval(() => {
        if (!socket.destroyed && socket.writable) socket.write('[', () => (bytesSent += 1));
      }, 200);
      const guard = setTimeout(() => {
        socket.destroy();
        reject(new Error(`still open after 15 s: ${answer}`));
      }, 15_000);
      socket.on('connect', () => socket.write(head));
      socket.on('data', (chunk) => (answer += chunk.toString('latin1')));
      socket.on('error', () => {});
      socket.on('close', () => {
        clearInterval(timer);
        clearTimeout(guard);
        resolve({ answer, bytesSent });
      });
    });
  }

  it('answers 408 and closes a request whose body drips in, with a key or without one', async () => {
    const heads = [
      `POST /api/v1/rooms HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${t.teamA.developer_key}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n`,
      'POST /room-page/api/rooms/anything/join HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n',
    ];
    for (const head of heads) {
      const { answer } = await drip(head);
      expect(answer).toMatch(/^HTTP\/1\.1 408 /);
      expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toEqual({ message: 'The request did not arrive in time.' });
    }
  });

  it('answers a request refused as it arrives once: no 408 follows its 401 while its body drips in', async () => {
    const { answer } = await drip('POST /api/v1/rooms HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 401 /);
    // One answer for one request: a second would be read as the answer to the client's next.
    expect(answer.match(/HTTP\/1\.1 /g)).toHaveLength(1);
  });

  it('answers headers too large with the catalogue\'s 431', async () => {
    const { hostname, port } = new URL(t.url);
    const answer = await new Promise<string>((resolve) => {
      const socket = net.connect(Number(port), hostname, () => socket.write(`GET /api/v1/rooms HTTP/1.1\r\nHost: x\r\nX-Padding: ${'a'.repeat(20_000)}\r\n\r\n`));
      let received = '';
      socket.on('data', (chunk) => (received += chunk.toString('latin1')));
      socket.on('error', () => {});
      socket.on('close', () => resolve(received));
    });
    expect(answer).toMatch(/^HTTP\/1\.1 431 /);
    expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toEqual({ message: 'The request headers are too large.' });
  });

  it('leaves a stream open past the limit: its request was whole when it began', async () => {
    const room = (await t.api.post('/api/v1/rooms', {})).body;
    const response = await fetch(`${t.url}/api/v1/rooms/${room.id}/live/events`, { headers: { authorization: `Bearer ${t.teamA.developer_key}` } });
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let seen = '';
    const started = Date.now();
    // Heartbeats for three times the request limit.
    while (Date.now() - started < 3000) {
      const { value, done } = await reader.read();
      expect(done).toBe(false);
      seen += decoder.decode(value);
    }
    await reader.cancel();
    expect(seen).toContain('event: snapshot');
  });
});
