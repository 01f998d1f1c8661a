import { gzipSync } from 'node:zlib';
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
    expect(rooms.body.total_count).toBe('0');
    expect((await t.api.get('/api/v1/webhooks')).body.total_count).toBe('0');
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

  it('answers a compressed body with a 415 saying so, not as malformed JSON', async () => {
    const raw = gzipSync(JSON.stringify(['53858671-c5e0-441a-9e33-e5d7f7f1861e']));
    for (const [method, path] of BODY_ROUTES) {
      const response = await t.api.request(method, path, { raw, headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' } });
      expect(response.status, `${method} ${path}`).toBe(415);
      expect(response.body).toEqual({ message: 'The request body must be sent uncompressed (Content-Encoding: gzip is not supported).' });
    }
    const identity = await t.api.request('POST', '/api/v1/rooms/any-room/phone-participants/left', { raw: '["a"]', headers: { 'content-type': 'application/json', 'content-encoding': 'identity' } });
    expect(identity.status).toBe(404);
    await expectHealthyAndUnchanged();
  });

  it('takes a missing body as {} on every route whose body is an object', async () => {
    // POST /webhooks without a body names the fields it needs, instead of "body must be an object".
    const created = await t.api.request('POST', '/api/v1/webhooks');
    expect(created.status).toBe(422);
    expect(Object.keys(created.body.errors).sort()).toEqual(['endpoint', 'events']);
    const webhook = await t.api.post('/api/v1/webhooks', { endpoint: 'https://bridge.example/hook', events: ['participant_left'] });
    // PATCH without a body changes nothing, on webhooks as on rooms and the team's defaults.
    const patched = await t.api.request('PATCH', `/api/v1/webhooks/${webhook.body.id}`);
    expect(patched.status, patched.text).toBe(200);
    const { updated_at: _updated, ...unchanged } = webhook.body;
    expect(patched.body).toMatchObject(unchanged);
    expect((await t.api.request('PATCH', '/api/v1')).status).toBe(200);
    expect((await t.api.delete(`/api/v1/webhooks/${webhook.body.id}`)).status).toBe(204);
    // A JSON null is no object, and stays a 422.
    const nullBody = await t.api.request('PATCH', '/api/v1', { raw: 'null', headers: { 'content-type': 'application/json' } });
    expect(nullBody.status).toBe(422);
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

  it('refuses text holding a NUL character with a 422 (a 404 in a path), and changes nothing', async () => {
    // PostgreSQL cannot store a NUL in text: in cluster mode these were 500s.
    const room = await t.api.post('/api/v1/rooms', { telephony_enabled: true });
    expect(room.status).toBe(200);
    const joined = `/api/v1/rooms/${room.body.id}/phone-participants/joined`;
    const refused: Array<[string, string, unknown, string]> = [
      ['POST', joined, [{ call_id: 'a', name: 'Ann' }, { call_id: 'b', name: 'B\u0000b' }], '1.name'],
      ['POST', joined, [{ call_id: 'c\u0000', name: 'C' }], '0.call_id'],
      ['POST', `/api/v1/rooms/${room.body.id}/phone-participants/left`, ['a\u0000'], '0'],
      ['POST', '/api/v1/rooms', { description: 'one\u0000two' }, 'description'],
      ['PATCH', `/api/v1/rooms/${room.body.id}`, { topic: 'x', 'odd\u0000key': 1 }, 'odd\\0key'],
      ['GET', '/api/v1/sessions?after=%00', undefined, 'after'],
    ];
    for (const [method, path, body, field] of refused) {
      // JSON.stringify writes each NUL as the escape \u0000, as a client's JSON library would.
      const raw = body === undefined ? undefined : JSON.stringify(body);
      const response = await t.api.request(method, path, raw === undefined ? {} : { raw, headers: { 'content-type': 'application/json' } });
      expect(response.status, `${method} ${path} ${raw}`).toBe(422);
      expect(response.body.errors, `${method} ${path} ${raw}`).toEqual({ [field]: [`The ${field} field must not contain NUL characters.`] });
    }
    // In a path, such a text names nothing.
    expect((await t.api.get(`/api/v1/rooms/${room.body.id}%00`)).status).toBe(404);
    expect((await t.api.get(`/api/v1/webhooks/%00`)).status).toBe(404);
    expect((await t.api.get(`/api/v1/rooms/${room.body.id}/live/participants`)).body.live_participants).toEqual([]);
    expect((await t.api.get('/api/v1/rooms')).body.total_count).toBe('1');

    // An escaped backslash before "u0000" is six plain characters, not a NUL.
    const plain = await t.api.post('/api/v1/rooms', { description: 'C:\\u0000 is a path' });
    expect(plain.status).toBe(200);
    expect(plain.body.description).toBe('C:\\u0000 is a path');
    await t.api.delete(`/api/v1/rooms/${plain.body.id}`);
    await t.api.delete(`/api/v1/rooms/${room.body.id}`);
  });

  it('refuses text holding an unpaired UTF-16 surrogate with a 422, and keeps paired ones', async () => {
    // A lone surrogate has no UTF-8 form: stored, it became U+FFFD, and two different call ids
    // ("x\ud800", "x\ud801") came back as one the bridge never sent.
    const room = await t.api.post('/api/v1/rooms', { telephony_enabled: true });
    const joined = `/api/v1/rooms/${room.body.id}/phone-participants/joined`;
    const refused: Array<[string, string, string, string]> = [
      ['POST', joined, '[{"call_id":"x\\ud800","name":"one"},{"call_id":"x\\ud801","name":"two"}]', '0.call_id'],
      ['POST', joined, '[{"call_id":"a","name":"Ann"},{"call_id":"b","name":"B\\udc00"}]', '1.name'],
      ['POST', `/api/v1/rooms/${room.body.id}/phone-participants/left`, '["ok","\\ud83d"]', '1'],
      ['POST', '/api/v1/rooms', '{"description":"tail \\ud800"}', 'description'],
    ];
    for (const [method, path, raw, field] of refused) {
      const response = await t.api.request(method, path, { raw, headers: { 'content-type': 'application/json' } });
      expect(response.status, `${method} ${path} ${raw}`).toBe(422);
      expect(response.body.errors[field], `${method} ${path} ${raw}`).toEqual([`The ${field} field must not contain unpaired UTF-16 surrogates.`]);
    }
    expect((await t.api.get(`/api/v1/rooms/${room.body.id}/live/participants`)).body.live_participants).toEqual([]);
    expect((await t.api.get('/api/v1/rooms')).body.total_count).toBe('1');

    // A pair written as escapes is one character (here an emoji), as JSON means it.
    const paired = await t.api.request('POST', joined, { raw: '[{"call_id":"smile-\\ud83d\\ude00","name":"Smile"}]', headers: { 'content-type': 'application/json' } });
    expect(paired.status).toBe(200);
    expect((await t.api.get(`/api/v1/rooms/${room.body.id}/live/participants`)).body.live_participants.map((p: { call_id: string }) => p.call_id)).toEqual(['smile-😀']);
    await t.api.delete(`/api/v1/rooms/${room.body.id}`);
  });

  it('answers an unknown route with the DS 404, with or without credentials', async () => {
    for (const [client, method, path] of [
      [t.api, 'GET', '/api/v1/no-such-thing'],
      [t.api, 'POST', '/api/v1/rooms/any-room/no-such-action'],
      [t.client(), 'GET', '/api/v2/rooms'],
      [t.client(), 'GET', '/wp-login.php'],
      // Paths that do not decode (bytes that are not UTF-8, a lone surrogate's) name nothing either.
      [t.api, 'GET', '/api/v1/rooms/%ff'],
      [t.api, 'POST', '/api/v1/rooms/any-room/phone-participants/%ED%A0%80/mute'],
      [t.client(), 'GET', '/%c0%af'],
    ] as const) {
      const response = await client.request(method, path);
      expect(response.status, `${method} ${path}`).toBe(404);
      expect(response.body).toEqual({ message: 'Not Found', error: 'not-found' });
    }
    await expectHealthyAndUnchanged();
  });

  it('answers a DS path asked with a method it does not take with a 405 naming those it takes, as Laravel does', async () => {
    for (const [client, method, path, allowed] of [
      [t.api, 'GET', '/api/v1/rooms/any-room/phone-participants/left', 'POST'],
      [t.client(), 'GET', '/api/v1/rooms/any-room/phone-participants/left', 'POST'],
      [t.api, 'PUT', '/api/v1/webhooks', 'GET, HEAD, POST'],
      [t.api, 'POST', '/api/v1/rooms/any-room', 'GET, HEAD, PATCH, DELETE'],
    ] as const) {
      const response = await client.request(method, path);
      expect(response.status, `${method} ${path}`).toBe(405);
      expect(response.headers.get('allow'), `${method} ${path}`).toBe(allowed);
      expect(response.body).toEqual({ message: `The ${method} method is not supported for route ${path.slice(1)}. Supported methods: ${allowed}.` });
    }
    await expectHealthyAndUnchanged();
  });

  it('answers an offset past what the databases take with a 422 on every list, never a 500', async () => {
    const lists = ['/rooms', '/roles', '/sessions', '/participants', '/webhooks', '/rooms/live', '/rooms/live/participants', '/statistics/participants/started-sessions'];
    for (const list of lists) {
      for (const offset of ['10000000000000000000', '1e300']) {
        const response = await t.api.get(`/api/v1${list}?offset=${offset}`);
        expect(response.status, `${list}?offset=${offset}`).toBe(422);
        expect(response.body.errors).toHaveProperty('offset');
      }
      expect((await t.api.get(`/api/v1${list}?offset=${Number.MAX_SAFE_INTEGER}`)).status, list).toBe(200);
    }
    await expectHealthyAndUnchanged();
  });

  it('refuses a list where a query field takes one value (`date_start[]=…`), as Laravel does, instead of ignoring the filter', async () => {
    for (const path of ['/sessions?date_start[]=2026-11-30', '/participants?date_start[0]=2026-11-30', '/statistics?date_end[]=2026-11-30', '/rooms?limit[]=5']) {
      const response = await t.api.get(`/api/v1${path}`);
      expect(response.status, path).toBe(422);
      const field = /\?(\w+)\[/.exec(path)![1]!;
      expect(response.body.errors, path).toEqual({ [field]: [`The ${field} field must be a single value, not a list.`] });
    }
    // A list form the route declares is its own field, and fields the route does not know are ignored.
    expect((await t.api.get('/api/v1/rooms?tag[]=a&tag[]=b')).status).toBe(200);
    expect((await t.api.get('/api/v1/rooms?utm_source[]=mail')).status).toBe(200);
    await expectHealthyAndUnchanged();
  });
});
