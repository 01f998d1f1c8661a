import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackend, type BackendInstance } from '../helpers/backend.js';
import { queuedDelivery } from '../helpers/deliveries.js';
import { namedStatementPool, PLAN_LIFETIME_MS } from '../../src/store/postgres/named-statements.js';
import { openPostgresStore } from '../../src/store/postgres/postgres-store.js';
import { settleDeliveriesTogether } from '../../src/store/postgres/settle-delivery.js';
import type { Database } from '../../src/store/schema.js';
import { insertDeliveries, insertWebhook, takeSequences, type AttemptOutcome, type DeliveryRow } from '../../src/store/repos/webhooks.js';
import { tombstonedCallIds } from '../../src/store/repos/roster.js';
import { findTeamById } from '../../src/store/repos/teams.js';
import type { Store } from '../../src/store/store.js';

/** The cluster store's lanes: one lane's transactions commit together, each whole and apart; lanes run side by side. */
describe('cluster store', () => {
  let backend: BackendInstance;
  let store: Store;

  beforeAll(async () => {
    backend = await createBackend('cluster');
    store = await openPostgresStore({ databaseUrl: backend.env.DATABASE_URL!, preparedStatements: true }, pino({ level: 'silent' }));
  });
  afterAll(async () => {
    await store?.close();
    await backend?.dispose();
  });

  const teamRow = (id: string) => ({ id, name: id, developer_key: `key-${id}`, key_hash: `hash-${id}`, room_settings: '{}', created_at: 1, updated_at: 1 });
  const teamIds = async (prefix: string) => (await store.db.selectFrom('teams').select('id').where('id', 'like', `${prefix}%`).execute()).map((row) => row.id).sort();

  it('gives every connection a statement timeout and an idle-transaction timeout', async () => {
    const settings = sql<{ statement: string; idle: string }>`select current_setting('statement_timeout') as statement, current_setting('idle_in_transaction_session_timeout') as idle`;
    // More reads at once than one connection: each of the pool's connections has them.
    const reads = await Promise.all(Array.from({ length: 4 }, () => store.transaction(async (trx) => (await settings.execute(trx)).rows[0])));
    expect(reads).toEqual(Array.from({ length: 4 }, () => ({ statement: '30s', idle: '1min' })));
  });

  it('runs a lane’s transactions one at a time, each failing alone and leaving nothing behind', async () => {
    const ids = Array.from({ length: 30 }, (_, n) => `lane-${String(n).padStart(2, '0')}`);
    let running = 0;
    let most = 0;
    const outcomes = await Promise.allSettled(
      ids.map((id, n) =>
        store.transaction(
          async (trx) => {
            most = Math.max(most, ++running);
            try {
              await trx.insertInto('teams').values(teamRow(id)).execute();
              if (n % 3 === 1) throw new Error(`refused ${id}`);
              // A constraint error halfway through: PostgreSQL aborts the transaction, the savepoint saves the rest.
              if (n % 3 === 2) await trx.insertInto('teams').values(teamRow(ids[0]!)).execute();
              return id;
            } finally {
              running -= 1;
            }
          },
          { lane: 'one-room' },
        ),
      ),
    );
    const kept = ids.filter((_, n) => n % 3 === 0);
    expect(most).toBe(1);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(ids.map((_, n) => (n % 3 === 0 ? 'fulfilled' : 'rejected')));
    expect(outcomes[1]).toMatchObject({ status: 'rejected', reason: { message: 'refused lane-01' } });
    expect(outcomes[2]).toMatchObject({ status: 'rejected', reason: { code: '23505' } });
    expect(await teamIds('lane-')).toEqual(kept);
  });

  it('runs other lanes, and transactions without one, while a lane waits', async () => {
    let finish!: () => void;
    const holding = new Promise<void>((resolve) => (finish = resolve));
    let inside!: () => void;
    const started = new Promise<void>((resolve) => (inside = resolve));
    const held = store.transaction(
      async (trx) => {
        await trx.insertInto('teams').values(teamRow('side-held')).execute();
        inside();
        await holding;
      },
      { lane: 'held' },
    );
    await started;
    let queuedRan = false;
    const queued = store.transaction(async () => void (queuedRan = true), { lane: 'held' });
    await store.transaction((trx) => trx.insertInto('teams').values(teamRow('side-other-lane')).execute(), { lane: 'other' });
    await store.transaction((trx) => trx.insertInto('teams').values(teamRow('side-no-lane')).execute());
    expect(await teamIds('side-')).toEqual(['side-no-lane', 'side-other-lane']);
    expect(queuedRan).toBe(false);
    finish();
    await Promise.all([held, queued]);
    expect(queuedRan).toBe(true);
    expect(await teamIds('side-')).toEqual(['side-held', 'side-no-lane', 'side-other-lane']);
  });

  /** The statements prepared on the connection of a transaction that ran a key look-up, a list of one key and a list of three. */
  async function preparedAfterLookups(on: Store): Promise<string[]> {
    return on.transaction(async (trx) => {
      await findTeamById(trx, 'no-such-team');
      await tombstonedCallIds(trx, 'no-such-room', ['call-1']);
      await tombstonedCallIds(trx, 'no-such-room', ['call-1', 'call-2', 'call-3']);
      const { rows } = await sql<{ statement: string }>`select statement from pg_prepared_statements where name like 'roomline_%'`.execute(trx);
      return rows.map((row) => row.statement);
    });
  }

  it('prepares key look-ups, which PostgreSQL then plans once per connection, and plans lists of many keys on each run', async () => {
    const statements = await preparedAfterLookups(store);
    expect(statements).toContain('select * from "teams" where "id" = $1');
    expect(statements).toContain('select "call_id" from "call_tombstones" where "room_id" = $1 and "call_id" in ($2)');
    // A plan kept for many keys was made for the table as it was then (see store/repos/prepared.ts).
    expect(statements.filter((statement) => statement.includes('in ($2, $3, $4)'))).toEqual([]);
  });

  it('prepares nothing when prepared statements are off (a pooler that cannot carry them)', async () => {
    const unprepared = await openPostgresStore({ databaseUrl: backend.env.DATABASE_URL!, preparedStatements: false }, pino({ level: 'silent' }));
    try {
      expect(await preparedAfterLookups(unprepared)).toEqual([]);
    } finally {
      await unprepared.close();
    }
  });

  /** A webhook of team `team` with three queued deliveries, the first leased. */
  async function webhookWithThreeDeliveries(team: string, webhookId: string): Promise<DeliveryRow[]> {
    await store.transaction((trx) => trx.insertInto('teams').values(teamRow(team)).onConflict((oc) => oc.doNothing()).execute());
    return store.transaction(async (trx) => {
      await insertWebhook(trx, { id: webhookId, team_id: team, name: null, endpoint: 'http://127.0.0.1:9/hook', authorization_header: null, events: '[]', created_at: 0, updated_at: 0 });
      const from = (await takeSequences(trx, webhookId, 3))!;
      const rows = [0, 1, 2].map((n) => queuedDelivery({ id: `${webhookId}-${from + n}`, webhook_id: webhookId, team_id: team, sequence: from + n, claimed_until: n === 0 ? 5_000 : null }));
      await insertDeliveries(trx, rows);
      return rows;
    });
  }
  const delivered: AttemptOutcome = { status: 'delivered', attempts: 1, next_attempt_at: 1_000, last_status_code: 204, last_error: null, last_attempt_at: 1_000, delivered_at: 1_000 };

  /** settleDeliveriesTogether on a pool of its own (two connections), with every statement it sends. */
  async function loggedSettle<T>(use: (settle: Store['settleDelivery'], statements: string[]) => Promise<T>): Promise<T> {
    const statements: string[] = [];
    const pool = new pg.Pool({ connectionString: backend.env.DATABASE_URL!, max: 2 });
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }), log: (event) => void statements.push(event.query.sql) });
    try {
      return await use(settleDeliveriesTogether(db, { transaction: (work) => db.transaction().execute(work) }), statements);
    } finally {
      await db.destroy();
    }
  }

  it('settles a delivery and leases the next in one statement', async () => {
    const [first] = await webhookWithThreeDeliveries('settle-team', 'settle-one');
    await loggedSettle(async (settle, statements) => {
      const next = await settle({ delivery: first!, outcome: delivered, next: { now: 1_000, until: 16_000 } });
      expect(next?.delivery).toMatchObject({ id: 'settle-one-2', claimed_until: 16_000 });
      expect(statements).toHaveLength(1);
    });
  });

  it('settles the attempts that end while a settle runs in one statement, each going on to its own next delivery', async () => {
    const firsts = await Promise.all(['together-a', 'together-b', 'together-c'].map(async (id) => (await webhookWithThreeDeliveries('settle-team', id))[0]!));
    await loggedSettle(async (settle, statements) => {
      const settled = await Promise.all(firsts.map((first) => settle({ delivery: first, outcome: delivered, next: { now: 1_000, until: 16_000 } })));
      expect(settled.map((next) => next?.delivery.id)).toEqual(['together-a-2', 'together-b-2', 'together-c-2']);
      // The first went at once; the two that ended while it ran went together.
      expect(statements).toHaveLength(2);
    });
  });

  it('settles the attempts of a statement that failed again one by one, so only the failing one fails', async () => {
    const firsts = await Promise.all(['alone-a', 'alone-b', 'alone-c'].map(async (id) => (await webhookWithThreeDeliveries('settle-team', id))[0]!));
    // PostgreSQL refuses text with a NUL character: the statement carrying it fails as a whole.
    const refused: AttemptOutcome = { ...delivered, status: 'failed', last_error: 'bad \u0000 text', delivered_at: null };
    await loggedSettle(async (settle, statements) => {
      const settled = await Promise.allSettled(
        firsts.map((first, index) => settle({ delivery: first, outcome: index === 1 ? refused : delivered, next: { now: 1_000, until: 16_000 } })),
      );
      expect(settled.map((result) => (result.status === 'fulfilled' ? result.value?.delivery.id : 'rejected'))).toEqual(['alone-a-2', 'rejected', 'alone-c-2']);
      // The first alone, the other two together, then each of those again alone.
      expect(statements).toHaveLength(4);
    });
    const statuses = await store.db.selectFrom('webhook_deliveries').select('status').where('id', 'in', firsts.map((first) => first.id)).orderBy('id').execute();
    expect(statuses.map((row) => row.status)).toEqual(['delivered', 'pending', 'delivered']);
  });

  it('never puts two attempts of one webhook in one statement', async () => {
    const [a] = await webhookWithThreeDeliveries('settle-team', 'one-a');
    const [b1, b2] = await webhookWithThreeDeliveries('settle-team', 'one-b');
    await loggedSettle(async (settle, statements) => {
      const settled = await Promise.all([a!, b1!, b2!].map((delivery) => settle({ delivery, outcome: delivered, next: { now: 1_000, until: 16_000 } })));
      expect(settled.map((next) => next?.delivery.id)).toEqual(['one-a-2', 'one-b-2', 'one-b-3']);
      // One statement would have seen the head before either moved it: the second would not move it on.
      expect(statements).toHaveLength(3);
    });
    const head = await store.db.selectFrom('webhook_heads').select('settled_through').where('webhook_id', '=', 'one-b').executeTakeFirstOrThrow();
    expect(head.settled_through).toBe(2);
  });

  it('passes over a next delivery another transaction holds, without waiting for it', async () => {
    const firsts = await Promise.all(['held-a', 'held-b', 'held-c', 'held-d'].map(async (id) => (await webhookWithThreeDeliveries('settle-team', id))[0]!));
    // Another node's claim, or the webhook's deletion, holds the next deliveries of a and d.
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let holding!: () => void;
    const held = new Promise<void>((resolve) => (holding = resolve));
    const holder = store.transaction(async (trx) => {
      await sql`select id from webhook_deliveries where id in ('held-a-2', 'held-d-2') for update`.execute(trx);
      holding();
      await released;
    });
    await held;
    try {
      await loggedSettle(async (settle) => {
        const settleFirst = (first: DeliveryRow) => settle({ delivery: first, outcome: delivered, next: { now: 1_000, until: 16_000 } });
        // Alone (the one-attempt statement), then three together (the first alone, two together).
        expect(await settleFirst(firsts[0]!)).toBeUndefined();
        const together = await Promise.all(firsts.slice(1).map(settleFirst));
        expect(together.map((next) => next?.delivery.id)).toEqual(['held-b-2', 'held-c-2', undefined]);
      });
    } finally {
      release();
      await holder;
    }
    const rows = await store.db.selectFrom('webhook_deliveries').select(['id', 'status', 'claimed_until']).where('webhook_id', 'in', ['held-a', 'held-d']).where('sequence', '<=', 2).orderBy('id').execute();
    expect(rows).toEqual([
      { id: 'held-a-1', status: 'delivered', claimed_until: null },
      { id: 'held-a-2', status: 'pending', claimed_until: null },
      { id: 'held-d-1', status: 'delivered', claimed_until: null },
      { id: 'held-d-2', status: 'pending', claimed_until: null },
    ]);
  });

  it('settles other webhooks while a statement waits for a lock, once it has waited a while', async () => {
    const [waits] = await webhookWithThreeDeliveries('settle-team', 'patience-a');
    const [goes] = await webhookWithThreeDeliveries('settle-team', 'patience-b');
    const [then] = await webhookWithThreeDeliveries('settle-team', 'patience-c');
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let holding!: () => void;
    const held = new Promise<void>((resolve) => (holding = resolve));
    // The delivery being settled is held (a webhook's deletion, say): its settle waits for it.
    const holder = store.transaction(async (trx) => {
      await sql`select id from webhook_deliveries where id = ${waits!.id} for update`.execute(trx);
      holding();
      await released;
    });
    await held;
    await loggedSettle(async (settle) => {
      const waiting = settle({ delivery: waits!, outcome: delivered, next: { now: 1_000, until: 16_000 } });
      try {
        expect((await settle({ delivery: goes!, outcome: delivered, next: { now: 1_000, until: 16_000 } }))?.delivery.id).toBe('patience-b-2');
        // The statement that waits still holds nobody back once the one after it has ended.
        expect((await settle({ delivery: then!, outcome: delivered, next: { now: 1_000, until: 16_000 } }))?.delivery.id).toBe('patience-c-2');
      } finally {
        release();
        await holder;
      }
      expect((await waiting)?.delivery.id).toBe('patience-a-2');
    });
  });

  it('settles a delivery while its webhook is being deleted, without a deadlock', async () => {
    const [first, second] = await webhookWithThreeDeliveries('settle-team', 'settle-deleted');
    const waitingForLocks = async () =>
      Number((await sql<{ n: number }>`select count(*) as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`.execute(store.db)).rows[0]!.n);
    // The deletion takes the deliveries in sequence order, as the webhook's deletion does; the
    // settle starts once it holds the first, and the deletion takes the next once the settle waits.
    let holdingFirst!: () => void;
    const firstHeld = new Promise<void>((resolve) => (holdingFirst = resolve));
    const deleting = store.transaction(async (trx) => {
      await trx.deleteFrom('webhook_deliveries').where('id', '=', first!.id).execute();
      holdingFirst();
      const deadline = Date.now() + 10_000;
      while ((await waitingForLocks()) === 0) {
        if (Date.now() > deadline) throw new Error('the settle never waited for the deletion');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await trx.deleteFrom('webhook_deliveries').where('id', '=', second!.id).execute();
      await trx.deleteFrom('webhooks').where('id', '=', 'settle-deleted').execute();
    });
    await firstHeld;
    const settling = store.settleDelivery({ delivery: first!, outcome: delivered, next: { now: 1_000, until: 16_000 } });
    const [deleted, settled] = await Promise.allSettled([deleting, settling]);
    expect(deleted.status).toBe('fulfilled');
    expect(settled).toEqual({ status: 'fulfilled', value: undefined });
  });

  it('makes a kept plan again after a while, for the table as it has grown', async () => {
    await store.transaction(async (trx) => {
      await sql`create table plan_probe (id text primary key, note text) with (autovacuum_enabled = false)`.execute(trx);
      await sql`insert into plan_probe values ('only', 'x')`.execute(trx);
    });
    await sql`analyze plan_probe`.execute(store.db);
    let clock = 0;
    const pool = new pg.Pool({ connectionString: backend.env.DATABASE_URL!, max: 1 });
    const db = new Kysely<{ plan_probe: { id: string; note: string } }>({ dialect: new PostgresDialect({ pool: namedStatementPool(pool, () => true, () => clock) }) });
    const lookUp = (on: Kysely<{ plan_probe: { id: string; note: string } }> = db) => on.selectFrom('plan_probe').select('note').where('id', '=', 'only').execute();
    // The plan a look-up by the key runs with, as its connection keeps it.
    const keptPlan = () =>
      db.connection().execute(async (connection) => {
        await lookUp(connection);
        const [prepared] = (await sql<{ name: string }>`select name from pg_prepared_statements where statement like '%plan_probe%'`.execute(connection)).rows;
        const { rows } = await sql<{ 'QUERY PLAN': string }>`explain execute ${sql.raw(prepared!.name)}('only')`.execute(connection);
        return rows.map((row) => row['QUERY PLAN']).join('\n');
      });
    try {
      for (let run = 0; run < 8; run++) await lookUp();
      // Made for one row, the kept plan scans the table.
      expect(await keptPlan()).toContain('Seq Scan');
      await sql`insert into plan_probe select 'row-' || n, 'x' from generate_series(1, 20000) n`.execute(db);
      expect(await keptPlan()).toContain('Seq Scan');
      clock += PLAN_LIFETIME_MS;
      for (let run = 0; run < 8; run++) await lookUp();
      expect(await keptPlan()).toContain('Index Scan');
    } finally {
      await db.destroy();
    }
  });

  it('closes a connection whose prepared statement can no longer run, and goes on with a fresh one', async () => {
    const pool = new pg.Pool({ connectionString: backend.env.DATABASE_URL!, max: 1 });
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: namedStatementPool(pool, () => true) }) });
    const lookUp = () => db.selectFrom('teams').selectAll().where('id', '=', 'lane-00').execute();
    try {
      await lookUp();
      // Another session changes the table under the kept `select *`: PostgreSQL refuses the statement (0A000).
      await sql`alter table teams add column probe_column text`.execute(store.db);
      await expect(lookUp()).rejects.toMatchObject({ code: '0A000' });
      expect(await lookUp()).toHaveLength(1);
    } finally {
      await sql`alter table teams drop column probe_column`.execute(store.db);
      await db.destroy();
    }
  });
});
