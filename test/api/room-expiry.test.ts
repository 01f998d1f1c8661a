import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dsDateTime, isoTime, isoTimeMicros, ManualClock } from '../../src/domain/clock.js';
import { call, createPhoneRoom, recordEvents, type CreatedRoom } from '../helpers/rooms.js';
import { startTestServer, waitFor, type ApiClient, type TestServer } from '../helpers/server.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;

const exists = async (api: ApiClient, room: CreatedRoom) => (await api.get(`/api/v1/rooms/${room.id}`)).status === 200;

/**
 * A room that expires a second from now, then the clock moved past it: once the scheduler has
 * deleted it, it has looked at every other room too (one check reads all expired rooms).
 */
async function probeCheck(t: TestServer, clock: ManualClock): Promise<void> {
  const probe = await createPhoneRoom(t.api, { expires_at: isoTime(clock.now() + SECOND) });
  clock.advance(SECOND);
  await waitFor(async () => ((await exists(t.api, probe)) ? undefined : true), 5000, 'the probe room to expire');
}

describe('room expiry (expires_at)', () => {
  const clock = new ManualClock(Date.UTC(2026, 6, 1, 9));
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ clock });
  });
  afterAll(async () => t.stop());

  it('deletes the room when its expiry comes, not before: everyone leaves with it, the records stay', async () => {
    const start = clock.now();
    const room = await createPhoneRoom(t.api, { expires_at: isoTime(start + 10 * MINUTE) });
    await t.api.post(`/api/v1/rooms/${room.id}/phone-participants/joined`, [call('a'), call('b')]);

    clock.set(start + 10 * MINUTE - 2 * SECOND);
    await probeCheck(t, clock);
    expect(await exists(t.api, room)).toBe(true);

    const recorded = recordEvents(t);
    clock.set(start + 10 * MINUTE);
    await waitFor(async () => ((await exists(t.api, room)) ? undefined : true), 5000, 'the room to expire');
    recorded.stop();

    const ofRoom = recorded.events.filter((event) => event.roomId === room.id);
    expect(ofRoom.map((event) => event.name)).toEqual(['participant_left', 'participant_left', 'session_ended', 'room_deleted']);
    expect(ofRoom[0]!.data).toMatchObject({ reason: 'room_deleted', room_id: room.id });
    const participants = await t.api.get(`/api/v1/participants?room_id=${room.id}`);
    expect(participants.body.data.map((participant: any) => participant.leave_reason)).toEqual(['room_deleted', 'room_deleted']);
    expect((await t.api.get('/api/v1/rooms/live')).body.data.map((entry: any) => entry.id)).not.toContain(room.id);
  });

  it('keeps a room whose expiry was moved later or removed', async () => {
    const start = clock.now();
    const later = await createPhoneRoom(t.api, { expires_at: isoTime(start + MINUTE) });
    const never = await createPhoneRoom(t.api, { expires_at: isoTime(start + MINUTE) });
    expect((await t.api.patch(`/api/v1/rooms/${later.id}`, { expires_at: isoTime(start + 60 * MINUTE) })).body.expires_at).toBe(isoTime(start + 60 * MINUTE));
    expect((await t.api.patch(`/api/v1/rooms/${never.id}`, { expires_at: null })).body.expires_at).toBeNull();

    clock.set(start + 2 * MINUTE);
    await probeCheck(t, clock);
    expect([await exists(t.api, later), await exists(t.api, never)]).toEqual([true, true]);

    clock.set(start + 60 * MINUTE);
    await waitFor(async () => ((await exists(t.api, later)) ? undefined : true), 5000, 'the moved expiry');
    expect(await exists(t.api, never)).toBe(true);
  });
});

describe('rooms that expired while the server was stopped', () => {
  it('are deleted as the server starts again, everyone in them leaving when they expired', async () => {
    const clock = new ManualClock(Date.UTC(2026, 6, 1, 12));
    const first = await startTestServer({ clock });
    const expiry = clock.now() + 10 * MINUTE;
    const room = await createPhoneRoom(first.api, { expires_at: isoTime(expiry) });
    await first.api.post(`/api/v1/rooms/${room.id}/phone-participants/joined`, [call('overnight')]);
    await first.stop({ keepState: true });

    clock.advance(8 * 60 * MINUTE);
    const second = await startTestServer({ clock, state: first.state });
    try {
      // No waiting: the server has deleted it before it answers anything.
      expect(await exists(second.api, room)).toBe(false);
      const participants = await second.api.get(`/api/v1/participants?room_id=${room.id}`);
      expect(participants.body.data.map((participant: any) => participant.leave_reason)).toEqual(['room_deleted']);
      // Usage stops at the expiry, not eight hours later when the server came back.
      expect(participants.body.data[0].leave_time).toBe(dsDateTime(expiry));
      const [session] = (await second.api.get(`/api/v1/sessions?room_id=${room.id}`)).body.data;
      expect(session).toMatchObject({ end_reason: 'room_deleted', end_time: isoTimeMicros(expiry) });
    } finally {
      await second.stop();
    }
  });
});
