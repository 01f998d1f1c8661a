import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, waitFor } from '../helpers/server.js';
import { runCli, startServeProcess, tempDataDir, type ServeProcess } from '../helpers/process.js';

describe('roomline team …', () => {
  const folder = tempDataDir();
  const env = { ROOMLINE_DATA_DIR: folder.dataDir, LOG_LEVEL: 'warn' };
  let server: ServeProcess;
  beforeAll(async () => {
    server = await startServeProcess({ ...env, LOG_LEVEL: 'info', ROOMLINE_STREAM_HEARTBEAT_MS: '200' });
  });
  afterAll(async () => {
    await server.stop();
    folder.remove();
  });

  it('team create --json prints credentials that work against the running server', async () => {
    const result = await runCli(['team', 'create', '--name', 'Bridge CI', '--json'], env);
    expect(result.code).toBe(0);
    const created = JSON.parse(result.stdout);
    expect(Object.keys(created).sort()).toEqual(['developer_key', 'name', 'team_id']);
    expect(created.name).toBe('Bridge CI');

    const teamId: string = created.team_id;
    const key: string = created.developer_key;
    for (const auth of [
      { kind: 'bearer', key },
      { kind: 'basic', teamId, key },
      { kind: 'bearer-base64', teamId, key },
    ] as const) {
      expect((await createClient(server.url, auth).get('/api/v1/webhooks')).status, auth.kind).toBe(200);
    }
  });

  it('team create without --json prints the id and key for a human', async () => {
    const result = await runCli(['team', 'create', '--name', 'Humans'], env);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/team id:\s+[0-9a-f-]{36}\ndeveloper key:\s+\S{20,}\nname:\s+Humans/);
  });

  it('team list shows every team, never a key', async () => {
    const created = JSON.parse((await runCli(['team', 'create', '--name', 'Listed', '--json'], env)).stdout);
    const listed = await runCli(['team', 'list', '--json'], env);
    expect(listed.code).toBe(0);
    const teams: { team_id: string; name: string; created_at: string }[] = JSON.parse(listed.stdout);
    expect(teams).toContainEqual({ team_id: created.team_id, name: 'Listed', created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/) });
    expect(listed.stdout).not.toContain(created.developer_key);

    const human = await runCli(['team', 'list'], env);
    expect(human.stdout).toContain(`${created.team_id}  Listed`);
    expect(human.stdout).not.toContain(created.developer_key);
  });

  it('team rotate-key makes the old key 401 and the new one 200 on the running server', async () => {
    const created = JSON.parse((await runCli(['team', 'create', '--name', 'Rotating', '--json'], env)).stdout);
    // Used first, so the server has read (and may keep) the team under the old key.
    expect((await createClient(server.url, { kind: 'bearer', key: created.developer_key }).get('/api/v1/webhooks')).status).toBe(200);
    expect((await createClient(server.url, { kind: 'basic', teamId: created.team_id, key: created.developer_key }).get('/api/v1/webhooks')).status).toBe(200);
    // A room stream opened with the key: it ends once the key is rotated.
    const room = (await createClient(server.url, { kind: 'bearer', key: created.developer_key }).post('/api/v1/rooms', {})).body;
    const stream = await fetch(`${server.url}/api/v1/rooms/${room.id}/live/events`, { headers: { authorization: `Bearer ${created.developer_key}` } });
    expect(stream.status).toBe(200);
    const streamEnded = (async () => {
      const reader = stream.body!.getReader();
      for (;;) if ((await reader.read()).done) return true;
    })();
    const rotated = await runCli(['team', 'rotate-key', created.team_id, '--json'], env);
    expect(rotated.code).toBe(0);
    const fresh = JSON.parse(rotated.stdout);
    expect(fresh).toMatchObject({ team_id: created.team_id, name: 'Rotating' });
    expect(fresh.developer_key).not.toBe(created.developer_key);

    const old = await createClient(server.url, { kind: 'bearer', key: created.developer_key }).get('/api/v1/webhooks');
    expect(old.status).toBe(401);
    const oldBasic = await createClient(server.url, { kind: 'basic', teamId: created.team_id, key: created.developer_key }).get('/api/v1/webhooks');
    expect(oldBasic.status).toBe(401);
    expect((await createClient(server.url, { kind: 'bearer', key: fresh.developer_key }).get('/api/v1/webhooks')).status).toBe(200);
    expect(await streamEnded).toBe(true);
  });

  it('team delete asks for --yes, then ends the team on the running server: its key, its streams, its rooms', async () => {
    const created = JSON.parse((await runCli(['team', 'create', '--name', 'Leaving', '--json'], env)).stdout);
    const api = createClient(server.url, { kind: 'bearer', key: created.developer_key });
    const room = (await api.post('/api/v1/rooms', { friendly_url: 'farewell-room', telephony_enabled: true })).body;
    await api.post(`/api/v1/rooms/${room.id}/phone-participants/joined`, [{ call_id: 'last', name: 'Last caller' }]);
    const stream = await fetch(`${server.url}/api/v1/rooms/${room.id}/live/events`, { headers: { authorization: `Bearer ${created.developer_key}` } });
    expect(stream.status).toBe(200);
    const streamEnded = (async () => {
      const reader = stream.body!.getReader();
      for (;;) if ((await reader.read()).done) return true;
    })();

    const unconfirmed = await runCli(['team', 'delete', created.team_id], env);
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toMatch(/for good: add --yes to confirm/);
    expect((await api.get('/api/v1/rooms')).status).toBe(200);

    const deleted = await runCli(['team', 'delete', created.team_id, '--yes'], env);
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(deleted.stdout).toBe(`deleted team ${created.team_id} (Leaving) and everything it had\n`);
    expect((await api.get('/api/v1/rooms')).status).toBe(401);
    expect(await streamEnded).toBe(true);
    expect(JSON.parse((await runCli(['team', 'list', '--json'], env)).stdout).map((team: { team_id: string }) => team.team_id)).not.toContain(created.team_id);
    expect((await fetch(`${server.url}/farewell-room`)).status).toBe(404);

    const again = await runCli(['team', 'delete', created.team_id, '--yes'], env);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain(`no team with id ${created.team_id}`);
  });

  it('team rotate-key of an unknown team fails without changing anything', async () => {
    const result = await runCli(['team', 'rotate-key', '00000000-0000-4000-8000-000000000000'], env);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('no team with id 00000000-0000-4000-8000-000000000000');
  });

  it('team create refuses an empty name', async () => {
    const result = await runCli(['team', 'create', '--name', '  '], env);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('--name');
  });
});

