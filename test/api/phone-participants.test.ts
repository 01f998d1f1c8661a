import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createPhoneRoom, liveCallIds, recordEvents } from '../helpers/rooms.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

describe('phone participants: joined and left', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => t.stop());

  const joined = (room: string, body: unknown) => t.api.post(`/api/v1/rooms/${room}/phone-participants/joined`, body);
  const left = (room: string, body: unknown) => t.api.post(`/api/v1/rooms/${room}/phone-participants/left`, body);
  const participantRows = (roomId: string) =>
    t.running.services.store.db.selectFrom('participants').selectAll().where('room_id', '=', roomId).orderBy('join_time').orderBy('call_id').execute();
  const sessionRows = (roomId: string) => t.running.services.store.db.selectFrom('sessions').selectAll().where('room_id', '=', roomId).orderBy('start_time').execute();

  it('joined puts the calls on the live roster and answers 200 with no body at all', async () => {
    const room = await createPhoneRoom(t.api);
    const response = await joined(room.id, [
      { call_id: 'c1', name: 'John Smith', caller_number: '+1234567890', external_id: 'EXT_CALLID_123', muted: true },
      { call_id: 'c2', caller_number: '+4420000000' },
    ]);
    expect(response.status).toBe(200);
    expect(response.text).toBe('');
    expect(response.headers.get('content-length')).toBe('0');

    const live = await t.api.get(`/api/v1/rooms/${room.id}/live/participants`);
    expect(live.body.live_participants).toEqual([
      {
        id: expect.any(String),
        external_id: 'EXT_CALLID_123',
        name: 'John Smith',
        role: expect.any(String),
        join_time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/),
        type: 'phone',
        call_id: 'c1',
        caller_number: '+1234567890',
        muted: true,
        hand_raised: false,
        device: 'phone',
      },
      expect.objectContaining({ call_id: 'c2', name: '+4420000000', caller_number: '+4420000000', external_id: null, muted: false }),
    ]);
    const defaultRole = await t.running.services.store.db
      .selectFrom('rooms')
      .innerJoin('roles', 'roles.id', 'rooms.default_role_id')
      .select(['roles.id', 'roles.name'])
      .where('rooms.id', '=', room.id)
      .executeTakeFirstOrThrow();
    expect(live.body.live_participants[0].role).toBe(defaultRole.name);
    const rows = await participantRows(room.id);
    expect(rows.map((row) => [row.role_id, row.role_name, row.device, row.type, row.leave_time])).toEqual([
      [defaultRole.id, defaultRole.name, 'phone', 'phone', null],
      [defaultRole.id, defaultRole.name, 'phone', 'phone', null],
    ]);
  });

  it('takes what a DS bridge sends: fields it does not know are ignored, muted as 1, 0, "1" or "0"', async () => {
    // Laravel validates the fields it knows and ignores the rest, and its boolean rule takes
    // 1, 0, "1" and "0": a bridge that attaches its own data to a call, or sends PHP's booleans,
    // works against DS and must work here.
    const room = await createPhoneRoom(t.api);
    const response = await joined(room.id, [
      { call_id: 'm1', name: 'One', muted: 1, provider: 'twilio', meta: { leg: 'a' } },
      { call_id: 'm2', name: 'Two', muted: '0' },
      { call_id: 'm3', name: 'Three', muted: '1' },
      { call_id: 'm4', name: 'Four', muted: 0 },
    ]);
    expect(response.status, response.text).toBe(200);
    const live = await t.api.get(`/api/v1/rooms/${room.id}/live/participants`);
    expect(live.body.live_participants.map((p: { call_id: string; muted: boolean }) => [p.call_id, p.muted])).toEqual([
      ['m1', true],
      ['m2', false],
      ['m3', true],
      ['m4', false],
    ]);
    expect(live.body.live_participants[0]).not.toHaveProperty('provider');
  });

  it('left takes the calls off the roster, records leave_time and reason, and names the room by friendly_url too', async () => {
    const room = await createPhoneRoom(t.api);
    await joined(room.id, [call('a'), call('b'), call('c')]);
    const response = await left(room.friendly_url, ['a', 'b']);
    expect(response.status).toBe(200);
    expect(response.text).toBe('');
    expect(await liveCallIds(t.api, room.id)).toEqual(['c']);
    const rows = await participantRows(room.id);
    expect(rows.map((row) => [row.call_id, row.leave_reason, typeof row.leave_time])).toEqual([
      ['a', 'left', 'number'],
      ['b', 'left', 'number'],
      ['c', null, 'object'],
    ]);
  });

  it('a session opens with the first participant and closes with the last, with their events', async () => {
    const room = await createPhoneRoom(t.api);
    const recorded = recordEvents(t);
    await joined(room.id, [call('a'), call('b')]);
    await left(room.id, ['a']);
    let sessions = await sessionRows(room.id);
    expect(sessions).toEqual([expect.objectContaining({ end_time: null, live_participants: 1 })]);
    await left(room.id, ['b']);
    sessions = await sessionRows(room.id);
    expect(sessions).toEqual([expect.objectContaining({ end_time: expect.any(Number), end_reason: 'last_participant_left', live_participants: 0 })]);
    recorded.stop();

    const names = recorded.events.map((event) => event.name);
    expect(names).toEqual(['session_started', 'participant_joined', 'participant_joined', 'participant_left', 'participant_left', 'session_ended']);
    const sessionId = sessions[0]!.id;
    expect(recorded.events[0]!.data).toEqual({ session_id: sessionId, room_id: room.id, start: expect.stringMatching(/Z$/) });
    expect(recorded.events[5]!.data).toEqual({ session_id: sessionId, room_id: room.id, start: expect.any(String), end: expect.any(String), reason: 'last_participant_left' });
    expect(recorded.events[3]!.data).toEqual({
      participant_id: expect.any(String),
      room_id: room.id,
      session_id: sessionId,
      name: 'Caller a',
      role: expect.any(String),
      external_id: null,
      type: 'phone',
      device: 'phone',
      join_time: expect.stringMatching(/Z$/),
      leave_time: expect.stringMatching(/Z$/),
      reason: 'left',
      call_id: 'a',
      caller_number: null,
      muted: false,
      hand_raised: false,
    });
    expect(recorded.events.map((event) => event.seq)).toEqual([1, 2, 3, 4, 5, 6].map((n) => n + recorded.events[0]!.seq - 1));

    await joined(room.id, [call('z')]);
    expect((await sessionRows(room.id)).map((session) => session.end_time === null)).toEqual([false, true]);
  });

  it('one invalid item refuses the whole batch with a 422 naming it, and applies nothing', async () => {
    const room = await createPhoneRoom(t.api);
    await joined(room.id, [call('keep')]);
    const bad = await joined(room.id, [call('new-1'), { name: 'No call id' }, call('new-2')]);
    expect(bad.status).toBe(422);
    expect(bad.body.errors).toEqual({ '1.call_id': ['The 1.call_id field is required.'] });
    expect(bad.body.message).toBe('The 1.call_id field is required.');

    const cases: Array<[unknown[], string]> = [
      [[call('n1'), { call_id: 'x'.repeat(256), name: 'n' }], '1.call_id'],
      [[call('n1'), { call_id: 'n2', name: 'x'.repeat(256) }], '1.name'],
      [[call('n1'), { call_id: 'n2', caller_number: 'x'.repeat(65) }], '1.caller_number'],
      [[call('n1'), { call_id: 'n2', name: 'n', muted: 'yes' }], '1.muted'],
      [[call('n1'), { call_id: 'n2', name: 'n', muted: 2 }], '1.muted'],
      [[call('n1'), { call_id: 'n2', name: 'n', muted: 'true' }], '1.muted'],
      [[call('n1'), { call_id: 7, name: 'n' }], '1.call_id'],
      [[call('n1'), { call_id: '', name: 'n' }], '1.call_id'],
      [[call('n1'), 'n2'], '1'],
      [[call('n1'), { call_id: 'n2' }], '1.name'],
      [[call('n1'), { call_id: 'n2', name: '', caller_number: null }], '1.caller_number'],
    ];
    for (const [body, field] of cases) {
      const response = await joined(room.id, body);
      expect(response.status, JSON.stringify(body)).toBe(422);
      expect(Object.keys(response.body.errors), JSON.stringify(body)).toContain(field);
    }
    const badLeft = await left(room.id, ['keep', 42]);
    expect(badLeft.status).toBe(422);
    expect(badLeft.body.errors).toEqual({ '1': ['The 1 field must be a string.'] });
    expect(await liveCallIds(t.api, room.id)).toEqual(['keep']);
  });

  it('takes 1000 calls in one batch and refuses 1001; empty and non-array bodies are 422 too', async () => {
    const room = await createPhoneRoom(t.api);
    const ids = Array.from({ length: 1001 }, (_, index) => `call-${String(index).padStart(4, '0')}`);
    expect((await joined(room.id, ids.map((id) => call(id)))).status).toBe(422);
    expect(await liveCallIds(t.api, room.id)).toEqual([]);
    expect((await joined(room.id, ids.slice(0, 1000).map((id) => call(id)))).status).toBe(200);
    expect((await t.api.get(`/api/v1/rooms/${room.id}/live`)).body.live_participants).toBe(1000);
    const tooMany = await left(room.id, ids);
    expect(tooMany.status).toBe(422);
    expect(tooMany.body.errors).toEqual({ body: ['The body field must not have more than 1000 items.'] });
    expect((await left(room.id, ids.slice(0, 1000))).status).toBe(200);
    expect(await liveCallIds(t.api, room.id)).toEqual([]);

    for (const body of [{}, { call_id: 'a', name: 'A' }, 'a', 5, null, []]) {
      expect((await joined(room.id, body)).status, JSON.stringify(body)).toBe(422);
      expect((await left(room.id, body)).status, JSON.stringify(body)).toBe(422);
    }
    expect((await joined(room.id, {})).body.errors).toEqual({ body: ['The body field must be an array.'] });
  });

  it('answers malformed JSON, a wrong content type and a missing body with a 4xx, not a 500', async () => {
    const room = await createPhoneRoom(t.api);
    const path = `/api/v1/rooms/${room.id}/phone-participants/left`;
    const malformed = await t.api.request('POST', path, { raw: '["a",', headers: { 'content-type': 'application/json' } });
    expect(malformed.status).toBe(400);
    const wrongType = await t.api.request('POST', path, { raw: '<a/>', headers: { 'content-type': 'application/xml' } });
    expect(wrongType.status).toBe(415);
    const missing = await t.api.request('POST', path);
    expect(missing.status).toBeGreaterThanOrEqual(400);
    expect(missing.status).toBeLessThan(500);
  });

  it('a repeated joined updates the live call instead of duplicating it; within a batch the last report wins', async () => {
    const room = await createPhoneRoom(t.api);
    await joined(room.id, [call('a', { caller_number: '+1' })]);
    const [first] = (await t.api.get(`/api/v1/rooms/${room.id}/live/participants`)).body.live_participants;
    const recorded = recordEvents(t);
    expect((await joined(room.id, [call('a', { caller_number: '+1' })])).status).toBe(200);
    expect(recorded.events).toEqual([]);

    await joined(room.id, [call('a', { name: 'Renamed', external_id: 'x1' }), call('b', { name: 'First' }), call('b', { name: 'Last', muted: true })]);
    recorded.stop();
    const live = (await t.api.get(`/api/v1/rooms/${room.id}/live/participants`)).body.live_participants;
    expect(live).toEqual([
      { ...first, name: 'Renamed', external_id: 'x1' },
      expect.objectContaining({ call_id: 'b', name: 'Last', muted: true }),
    ]);
    expect(await participantRows(room.id)).toHaveLength(2);
    // New details are announced under the same participant id, as a change (no second join for webhooks).
    expect(recorded.events.map((event) => [event.name, event.data.participant_id])).toEqual([
      ['participant_details_changed', first.id],
      ['participant_joined', live[1].id],
    ]);
  });

  it('left of unknown or already-left calls is a 200 that changes nothing', async () => {
    const room = await createPhoneRoom(t.api);
    await joined(room.id, [call('a')]);
    await left(room.id, ['a']);
    const recorded = recordEvents(t);
    expect((await left(room.id, ['a', 'never-seen'])).status).toBe(200);
    recorded.stop();
    expect(recorded.events).toEqual([]);
    expect(await participantRows(room.id)).toHaveLength(1);
  });

  it('never brings back a call that left, whether the left came after its joined or before it', async () => {
    const room = await createPhoneRoom(t.api);
    await joined(room.id, [call('late')]);
    await left(room.id, ['late']);
    await left(room.id, ['early']);
    expect((await joined(room.id, [call('late'), call('early'), call('fresh')])).status).toBe(200);
    expect(await liveCallIds(t.api, room.id)).toEqual(['fresh']);
    expect((await participantRows(room.id)).map((row) => row.call_id)).toEqual(['late', 'fresh']);

    // Tombstones belong to the room: the same call id may join another room.
    const other = await createPhoneRoom(t.api);
    await joined(other.id, [call('late')]);
    expect(await liveCallIds(t.api, other.id)).toEqual(['late']);

    // And go with it: a deleted room takes no more joins, so they guard nothing.
    const { db } = t.running.services.store;
    const tombstones = () => db.selectFrom('call_tombstones').select('call_id').where('room_id', '=', room.id).execute();
    expect(await tombstones()).toEqual([{ call_id: 'early' }]);
    expect((await t.api.delete(`/api/v1/rooms/${room.id}`)).status).toBe(204);
    expect(await tombstones()).toEqual([]);
  });
});

