import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { COPIED_TABLES, copyStore } from '../../src/store/copy.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { Store } from '../../src/store/store.js';

/** copyStore between two embedded stores (the cluster direction: test/cluster/copy.test.ts). */
describe('copying a store', () => {
  const folders: string[] = [];
  const stores: Store[] = [];
  async function freshStore(): Promise<Store> {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'roomline-copy-'));
    folders.push(dataDir);
    const store = await openSqliteStore({ dataDir, synchronous: 'NORMAL' }, pino({ level: 'silent' }));
    stores.push(store);
    return store;
  }
  let source: Store;
  let target: Store;
  beforeEach(async () => {
    source = await freshStore();
    target = await freshStore();
  });
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
    for (const folder of folders.splice(0)) fs.rmSync(folder, { recursive: true, force: true });
  });

  const team = (id: string) => ({ id, name: id, developer_key: `key-${id}`, key_hash: `hash-${id}`, room_settings: '{}', created_at: 1, updated_at: 1 });

  // Every table a migration makes must be copied: a source is at this version's schema (or is
  // brought to it), so this list is all of its data.
  it('knows every table of the schema', async () => {
    const tables = (await source.db.introspection.getTables()).map((table) => table.name).sort();
    expect(COPIED_TABLES.map((entry) => entry.table).sort()).toEqual(tables);
  });

  it('copies more rows than fit in one page, each once', async () => {
    await source.transaction(async (trx) => {
      for (let n = 0; n < 1234; n += 1) await trx.insertInto('teams').values(team(`team-${String(n).padStart(4, '0')}`)).execute();
    });
    const report = await copyStore(source, target);
    expect(report.tables.find((entry) => entry.table === 'teams')).toEqual({ table: 'teams', rows: 1234 });
    const copied = await target.db.selectFrom('teams').selectAll().orderBy('id').execute();
    expect(copied).toEqual(await source.db.selectFrom('teams').selectAll().orderBy('id').execute());
  });

  it('refuses a target holding any row, in any table, and leaves it as it was', async () => {
    await source.transaction((trx) => trx.insertInto('teams').values(team('a')).execute());
    // No team at all, but a row elsewhere: still not an empty database.
    await target.transaction((trx) => trx.insertInto('room_links').values({ friendly_url: 'taken', room_id: 'r' }).execute());
    await expect(copyStore(source, target)).rejects.toThrow(/its room_links table has rows/);
    expect(await target.db.selectFrom('teams').select('id').execute()).toEqual([]);
    expect(await target.db.selectFrom('room_links').selectAll().execute()).toEqual([{ friendly_url: 'taken', room_id: 'r' }]);
  });
});
