import { expect } from 'vitest';
import type { CliResult } from './process.js';
import type { ApiClient } from './server.js';

/**
 * Runs `copy` while a bridge reports pairs of callers into `roomId`, one pair after another,
 * from before the copy starts until after it ends; answers the copy's result and how many pairs
 * had been answered when it started and when it ended.
 */
export async function copyWhileJoining(api: ApiClient, roomId: string, copy: () => Promise<CliResult>): Promise<{ copied: CliResult; answeredBefore: number; answeredAfter: number }> {
  let answered = 0;
  let writing = true;
  const writer = (async () => {
    for (let n = 0; writing; n += 1) {
      const pair = [`c${n}-a`, `c${n}-b`].map((callId) => ({ call_id: callId, name: callId }));
      expect((await api.post(`/api/v1/rooms/${roomId}/phone-participants/joined`, pair)).status).toBe(200);
      answered = n + 1;
    }
  })();
  while (answered < 20) await new Promise((resolve) => setTimeout(resolve, 5));
  const answeredBefore = answered;
  const copied = await copy();
  const answeredAfter = answered;
  writing = false;
  await writer;
  return { copied, answeredBefore, answeredAfter };
}

/**
 * The copy, read through a server started on it, holds every pair answered before the copy
 * began, no pair answered after it ended, and no half of any pair; the session's own count is
 * of the same commit as the roster.
 */
export async function expectWholePairs(copy: ApiClient, roomId: string, answeredBefore: number, answeredAfter: number): Promise<void> {
  const roster = (await copy.get(`/api/v1/rooms/${roomId}/live/participants`)).body.live_participants;
  const pairs = roster.length / 2;
  expect(pairs).toBeGreaterThanOrEqual(answeredBefore);
  expect(pairs).toBeLessThanOrEqual(answeredAfter + 1);
  expect(roster.map((p: { call_id: string }) => p.call_id).sort()).toEqual(Array.from({ length: pairs }, (_, n) => [`c${n}-a`, `c${n}-b`]).flat().sort());
  expect((await copy.get(`/api/v1/rooms/${roomId}/sessions`)).body.data).toHaveLength(1);
  expect((await copy.get(`/api/v1/rooms/${roomId}/live`)).body.live_participants).toBe(roster.length);
}
