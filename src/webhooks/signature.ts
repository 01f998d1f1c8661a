import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * `X-Roomline-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, keyed with the
 * team's developer key. The timestamp is inside the MAC, so a receiver can refuse replays.
 */
export function signatureHeader(developerKey: string, body: string, unixSeconds: number): string {
  return `t=${unixSeconds},v1=${hmac(developerKey, `${unixSeconds}.${body}`)}`;
}

/** The receiver's side: true when `header` signs exactly `body` with `developerKey`. */
export function verifySignature(developerKey: string, body: string, header: string): boolean {
  const parts = Object.fromEntries(header.split(',').map((part) => part.split('=', 2) as [string, string]));
  if (parts.t === undefined || parts.v1 === undefined || !/^\d+$/.test(parts.t)) return false;
  const expected = Buffer.from(hmac(developerKey, `${parts.t}.${body}`), 'hex');
  const given = Buffer.from(parts.v1, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function hmac(key: string, message: string): string {
  return createHmac('sha256', key).update(message, 'utf8').digest('hex');
}
