import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { insertDeliveries, insertWebhook, takeSequences, type AttemptOutcome, type DeliveryRow } from '../../src/store/repos/webhooks.js';
import { createStore, type Store } from '../../src/store/store.js';
import { createBackend, type BackendInstance } from '../helpers/backend.js';
import { queuedDelivery } from '../helpers/deliveries.js';

/**
 * Store.settleDelivery, on the backend of this run (cluster mode writes it as one statement,
 * embedded mode as a transaction): the same rows either way.
 */
describe('settling a webhook delivery', () => {
  let backend: BackendInstance;
  let dataDir: string;
  let store: Store;
  let webhook = 0;

  beforeAll(async () => {
    backend = await createBackend();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'roomline-settle-'));
    store = await createStore(loadConfig({ ...backend.env, ROOMLINE_DATA_DIR: dataDir }), pino({ level: 'silent' }));
    await store.transaction((trx) =>
      trx.insertInto('teams').values({ id: 't', name: 'Team', developer_key: 'team-key', key_hash: 'h', room_settings: '{}', created_at: 0, updated_at: 0 }).execute(),
    );
  });
  afterAll(async () => {
    await store?.close();
    await backend?.dispose();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  /** A webhook of its own for each case, with three queued deliveries, the first leased. */
  let webhookId: string;
  let first: DeliveryRow;
  beforeEach(async () => {
    webhookId = `w${++webhook}`;
    first = await queueThree(webhookId);
  });

  /** Queues three deliveries for a new webhook `id`; answers the first, leased. */
  function queueThree(id: string): Promise<DeliveryRow> {
    return store.transaction(async (trx) => {
      await insertWebhook(trx, { id, team_id: 't', name: null, endpoint: `http://127.0.0.1:9/${id}`, authorization_header: 'Bearer x', events: '[]', created_at: 0, updated_at: 0 });
      const from = (await takeSequences(trx, id, 3))!;
      const rows = [0, 1, 2].map((n) => queuedDelivery({ id: `${id}-d${from + n}`, webhook_id: id, team_id: 't', sequence: from + n, claimed_until: n === 0 ? 5_000 : null }));
      await insertDeliveries(trx, rows);
      return rows[0]!;
    });
  }

  function delivery(id: string, sequence: number, claimedUntil: number | null): DeliveryRow {
    return queuedDelivery({ id, webhook_id: webhookId, team_id: 't', sequence, claimed_until: claimedUntil });
  }

  const delivered: AttemptOutcome = { status: 'delivered', attempts: 1, next_attempt_at: 1_000, last_status_code: 204, last_error: null, last_attempt_at: 1_000, delivered_at: 1_000 };

  const rows = () => store.db.selectFrom('webhook_deliveries').select(['sequence', 'status', 'attempts', 'claimed_until', 'last_status_code']).where('webhook_id', '=', webhookId).orderBy('sequence').execute();
  const head = async () => (await store.db.selectFrom('webhook_heads').select('settled_through').where('webhook_id', '=', webhookId).executeTakeFirstOrThrow()).settled_through;

  it('records a delivered attempt, moves the head on and leases the next delivery, answered with its target', async () => {
    const next = await store.settleDelivery({ delivery: first, outcome: delivered, next: { now: 1_000, until: 16_000 } });
    expect(next).toEqual({
      delivery: { ...delivery(`${webhookId}-d2`, 2, 16_000) },
      target: { endpoint: `http://127.0.0.1:9/${webhookId}`, authorization_header: 'Bearer x', signing_key: 'team-key' },
    });
    expect(await rows()).toEqual([
      { sequence: 1, status: 'delivered', attempts: 1, claimed_until: null, last_status_code: 204 },
      { sequence: 2, status: 'pending', attempts: 0, claimed_until: 16_000, last_status_code: null },
      { sequence: 3, status: 'pending', attempts: 0, claimed_until: null, last_status_code: null },
    ]);
    expect(await head()).toBe(1);
  });

  it('leaves the next delivery to the sender that holds it, or to its time', async () => {
    await store.transaction((trx) => trx.updateTable('webhook_deliveries').set({ claimed_until: 9_000 }).where('id', '=', `${webhookId}-d2`).execute());
    expect(await store.settleDelivery({ delivery: first, outcome: delivered, next: { now: 1_000, until: 16_000 } })).toBeUndefined();
    expect((await rows()).map((row) => row.claimed_until)).toEqual([null, 9_000, null]);
    expect(await head()).toBe(1);

    await store.transaction((trx) => trx.updateTable('webhook_deliveries').set({ claimed_until: null, next_attempt_at: 2_000 }).where('id', '=', `${webhookId}-d2`).execute());
    const second = { ...first, id: `${webhookId}-d2`, sequence: 2 };
    await store.transaction((trx) => trx.updateTable('webhook_deliveries').set({ next_attempt_at: 5_000 }).where('id', '=', `${webhookId}-d3`).execute());
    expect(await store.settleDelivery({ delivery: second, outcome: delivered, next: { now: 3_000, until: 18_000 } })).toBeUndefined();
    expect(await rows()).toEqual([
      { sequence: 1, status: 'delivered', attempts: 1, claimed_until: null, last_status_code: 204 },
      { sequence: 2, status: 'delivered', attempts: 1, claimed_until: null, last_status_code: 204 },
      { sequence: 3, status: 'pending', attempts: 0, claimed_until: null, last_status_code: null },
    ]);
    expect(await head()).toBe(2);
  });

  it('keeps the head on a failed attempt that will be retried, and leases nothing', async () => {
    const retry: AttemptOutcome = { status: 'pending', attempts: 1, next_attempt_at: 3_000, last_status_code: 500, last_error: 'HTTP 500', last_attempt_at: 1_000, delivered_at: null };
    expect(await store.settleDelivery({ delivery: first, outcome: retry, next: { now: 1_000, until: 16_000 } })).toBeUndefined();
    expect(await rows()).toEqual([
      { sequence: 1, status: 'pending', attempts: 1, claimed_until: null, last_status_code: 500 },
      { sequence: 2, status: 'pending', attempts: 0, claimed_until: null, last_status_code: null },
      { sequence: 3, status: 'pending', attempts: 0, claimed_until: null, last_status_code: null },
    ]);
    expect(await head()).toBe(0);
  });

  it('moves the head on a delivery given up, and leases nothing for a sender that stops', async () => {
    const givenUp: AttemptOutcome = { ...delivered, status: 'failed', last_status_code: 500, last_error: 'HTTP 500', delivered_at: null };
    expect(await store.settleDelivery({ delivery: first, outcome: givenUp })).toBeUndefined();
    expect((await rows()).map((row) => [row.status, row.claimed_until])).toEqual([
      ['failed', null],
      ['pending', null],
      ['pending', null],
    ]);
    expect(await head()).toBe(1);
  });

  it('goes on to the next delivery after one given up, and leases nothing after the last', async () => {
    const givenUp: AttemptOutcome = { ...delivered, status: 'failed', last_status_code: 500, last_error: 'HTTP 500', delivered_at: null };
    const second = await store.settleDelivery({ delivery: first, outcome: givenUp, next: { now: 1_000, until: 16_000 } });
    expect(second?.delivery).toMatchObject({ sequence: 2, claimed_until: 16_000 });
    const third = await store.settleDelivery({ delivery: second!.delivery, outcome: delivered, next: { now: 1_000, until: 16_000 } });
    expect(third?.delivery).toMatchObject({ sequence: 3, claimed_until: 16_000 });
    expect(await store.settleDelivery({ delivery: third!.delivery, outcome: delivered, next: { now: 1_000, until: 16_000 } })).toBeUndefined();
    expect((await rows()).map((row) => [row.status, row.claimed_until])).toEqual([
      ['failed', null],
      ['delivered', null],
      ['delivered', null],
    ]);
    expect(await head()).toBe(3);
  });

  it('settles attempts of several webhooks that end together, each going on to its own next delivery', async () => {
    const others = [`${webhookId}-b`, `${webhookId}-c`];
    const [second, third] = await Promise.all(others.map(queueThree));
    // The third webhook's next delivery is another sender's: its attempt goes on to nothing.
    await store.transaction((trx) => trx.updateTable('webhook_deliveries').set({ claimed_until: 9_000 }).where('id', '=', `${others[1]}-d2`).execute());
    const settled = await Promise.all(
      [first, second!, third!].map((attempted) => store.settleDelivery({ delivery: attempted, outcome: delivered, next: { now: 1_000, until: 16_000 } })),
    );
    expect(settled.map((next) => next && [next.delivery.id, next.delivery.claimed_until, next.target.endpoint])).toEqual([
      [`${webhookId}-d2`, 16_000, `http://127.0.0.1:9/${webhookId}`],
      [`${others[0]}-d2`, 16_000, `http://127.0.0.1:9/${others[0]}`],
      undefined,
    ]);
    const statuses = await store.db.selectFrom('webhook_deliveries').select(['id', 'status']).where('webhook_id', 'in', [webhookId, ...others]).where('sequence', '=', 1).orderBy('id').execute();
    expect(statuses.map((row) => row.status)).toEqual(['delivered', 'delivered', 'delivered']);
    const heads = await store.db.selectFrom('webhook_heads').select('settled_through').where('webhook_id', 'in', [webhookId, ...others]).execute();
    expect(heads.map((row) => row.settled_through)).toEqual([1, 1, 1]);
  });
});