describe('phone calls: hands and mute', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => t.stop());

  const action = (room: string, callId: string, name: string) => t.api.post(`/api/v1/rooms/${room}/phone-participants/${encodeURIComponent(callId)}/${name}`);
  const liveCall = async (room: string, callId: string) =>
    ((await t.api.get(`/api/v1/rooms/${room}/live/participants`)).body.live_participants as any[]).find((participant) => participant.call_id === callId);

  it('raise-hand, lower-hand, mute and unmute change the flags, announce each change once and record it', async () => {
    const room = await createPhoneRoom(t.api);
    await t.api.post(`/api/v1/rooms/${room.id}/phone-participants/joined`, [call('c/1 x')]);
    const participant = await liveCall(room.id, 'c/1 x');
    const recorded = recordEvents(t);

    for (const [name, flags] of [
      ['raise-hand', { hand_raised: true, muted: false }],
      ['raise-hand', { hand_raised: true, muted: false }],
      ['mute', { hand_raised: true, muted: true }],
      ['mute', { hand_raised: true, muted: true }],
      ['lower-hand', { hand_raised: false, muted: true }],
      ['unmute', { hand_raised: false, muted: false }],
    ] as const) {
      const response = await action(room.id, 'c/1 x', name);
      expect(response.status, name).toBe(200);
      expect(response.text, name).toBe('');
      expect(await liveCall(room.id, 'c/1 x'), name).toMatchObject(flags);
    }
    recorded.stop();

    // Repeats change nothing and announce nothing.
    expect(recorded.events.map((event) => event.name)).toEqual([
      'participant_hand_raised',
      'phone_participant_muted',
      'participant_hand_lowered',
      'phone_participant_unmuted',
    ]);
    for (const event of recorded.events) {
      expect(event.data).toMatchObject({ participant_id: participant.id, room_id: room.id, call_id: 'c/1 x' });
    }
    const activity = await t.running.services.store.db
      .selectFrom('participant_activity')
      .select(['kind', 'at'])
      .where('participant_id', '=', participant.id)
      .orderBy('at')
      .execute();
    expect(activity.map((row) => row.kind).sort()).toEqual(['hand_lowered', 'hand_raised', 'muted', 'unmuted']);
  });

  it('joining muted starts a mute period; a joined that changes muted announces it like mute does', async () => {
    const room = await createPhoneRoom(t.api);
    await t.api.post(`/api/v1/rooms/${room.id}/phone-participants/joined`, [call('m', { muted: true })]);
    const participant = await liveCall(room.id, 'm');
    const recorded = recordEvents(t);
    await t.api.post(`/api/v1/rooms/${room.id}/phone-participants/joined`, [call('m', { muted: false })]);
    recorded.stop();
    expect(recorded.events.map((event) => event.name)).toEqual(['phone_participant_unmuted']);
    const kinds = await t.running.services.store.db.selectFrom('participant_activity').select('kind').where('participant_id', '=', participant.id).execute();
    expect(kinds.map((row) => row.kind).sort()).toEqual(['muted', 'unmuted']);
  });

  it('is a 404 for a call that is not live in the room', async () => {
    const room = await createPhoneRoom(t.api);
    const other = await createPhoneRoom(t.api);
    await t.api.post(`/api/v1/rooms/${room.id}/phone-participants/joined`, [call('gone'), call('elsewhere')]);
    await t.api.post(`/api/v1/rooms/${room.id}/phone-participants/left`, ['gone']);
    for (const name of ['raise-hand', 'lower-hand', 'mute', 'unmute']) {
      for (const [roomId, callId] of [
        [room.id, 'gone'],
        [room.id, 'never'],
        [other.id, 'elsewhere'],
      ] as const) {
        const response = await action(roomId, callId, name);
        expect(response.status, `${name} ${callId}`).toBe(404);
        expect(response.body).toEqual({ message: 'Not Found', error: 'not-found' });
      }
    }
  });
});

