import { sql } from 'kysely';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackend, type BackendInstance } from '../helpers/backend.js';
import { openPostgresStore } from '../../src/store/postgres/postgres-store.js';
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
});
