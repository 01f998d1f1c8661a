import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, waitFor, type ApiClient, type TestServer } from '../helpers/server.js';
import { Receiver } from '../helpers/receiver.js';

const NOT_ALLOWED = 'address not allowed: this endpoint has no address webhooks may be sent to';
const FAST_RETRIES = { timeoutMs: 300, retryBaseMs: 20, retryMaxMs: 200, pollMs: 50 };

/** Refused whatever ROOMLINE_WEBHOOK_ADDRESSES says, with what the message must say. */
const ALWAYS_REFUSED: [endpoint: string, message: RegExp][] = [
  ['http://169.254.169.254/latest/meta-data/', /link-local/],
  ['http://2852039166/latest', /link-local/],
  ['http://0xa9.0xfe.0xa9.0xfe/', /link-local/],
  ['http://[::ffff:169.254.169.254]/latest', /link-local/],
  ['http://[64:ff9b::a9fe:a9fe]/latest', /link-local/],
  // The local-use NAT64 prefix, 6to4 and the IPv4-compatible form of 169.254.169.254.
  ['http://[64:ff9b:1:a9fe:a9:fe00::]/latest', /link-local/],
  ['http://[2002:a9fe:a9fe::]/latest', /link-local/],
  ['http://[::a9fe:a9fe]/latest', /link-local/],
  ['http://[fe80::1]/x', /link-local/],
  ['http://0/x', /unspecified/],
  ['http://0.0.0.0:8080/x', /unspecified/],
  ['http://[::]/x', /unspecified/],
  ['http://[::ffff:0.0.0.0]/x', /unspecified/],
  ['http://224.0.0.1/x', /multicast/],
  ['http://[ff02::1]/x', /multicast/],
  ['http://255.255.255.255/x', /broadcast/],
  ['http:///x', /name its host/],
  ['http:/x', /name its host/],
  ['http:x', /name its host/],
  ['https:////bridge.example/x', /name its host/],
  ['http:\\\\\\bridge.example/x', /name its host/],
];

/** Loopback and private networks: allowed by default, refused in `public` mode. */
const REFUSED_WHEN_PUBLIC: [endpoint: string, message: RegExp][] = [
  ['http://localhost/x', /loopback/],
  ['http://LOCALHOST.:8080/x', /loopback/],
  ['http://bridge.localhost/x', /loopback/],
  ['http://127.0.0.1:9/x', /loopback/],
  ['http://127.1/x', /loopback/],
  ['http://[::1]/x', /loopback/],
  ['http://[::ffff:127.0.0.1]/x', /loopback/],
  ['http://10.1.2.3/x', /private network/],
  ['http://172.16.0.1/x', /private network/],
  ['http://172.31.255.255/x', /private network/],
  ['http://192.168.1.1/x', /private network/],
  ['http://100.64.0.1/x', /private network/],
  ['http://[fd12:3456::1]/x', /private network/],
  ['http://[::ffff:10.0.0.1]/x', /private network/],
  ['http://[64:ff9b::a00:1]/x', /private network/],
  ['http://[64:ff9b:1:7f00:0:100::]/x', /loopback/],
  ['http://[2002:c0a8:101::]/x', /private network/],
  ['http://[::7f00:1]/x', /loopback/],
];

/** Public addresses and names, next to the edges of the refused ranges: allowed in both modes. */
const ALWAYS_ALLOWED = [
  'https://bridge.example/hooks',
  'http://8.8.8.8/x',
  'http://169.253.255.255/x',
  'http://169.255.0.1/x',
  'http://172.32.0.1/x',
  'http://100.128.0.1/x',
  'http://223.255.255.255/x',
  'http://[2001:4860:4860::8888]/x',
  'http://[::ffff:8.8.8.8]/x',
  'http://[64:ff9b::808:808]/x',
  'http://[64:ff9b:1:808:8:800::]/x',
  'http://[2002:808:808::]/x',
  'https://localhost.example/x',
  ' https://bridge.example/with-spaces-around ',
];

const events = ['participant_joined'];

/** Every endpoint is refused on create and on update, on `endpoint` alone, and nothing changes. */
async function expectRefused(api: ApiClient, cases: [string, RegExp][], extra: RegExp = /./) {
  const kept = await api.post('/api/v1/webhooks', { endpoint: 'https://kept.example/x', events });
  expect(kept.status).toBe(200);
  for (const [endpoint, message] of cases) {
    for (const response of [await api.post('/api/v1/webhooks', { endpoint, events }), await api.patch(`/api/v1/webhooks/${kept.body.id}`, { endpoint })]) {
      expect(response.status, endpoint).toBe(422);
      expect(Object.keys(response.body.errors), endpoint).toEqual(['endpoint']);
      expect(response.body.errors.endpoint[0], endpoint).toMatch(message);
      expect(response.body.errors.endpoint[0], endpoint).toMatch(extra);
      expect(response.body.message).toBe(response.body.errors.endpoint[0]);
    }
  }
  expect((await api.get(`/api/v1/webhooks/${kept.body.id}`)).body.endpoint).toBe('https://kept.example/x');
  expect((await api.get('/api/v1/webhooks')).body.total_count).toBe('1');
  await api.delete(`/api/v1/webhooks/${kept.body.id}`);
}

