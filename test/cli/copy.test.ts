import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateToLatest } from '../../src/store/migrate.js';
import type { Database } from '../../src/store/schema.js';
import { runCli, startServeProcess, tempDataDir, type ServeProcess } from '../helpers/process.js';
import { createClient, type ApiClient } from '../helpers/server.js';
import { copyWhileJoining, expectWholePairs } from '../helpers/copy-under-load.js';

/** `roomline copy` of an embedded server that goes on serving: a backup as of one commit. */
describe('roomline copy while the server serves', () => {
  const teamId = randomUUID();
  const key = `backup-key-${randomUUID()}`;
  const live = tempDataDir();
  const backup = tempDataDir();
  const env = { ROOMLINE_TEAM_ID: teamId, ROOMLINE_DEVELOPER_KEY: key, LOG_LEVEL: 'info' };
  const servers: ServeProcess[] = [];
  let api: ApiClient;
  beforeAll(async () => {
    const server = await startServeProcess({ ...env, ROOMLINE_DATA_DIR: live.dataDir });
    servers.push(server);
    api = createClient(server.url, { kind: 'bearer', key });
  });
  afterAll(async () => {
    await Promise.allSettled(servers.map((server) => server.stop()));
    live.remove();
    backup.remove();
  });

  it('holds every change answered before it began, and no half of any change after', async () => {
    const room = (await api.post('/api/v1/rooms', { friendly_url: 'busy', telephony_enabled: true })).body;
    const { copied, answeredBefore, answeredAfter } = await copyWhileJoining(api, room.id, () => runCli(['copy', '--to', backup.dataDir], { ...env, ROOMLINE_DATA_DIR: live.dataDir }));
    expect(copied.code, copied.stderr).toBe(0);
    const restored = await startServeProcess({ ...env, ROOMLINE_DATA_DIR: backup.dataDir });
    servers.push(restored);
    await expectWholePairs(createClient(restored.url, { kind: 'bearer', key }), room.id, answeredBefore, answeredAfter);
  });

  it('refuses a folder that holds data, and a source folder with no database', async () => {
    const again = await runCli(['copy', '--to', backup.dataDir], { ...env, ROOMLINE_DATA_DIR: live.dataDir });
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^roomline: the target already holds data \(its teams table has rows\)/);
    const nowhere = tempDataDir();
    try {
      const missing = await runCli(['copy', '--from', nowhere.dataDir, '--to', `${nowhere.dataDir}/copy`], env);
      expect(missing.code).toBe(2);
      expect(missing.stderr).toBe(`roomline: no roomline database in ${nowhere.dataDir} (its roomline.db)\n`);
      const same = await runCli(['copy', '--to', `${live.dataDir}/`], { ...env, ROOMLINE_DATA_DIR: live.dataDir });
      expect(same.code).toBe(2);
      expect(same.stderr).toMatch(/--from and --to name the same store/);
    } finally {
      nowhere.remove();
    }
  });

  it('copies a database an older roomline serves, without migrating or writing it', async () => {
    const older = tempDataDir();
    const copy = tempDataDir();
    try {
      const file = path.join(older.dataDir, 'roomline.db');
      const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: new BetterSqlite3(file) }) });
      await migrateToLatest(db, '010_webhook_counters');
      await db.insertInto('teams').values({ id: teamId, name: 'Older', developer_key: key, key_hash: 'h', room_settings: '{}', created_at: 1, updated_at: 1 }).execute();
      await db.destroy();
      const before = fs.readFileSync(file);

      const copied = await runCli(['copy', '--from', older.dataDir, '--to', copy.dataDir], env);
      expect(copied.code, copied.stderr).toBe(0);
      // The older server's file is as it was: it still starts, at its own schema.
      expect(fs.readFileSync(file).equals(before)).toBe(true);
      const target = new BetterSqlite3(path.join(copy.dataDir, 'roomline.db'), { readonly: true });
      try {
        expect(target.prepare('select name from teams').pluck().all()).toEqual(['Older']);
        expect(target.prepare('select name from kysely_migration order by name desc limit 1').pluck().get()).toBe('013_pending_anonymisation');
      } finally {
        target.close();
      }
    } finally {
      older.remove();
      copy.remove();
    }
  });

  it('refuses a location of another scheme, never printing its password nor making a folder of it', async () => {
    const typo = 'postgress://roomline:hunter2@127.0.0.1:5432/roomline';
    const refused = await runCli(['copy', '--to', typo], { ...env, ROOMLINE_DATA_DIR: live.dataDir });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/--to must be a postgres:\/\/ URL or a folder/);
    expect(refused.stderr + refused.stdout).not.toContain('hunter2');
    expect(fs.existsSync(path.resolve('postgress:'))).toBe(false);

    const file = path.join(backup.dataDir, 'a-file');
    fs.writeFileSync(file, 'not a folder');
    const onFile = await runCli(['copy', '--to', file], { ...env, ROOMLINE_DATA_DIR: live.dataDir });
    expect(onFile.code).toBe(2);
    expect(onFile.stderr).toMatch(/is a file: name a folder/);
  });
});