describe('roomline with a bad configuration', () => {
  it('exits non-zero with a message naming the variable', async () => {
    const folder = tempDataDir();
    try {
      for (const [variable, value] of [
        ['PORT', 'abc'],
        ['LOG_LEVEL', 'loud'],
        ['DATABASE_URL', 'mysql://x'],
        ['ROOMLINE_PUBLIC_URL', 'not a url'],
      ] as const) {
        for (const args of [['serve'], ['team', 'list']]) {
          const result = await runCli(args, { ROOMLINE_DATA_DIR: folder.dataDir, [variable]: value });
          expect(result.code, `${variable}=${value} ${args.join(' ')}`).not.toBe(0);
          expect(result.stderr).toMatch(new RegExp(`^roomline: configuration error: ${variable}: `));
        }
      }
    } finally {
      folder.remove();
    }
  });

  it('creates no team when the port is taken, so the start that listens still shows the first key', async () => {
    const busy = tempDataDir();
    const fresh = tempDataDir();
    const first = await startServeProcess({ ROOMLINE_DATA_DIR: busy.dataDir });
    try {
      const refused = await runCli(['serve'], { ROOMLINE_DATA_DIR: fresh.dataDir, PORT: new URL(first.url).port, HOST: '127.0.0.1' });
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toMatch(/EADDRINUSE.*choose another with PORT/);
      const listed = await runCli(['team', 'list', '--json'], { ROOMLINE_DATA_DIR: fresh.dataDir });
      expect(JSON.parse(listed.stdout)).toEqual([]);
      const second = await startServeProcess({ ROOMLINE_DATA_DIR: fresh.dataDir });
      try {
        await waitFor(() => (/developer key: +\S+/.test(second.output()) ? true : undefined), 10_000, 'the first-start banner');
      } finally {
        await second.stop();
      }
    } finally {
      await first.stop();
      busy.remove();
      fresh.remove();
    }
  });

  it('says which setting to fix when the database or Redis cannot be reached, and when the data is a newer version’s', async () => {
    const folder = tempDataDir();
    // A port nothing listens on: the one a server just left.
    const gone = await startServeProcess({ ROOMLINE_DATA_DIR: folder.dataDir });
    const closedPort = new URL(gone.url).port;
    await gone.stop();
    try {
      const database = await runCli(['serve'], { ROOMLINE_DATA_DIR: folder.dataDir, PORT: '0', DATABASE_URL: `postgres://roomline:secret-password@127.0.0.1:${closedPort}/roomline` });
      expect(database.code).not.toBe(0);
      expect(database.stderr).toMatch(/DATABASE_URL: cannot connect to PostgreSQL at postgres:\/\/roomline:\*\*\*@127\.0\.0\.1:\d+\/roomline/);
      expect(database.stderr).not.toContain('secret-password');

      const redis = await runCli(['serve'], { ROOMLINE_DATA_DIR: folder.dataDir, PORT: '0', REDIS_URL: `redis://127.0.0.1:${closedPort}` });
      expect(redis.code).not.toBe(0);
      expect(redis.stderr).toContain(`REDIS_URL: cannot connect to Redis at redis://127.0.0.1:${closedPort}`);

      // A migration this version does not know: the data of a newer roomline.
      const db = new Database(path.join(folder.dataDir, 'roomline.db'));
      db.prepare('insert into kysely_migration (name, timestamp) values (?, ?)').run('999_from_the_future', new Date().toISOString());
      db.close();
      const newer = await runCli(['serve'], { ROOMLINE_DATA_DIR: folder.dataDir, PORT: '0' });
      expect(newer.code).not.toBe(0);
      expect(newer.stderr).toContain('the database was migrated by a newer roomline (it has migration 999_from_the_future');
    } finally {
      folder.remove();
    }
  });

  it('exits non-zero when the port is taken, saying so', async () => {
    const folder = tempDataDir();
    const first = await startServeProcess({ ROOMLINE_DATA_DIR: folder.dataDir });
    try {
      const port = new URL(first.url).port;
      const second = await runCli(['serve'], { ROOMLINE_DATA_DIR: folder.dataDir, PORT: port, HOST: '127.0.0.1' });
      expect(second.code).not.toBe(0);
      expect(second.stderr).toContain('EADDRINUSE');
    } finally {
      await first.stop();
      folder.remove();
    }
  });
});
