import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepared, preparedList, rowShape, VALUES } from '../../src/store/repos/prepared.js';
import type { TeamTable } from '../../src/store/schema.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { Store } from '../../src/store/store.js';

describe('prepared queries', () => {
  let dataDir: string;
  let store: Store;
  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'roomline-prepared-'));
    store = await openSqliteStore({ dataDir, synchronous: 'NORMAL' }, pino({ level: 'silent' }));
    await store.transaction((trx) =>
      trx
        .insertInto('teams')
        .values(['a', 'b', 'c'].map((id, n) => ({ id, name: `Team ${id}`, developer_key: id, key_hash: `h${id}`, room_settings: '{}', created_at: n, updated_at: n })))
        .execute(),
    );
  });
  afterAll(async () => {
    await store.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('runs one compiled query with each call’s values, constants kept, in any order of use', async () => {
    const named = prepared(2, (db, after: number, name: string) =>
      db.selectFrom('teams').select('id').where('created_at', '>', after).where('name', '<>', name).where('developer_key', '<>', 'never').orderBy('id'),
    );
    expect((await named(store.db, 0, 'Team c')).rows).toEqual([{ id: 'b' }]);
    expect((await named(store.db, -1, 'Team a')).rows).toEqual([{ id: 'b' }, { id: 'c' }]);
    await store.transaction(async (trx) => expect((await named(trx, 1, 'Team b')).rows).toEqual([{ id: 'c' }]));
  });

  it('refuses a query that computes with an argument instead of using it as a value', async () => {
    const computed = prepared(1, (db, id: string) => db.selectFrom('teams').selectAll().where('id', '=', id.toLowerCase()));
    expect(() => computed(store.db, 'A')).toThrow(/uses 0 of its 1 arguments/);
  });

  it('runs list queries of every length, each length compiled once, longer lists as they come', async () => {
    const named = preparedList(VALUES, 1, (db, ids, except: string) => db.selectFrom('teams').select('id').where('id', 'in', ids).where('id', '<>', except).orderBy('id'));
    const ids = (rows: Array<{ id: string }>) => rows.map((row) => row.id);
    expect(ids((await named(store.db, ['a'], 'x')).rows)).toEqual(['a']);
    expect(ids((await named(store.db, ['c', 'a'], 'a')).rows)).toEqual(['c']);
    expect(ids((await named(store.db, ['b', 'a'], 'x')).rows)).toEqual(['a', 'b']);
    const many = [...Array.from({ length: 40 }, (_, n) => `missing-${n}`), 'c'];
    expect(ids((await named(store.db, many, 'x')).rows)).toEqual(['c']);
  });

  it('runs a list longer than one statement takes as several, adding up their rows and counts', async () => {
    const columns = ['id', 'name', 'developer_key', 'key_hash', 'room_settings', 'created_at', 'updated_at'] as const;
    const insert = preparedList(rowShape<TeamTable>()(columns), 0, (db, rows) => db.insertInto('teams').values([...rows]));
    const rename = preparedList(VALUES, 1, (db, ids, name: string) => db.updateTable('teams').set({ name }).where('id', 'in', ids));
    const find = preparedList(VALUES, 0, (db, ids) => db.selectFrom('teams').select(['id', 'name']).where('id', 'in', ids));
    const rows = Array.from({ length: 250 }, (_, n) => ({ id: `bulk-${n}`, name: 'Bulk', developer_key: `bulk-${n}`, key_hash: `bulk-${n}`, room_settings: '{}', created_at: n, updated_at: n }));
    const ids = rows.map((row) => row.id);
    await store.transaction(async (trx) => {
      await insert(trx, rows);
      expect((await rename(trx, ids, 'Renamed')).numAffectedRows).toBe(250n);
    });
    const found = (await find(store.db, [...ids, 'missing'])).rows;
    expect(found.map((row) => row.id).sort()).toEqual([...ids].sort());
    expect(new Set(found.map((row) => row.name))).toEqual(new Set(['Renamed']));
  });
});
