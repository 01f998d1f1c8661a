import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/domain/clock.js';
import { createTeamService, hashKey, type TeamService } from '../../src/domain/teams.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { Store } from '../../src/store/store.js';

/**
 * Embedded mode keeps a credential check's team until this service writes a team or another
 * process commits, not until any commit: each way a key can change must still take effect on
 * the next request.
 */
describe('credential checks in embedded mode', () => {
  let dataDir: string;
  let store: Store;
  let teams: TeamService;

  beforeEach(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'roomline-teams-'));
    store = await openSqliteStore({ dataDir, synchronous: 'NORMAL' }, pino({ level: 'silent' }));
    teams = createTeamService({ store, clock: systemClock });
  });
  afterEach(async () => {
    await store.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  /** Both credential forms' answers for this key: the team id each finds, or undefined. */
  const check = async (teamId: string, key: string) => [(await teams.authenticateKey(key))?.id, (await teams.authenticateTeamKey(teamId, key))?.id];

  it('keeps the team across other commits, and a key rotated by this process fails at once', async () => {
    const created = await teams.create({ name: 'Bridge' });
    expect(await check(created.team_id, created.developer_key)).toEqual([created.team_id, created.team_id]);
    // A commit that is not a team's: the kept team still answers, with the key it has.
    await store.transaction((trx) => trx.updateTable('teams').set({ room_settings: '{"x":1}' }).where('id', '=', created.team_id).execute());
    expect(await check(created.team_id, created.developer_key)).toEqual([created.team_id, created.team_id]);

    const rotated = await teams.rotateKey(created.team_id);
    expect(await check(created.team_id, created.developer_key)).toEqual([undefined, undefined]);
    expect(await check(created.team_id, rotated!.developer_key)).toEqual([created.team_id, created.team_id]);

    await teams.ensure({ id: created.team_id, developerKey: 'bootstrap-key', name: 'Bridge' });
    expect(await check(created.team_id, rotated!.developer_key)).toEqual([undefined, undefined]);
    expect(await check(created.team_id, 'bootstrap-key')).toEqual([created.team_id, created.team_id]);
  });

  it('drops the kept team when another process changes the key', async () => {
    const created = await teams.create({ name: 'Bridge' });
    expect(await check(created.team_id, created.developer_key)).toEqual([created.team_id, created.team_id]);
    const other = new BetterSqlite3(path.join(dataDir, 'roomline.db'));
    try {
      other.prepare('update teams set developer_key = ?, key_hash = ? where id = ?').run('elsewhere', hashKey('elsewhere'), created.team_id);
    } finally {
      other.close();
    }
    expect(await check(created.team_id, created.developer_key)).toEqual([undefined, undefined]);
    expect(await check(created.team_id, 'elsewhere')).toEqual([created.team_id, created.team_id]);
  });
});
