import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** Routes that take a JSON body; body problems are answered before any of them runs. */
const BODY_ROUTES = [
  ['POST', '/api/v1/rooms'],
  ['PATCH', '/api/v1'],
  ['POST', '/api/v1/rooms/any-room/phone-participants/left'],
  ['POST', '/api/v1/webhooks'],
  ['POST', '/api/v1/rooms/any-room/chat'],
] as const;

const ONE_MIB = 1024 * 1024;

describe('bad input', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => t.stop());

  /** The server still answers after a bad request, and no bad request changed anything. */
  async function expectHealthyAndUnchanged(): Promise<void> {
    expect((await t.client().get('/healthz')).status).toBe(200);
    const rooms = await t.api.get('/api/v1/rooms');
    expect(rooms.status).toBe(200);
    expect(rooms.body.total_count).toBe(0);
    expect((await t.api.get('/api/v1/webhooks')).body.total_count).toBe(0);
  }

  it('answers malformed JSON with a 400', async () => {
    for (const [method, path] of BODY_ROUTES) {
      for (const raw of ['{"url":', '[1,', 'not json', '{"a":1}}', '{"__proto__":{"polluted":true}}']) {
        const response = await t.api.request(method, path, { raw, headers: { 'content-type': 'application/json' } });
        expect(response.status, `${path} ${JSON.stringify(raw)}`).toBe(400);
        expect(response.headers.get('content-type')).toMatch(/^application\/json/);
        expect(response.body).toEqual({ message: 'The request body is not valid JSON.' });
      }
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    await expectHealthyAndUnchanged();
  });

  it('takes an empty JSON body as no body, as DS clients send it on body-less actions', async () => {
    const response = await t.api.request('POST', '/api/v1/permissions-are-not-here', { raw: '', headers: { 'content-type': 'application/json' } });
    expect(response.status).toBe(404);
    const room = await t.api.request('POST', '/api/v1/rooms', { raw: '', headers: { 'content-type': 'application/json' } });
    expect(room.status).toBe(200);
    expect((await t.api.delete(`/api/v1/rooms/${room.body.id}`)).status).toBe(204);
    await expectHealthyAndUnchanged();
  });

  it('answers a body that is not JSON with a 415', async () => {
    for (const [method, path] of BODY_ROUTES) {
      for (const [contentType, raw] of [
        ['text/plain', '{"url":"https://example.com/hook"}'],
        ['application/x-www-form-urlencoded', 'url=https%3A%2F%2Fexample.com%2Fhook'],
        ['multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="url"\r\n\r\nhttps://example.com\r\n--x--\r\n'],
        ['application/xml', '<url>https://example.com/hook</url>'],
      ] as const) {
        const response = await t.api.request(method, path, { raw, headers: { 'content-type': contentType } });
        expect(response.status, `${path} ${contentType}`).toBe(415);
        expect(response.body).toEqual({ message: 'The request body must be JSON (Content-Type: application/json).' });
      }
    }
    await expectHealthyAndUnchanged();
  });

  it('answers a body over 1 MiB with a 413, whether its length is announced or not', async () => {
    const oversized = JSON.stringify({ url: 'https://example.com/hook', padding: 'x'.repeat(ONE_MIB) });
    for (const [method, path] of BODY_ROUTES) {
      const announced = await t.api.request(method, path, { raw: oversized, headers: { 'content-type': 'application/json' } });
      expect(announced.status, path).toBe(413);
      expect(announced.body).toEqual({ message: 'The request body is too large.' });

      // Chunked: no Content-Length, so the limit is found while reading.
      const chunked = await fetch(t.url + path, {
        method,
        headers: { authorization: `Bearer ${t.teamA.developer_key}`, 'content-type': 'application/json' },
        body: new Blob([oversized]).stream(),
        duplex: 'half',
      } as RequestInit);
      expect(chunked.status, path).toBe(413);
      expect(await chunked.json()).toEqual({ message: 'The request body is too large.' });
    }
    await expectHealthyAndUnchanged();
  });

  it('answers an unknown route with the DS 404, with or without credentials', async () => {
    for (const [client, method, path] of [
      [t.api, 'GET', '/api/v1/no-such-thing'],
      [t.api, 'POST', '/api/v1/rooms/any-room/no-such-action'],
      [t.api, 'PUT', '/api/v1/webhooks'],
      [t.client(), 'GET', '/api/v2/rooms'],
      [t.client(), 'GET', '/wp-login.php'],
    ] as const) {
      const response = await client.request(method, path);
      expect(response.status, `${method} ${path}`).toBe(404);
      expect(response.body).toEqual({ message: 'Not Found', error: 'not-found' });
    }
    await expectHealthyAndUnchanged();
  });
});
