import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../src/app.js';
import { ApiError, toApiError } from '../../src/api/errors.js';
import { loadConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/logger.js';

describe('toApiError', () => {
  it('answers anything unexpected with a generic 500 that names nothing inside', () => {
    for (const thrown of [
      new Error('SQLITE_CONSTRAINT: UNIQUE constraint failed: teams.key_hash at /srv/roomline/dist/store/repos/teams.js:12'),
      new TypeError("Cannot read properties of undefined (reading 'developer_key')"),
      Object.assign(new Error('relation "rooms" does not exist'), { code: '42P01' }),
      Object.assign(new Error('upstream said no'), { statusCode: 502 }),
      'a thrown string',
      undefined,
    ]) {
      const error = toApiError(thrown);
      expect(error.status).toBe(500);
      expect(error.message).toBe('Server Error');
      expect(error.fieldErrors).toBeUndefined();
    }
  });

  it('keeps catalogue errors and maps client errors onto the catalogue', () => {
    const notFound = new ApiError('not_found');
    expect(toApiError(notFound)).toBe(notFound);
    expect(toApiError(Object.assign(new Error('x'), { code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE', statusCode: 415 })).status).toBe(415);
    expect(toApiError(Object.assign(new Error('x'), { code: 'FST_ERR_CTP_BODY_TOO_LARGE', statusCode: 413 })).status).toBe(413);
    expect(toApiError(new SyntaxError('Unexpected end of JSON input')).code).toBe('malformed_json');
    // A lost race on a unique name, on either database: a 422, not a 500.
    expect(toApiError(Object.assign(new Error('duplicate key value violates unique constraint'), { code: '23505' })).status).toBe(422);
    expect(toApiError(Object.assign(new Error('UNIQUE constraint failed: rooms.friendly_url'), { code: 'SQLITE_CONSTRAINT_UNIQUE' })).status).toBe(422);
  });

  it('answers a database out of reach or too slow with a 503 that names nothing inside', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 10.0.0.5:5432'), { code: 'ECONNREFUSED' });
    for (const thrown of [
      refused,
      new AggregateError([refused, Object.assign(new Error('connect ECONNREFUSED ::1:5432'), { code: 'ECONNREFUSED' })]),
      Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' }),
      Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }),
      Object.assign(new Error('could not receive data from client'), { code: '08006' }),
      Object.assign(new Error('sorry, too many clients already'), { code: '53300' }),
      new Error('Connection terminated unexpectedly'),
      new Error('Connection terminated due to connection timeout', { cause: new Error('Connection terminated unexpectedly') }),
      new Error('timeout exceeded when trying to connect'),
      new Error('Query read timeout'),
      Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' }),
    ]) {
      const error = toApiError(thrown);
      expect(error.status, String(thrown)).toBe(503);
      expect(error.message).toBe('The database could not be reached or did not answer in time. Try again.');
    }
    // The same words from elsewhere, with a code of their own, are not an outage.
    expect(toApiError(Object.assign(new Error('Connection terminated'), { code: 'XX000' })).status).toBe(500);
  });
});

describe('the error handler, on a route that fails', () => {
  let app: App;
  let logged = '';
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'roomline-errors-'));

  beforeAll(async () => {
    const config = loadConfig({ PORT: '0', LOG_LEVEL: 'error', ROOMLINE_DATA_DIR: dataDir });
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logged += chunk.toString();
        done();
      },
    });
    app = await buildApp(config, { logger: createLogger('error', sink) });
    // No route of the API can be made to fail on purpose, so the test adds one to the real app.
    app.server.get('/api/v1/failing', async function failOnPurpose() {
      throw new Error('database password is hunter2 (at /srv/roomline/dist/store/sqlite/sqlite-store.js:42)');
    });
    app.server.get('/api/v1/failing-oddly', async function throwNonError(request) {
      throw (request.query as { what?: string }).what === 'string' ? 'a thrown string' : undefined;
    });
    await app.server.ready();
  });
  afterAll(async () => {
    await app.server.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers a generic 500 and logs the cause with the request id', async () => {
    const response = await app.server.inject({ method: 'GET', url: '/api/v1/failing', headers: { 'x-request-id': 'trace-me-42' } });
    expect(response.statusCode).toBe(500);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.json()).toEqual({ message: 'Server Error' });
    expect(response.body).not.toMatch(/hunter2|sqlite|\.js|stack/i);

    const line = logged.split('\n').find((entry) => entry.includes('hunter2'));
    expect(line, 'the cause is in the log').toBeDefined();
    expect(JSON.parse(line!)).toMatchObject({ reqId: 'trace-me-42', msg: 'request failed' });
  });

  it('answers the same 500 when something other than an Error is thrown', async () => {
    for (const what of ['string', 'undefined']) {
      const response = await app.server.inject({ method: 'GET', url: `/api/v1/failing-oddly?what=${what}` });
      expect(response.statusCode, what).toBe(500);
      expect(response.json(), what).toEqual({ message: 'Server Error' });
    }
  });
});
