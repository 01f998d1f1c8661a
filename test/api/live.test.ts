import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { call, createPhoneRoom, type CreatedRoom } from '../helpers/rooms.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

describe('live endpoints', () => {
  let t: TestServer;
  const clock = new ManualClock(Date.UTC(2026, 4, 13, 12, 0, 0));
  /** Three rooms created a minute apart, each with a live session; and one with nobody in it. */
  let rooms: CreatedRoom[];
  let empty: CreatedRoom;

  beforeAll(async () => {
    t = await startTestServer({ clock });
    rooms = [];
    for (const [index, size] of [2, 1, 3].entries()) {
      const room = await createPhoneRoom(t.api, { external_id: `EXT${index}` });
      await t.api.post(
        `/api/v1/rooms/${room.id}/phone-participants/joined`,
        Array.from({ length: size }, (_, n) => call(`r${index}-c${n}`, { external_id: `P${n}` })),
      );
      rooms.push(room);
      clock.advance(60_000);
    }
    empty = await createPhoneRoom(t.api);
  });
  afterAll(async () => t.stop());

  it('GET /rooms/{room}/live: the room, its session start and duration, and the live count', async () => {
    clock.advance(30_000);
    const response = await t.api.get(`/api/v1/rooms/${rooms[0]!.friendly_url}/live`);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      id: rooms[0]!.id,
      external_id: 'EXT0',
      start_time: '2026-05-13T12:00:00.000000Z',
      session_duration: 210,
      live_participants: 2,
    });
  });

  it('GET /rooms/{room}/live/participants: the DS participant fields, then roomline’s', async () => {
    const response = await t.api.get(`/api/v1/rooms/${rooms[2]!.id}/live/participants`);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      id: rooms[2]!.id,
      external_id: 'EXT2',
      start_time: '2026-05-13T12:02:00.000000Z',
      session_duration: expect.any(Number),
      live_participants: [0, 1, 2].map((n) => ({
        id: expect.any(String),
        external_id: `P${n}`,
        name: `Caller r2-c${n}`,
        role: expect.any(String),
        join_time: '2026-05-13T12:02:00.000000Z',
        type: 'phone',
        call_id: `r2-c${n}`,
        caller_number: null,
        muted: false,
        hand_raised: false,
        device: 'phone',
      })),
    });
  });

  it('a room with nobody live answers a count of 0 and an empty list, not a 404', async () => {
    const expected = { id: empty.id, external_id: null, start_time: null, session_duration: 0 };
    expect((await t.api.get(`/api/v1/rooms/${empty.id}/live`)).body).toEqual({ ...expected, live_participants: 0 });
    expect((await t.api.get(`/api/v1/rooms/${empty.id}/live/participants`)).body).toEqual({ ...expected, live_participants: [] });
  });

  it('GET /rooms/live lists only rooms with a live session, newest room first, with their counts', async () => {
    const response = await t.api.get('/api/v1/rooms/live');
    expect(response.status).toBe(200);
    expect(response.body.total_count).toBe(3);
    expect(response.body.data.map((room: any) => [room.id, room.live_participants])).toEqual([
      [rooms[2]!.id, 3],
      [rooms[1]!.id, 1],
      [rooms[0]!.id, 2],
    ]);
    expect(Object.keys(response.body.data[0])).toEqual(['id', 'external_id', 'start_time', 'session_duration', 'live_participants']);
  });

  it('GET /rooms/live/participants lists the same rooms with their participants', async () => {
    const response = await t.api.get('/api/v1/rooms/live/participants?order=asc');
    expect(response.body.total_count).toBe(3);
    expect(response.body.data.map((room: any) => [room.id, room.live_participants.map((p: any) => p.call_id)])).toEqual([
      [rooms[0]!.id, ['r0-c0', 'r0-c1']],
      [rooms[1]!.id, ['r1-c0']],
      [rooms[2]!.id, ['r2-c0', 'r2-c1', 'r2-c2']],
    ]);
  });

  it('paginates with limit, offset, order and after (an id or a friendly_url)', async () => {
    const ids = async (query: string) => {
      const response = await t.api.get(`/api/v1/rooms/live${query}`);
      expect(response.status, query).toBe(200);
      expect(response.body.total_count, query).toBe(3);
      return response.body.data.map((room: any) => room.id);
    };
    const [a, b, c] = rooms.map((room) => room.id);
    expect(await ids('?limit=2')).toEqual([c, b]);
    expect(await ids('?limit=2&offset=2')).toEqual([a]);
    expect(await ids('?order=asc&limit=1&offset=1')).toEqual([b]);
    expect(await ids(`?after=${c}`)).toEqual([b, a]);
    expect(await ids(`?after=${rooms[1]!.friendly_url}&order=desc`)).toEqual([a]);
    expect(await ids(`?after=${a}&order=asc`)).toEqual([b, c]);
    // `after` a room nobody is in still places the page by that room's creation.
    expect(await ids(`?after=${empty.id}`)).toEqual([c, b, a]);
    const withParticipants = await t.api.get(`/api/v1/rooms/live/participants?limit=1&after=${c}`);
    expect(withParticipants.body.data.map((room: any) => room.id)).toEqual([b]);
  });

  it('refuses bad list parameters with a 422', async () => {
    for (const query of ['limit=0', 'limit=101', 'offset=-1', 'order=up', 'after=no-such-room']) {
      for (const path of ['live', 'live/participants']) {
        const response = await t.api.get(`/api/v1/rooms/${path}?${query}`);
        expect(response.status, `${path}?${query}`).toBe(422);
      }
    }
  });

  it('reflects a change as soon as it is answered, and leaves a room out once its session ended', async () => {
    await t.api.post(`/api/v1/rooms/${rooms[1]!.id}/phone-participants/left`, ['r1-c0']);
    const all = await t.api.get('/api/v1/rooms/live');
    expect(all.body.total_count).toBe(2);
    expect(all.body.data.map((room: any) => room.id)).toEqual([rooms[2]!.id, rooms[0]!.id]);
    expect((await t.api.get(`/api/v1/rooms/${rooms[1]!.id}/live`)).body).toMatchObject({ start_time: null, live_participants: 0 });
  });

  it("keeps a room's participant list current through every kind of change, read after read", async () => {
    const room = await createPhoneRoom(t.api);
    const roster = async () => (await t.api.get(`/api/v1/rooms/${room.id}/live/participants`)).body;
    const joined = `/api/v1/rooms/${room.id}/phone-participants/joined`;
    await t.api.post(joined, [call('a'), call('b')]);
    expect((await roster()).live_participants.map((p: any) => p.call_id)).toEqual(['a', 'b']);
    const before = (await roster()).session_duration;

    // Nothing changed: the duration still moves with the clock.
    clock.advance(5_000);
    expect((await roster()).session_duration).toBe(before + 5);

    await t.api.post(joined, [call('a', { muted: true, name: 'Renamed' })]);
    expect((await roster()).live_participants[0]).toMatchObject({ call_id: 'a', muted: true, name: 'Renamed' });
    await t.api.post(`/api/v1/rooms/${room.id}/phone-participants/left`, ['a']);
    expect((await roster()).live_participants.map((p: any) => p.call_id)).toEqual(['b']);
    await t.api.post(`/api/v1/rooms/${room.id}/phone-participants/left`, ['b']);
    expect(await roster()).toMatchObject({ start_time: null, live_participants: [] });
    await t.api.post(joined, [call('c')]);
    expect((await roster()).live_participants.map((p: any) => p.call_id)).toEqual(['c']);
  });

  it('keeps the live rooms lists current read after read, through changes that announce no event too', async () => {
    const room = await createPhoneRoom(t.api, { external_id: 'BEFORE' });
    await t.api.post(`/api/v1/rooms/${room.id}/phone-participants/joined`, [call('x')]);
    const entry = async (path: string) => (await t.api.get(`/api/v1/rooms/${path}?limit=100`)).body.data.find((live: any) => live.id === room.id);
    expect(await entry('live')).toMatchObject({ external_id: 'BEFORE', live_participants: 1 });
    const listed = await entry('live');

    // Nothing changed: the duration still moves with the clock.
    clock.advance(7_000);
    expect((await entry('live')).session_duration).toBe(listed.session_duration + 7);

    // A room's details change without a room event.
    expect((await t.api.patch(`/api/v1/rooms/${room.id}`, { external_id: 'AFTER' })).status).toBe(200);
    expect(await entry('live')).toMatchObject({ external_id: 'AFTER' });
    expect(await entry('live/participants')).toMatchObject({ external_id: 'AFTER' });

    await t.api.post(`/api/v1/rooms/${room.id}/phone-participants/x/mute`);
    expect((await entry('live/participants')).live_participants).toMatchObject([{ call_id: 'x', muted: true }]);
    await t.api.post(`/api/v1/rooms/${room.id}/phone-participants/joined`, [call('y')]);
    expect(await entry('live')).toMatchObject({ live_participants: 2 });
    expect((await entry('live/participants')).live_participants.map((p: any) => p.call_id)).toEqual(['x', 'y']);
    await t.api.post(`/api/v1/rooms/${room.id}/phone-participants/left`, ['x', 'y']);
    expect(await entry('live')).toBeUndefined();
    expect(await entry('live/participants')).toBeUndefined();
  });
});
