import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createPhoneRoom, createRoom, liveCallIds, recordEvents } from '../helpers/rooms.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

describe('the phone bridge', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => t.stop());

  const phoneConnected = async (roomId: string) =>
    (await t.running.services.store.db.selectFrom('rooms').select('phone_connected').where('id', '=', roomId).executeTakeFirstOrThrow()).phone_connected;
  const joined = (room: string, body: unknown) => t.api.post(`/api/v1/rooms/${room}/phone-participants/joined`, body);
  const participantRows = (roomId: string) =>
    t.running.services.store.db.selectFrom('participants').selectAll().where('room_id', '=', roomId).orderBy('call_id').execute();

  it('phone/connect marks the bridge connected and answers 200 with an empty body', async () => {
    const room = await createPhoneRoom(t.api);
    const response = await t.api.post(`/api/v1/rooms/${room.friendly_url}/phone/connect`);
    expect(response.status).toBe(200);
    expect(response.text).toBe('');
    expect(await phoneConnected(room.id)).toBe(1);
  });

  it('phone/connect refuses a room without telephony with a 422 that says so', async () => {
    const room = await createRoom(t.api, { telephony_enabled: false });
    const response = await t.api.post(`/api/v1/rooms/${room.id}/phone/connect`);
    expect(response.status).toBe(422);
    expect(response.body.message).toMatch(/telephony/i);
    expect(await phoneConnected(room.id)).toBe(0);
  });

  it('phone/disconnect clears the flag and makes every phone participant leave as one batch, for good', async () => {
    const room = await createPhoneRoom(t.api);
    await t.api.post(`/api/v1/rooms/${room.id}/phone/connect`);
    await joined(room.id, [call('a'), call('b')]);
    const recorded = recordEvents(t);
    const response = await t.api.post(`/api/v1/rooms/${room.id}/phone/disconnect`);
    recorded.stop();
    expect(response.status).toBe(200);
    expect(response.text).toBe('');
    expect(await phoneConnected(room.id)).toBe(0);
    expect(await liveCallIds(t.api, room.id)).toEqual([]);
    expect((await participantRows(room.id)).map((row) => row.leave_reason)).toEqual(['bridge_disconnected', 'bridge_disconnected']);
    expect(recorded.events.map((event) => [event.name, event.data.reason])).toEqual([
      ['participant_left', 'bridge_disconnected'],
      ['participant_left', 'bridge_disconnected'],
      ['session_ended', 'last_participant_left'],
    ]);
    // One change: the events are numbered one after the other.
    expect(recorded.events.map((event) => event.seq - recorded.events[0]!.seq)).toEqual([0, 1, 2]);

    await joined(room.id, [call('a'), call('c')]);
    expect(await liveCallIds(t.api, room.id)).toEqual(['c']);
    // Nothing live: disconnecting again is a 200 that changes nothing.
    await t.api.post(`/api/v1/rooms/${room.id}/phone-participants/left`, ['c']);
    expect((await t.api.post(`/api/v1/rooms/${room.id}/phone/disconnect`)).status).toBe(200);
  });
});

describe('roster reconciliation (PUT phone-participants)', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => t.stop());

  const joined = (room: string, body: unknown) => t.api.post(`/api/v1/rooms/${room}/phone-participants/joined`, body);
  const reconcile = (room: string, body: unknown) => t.api.put(`/api/v1/rooms/${room}/phone-participants`, body);
  const live = async (room: string) => (await t.api.get(`/api/v1/rooms/${room}/live/participants`)).body.live_participants as any[];

  it('joins what is missing, updates what changed and removes the rest, in one step with the normal events', async () => {
    const room = await createPhoneRoom(t.api);
    await joined(room.id, [call('same'), call('changed', { muted: false }), call('dropped')]);
    await t.api.post(`/api/v1/rooms/${room.id}/phone-participants/left`, ['departed']);
    const before = await live(room.id);
    const recorded = recordEvents(t);

    const response = await reconcile(room.id, [call('same'), call('changed', { muted: true }), call('new'), call('departed')]);
    recorded.stop();
    expect(response.status).toBe(200);
    expect(response.text).toBe('');

    const after = await live(room.id);
    expect(after.map((participant) => participant.call_id)).toEqual(['same', 'changed', 'new']);
    expect(after[0]).toEqual(before[0]);
    expect(after[1]).toEqual({ ...before[1], muted: true });
    const dropped = before.find((participant) => participant.call_id === 'dropped');
    expect(recorded.events.map((event) => [event.name, event.data.call_id])).toEqual([
      ['phone_participant_muted', 'changed'],
      ['participant_joined', 'new'],
      ['participant_left', 'dropped'],
    ]);
    expect(recorded.events[2]!.data).toMatchObject({ participant_id: dropped.id, reason: 'reconciled' });
    expect(recorded.events.map((event) => event.seq - recorded.events[0]!.seq)).toEqual([0, 1, 2]);

    // A reconciled-away call is gone for good, like any call that left.
    await joined(room.id, [call('dropped')]);
    expect((await live(room.id)).map((participant) => participant.call_id)).toEqual(['same', 'changed', 'new']);
  });

  it('keeps the session when every call is replaced, and an empty list empties the room of phone participants', async () => {
    const room = await createPhoneRoom(t.api);
    await joined(room.id, [call('old')]);
    const session = (await t.api.get(`/api/v1/rooms/${room.id}/live`)).body.start_time;
    await reconcile(room.id, [call('new')]);
    expect((await t.api.get(`/api/v1/rooms/${room.id}/live`)).body).toMatchObject({ start_time: session, live_participants: 1 });

    expect((await reconcile(room.id, [])).status).toBe(200);
    expect(await liveCallIds(t.api, room.id)).toEqual([]);
    expect((await t.api.get(`/api/v1/rooms/${room.id}/live`)).body).toMatchObject({ start_time: null, live_participants: 0 });
  });

  it('is atomic and validated like joined: a bad item or 1001 items change nothing', async () => {
    const room = await createPhoneRoom(t.api);
    await joined(room.id, [call('keep')]);
    const bad = await reconcile(room.id, [call('x'), { call_id: 'y' }]);
    expect(bad.status).toBe(422);
    expect(Object.keys(bad.body.errors)).toEqual(['1.name', '1.caller_number']);
    const tooMany = await reconcile(room.id, Array.from({ length: 1001 }, (_, index) => call(`c${index}`)));
    expect(tooMany.status).toBe(422);
    expect((await reconcile(room.id, { call_id: 'x' })).status).toBe(422);
    expect(await liveCallIds(t.api, room.id)).toEqual(['keep']);
  });
});
