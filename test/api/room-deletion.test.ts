import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { call, createPhoneRoom, recordEvents } from '../helpers/rooms.js';

describe('deleting a room with people in it', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => t.stop());

  it('makes everyone leave and ends the session before the room goes, keeping the records', async () => {
    const room = await createPhoneRoom(t.api);
    await t.api.post(`/api/v1/rooms/${room.id}/phone-participants/joined`, [call('a'), call('b')]);
    const recorded = recordEvents(t);
    expect((await t.api.delete(`/api/v1/rooms/${room.id}`)).status).toBe(204);
    recorded.stop();

    expect(recorded.events.map((event) => event.name)).toEqual(['participant_left', 'participant_left', 'session_ended', 'room_deleted']);
    expect(recorded.events[0]!.data).toMatchObject({ reason: 'room_deleted', room_id: room.id });

    const db = t.running.services.store.db;
    const records = await db.selectFrom('participants').select(['leave_time', 'leave_reason']).where('room_id', '=', room.id).execute();
    expect(records).toHaveLength(2);
    for (const record of records) expect(record).toEqual({ leave_time: expect.any(Number), leave_reason: 'room_deleted' });
    const sessions = await db.selectFrom('sessions').select(['end_time', 'end_reason', 'live_participants']).where('room_id', '=', room.id).execute();
    expect(sessions).toEqual([{ end_time: expect.any(Number), end_reason: 'room_deleted', live_participants: 0 }]);
    expect((await t.api.get('/api/v1/rooms/live')).body.data.map((entry: any) => entry.id)).not.toContain(room.id);
  });
});
