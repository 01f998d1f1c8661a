import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { startServeProcess, tempDataDir } from '../helpers/process.js';

const run = promisify(execFile);
const TEAM_ID = '9c8b7a6f-5e4d-4c3b-8a29-1f0e9d8c7b6a';
const KEY = 'readme-key-0123456789abcdef';

/** The body of the first ```sh block after `heading` in the README. */
function shellBlockAfter(heading: string): string {
  const readme = fs.readFileSync(path.resolve('README.md'), 'utf8');
  const section = readme.slice(readme.indexOf(heading));
  const match = /```sh\n([\s\S]*?)```/.exec(section);
  if (match === null) throw new Error(`no sh block after ${heading}`);
  return match[1]!;
}

describe('README', () => {
  it('shows one curl per authentication scheme, and each answers 200 as written', async () => {
    const folder = tempDataDir();
    const server = await startServeProcess({ ROOMLINE_DATA_DIR: folder.dataDir, ROOMLINE_TEAM_ID: TEAM_ID, ROOMLINE_DEVELOPER_KEY: KEY });
    try {
      const block = shellBlockAfter('## Authentication').replaceAll('http://127.0.0.1:3000', server.url);
      // Each curl prints only its status, one per line.
      const script = `curl() { command curl --silent --show-error --output /dev/null --write-out '%{http_code}\\n' "$@"; }\n${block}`;
      const { stdout } = await run('bash', ['-euo', 'pipefail', '-c', script], { env: { ...process.env, TEAM_ID, DEVELOPER_KEY: KEY } });
      expect(stdout.trim().split('\n')).toEqual(['200', '200', '200']);
    } finally {
      await server.stop();
      folder.remove();
    }
  });
});
