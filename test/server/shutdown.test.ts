import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createClient, waitFor } from '../helpers/server.js';
import { startServeProcess, tempDataDir, type ServeProcess } from '../helpers/process.js';

const TEAM_ID = '3e9b0c1d-2a4f-4b6c-8d0e-1f2a3b4c5d6e';
const KEY = 'shutdown-key-0123456789';

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A POST whose body is sent in two parts: the second only when `finish` is called. */
function slowPost(url: string, body: string, requestId: string): { finish(): void; answer: Promise<Answer> } {
  const bytes = Buffer.from(body);
  const agent = new http.Agent({ keepAlive: true });
  let request!: http.ClientRequest;
  const answer = new Promise<Answer>((resolve, reject) => {
    request = http.request(
      url,
      {
        method: 'POST',
        agent,
        headers: {
          authorization: `Bearer ${KEY}`,
          'content-type': 'application/json',
          'content-length': String(bytes.length),
          'x-request-id': requestId,
        },
      },
      (response) => {
        let text = '';
        response.on('data', (chunk: Buffer) => (text += chunk.toString()));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: text }));
      },
    );
    request.on('error', reject);
  });
  request.write(bytes.subarray(0, 10));
  return { finish: () => request.end(bytes.subarray(10)), answer };
}

describe('graceful shutdown', () => {
  it('answers health checks, then on SIGTERM finishes a request still uploading, closes the store and exits 0', async () => {
    const folder = tempDataDir();
    // A long grace period: only a drain that really completes lets the process end within the test.
    const server = await startServeProcess({
      ROOMLINE_DATA_DIR: folder.dataDir,
      ROOMLINE_TEAM_ID: TEAM_ID,
      ROOMLINE_DEVELOPER_KEY: KEY,
      ROOMLINE_SHUTDOWN_GRACE_SECONDS: '600',
      LOG_LEVEL: 'trace',
    });
    try {
      const anonymous = createClient(server.url, { kind: 'none' });
      expect((await anonymous.get('/healthz')).status).toBe(200);
      expect((await anonymous.get('/readyz')).status).toBe(200);

      const upload = slowPost(`${server.url}/api/v1/rooms`, JSON.stringify({ friendly_url: 'created-while-stopping' }), 'slow-upload-1');
      // The server has routed the request (its headers are in) before the signal is sent.
      await waitFor(() => (/"reqId":"slow-upload-1".*"msg":"incoming request"/.test(server.output()) ? true : undefined), 10_000, 'the request to arrive');
      server.child.kill('SIGTERM');
      await waitFor(() => (server.output().includes('"msg":"shutting down"') ? true : undefined), 10_000, 'the shutdown to begin');
      upload.finish();

      const answer = await upload.answer;
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.body)).toMatchObject({ friendly_url: 'created-while-stopping' });
      // The keep-alive connection is closed with the answer, so it cannot hold the drain open.
      expect(answer.headers.connection).toBe('close');

      expect(await server.exited).toEqual({ code: 0, signal: null });
      // SQLite removes its write-ahead log when the last connection closes cleanly.
      expect(fs.existsSync(path.join(folder.dataDir, 'roomline.db'))).toBe(true);
      expect(fs.existsSync(path.join(folder.dataDir, 'roomline.db-wal'))).toBe(false);
    } finally {
      await server.stop('SIGKILL');
      folder.remove();
    }
  });

  it('keeps what the drained request wrote: it is there after a restart', async () => {
    const folder = tempDataDir();
    const env = { ROOMLINE_DATA_DIR: folder.dataDir, ROOMLINE_TEAM_ID: TEAM_ID, ROOMLINE_DEVELOPER_KEY: KEY, LOG_LEVEL: 'trace' };
    let running: ServeProcess | undefined;
    try {
      const first = await startServeProcess(env);
      running = first;
      const upload = slowPost(`${first.url}/api/v1/rooms`, JSON.stringify({ friendly_url: 'survives-the-restart' }), 'slow-upload-2');
      await waitFor(() => (first.output().includes('"reqId":"slow-upload-2"') ? true : undefined), 10_000, 'the request to arrive');
      first.child.kill('SIGINT');
      await waitFor(() => (first.output().includes('"msg":"shutting down"') ? true : undefined), 10_000, 'the shutdown to begin');
      upload.finish();
      expect((await upload.answer).status).toBe(200);
      expect(await first.exited).toEqual({ code: 0, signal: null });

      const second = await startServeProcess(env);
      try {
        const room = await createClient(second.url, { kind: 'bearer', key: KEY }).get('/api/v1/rooms/survives-the-restart');
        expect(room.status).toBe(200);
      } finally {
        expect(await second.stop('SIGINT')).toEqual({ code: 0, signal: null });
      }
    } finally {
      // A failed step leaves no server behind (one that stopped as it should is stopped already).
      await running?.stop('SIGKILL');
      folder.remove();
    }
  });
});
