import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LiveRoomsCache, type LiveRoomsQuery } from '../../src/domain/live-rooms.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { Store } from '../../src/store/store.js';

/**
 * The live rooms pages kept under the embedded store's data version. A read that is served
 * from the cache asks for the version once; one that reads the database asks again after, to
 * know whether a commit came in between: the count of asks tells which reads were fresh.
 */
describe('live rooms cache', () => {
  let dataDir: string;
  let store: Store;
  let asks: number;
  const version = () => {
    asks += 1;
    return store.dataVersion();
  };
  const page = (offset: number): LiveRoomsQuery => ({ limit: 1, offset, order: 'asc', after: undefined });
  /** Whether reading `query` went to the database. */
  const fresh = async (cache: LiveRoomsCache, query: LiveRoomsQuery) => {
    const before = asks;
    const list = await cache.counts('t', query, 0);
    expect(list?.total_count).toBe(3);
    return asks - before === 2;
  };

  beforeEach(async () => {
    asks = 0;
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'roomline-live-cache-'));
    store = await openSqliteStore({ dataDir, synchronous: 'NORMAL' }, pino({ level: 'silent' }));
    await store.transaction(async (trx) => {
      await trx.insertInto('teams').values({ id: 't', name: 'Team', developer_key: 'k', key_hash: 'h', room_settings: '{}', created_at: 0, updated_at: 0 }).execute();
      await trx
        .insertInto('roles')
        .values({ id: 'r', team_id: 't', name: 'attendee', display_name: 'Attendee', description: null, is_builtin: 1, permissions: '[]', created_at: 0, updated_at: 0 })
        .execute();
      for (const n of [1, 2, 3]) {
        await trx
          .insertInto('rooms')
          .values({
            id: `room-${n}`,
            team_id: 't',
            friendly_url: `room-${n}`,
            description: null,
            privacy: 'public',
            external_id: null,
            is_locked: 0,
            session_length: null,
            expires_at: null,
            default_role_id: 'r',
            max_participants: 100,
            telephony_enabled: 1,
            telephony_phone_number: null,
            telephony_pin_dtmf: null,
            phone_connected: 0,
            event_seq: 0,
            settings: '{}',
            created_at: n,
            updated_at: n,
          })
          .execute();
        await trx
          .insertInto('sessions')
          .values({ id: `session-${n}`, team_id: 't', room_id: `room-${n}`, start_time: 0, end_time: null, end_reason: null, live_participants: n })
          .execute();
      }
    });
  });
  afterEach(async () => {
    await store.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('serves a page again until a commit, and reads it afresh after one', async () => {
    const cache = new LiveRoomsCache(store.db, version);
    expect(await fresh(cache, page(0))).toBe(true);
    expect(await fresh(cache, page(0))).toBe(false);
    await store.transaction((trx) => trx.updateTable('sessions').set({ live_participants: 9 }).where('id', '=', 'session-1').execute());
    expect(await fresh(cache, page(0))).toBe(true);
    expect((await cache.counts('t', page(0), 0))?.data[0]?.live_participants).toBe(9);
  });

  it('keeps no more than its weight: the least recently read page goes first', async () => {
    // A page of one room weighs 2: two pages fit, a third pushes the oldest out.
    const cache = new LiveRoomsCache(store.db, version, 4);
    expect(await fresh(cache, page(0))).toBe(true);
    expect(await fresh(cache, page(1))).toBe(true);
    expect(await fresh(cache, page(0))).toBe(false);
    expect(await fresh(cache, page(2))).toBe(true);
    expect(await fresh(cache, page(0))).toBe(false);
    expect(await fresh(cache, page(1))).toBe(true);
  });
});
