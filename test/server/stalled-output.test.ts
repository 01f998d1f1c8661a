import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ROOMLINE_BIN, tempDataDir } from '../helpers/process.js';

/**
 * A log reader that stops reading (a log collector stalled or gone): the server goes on
 * answering, and a SIGTERM still stops it. Its logs waited for the reader for good, and pino's
 * flush at exit with them: the process never ended.
 */
describe('a standard output nobody reads', () => {
  it('neither stops the server answering nor keeps a stop from ending it', async () => {
    const data = tempDataDir();
    const key = `stalled-key-${randomUUID()}`;
    const child = spawn(process.execPath, [ROOMLINE_BIN, 'serve'], {
      env: { PATH: process.env.PATH, ROOMLINE_DATA_DIR: data.dataDir, PORT: '0', HOST: '127.0.0.1', ROOMLINE_TEAM_ID: randomUUID(), ROOMLINE_DEVELOPER_KEY: key, LOG_LEVEL: 'trace', ROOMLINE_RATE_LIMIT: '0' },
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const url = await new Promise<string>((resolve) => {
        let output = '';
        const read = (chunk: Buffer) => {
          output += chunk.toString();
          const found = /"url":"(http:\/\/[^"]+)"/.exec(output)?.[1];
          if (found === undefined) return;
          // From here on, nobody reads: the socket's buffer fills with the requests' logs.
          child.stdout.off('data', read);
          child.stdout.pause();
          resolve(found);
        };
        child.stdout.on('data', read);
      });
      // Well past what the socket holds (each request logs about 1 kB at trace level).
      for (let n = 0; n < 2000; n++) {
        const answer = await fetch(`${url}/api/v1/rooms`, { headers: { authorization: `Bearer ${key}` } });
        expect(answer.status).toBe(200);
        await answer.text();
      }
      child.kill('SIGTERM');
      const code = await Promise.race([exited, new Promise<string>((resolve) => setTimeout(() => resolve('still running'), 20_000))]);
      expect(code).toBe(0);
    } finally {
      child.kill('SIGKILL');
      data.remove();
    }
  });
});
