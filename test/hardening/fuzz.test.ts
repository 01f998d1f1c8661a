import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { call, createPhoneRoom } from '../helpers/rooms.js';

/** Seeded, so a failure is reproduced by running the same file again. */
const SEED = Number(process.env.ROOMLINE_FUZZ_SEED ?? 20261129);
const RUNS = Number(process.env.ROOMLINE_FUZZ_RUNS ?? 10_000);

/** The heap after a full collection (vitest.config.ts starts test processes with --expose-gc). */
function settledHeap(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed;
}

interface Route {
  method: string;
  path: string;
}

/** Values a path parameter can take: real ones of the fixtures, and hostile ones. */
const HOSTILE_SEGMENTS = ['..', '%2e%2e', '%00', 'a%00b', '%2F', '%E2%82%AC', '%ff%fe', 'ä', '😀', 'x'.repeat(300), '0', '-1', 'null', '%20', '{room}', '..%2F..%2Fetc'];

describe('fuzzing every route', () => {
  let t: TestServer;
  let routes: Route[];
  const fixture: Record<string, string[]> = {};

  async function seedFixtures(): Promise<void> {
    const room = await createPhoneRoom(t.api);
    await t.api.post(`/api/v1/rooms/${room.id}/phone-participants/joined`, [call('fuzz-1'), call('fuzz-2', { muted: true })]);
    const webhook = await t.api.post('/api/v1/webhooks', { endpoint: 'http://127.0.0.1:9/fuzz', events: ['participant_left'] });
    const roles = await t.api.get('/api/v1/roles');
    const sessions = await t.api.get('/api/v1/sessions');
    const participants = await t.api.get('/api/v1/participants');
    fixture.room = [room.id, room.friendly_url];
    fixture.callId = ['fuzz-1', 'fuzz-2'];
    fixture.webhook = webhook.status === 200 ? [webhook.body.id] : [];
    fixture.role = roles.body.data.map((role: any) => role.id).concat(['attendee']);
    fixture.session = sessions.body.data.map((session: any) => session.id);
    fixture.participant = participants.body.data.map((participant: any) => participant.id);
  }

  beforeAll(async () => {
    t = await startTestServer({ webhookDispatch: { pollMs: 60_000 } });
    const document = (await t.client().get('/api/v1/openapi.json')).body;
    routes = Object.entries(document.paths as Record<string, Record<string, unknown>>).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => ({ method: method.toUpperCase(), path })),
    );
    await seedFixtures();
  });
  afterAll(async () => t.stop());

  const jsonish = fc.oneof(
    { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
    { weight: 2, arbitrary: fc.array(fc.record({ call_id: fc.oneof(fc.string(), fc.integer(), fc.constant(null)), name: fc.option(fc.string()), muted: fc.option(fc.boolean()) }, { requiredKeys: [] }), { maxLength: 20 }) },
    { weight: 1, arbitrary: fc.array(fc.string({ maxLength: 40 }), { maxLength: 1200 }) },
    { weight: 1, arbitrary: fc.dictionary(fc.constantFrom('friendly_url', 'privacy', 'session_length', 'roles', 'default_role', 'events', 'endpoint', 'name', 'permissions', 'tags', 'is_locked', 'u', 'exp', 'metrics', 'description'), fc.jsonValue({ maxDepth: 2 })) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 200 }).map((depth) => JSON.parse('['.repeat(depth) + ']'.repeat(depth))) },
    { weight: 1, arbitrary: fc.nat({ max: 200_000 }).map((length) => ({ description: 'x'.repeat(length) })) },
  );

  const rawBody = fc.oneof(
    { weight: 6, arbitrary: jsonish.map((value) => Buffer.from(JSON.stringify(value) ?? 'null')) },
    { weight: 1, arbitrary: fc.string().map((text) => Buffer.from(text)) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)) },
    { weight: 1, arbitrary: fc.constantFrom('{"a":', '[1,', '\uFFFF', '{"__proto__":{"x":1}}', '').map((text) => Buffer.from(text)) },
    { weight: 1, arbitrary: fc.constant(Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x3a, 0x31, 0x7d])) },
  );

  const requestArbitrary = fc.record({
    route: fc.integer({ min: 0, max: 10_000 }),
    oddMethod: fc.option(fc.constantFrom('PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD', 'POST', 'GET'), { freq: 8 }),
    params: fc.array(fc.oneof({ weight: 3, arbitrary: fc.constant('fixture') }, { weight: 2, arbitrary: fc.constantFrom(...HOSTILE_SEGMENTS) }, { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 40 }).map(encodeURIComponent) }), { minLength: 4, maxLength: 4 }),
    pick: fc.nat(),
    body: fc.option(rawBody, { freq: 3 }),
    contentType: fc.constantFrom('application/json', 'application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', '', 'application/json, text/plain'),
    auth: fc.constantFrom('bearer', 'bearer', 'bearer', 'basic', 'none', 'garbage', 'twice'),
    query: fc.option(fc.dictionary(fc.constantFrom('limit', 'offset', 'order', 'after', 'date_start', 'date_end', 'live', 'room_id', 'metrics', 'tag', 'last_event_id'), fc.oneof(fc.string({ maxLength: 30 }), fc.integer().map(String))), { freq: 3 }),
  });

  it(`answers ${RUNS} generated requests with a 2xx or 4xx JSON answer, never a 5xx (seed ${SEED})`, async () => {
    const statuses = new Map<number, number>();
    const heapBefore = settledHeap();
    let run = 0;
    await fc.assert(
      fc.asyncProperty(requestArbitrary, async (generated) => {
        if (++run % 1000 === 0) await seedFixtures();
        const route = routes[generated.route % routes.length]!;
        let index = 0;
        const path = route.path.replace(/\{(\w+)\}/g, (_, name: string) => {
          const choice = generated.params[index++ % generated.params.length]!;
          const pool = fixture[name === 'callId' ? 'callId' : name] ?? [];
          return choice === 'fixture' && pool.length > 0 ? encodeURIComponent(pool[generated.pick % pool.length]!) : choice;
        });
        const query = generated.query === null ? '' : `?${new URLSearchParams(generated.query).toString()}`;
        const method = generated.oddMethod ?? route.method;
        const headers: Record<string, string> = {};
        if (generated.auth === 'bearer') headers.authorization = `Bearer ${t.teamA.developer_key}`;
        if (generated.auth === 'basic') headers.authorization = `Basic ${Buffer.from(`${t.teamA.team_id}:${t.teamA.developer_key}`).toString('base64')}`;
        if (generated.auth === 'garbage') headers.authorization = 'Bearer \u00ff\u00fe';
        if (generated.auth === 'twice') headers.authorization = `Bearer ${t.teamA.developer_key}, Bearer ${t.teamB.developer_key}`;
        const sendsBody = generated.body !== null && method !== 'GET' && method !== 'HEAD';
        if (sendsBody && generated.contentType !== '') headers['content-type'] = generated.contentType;

        const response = await fetch(`${t.url}${path}${query}`, { method, headers, body: sendsBody ? generated.body! : undefined, redirect: 'manual' });
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        const type = response.headers.get('content-type') ?? '';
        if (type.startsWith('text/event-stream')) {
          await response.body?.cancel();
          return;
        }
        const text = await response.text();
        const where = `${method} ${path}${query} → ${response.status} ${text.slice(0, 200)}`;
        const unsupported = response.status === 501;
        expect(response.status < 500 || unsupported, where).toBe(true);
        if (text !== '' && method !== 'HEAD') {
          expect(type, where).toMatch(/^(application\/json|text\/html|text\/css|application\/javascript|text\/javascript|image\/)/);
          if (type.startsWith('application/json')) expect(() => JSON.parse(text), where).not.toThrow();
        }
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );
    // The server stayed healthy and its heap did not run away.
    expect((await t.client().get('/healthz')).status).toBe(200);
    const grownMb = (settledHeap() - heapBefore) / 2 ** 20;
    console.log(`fuzz: ${RUNS} requests over ${routes.length} operations; statuses ${JSON.stringify(Object.fromEntries(statuses))}; heap +${grownMb.toFixed(1)} MB`);
    expect(grownMb).toBeLessThan(64);
    // Ten thousand requests take 20–35 s alone and twice that beside the other test files on a
    // slow machine: the suite's 60 s would fail a healthy server.
  }, 240_000);
});
