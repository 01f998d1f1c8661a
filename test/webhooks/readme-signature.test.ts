import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { signatureHeader, verifySignature } from '../../src/webhooks/signature.js';

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

  it('refuses a delivery forged from a room token, which the same key signs', async () => {
    const verify = await readmeVerifier();
    const key = 'team-developer-key-0123456789';
    // An invitee holds a room token: its signature is HMAC-SHA256 over "header.payload", the
    // shape of "t.body", keyed with the developer key as it is. Only a timestamp of digits tells
    // the two apart.
    const token = await new SignJWT({ u: 'Guest' }).setProtectedHeader({ typ: 'JWT', alg: 'HS256' }).setIssuedAt().sign(new TextEncoder().encode(key));
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const forged = `t=${header},v1=${Buffer.from(signature, 'base64url').toString('hex')}`;
    expect(verify(key, payload, forged)).toBe(false);
    expect(verifySignature(key, payload, forged)).toBe(false);
  });
});
