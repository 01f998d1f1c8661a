import { describe, expect, it } from 'vitest';
import { createClient, type Auth } from '../helpers/server.js';
import { startServeProcess, tempDataDir } from '../helpers/process.js';

const TEAM_ID = '5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d';
const KEY = 'never-logged-key-Zq8Xw2Vb7Nm4';

describe('logging', () => {
  it('never writes a developer key, at debug level, whichever way it was sent', async () => {
    const folder = tempDataDir();
    const server = await startServeProcess({ ROOMLINE_DATA_DIR: folder.dataDir, ROOMLINE_TEAM_ID: TEAM_ID, ROOMLINE_DEVELOPER_KEY: KEY, LOG_LEVEL: 'debug' });
    try {
      const schemes: Auth[] = [
        { kind: 'bearer', key: KEY },
        { kind: 'basic', teamId: TEAM_ID, key: KEY },
        { kind: 'bearer-base64', teamId: TEAM_ID, key: KEY },
      ];
      for (const auth of schemes) {
        const client = createClient(server.url, auth);
        expect((await client.get('/api/v1/rooms')).status, auth.kind).toBe(200);
        expect((await client.post('/api/v1/rooms', { friendly_url: 'bad url!' })).status, auth.kind).toBe(422);
        expect((await client.get('/api/v1/no-such-route')).status).toBe(404);
      }
      // Wrong keys are secrets too: a typo is usually one character away from the real key.
      expect((await createClient(server.url, { kind: 'bearer', key: `${KEY}x` }).get('/api/v1/rooms')).status).toBe(401);
      expect((await createClient(server.url, { kind: 'basic', teamId: TEAM_ID, key: `${KEY}y` }).get('/api/v1/rooms')).status).toBe(401);
      // A key pasted into a query string is cut from the logged URL.
      await createClient(server.url, { kind: 'none' }).get(`/api/v1/rooms?developer_key=${KEY}&token=${KEY}`);
    } finally {
      expect(await server.stop()).toMatchObject({ code: 0 });
      folder.remove();
    }

    const output = server.output();
    // The test is only worth something if requests were logged at all: one line each, at debug.
    const requestLines = output.split('\n').filter((line) => line.includes('"msg":"request"'));
    expect(requestLines.length).toBeGreaterThanOrEqual(10);
    for (const line of requestLines) expect(JSON.parse(line)).toMatchObject({ level: 20, req: { method: expect.any(String), url: expect.any(String) }, status: expect.any(Number) });
    expect(output).not.toContain('incoming request');
    expect(output).toContain('developer_key=[redacted]');
    for (const secret of [
      KEY,
      Buffer.from(`${TEAM_ID}:${KEY}`).toString('base64'),
      Buffer.from(`${TEAM_ID}:${KEY}x`).toString('base64'),
      Buffer.from(`${TEAM_ID}:${KEY}y`).toString('base64'),
      Buffer.from(KEY).toString('base64'),
    ]) {
      expect(output.includes(secret), `the output contains ${secret}`).toBe(false);
    }
  });
});
