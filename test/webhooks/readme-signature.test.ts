import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { signatureHeader } from '../../src/webhooks/signature.js';

/** The README's verification snippet, loaded as the module a receiver would paste it into. */
async function readmeVerifier(): Promise<(key: string, body: string, header: string) => boolean> {
  const readme = fs.readFileSync(path.resolve('README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### Verifying a delivery'));
  const code = /```js\n([\s\S]*?)```/.exec(section)?.[1];
  if (code === undefined) throw new Error('README has no js block under "Verifying a delivery"');
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'roomline-readme-')), 'verify.mjs');
  fs.writeFileSync(file, code);
  const module = (await import(pathToFileURL(file).href)) as { verifyRoomlineSignature: (key: string, body: string, header: string) => boolean };
  return module.verifyRoomlineSignature;
}

describe("the README's signature recipe", () => {
  it('verifies what roomline signs, and refuses a tampered body, another key or a stale timestamp', async () => {
    const verify = await readmeVerifier();
    const key = 'team-developer-key-0123456789';
    const body = JSON.stringify({ event: 'participant_left', timestamp: '2026-11-29T08:00:00Z', data: { call_id: 'c-1' } });
    const now = Math.floor(Date.now() / 1000);
    const header = signatureHeader(key, body, now);
    expect(verify(key, body, header)).toBe(true);
    expect(verify(key, body.replace('c-1', 'c-2'), header)).toBe(false);
    expect(verify('another-key-0123456789', body, header)).toBe(false);
    expect(verify(key, body, signatureHeader(key, body, now - 3600))).toBe(false);
    expect(verify(key, body, 't=1,v1=zz')).toBe(false);
  });
});
