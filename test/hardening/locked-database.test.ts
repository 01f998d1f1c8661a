import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * Embedded mode: another process (a team command, an administrator's sqlite3 shell) holding the
 * database's write lock longer than the server waits for it. The change is a 503 the client may
 * retry, applies nothing, and the server goes on once the lock is free.
 */
describe('embedded: a database another process keeps locked', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server.stop();
  });

  it('is a 503 with Retry-After for the change that waited, then back to normal', async () => {
    const room = (await server.api.post('/api/v1/rooms', { telephony_enabled: true })).body;
    const joined = `/api/v1/rooms/${room.id}/phone-participants/joined`;
    const other = new BetterSqlite3(path.join(server.dataDir, 'roomline.db'));
    try {
      other.exec('begin immediate');
      const waited = await server.api.post(joined, [{ call_id: 'a', name: 'A' }]);
      expect(waited.status, waited.text).toBe(503);
      expect(waited.headers.get('retry-after')).toBe('5');
      expect(waited.body).toEqual({ message: 'The database could not be reached or did not answer in time. Try again.' });
    } finally {
      other.exec('rollback');
      other.close();
    }
    expect((await server.api.get(`/api/v1/rooms/${room.id}/live`)).body.live_participants).toBe(0);
    expect((await server.api.post(joined, [{ call_id: 'a', name: 'A' }])).status).toBe(200);
    expect((await server.api.get(`/api/v1/rooms/${room.id}/live`)).body.live_participants).toBe(1);
  });
});