describe('another team', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => t.stop());

  it("sees a 404 on every roster route of a room that is not its own, exactly like a missing room, and changes nothing", async () => {
    const room = await createPhoneRoom(t.api);
    await t.api.post(`/api/v1/rooms/${room.id}/phone-participants/joined`, [call('a'), call('b')]);
    await t.api.post(`/api/v1/rooms/${room.id}/phone/connect`);
    const before = await t.api.get(`/api/v1/rooms/${room.id}/live/participants`);
    const missing = '00000000-0000-4000-8000-000000000000';

    const routes: Array<[string, string, unknown]> = [
      ['POST', 'phone-participants/joined', [call('c')]],
      ['POST', 'phone-participants/left', ['a']],
      ['PUT', 'phone-participants', []],
      ['POST', 'phone-participants/a/raise-hand', undefined],
      ['POST', 'phone-participants/a/lower-hand', undefined],
      ['POST', 'phone-participants/a/mute', undefined],
      ['POST', 'phone-participants/a/unmute', undefined],
      ['POST', 'phone/connect', undefined],
      ['POST', 'phone/disconnect', undefined],
      ['GET', 'live', undefined],
      ['GET', 'live/participants', undefined],
      ['GET', 'live/events', undefined],
    ];
    for (const ref of [room.id, room.friendly_url, missing]) {
      for (const [method, path, body] of routes) {
        const client = ref === missing ? t.api : t.apiB;
        const response = await client.request(method, `/api/v1/rooms/${ref}/${path}`, { body });
        expect(response.status, `${method} ${path} (${ref})`).toBe(404);
        expect(response.body, `${method} ${path}`).toEqual({ message: 'Not Found', error: 'not-found' });
      }
    }
    for (const path of ['live', 'live/participants']) {
      expect((await t.apiB.get(`/api/v1/rooms/${path}`)).body).toEqual({ total_count: 0, data: [] });
    }
    // Unchanged, but for the session's running duration (seconds pass while the loop runs).
    const after = (await t.api.get(`/api/v1/rooms/${room.id}/live/participants`)).body;
    expect({ ...after, session_duration: 0 }).toEqual({ ...before.body, session_duration: 0 });
    const stored = await t.running.services.store.db.selectFrom('rooms').select('phone_connected').where('id', '=', room.id).executeTakeFirstOrThrow();
    expect(stored.phone_connected).toBe(1);
  });

  it('needs credentials on every roster route', async () => {
    const room = await createPhoneRoom(t.api);
    const anonymous = t.client({ kind: 'none' });
    for (const [method, path] of [
      ['POST', `rooms/${room.id}/phone-participants/left`],
      ['GET', 'rooms/live'],
      ['GET', `rooms/${room.id}/live/events`],
    ]) {
      const response = await anonymous.request(method!, `/api/v1/${path}`, { body: method === 'POST' ? ['a'] : undefined });
      expect(response.status, path).toBe(401);
      expect(response.body).toEqual({ message: 'Unauthenticated.' });
    }
  });
});
