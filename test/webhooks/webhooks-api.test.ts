import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { EVENT_NAMES } from '../../src/bus/events.js';

describe('webhooks API', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => t.stop());

  it('lists the event names', async () => {
    const response = await t.api.get('/api/v1/events');
    expect(response.status).toBe(200);
    expect(response.body).toEqual([...EVENT_NAMES]);
  });

  it('creates, reads, lists, updates and deletes a webhook in the DS shape', async () => {
    const created = await t.api.post('/api/v1/webhooks', {
      endpoint: 'https://bridge.example/hooks',
      name: 'Bridge hook',
      authorization_header: 'Bearer abc',
      events: ['participant_joined', 'participant_left'],
    });
    expect(created.status).toBe(200);
    expect(created.body).toEqual({
      id: expect.any(String),
      endpoint: 'https://bridge.example/hooks',
      authorization_header: 'Bearer abc',
      name: 'Bridge hook',
      events: ['participant_joined', 'participant_left'],
      created_at: expect.stringMatching(/Z$/),
      updated_at: expect.stringMatching(/Z$/),
    });
    const id = created.body.id;
    expect((await t.api.get(`/api/v1/webhooks/${id}`)).body).toEqual(created.body);

    const patched = await t.api.patch(`/api/v1/webhooks/${id}`, { events: ['phone_participant_muted'], name: 'Renamed' });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ events: ['phone_participant_muted'], name: 'Renamed', endpoint: 'https://bridge.example/hooks' });

    const list = await t.api.get('/api/v1/webhooks');
    expect(list.body.total_count).toBe('1');
    expect(list.body.data[0].id).toBe(id);

    expect((await t.api.delete(`/api/v1/webhooks/${id}`)).status).toBe(204);
    expect((await t.api.get(`/api/v1/webhooks/${id}`)).status).toBe(404);
  });

  it('paginates with limit, offset, order and after', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      const response = await t.apiB.post('/api/v1/webhooks', { endpoint: `https://h${i}.example/x`, events: ['participant_left'] });
      ids.push(response.body.id);
    }
    const asc = await t.apiB.get('/api/v1/webhooks?order=asc&limit=2');
    expect(asc.body.total_count).toBe('4');
    expect(asc.body.data.map((w: any) => w.id)).toEqual(ids.slice(0, 2));
    const after = await t.apiB.get(`/api/v1/webhooks?order=asc&after=${ids[1]}`);
    expect(after.body.data.map((w: any) => w.id)).toEqual(ids.slice(2));
    const desc = await t.apiB.get('/api/v1/webhooks?offset=1&limit=1');
    expect(desc.body.data.map((w: any) => w.id)).toEqual([ids[2]]);
    for (const id of ids) await t.apiB.delete(`/api/v1/webhooks/${id}`);
  });

  it('refuses invalid definitions with field paths and changes nothing', async () => {
    const cases: [unknown, string[]][] = [
      [{}, ['endpoint', 'events']],
      [{ endpoint: 'not a url', events: ['participant_left'] }, ['endpoint']],
      [{ endpoint: 'ftp://files.example/x', events: ['participant_left'] }, ['endpoint']],
      [{ endpoint: 'https://a.example/' + 'x'.repeat(100), events: ['participant_left'] }, ['endpoint']],
      [{ endpoint: 'https://a.example/x', events: [] }, ['events']],
      [{ endpoint: 'https://a.example/x', events: ['participant_left', 'no_such_event'] }, ['events.1']],
      [{ endpoint: 'https://a.example/x', events: ['participant_left'], name: 'ab' }, ['name']],
      [{ endpoint: 42, events: 'participant_left' }, ['endpoint', 'events']],
      // The schema's problems and the service's own come in one answer, as Laravel reports them.
      [{ endpoint: 'ftp://files.example/x', events: ['no_such_event'] }, ['endpoint', 'events.0']],
      [{ endpoint: 'http://169.254.169.254/latest', events: [], authorization_header: 'a\r\nb' }, ['endpoint', 'events', 'authorization_header']],
    ];
    for (const [body, fields] of cases) {
      const response = await t.api.post('/api/v1/webhooks', body);
      expect(response.status, JSON.stringify(body)).toBe(422);
      expect(Object.keys(response.body.errors).sort(), JSON.stringify(body)).toEqual(fields.sort());
      expect(response.body.message).toEqual(expect.any(String));
    }
    expect((await t.api.get('/api/v1/webhooks')).body.total_count).toBe('0');
  });

  it('refuses an authorization header that could not be sent, on create and on update, and keeps one that can', async () => {
    // Each side of undici's rule for a header value: tab and 0x20–0x7E and 0x80–0xFF, nothing else.
    const unsendable = ['x\r\nX-Evil: 1', 'Bearer é€', 'a\nb', 'a\rb', 'a\u0008b', 'a\u001fb', 'a\u007fb', 'a\u0100b', 'Bearer 🔑'];
    const sendable = ['Bearer abc', 'a\tb', ' ~', 'Bearer é\u0080\u00ff'];
    const hook = await t.api.post('/api/v1/webhooks', { endpoint: 'https://a.example/x', events: ['participant_left'], authorization_header: 'Bearer kept' });
    expect(hook.status).toBe(200);
    for (const header of unsendable) {
      const created = await t.api.post('/api/v1/webhooks', { endpoint: 'https://a.example/x', events: ['participant_left'], authorization_header: header });
      expect(created.status, JSON.stringify(header)).toBe(422);
      expect(created.body.errors, JSON.stringify(header)).toEqual({ authorization_header: [expect.stringMatching(/authorization_header .*control characters/)] });
      expect(created.body.message).toBe(created.body.errors.authorization_header[0]);
      const patched = await t.api.patch(`/api/v1/webhooks/${hook.body.id}`, { authorization_header: header });
      expect(patched.status, JSON.stringify(header)).toBe(422);
      expect(Object.keys(patched.body.errors)).toEqual(['authorization_header']);
    }
    expect((await t.api.get(`/api/v1/webhooks/${hook.body.id}`)).body.authorization_header).toBe('Bearer kept');
    expect((await t.api.get('/api/v1/webhooks')).body.total_count).toBe('1');
    for (const header of sendable) {
      const patched = await t.api.patch(`/api/v1/webhooks/${hook.body.id}`, { authorization_header: header });
      expect(patched.status, JSON.stringify(header)).toBe(200);
      expect(patched.body.authorization_header).toBe(header);
    }
    await t.api.delete(`/api/v1/webhooks/${hook.body.id}`);
  });

  it('names every problem of a change at once, and changes nothing', async () => {
    const created = await t.api.post('/api/v1/webhooks', { endpoint: 'https://bridge.example/all-at-once', events: ['participant_left'] });
    const refused = await t.api.patch(`/api/v1/webhooks/${created.body.id}`, { endpoint: 'http://[::]/x', events: [], authorization_header: 'Bearer \u20ac' });
    expect(refused.status).toBe(422);
    expect(Object.keys(refused.body.errors).sort()).toEqual(['authorization_header', 'endpoint', 'events']);
    expect((await t.api.get(`/api/v1/webhooks/${created.body.id}`)).body).toEqual(created.body);
    expect((await t.api.delete(`/api/v1/webhooks/${created.body.id}`)).status).toBe(204);
  });

  it('holds at most 100 webhooks per team: the next one is a 422 and changes nothing', async () => {
    const api = t.client({ kind: 'bearer', key: (await t.running.services.teams.create({ name: 'Many hooks' })).developer_key });
    for (let i = 0; i < 100; i++) expect((await api.post('/api/v1/webhooks', { endpoint: `https://h${i}.example/x`, events: ['participant_left'] })).status).toBe(200);
    const refused = await api.post('/api/v1/webhooks', { endpoint: 'https://one-more.example/x', events: ['participant_left'] });
    expect(refused.status).toBe(422);
    expect(refused.body.errors.endpoint[0]).toMatch(/at most 100 webhooks/);
    expect((await api.get('/api/v1/webhooks')).body.total_count).toBe('100');
  });

  it('answers another team’s webhook as 404 on every route', async () => {
    const created = await t.api.post('/api/v1/webhooks', { endpoint: 'https://a.example/x', events: ['participant_left'] });
    const id = created.body.id;
    expect((await t.apiB.get(`/api/v1/webhooks/${id}`)).status).toBe(404);
    expect((await t.apiB.patch(`/api/v1/webhooks/${id}`, { name: 'Mine now' })).status).toBe(404);
    expect((await t.apiB.delete(`/api/v1/webhooks/${id}`)).status).toBe(404);
    expect((await t.apiB.get(`/api/v1/webhooks/${id}/deliveries`)).status).toBe(404);
    expect((await t.apiB.get('/api/v1/webhooks')).body.data.map((w: any) => w.id)).not.toContain(id);
    expect((await t.api.get(`/api/v1/webhooks/${id}`)).body.name).toBeNull();
    await t.api.delete(`/api/v1/webhooks/${id}`);
  });
});
