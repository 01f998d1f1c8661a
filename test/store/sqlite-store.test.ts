import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import BetterSqlite3 from 'better-sqlite3';
import { sql } from 'kysely';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/server.js';
import { openSqliteStore, WAL_SIZE_LIMIT_BYTES } from '../../src/store/sqlite/sqlite-store.js';
import type { Store } from '../../src/store/store.js';

/** The embedded store's transactions: shared commits that keep each transaction whole and apart. */
describe('embedded store', () => {
  let dataDir: string;
  let store: Store;

  beforeEach(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'roomline-store-'));
    store = await openSqliteStore({ dataDir, synchronous: 'NORMAL' }, pino({ level: 'silent' }));
  });
  afterEach(async () => {
    await store.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const teamRow = (id: string) => ({ id, name: id, developer_key: `key-${id}`, key_hash: `hash-${id}`, room_settings: '{}', created_at: 1, updated_at: 1 });
  const teamIds = async () => (await store.db.selectFrom('teams').select('id').execute()).map((row) => row.id).sort();

  it('cuts the WAL file back once a burst that grew it has been copied into the database', async () => {
    const wal = path.join(dataDir, 'roomline.db-wal');
    // A burst of 24 MB in one transaction: the WAL holds all of it until it is checkpointed.
    const megabyte = 'x'.repeat(1024 * 1024);
    await store.transaction(async (trx) => {
      for (let n = 0; n < 24; n += 1) await trx.insertInto('teams').values({ ...teamRow(`burst-${n}`), name: megabyte }).execute();
    });
    expect(fs.statSync(wal).size).toBeGreaterThan(WAL_SIZE_LIMIT_BYTES);
    // Once the checkpointer has copied it back, the next write starts the WAL over, and cuts it.
    await waitFor(
      async () => {
        await store.transaction((trx) => trx.updateTable('teams').set({ updated_at: Date.now() }).where('id', '=', 'burst-0').execute());
        return fs.statSync(wal).size <= WAL_SIZE_LIMIT_BYTES ? true : undefined;
      },
      10_000,
      'the WAL to be cut back',
    );
  });

  it('starts the WAL over while writes go on without a pause, before it reaches the writer\'s own checkpoint', async () => {
    const wal = path.join(dataDir, 'roomline.db-wal');
    // The WAL's header counts the times it started over (its checkpoint sequence, bytes 12–15).
    const startsOver = () => {
      const header = Buffer.alloc(16);
      const file = fs.openSync(wal, 'r');
      try {
        fs.readSync(file, header, 0, 16, 0);
      } finally {
        fs.closeSync(file);
      }
      return header.readUInt32BE(12);
    };
    const first = startsOver();
    // The checkpoint thread's first round, before the writes begin: the test is about the
    // rounds, not the thread's start.
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Writes that never stop for long, as a busy bridge's batches come: 64 KB, then the next two
    // milliseconds later (4–5 MB a round of the checkpoint thread here). A PASSIVE checkpoint
    // never catches up with them, and the WAL grew to the writer's own limit (10,000 pages,
    // 40 MB), copied back inside a COMMIT on the event loop.
    const text = 'x'.repeat(4096);
    let largest = 0;
    let written = 0;
    for (let n = 0; startsOver() - first < 3 || written < 24 * 1024 * 1024; n += 1) {
      await store.transaction(async (trx) => {
        await trx.insertInto('teams').values(Array.from({ length: 16 }, (_, row) => ({ ...teamRow(`steady-${n}-${row}`), name: text }))).execute();
      });
      written += 16 * text.length;
      await new Promise((resolve) => setTimeout(resolve, 2));
      largest = Math.max(largest, fs.statSync(wal).size);
      expect(written, 'the WAL started over fewer than three times in 96 MB of writes').toBeLessThan(96 * 1024 * 1024);
    }
    expect(largest).toBeLessThan(10_000 * 4096);
  });

  it('transactions started together commit together, yet each fails alone and leaves nothing behind', async () => {
    const ids = Array.from({ length: 30 }, (_, n) => `team-${String(n).padStart(2, '0')}`);
    // Issued in one turn of the event loop, so they share commits.
    const outcomes = await Promise.allSettled(
      ids.map((id, n) =>
        store.transaction(async (trx) => {
          await trx.insertInto('teams').values(teamRow(id)).execute();
          if (n % 3 === 1) throw new Error(`refused ${id}`);
          // A constraint error halfway through: the first insert of this one goes too.
          if (n % 3 === 2) await trx.insertInto('teams').values(teamRow(ids[0]!)).execute();
          return id;
        }),
      ),
    );
    const kept = ids.filter((_, n) => n % 3 === 0);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(ids.map((_, n) => (n % 3 === 0 ? 'fulfilled' : 'rejected')));
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled').map((outcome) => outcome.value)).toEqual(kept);
    expect(outcomes[1]).toMatchObject({ status: 'rejected', reason: { message: 'refused team-01' } });
    expect(await teamIds()).toEqual(kept);
  });

  it('answers a transaction only once its commit is visible to every reader', async () => {
    const id = randomUUID();
    const seen = await Promise.all([
      store.transaction(async (trx) => trx.insertInto('teams').values(teamRow(id)).execute()).then(teamIds),
      store.transaction(async () => 'another transaction in the same commit'),
    ]);
    expect(seen[0]).toEqual([id]);
  });

  it('serves reads while a transaction is in progress, showing the last commit', async () => {
    const committed = randomUUID();
    await store.transaction((trx) => trx.insertInto('teams').values(teamRow(committed)).execute());
    let finish!: () => void;
    const holding = new Promise<void>((resolve) => (finish = resolve));
    let inside!: () => void;
    const started = new Promise<void>((resolve) => (inside = resolve));
    const open = store.transaction(async (trx) => {
      await trx.insertInto('teams').values(teamRow(randomUUID())).execute();
      inside();
      await holding;
    });
    await started;
    // With one connection for both, this read would wait for the transaction, which waits for it.
    expect(await teamIds()).toEqual([committed]);
    finish();
    await open;
    expect(await teamIds()).toHaveLength(2);
  });

  it('refuses writes outside a transaction', async () => {
    await expect(store.db.insertInto('teams').values(teamRow(randomUUID())).execute()).rejects.toThrow(/readonly/i);
  });

  it('moves its data version with every commit, its own or another process’s, and only then', async () => {
    const first = store.dataVersion();
    expect(first).toEqual(expect.any(Number));
    await store.db.selectFrom('teams').selectAll().execute();
    expect(store.dataVersion()).toBe(first);
    await store.transaction(async (trx) => trx.insertInto('teams').values(teamRow('mine')).execute());
    const afterOwn = store.dataVersion();
    expect(afterOwn).not.toBe(first);

    // A rolled-back transaction changes nothing a reader could see.
    await expect(
      store.transaction(async (trx) => {
        await trx.insertInto('teams').values(teamRow('rolled-back')).execute();
        throw new Error('refused');
      }),
    ).rejects.toThrow('refused');
    expect(store.dataVersion()).toBe(afterOwn);

    // Another connection to the same file (the CLI's `team` commands are one).
    const other = new BetterSqlite3(path.join(dataDir, 'roomline.db'));
    try {
      other.prepare('insert into teams (id, name, developer_key, key_hash, room_settings, created_at, updated_at) values (?, ?, ?, ?, ?, ?, ?)').run('theirs', 'theirs', 'k', 'h-theirs', '{}', 1, 1);
    } finally {
      other.close();
    }
    expect(store.dataVersion()).not.toBe(afterOwn);
    expect(await teamIds()).toEqual(['mine', 'theirs']);
  });

  it('moves its foreign version with another process’s commits, and not with its own', async () => {
    const first = store.foreignVersion();
    expect(first).toEqual(expect.any(Number));
    await store.transaction(async (trx) => trx.insertInto('teams').values(teamRow('mine')).execute());
    expect(store.foreignVersion()).toBe(first);

    const other = new BetterSqlite3(path.join(dataDir, 'roomline.db'));
    try {
      other.prepare('insert into teams (id, name, developer_key, key_hash, room_settings, created_at, updated_at) values (?, ?, ?, ?, ?, ?, ?)').run('theirs', 'theirs', 'k', 'h-theirs', '{}', 1, 1);
    } finally {
      other.close();
    }
    expect(store.foreignVersion()).not.toBe(first);
  });

  it('reads rows just as better-sqlite3 makes them: every column by name, in order, a repeated name taking the later value', async () => {
    await store.transaction((trx) => trx.insertInto('teams').values([teamRow('row-a'), teamRow('row-b')]).execute());
    const query = sql<Record<string, unknown>>`select id, created_at, null as absent, x'00ff' as bytes, id as twice, 7 as twice from teams order by id`;
    const { rows } = await query.execute(store.db);
    const direct = new BetterSqlite3(path.join(dataDir, 'roomline.db'), { readonly: true });
    try {
      const expected = direct.prepare(query.compile(store.db).sql).all();
      expect(rows).toEqual(expected);
      expect(rows.map((row) => Object.keys(row))).toEqual(expected.map((row) => Object.keys(row as object)));
      expect(rows[0]).toEqual({ id: 'row-a', created_at: 1, absent: null, bytes: Buffer.from([0, 255]), twice: 7 });
    } finally {
      direct.close();
    }
    // Streamed reads make the same rows.
    const streamed: unknown[] = [];
    for await (const row of store.db.selectFrom('teams').select(['id', 'created_at']).orderBy('id').stream()) streamed.push(row);
    expect(streamed).toEqual([
      { id: 'row-a', created_at: 1 },
      { id: 'row-b', created_at: 1 },
    ]);
  });

  it('waits for another process that holds the write lock, rather than failing a transaction that read first', async () => {
    // Another process (the CLI, say) takes the write lock, writes, and commits 300 ms later.
    const holder = spawn(process.execPath, [
      '-e',
      `const D = require('better-sqlite3'); const db = new D(process.argv[1]);
       db.exec('begin immediate'); db.prepare("insert into teams values ('held', 'held', 'k', 'h-held', '{}', 1, 1)").run();
       console.log('locked'); Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300); db.exec('commit');`,
      path.join(dataDir, 'roomline.db'),
    ], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise((resolve) => holder.on('exit', resolve));
    await new Promise<void>((resolve) => holder.stdout.once('data', () => resolve()));
    // A transaction that reads, then writes: it waits for the lock, and sees the other's commit.
    // The event loop goes on meanwhile: the wait is not SQLite's, which would hold the process.
    let turns = 0;
    const turning = setInterval(() => (turns += 1), 5);
    const seen = await store.transaction(async (trx) => {
      const before = (await trx.selectFrom('teams').select('id').execute()).map((row) => row.id);
      await trx.insertInto('teams').values(teamRow('mine')).execute();
      return before;
    });
    clearInterval(turning);
    await exited;
    expect(seen).toEqual(['held']);
    expect(turns).toBeGreaterThanOrEqual(10);
    expect(await teamIds()).toEqual(['held', 'mine']);
  });
});
