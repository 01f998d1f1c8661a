import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { DEFAULT_PRESENCE_OPTIONS } from '../../src/domain/presence.js';
import { clusterServices, createBackend } from '../helpers/backend.js';
import { createRoom } from '../helpers/rooms.js';
import { startTestServer, waitFor, type TestServer } from '../helpers/server.js';
import { joinAs, openPanel } from './page-client.js';

const { graceMs: GRACE, renewEveryMs: RENEW_EVERY } = DEFAULT_PRESENCE_OPTIONS;

/**
 * Presence on two nodes sharing one PostgreSQL database and one Redis: a participant's lease is
 * the database's, so the node holding its connection keeps it, and another node makes it leave
 * once that node is gone. Needs TEST_DATABASE_URL and TEST_REDIS_URL (CI sets them).
 */
describe.skipIf(clusterServices() === undefined)('web presence across nodes', () => {
  const clock = new ManualClock(Date.UTC(2026, 4, 13, 12, 0, 0));
  let nodeA: TestServer;
  let nodeB: TestServer;

  beforeAll(async () => {
    const state = { dataDir: fs.mkdtempSync(path.join(os.tmpdir(), 'roomline-nodes-')), backend: await createBackend('cluster') };
    nodeA = await startTestServer({ clock, state });
    nodeB = await startTestServer({ clock, state });
  });
  afterAll(async () => {
    await nodeB?.stop({ keepState: true });
    await nodeA?.stop();
  });

  const liveNames = async (roomId: string) =>
    ((await nodeA.api.get(`/api/v1/rooms/${roomId}/live/participants`)).body.live_participants as Array<{ name: string }>).map((p) => p.name).sort();

  it('keeps a participant whose node renews its lease, and lets another node sweep one whose node is gone', async () => {
    const room = await createRoom(nodeA.api);
    const ann = await joinAs(nodeA, room.id, { name: 'Ann' });
    const bob = await joinAs(nodeB, room.id, { name: 'Bob' });
    const annPanel = await openPanel(nodeA, ann.credential);
    const bobPanel = await openPanel(nodeB, bob.credential);
    await annPanel.next('snapshot');
    await bobPanel.next('snapshot');

    // Time passes well beyond the first lease; each node renews what it holds, and each sweeps.
    for (let step = 0; step < Math.ceil((2 * GRACE) / RENEW_EVERY); step += 1) {
      clock.advance(RENEW_EVERY);
      await nodeA.running.services.presence.sweep();
      await nodeB.running.services.presence.sweep();
    }
    expect(await liveNames(room.id)).toEqual(['Ann', 'Bob']);

    // Node B goes away: nobody renews Bob's lease any more, and node A's sweeper takes him out.
    await nodeB.running.stop();
    clock.advance(GRACE + 1);
    await nodeA.running.services.presence.sweep();
    await waitFor(async () => ((await liveNames(room.id)).length === 1 ? true : undefined), 5000, 'Bob to leave');
    expect(await liveNames(room.id)).toEqual(['Ann']);
    const left = await annPanel.next('left');
    expect(left).toEqual({ type: 'left', participant_id: bob.participantId, name: 'Bob' });
    annPanel.close();
  });
});
