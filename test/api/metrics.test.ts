import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackend, currentBackend, type BackendInstance } from '../helpers/backend.js';
import { runCli, startServeProcess, tempDataDir, type ServeProcess } from '../helpers/process.js';
import { Receiver } from '../helpers/receiver.js';
import { createClient, waitFor, type ApiClient } from '../helpers/server.js';

/** ROOMLINE_METRICS_PORT: Prometheus metrics on a port of their own, for the team running roomline. */
describe('metrics', () => {
  const key = `metrics-key-${randomUUID()}`;
  const data = tempDataDir();
  const receiver = new Receiver();
  let backend: BackendInstance;
  let server: ServeProcess;
  let api: ApiClient;
  let metricsUrl: string;
  const scrape = async () => {
    const answer = await fetch(metricsUrl);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return answer.text();
  };
  /** The value of one series, by its name and labels as written (`name{a="b"}`). */
  const valueOf = (text: string, series: string) => {
    const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
    return line === undefined ? undefined : Number(line.slice(series.length + 1));
  };

  beforeAll(async () => {
    backend = await createBackend();
    await receiver.start();
    server = await startServeProcess({
      ...(backend.env as Record<string, string>),
      ROOMLINE_DATA_DIR: data.dataDir,
      ROOMLINE_TEAM_ID: randomUUID(),
      ROOMLINE_DEVELOPER_KEY: key,
      ROOMLINE_METRICS_PORT: '0',
      LOG_LEVEL: 'info',
      ROOMLINE_WEBHOOK_RETRY_BASE_MS: '50',
      ROOMLINE_WEBHOOK_RETRY_MAX_MS: '100',
    });
    api = createClient(server.url, { kind: 'bearer', key });
    metricsUrl = await waitFor(() => /"metricsUrl":"(http:\/\/[^"]+\/metrics)","msg":"metrics are served"/.exec(server.output())?.[1], 5000, 'the metrics URL');
  });
  afterAll(async () => {
    await server?.stop();
    await receiver.stop();
    await backend?.dispose();
    data.remove();
  });

  it('counts requests by route pattern, never by URL, and reads the live roster and the outbox', async () => {
    await api.post('/api/v1/webhooks', { endpoint: receiver.url, events: ['participant_joined'] });
    const created = await api.post('/api/v1/rooms', { friendly_url: 'metered-room', telephony_enabled: true });
    expect(created.status, created.text).toBe(200);
    const room = created.body;
    expect((await api.post(`/api/v1/rooms/${room.id}/phone-participants/joined`, [{ call_id: 'm1', name: 'One' }, { call_id: 'm2', name: 'Two' }])).status).toBe(200);
    expect((await api.get(`/api/v1/rooms/${randomUUID()}`)).status).toBe(404);
    const joined = await fetch(`${server.url}/room-page/api/rooms/${room.id}/join`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Web' }) });
    expect(joined.status).toBe(200);
    await waitFor(() => (receiver.accepted.length >= 3 ? true : undefined), 10_000, 'the deliveries');

    // The store is read at most every 5 s: its gauges may lag a scrape or two. An attempt is
    // counted, and its outcome committed, a moment before its sender is handed back.
    const text = await waitFor(async () => {
      const scraped = await scrape();
      const settled = valueOf(scraped, 'roomline_webhook_attempts_total{outcome="delivered"}') === 3 && valueOf(scraped, 'roomline_webhook_deliveries_pending') === 0;
      const idle = valueOf(scraped, 'roomline_webhook_senders_busy') === 0;
      return settled && idle && valueOf(scraped, 'roomline_live_participants{type="web"}') === 1 ? scraped : undefined;
    }, 15_000, 'three delivered attempts counted, none pending, every sender idle');
    expect(valueOf(text, 'roomline_http_requests_total{method="POST",route="/api/v1/rooms/:room/phone-participants/joined",code="200"}')).toBe(1);
    expect(valueOf(text, 'roomline_http_requests_total{method="GET",route="/api/v1/rooms/:room",code="404"}')).toBe(1);
    expect(valueOf(text, 'roomline_http_request_duration_seconds_count{method="POST",route="/api/v1/rooms/:room/phone-participants/joined"}')).toBe(1);
    // Ids stay out of the labels: one series per route, however many rooms.
    expect(text).not.toContain(room.id);
    expect(valueOf(text, 'roomline_live_participants{type="phone"}')).toBe(2);
    expect(valueOf(text, 'roomline_live_sessions')).toBe(1);
    expect(valueOf(text, 'roomline_webhook_oldest_pending_age_seconds')).toBe(0);
    expect(valueOf(text, 'roomline_webhook_attempts_total{outcome="failed"}')).toBe(0);
    expect(valueOf(text, 'roomline_store_reachable')).toBe(1);
    expect(valueOf(text, 'roomline_webhook_senders')).toBe(64);
    // A pool of PostgreSQL connections in cluster mode; SQLite has none to count.
    if (currentBackend() === 'cluster') expect(valueOf(text, 'roomline_store_connections{state="open"}')).toBeGreaterThan(0);
    else expect(text).not.toContain('roomline_store_connections');
    expect(valueOf(text, 'roomline_bus_reachable')).toBe(1);
    expect(valueOf(text, `roomline_build_info{version="0.1.0",mode="${currentBackend()}"}`)).toBe(1);
    // The process's own figures come too, under their standard names.
    expect(valueOf(text, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(text).toContain('\nnodejs_eventloop_lag_seconds ');
  });

  it('shows webhooks falling behind, and the streams open on the node', async () => {
    receiver.mode = { kind: 'fail', status: 503 };
    const room = (await api.post('/api/v1/rooms', { telephony_enabled: true })).body;
    const stream = await fetch(`${server.url}/api/v1/rooms/${room.id}/live/events`, { headers: { authorization: `Bearer ${key}` } });
    expect(stream.status).toBe(200);
    await api.post(`/api/v1/rooms/${room.id}/phone-participants/joined`, [{ call_id: 'late', name: 'Late' }]);
    const text = await waitFor(async () => {
      const scraped = await scrape();
      const failing = (valueOf(scraped, 'roomline_webhook_attempts_total{outcome="retrying"}') ?? 0) >= 2;
      return failing && valueOf(scraped, 'roomline_webhook_deliveries_pending') === 1 ? scraped : undefined;
    }, 15_000, 'failed attempts counted, one delivery pending');
    expect(valueOf(text, 'roomline_webhook_oldest_pending_age_seconds')).toBeGreaterThan(0);
    expect(valueOf(text, 'roomline_rooms_watched')).toBe(1);
    expect(valueOf(text, 'roomline_room_watchers')).toBe(1);
    // A receiver that takes its time holds a sender for as long.
    receiver.mode = { kind: 'slow', delayMs: 3000 };
    await waitFor(async () => (valueOf(await scrape(), 'roomline_webhook_senders_busy') === 1 ? true : undefined), 10_000, 'a sender busy with the slow receiver');
    await stream.body?.cancel();
    receiver.mode = { kind: 'ok' };
  });

  it('serves them apart from the API, on loopback unless told otherwise', async () => {
    expect(new URL(metricsUrl).hostname).toBe('127.0.0.1');
    expect((await fetch(`${server.url}/metrics`)).status).toBe(404);
    expect((await fetch(metricsUrl.replace(/\/metrics$/, '/api/v1/rooms'))).status).toBe(404);
  });

  it('names its own setting when the metrics port is taken', async () => {
    const folder = tempDataDir();
    try {
      const refused = await runCli(['serve'], { ...(backend.env as Record<string, string>), ROOMLINE_DATA_DIR: folder.dataDir, PORT: '0', ROOMLINE_METRICS_PORT: new URL(metricsUrl).port });
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toMatch(/ROOMLINE_METRICS_PORT: cannot serve the metrics: another program listens on 127\.0\.0\.1:\d+; choose another with ROOMLINE_METRICS_PORT/);
    } finally {
      folder.remove();
    }
  });
});
