import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createClient, waitFor } from '../helpers/server.js';
import { runCli, startServeProcess, tempDataDir } from '../helpers/process.js';

const run = promisify(execFile);

describe('first start', () => {
  it('creates a team, prints its credentials and a curl that answers 200', async () => {
    const folder = tempDataDir();
    const server = await startServeProcess({ ROOMLINE_DATA_DIR: folder.dataDir });
    try {
      const curlLine = await waitFor(() => /^\s*(curl .+)$/m.exec(server.output())?.[1], 10_000, 'the curl line');
      expect(server.output()).toMatch(/team id:\s+[0-9a-f-]{36}/);
      expect(server.output()).toMatch(/developer key:\s+\S{20,}/);
      expect(curlLine).toContain(server.url);

      // Exactly as printed, split on spaces as a shell would (nothing in it needs quoting).
      const [command, ...args] = curlLine.trim().split(/\s+/);
      expect(command).toBe('curl');
      const { stdout } = await run('curl', [...args, '--silent', '--show-error', '--write-out', '\n%{http_code}']);
      const status = stdout.slice(stdout.lastIndexOf('\n') + 1);
      expect(status).toBe('200');
      expect(JSON.parse(stdout.slice(0, stdout.lastIndexOf('\n')))).toMatchObject({ total_count: '0', data: [] });
    } finally {
      await server.stop();
      folder.remove();
    }
  });

  it('prints no banner on a later start: the team is already there', async () => {
    const folder = tempDataDir();
    try {
      const first = await startServeProcess({ ROOMLINE_DATA_DIR: folder.dataDir });
      await waitFor(() => (first.output().includes('curl ') ? true : undefined), 10_000, 'the banner');
      await first.stop();
      const second = await startServeProcess({ ROOMLINE_DATA_DIR: folder.dataDir });
      await second.stop();
      expect(second.output()).not.toContain('developer key');
    } finally {
      folder.remove();
    }
  });
});

describe('ROOMLINE_TEAM_ID and ROOMLINE_DEVELOPER_KEY', () => {
  const teamId = '7d1f3a0e-5b2c-4f6d-8e9a-0b1c2d3e4f5a';

  it('make that team exist with that key, idempotently across restarts, without a first-team banner', async () => {
    const folder = tempDataDir();
    const env = { ROOMLINE_DATA_DIR: folder.dataDir, ROOMLINE_TEAM_ID: teamId, ROOMLINE_DEVELOPER_KEY: 'ci-key-0123456789abcdef' };
    try {
      for (let start = 0; start < 2; start += 1) {
        const server = await startServeProcess(env);
        try {
          const basic = createClient(server.url, { kind: 'basic', teamId, key: 'ci-key-0123456789abcdef' });
          expect((await basic.get('/api/v1/rooms')).status, `start ${start + 1}`).toBe(200);
          if (start === 0) expect((await basic.post('/api/v1/rooms', { friendly_url: 'kept-across-restarts' })).status).toBe(200);
          else expect((await basic.get('/api/v1/rooms/kept-across-restarts')).status).toBe(200);
        } finally {
          await server.stop();
        }
        expect(server.output()).not.toContain('created your first team');
      }
      const teams = JSON.parse((await runCli(['team', 'list', '--json'], { ROOMLINE_DATA_DIR: folder.dataDir })).stdout);
      expect(teams.map((team: { team_id: string }) => team.team_id)).toEqual([teamId]);
    } finally {
      folder.remove();
    }
  });

  it('replace the key after a restart with a changed key: the old one is refused', async () => {
    const folder = tempDataDir();
    try {
      const before = await startServeProcess({ ROOMLINE_DATA_DIR: folder.dataDir, ROOMLINE_TEAM_ID: teamId, ROOMLINE_DEVELOPER_KEY: 'first-key-0123456789' });
      await before.stop();
      const after = await startServeProcess({ ROOMLINE_DATA_DIR: folder.dataDir, ROOMLINE_TEAM_ID: teamId, ROOMLINE_DEVELOPER_KEY: 'second-key-0123456789' });
      try {
        expect((await createClient(after.url, { kind: 'bearer', key: 'first-key-0123456789' }).get('/api/v1/rooms')).status).toBe(401);
        expect((await createClient(after.url, { kind: 'bearer', key: 'second-key-0123456789' }).get('/api/v1/rooms')).status).toBe(200);
      } finally {
        await after.stop();
      }
    } finally {
      folder.remove();
    }
  });
});
