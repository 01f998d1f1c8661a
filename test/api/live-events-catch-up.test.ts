import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { call, createPhoneRoom } from '../helpers/rooms.js';
import { openRoomStream } from '../helpers/sse.js';
import { leaveParticipants, lockRosterRoom } from '../../src/domain/roster-changes.js';
import { findRoom } from '../../src/store/repos/rooms.js';
import { liveParticipants } from '../../src/store/repos/roster.js';

describe('room stream catch-up', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ feed: { catchUpMs: 50 } });
  });
  afterAll(async () => t.stop());

  it('notices a committed change whose events were never published, and starts over from a snapshot', async () => {
    const room = await createPhoneRoom(t.api);
    await t.api.post(`/api/v1/rooms/${room.id}/phone-participants/joined`, [call('kept'), call('lost')]);
    const stream = await openRoomStream(t, room.id);
    try {
      const first = await stream.nextNamed('snapshot');
      expect(first.data.participants).toHaveLength(2);

      // What a node that dies between COMMIT and publish leaves behind: the change is in the
      // database, its events numbered there, but no bus ever carried them.
      const { store } = t.running.services;
      await store.transaction(async (trx) => {
        const change = { trx, now: Date.now(), emit: () => {} };
        const row = (await findRoom(trx, t.teamA.team_id, room.id))!;
        await lockRosterRoom(change, row.id);
        const lost = (await liveParticipants(trx, row.id)).filter((p) => p.call_id === 'lost');
        await leaveParticipants(change, row, lost, 'left');
        await trx.updateTable('rooms').set((eb) => ({ event_seq: eb('event_seq', '+', 1) })).where('id', '=', row.id).execute();
      });

      const fresh = await stream.nextNamed('snapshot');
      expect(fresh.data.participants.map((p: any) => p.call_id)).toEqual(['kept']);
      expect(Number(fresh.id)).toBe(Number(first.id) + 1);
    } finally {
      stream.close();
    }
  });
});