async function expectAllowed(api: ApiClient, endpoints: string[]) {
  for (const endpoint of endpoints) {
    const created = await api.post('/api/v1/webhooks', { endpoint, events });
    expect(created.status, endpoint).toBe(200);
    expect(created.body.endpoint).toBe(endpoint);
    const patched = await api.patch(`/api/v1/webhooks/${created.body.id}`, { endpoint });
    expect(patched.status, endpoint).toBe(200);
    await api.delete(`/api/v1/webhooks/${created.body.id}`);
  }
}

describe('webhook endpoint addresses', () => {
  let byDefault: TestServer;
  let publicOnly: TestServer;
  let receiver: Receiver;

  beforeAll(async () => {
    [byDefault, publicOnly] = await Promise.all([
      startTestServer({ webhookDispatch: FAST_RETRIES }),
      startTestServer({ env: { ROOMLINE_WEBHOOK_ADDRESSES: 'public' }, webhookDispatch: FAST_RETRIES }),
    ]);
    receiver = new Receiver();
    await receiver.start();
  });
  afterAll(async () => {
    await receiver.stop();
    await Promise.all([byDefault.stop(), publicOnly.stop()]);
  });

  it('refuses link-local, unspecified, multicast and broadcast addresses, and a URL without a host as written, in both modes', async () => {
    await expectRefused(byDefault.api, ALWAYS_REFUSED);
    await expectRefused(publicOnly.api, ALWAYS_REFUSED);
  });

  it('allows loopback and private networks by default, and refuses them in public mode naming the setting', async () => {
    await expectAllowed(byDefault.api, REFUSED_WHEN_PUBLIC.map(([endpoint]) => endpoint));
    await expectRefused(publicOnly.api, REFUSED_WHEN_PUBLIC, /ROOMLINE_WEBHOOK_ADDRESSES=public/);
  });

  it('allows public addresses and names in both modes', async () => {
    await expectAllowed(byDefault.api, ALWAYS_ALLOWED);
    await expectAllowed(publicOnly.api, ALWAYS_ALLOWED);
  });

  it('delivers by default to a loopback receiver named by a host name', async () => {
    const hook = await byDefault.api.post('/api/v1/webhooks', { endpoint: `http://localhost:${receiver.port}/hook`, events });
    expect(hook.status).toBe(200);
    const room = await byDefault.api.post('/api/v1/rooms', { telephony_enabled: true });
    await byDefault.api.post(`/api/v1/rooms/${room.body.id}/phone-participants/joined`, [{ call_id: 'by-name', name: 'By name' }]);
    await waitFor(() => (receiver.accepted.some((request) => request.json.data.call_id === 'by-name') ? true : undefined), 10_000, 'the delivery');
    await byDefault.api.delete(`/api/v1/webhooks/${hook.body.id}`);
  });

  describe('webhooks defined before the server turned to public addresses only', () => {
    let restarted: TestServer;
    let byName: string;
    let byAddress: string;
    let byUnknownName: string;

    beforeAll(async () => {
      const before = await startTestServer({ webhookDispatch: FAST_RETRIES });
      // `localhost` goes through the connection's lookup; 127.0.0.1 is connected to without one.
      byName = (await before.api.post('/api/v1/webhooks', { endpoint: `http://localhost:${receiver.port}/by-name`, events })).body.id;
      byAddress = (await before.api.post('/api/v1/webhooks', { endpoint: `http://127.0.0.1:${receiver.port}/by-address`, events })).body.id;
      // .invalid never resolves (RFC 6761).
      byUnknownName = (await before.api.post('/api/v1/webhooks', { endpoint: 'http://no-such-host.invalid/by-unknown-name', events })).body.id;
      await before.stop({ keepState: true });
      restarted = await startTestServer({ state: before.state, env: { ROOMLINE_WEBHOOK_ADDRESSES: 'public' }, webhookDispatch: FAST_RETRIES });
      const room = await restarted.api.post('/api/v1/rooms', { telephony_enabled: true });
      expect(room.status).toBe(200);
      expect((await restarted.api.post(`/api/v1/rooms/${room.body.id}/phone-participants/joined`, [{ call_id: 'c-1', name: 'Caller' }])).status).toBe(200);
    });
    afterAll(async () => restarted?.stop());

    /** The webhook's first delivery once it has been attempted and retried. */
    const retriedDelivery = (webhookId: string) =>
      waitFor(async () => {
        const first = (await restarted.api.get(`/api/v1/webhooks/${webhookId}/deliveries`)).body.data[0];
        return first?.attempts >= 2 ? first : undefined;
      }, 10_000, 'a retried delivery');

    it('does not connect to a name that resolves to a refused address: the attempt fails, says so and no more, and is retried', async () => {
      const delivery = await retriedDelivery(byName);
      expect(delivery).toMatchObject({ status: 'pending', last_status_code: null, last_error: NOT_ALLOWED });
      expect(receiver.requests.filter((request) => request.headers['x-roomline-delivery-id'] === delivery.id)).toEqual([]);
    });

    it('says of a name that does not resolve what it says of one that resolves to a refused address: which internal names exist is not for a team to learn', async () => {
      const delivery = await retriedDelivery(byUnknownName);
      expect(delivery).toMatchObject({ status: 'pending', last_status_code: null, last_error: NOT_ALLOWED });
    });

    it('does not connect to a refused address literal stored before', async () => {
      const delivery = await retriedDelivery(byAddress);
      expect(delivery).toMatchObject({ status: 'pending', last_status_code: null, last_error: NOT_ALLOWED });
      expect(receiver.requests.filter((request) => request.headers['x-roomline-delivery-id'] === delivery.id)).toEqual([]);
    });
  });
});
