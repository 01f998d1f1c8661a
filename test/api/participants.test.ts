import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dsDateTime, isoTime, ManualClock } from '../../src/domain/clock.js';
import { leaveParticipants, lockRosterRoom } from '../../src/domain/roster-changes.js';
import { findRoom } from '../../src/store/repos/rooms.js';
import { liveParticipants } from '../../src/store/repos/roster.js';
import { call, type CreatedRoom, createPhoneRoom, joinWebParticipant, recordEvents } from '../helpers/rooms.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const NOT_FOUND = { message: 'Not Found', error: 'not-found' };

describe('participants', () => {
  const clock = new ManualClock(Date.UTC(2026, 5, 1, 14));
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ clock });
  });
  afterAll(async () => t.stop());

  const joined = (room: CreatedRoom, calls: unknown[]) => t.api.post(`/api/v1/rooms/${room.id}/phone-participants/joined`, calls);
  const left = (room: CreatedRoom, callIds: string[]) => t.api.post(`/api/v1/rooms/${room.id}/phone-participants/left`, callIds);
  const callAction = (room: CreatedRoom, callId: string, action: string) => t.api.post(`/api/v1/rooms/${room.id}/phone-participants/${callId}/${action}`);

  /** A web participant joins through the roster itself, as the room page does; answers its id. */
  function joinWeb(room: CreatedRoom, device: string, externalId: string | null = null): Promise<string> {
    return joinWebParticipant(t, room.id, { name: `Web ${device}`, device, externalId });
  }

  function leaveWeb(room: CreatedRoom, participantId: string): Promise<void> {
    return t.running.services.changes.run(async function leaveWebParticipant(change) {
      const row = (await findRoom(change.trx, t.teamA.team_id, room.id))!;
      await lockRosterRoom(change, row.id);
      const leaving = (await liveParticipants(change.trx, row.id)).filter((participant) => participant.id === participantId);
      await leaveParticipants(change, row, leaving, 'left');
    });
  }

  async function listOf(path: string): Promise<any> {
    const response = await t.api.get(`/api/v1${path}`);
    expect(response.status, response.text).toBe(200);
    return response.body;
  }

  it('lists participation records, web and phone, in the DS shape with roomline fields', async () => {
    const room = await createPhoneRoom(t.api, { external_id: 'ROOM-EXT' });
    const role = (await t.api.get(`/api/v1/rooms/${room.id}`)).body.default_role.name;
    const start = clock.now();
    await joined(room, [{ call_id: 'c1', caller_number: '+15550001' }]);
    clock.advance(MINUTE);
    const webId = await joinWeb(room, 'tablet', 'user-1');
    clock.advance(MINUTE);
    await left(room, ['c1']);

    const list = await listOf(`/participants?room_id=${room.id}&order=asc`);
    const sessionId = list.data[0].session_id;
    expect(list).toEqual({
      // DS sends this list's count as text.
      total_count: '2',
      data: [
        {
          id: expect.any(String),
          external_id: null,
          session_id: sessionId,
          room_id: room.id,
          room_external_id: 'ROOM-EXT',
          room_is_deleted: false,
          name: '+15550001',
          role,
          friendly_url: room.friendly_url,
          // The participants lists' form, as DS sends it: "2024-03-03 08:01:01".
          join_time: dsDateTime(start),
          leave_time: dsDateTime(start + 2 * MINUTE),
          live: false,
          type: 'phone',
          device: 'phone',
          call_id: 'c1',
          caller_number: '+15550001',
          leave_reason: 'left',
        },
        {
          id: webId,
          external_id: 'user-1',
          session_id: sessionId,
          room_id: room.id,
          room_external_id: 'ROOM-EXT',
          room_is_deleted: false,
          name: 'Web tablet',
          role,
          friendly_url: room.friendly_url,
          join_time: dsDateTime(start + MINUTE),
          leave_time: null,
          live: true,
          type: 'web',
          device: 'tablet',
          call_id: null,
          caller_number: null,
          leave_reason: null,
        },
      ],
    });
    expect(await listOf(`/rooms/${room.friendly_url}/participants?order=asc`)).toEqual(list);
  });

  it('filters by join day, live, room and session, and pages with limit, offset, order and after', async () => {
    const room = await createPhoneRoom(t.api);
    const other = await createPhoneRoom(t.api);
    clock.set(Date.UTC(2026, 6, 1, 23, 0));
    await joined(room, [call('d1-a'), call('d1-b')]);
    clock.set(Date.UTC(2026, 6, 2, 1, 0));
    await left(room, ['d1-a', 'd1-b']);
    await joined(room, [call('d2')]);
    clock.advance(SECOND);
    await joined(other, [call('elsewhere')]);
    const [firstSession, secondSession] = (await listOf(`/rooms/${room.id}/sessions?order=asc`)).data.map((session: any) => session.id);

    const callIds = async (path: string) => {
      const body = await listOf(path);
      expect(typeof body.total_count, path).toBe('string');
      return [Number(body.total_count), body.data.map((participant: any) => participant.call_id)];
    };
    expect(await callIds(`/rooms/${room.id}/participants`)).toEqual([3, ['d2', 'd1-b', 'd1-a']]);
    expect(await callIds(`/rooms/${room.id}/participants?date_start=2026-07-01&date_end=2026-07-01&order=asc`)).toEqual([2, ['d1-a', 'd1-b']]);
    expect(await callIds(`/rooms/${room.id}/participants?date_start=2026-07-02`)).toEqual([1, ['d2']]);
    expect(await callIds(`/rooms/${room.id}/participants?live=false&order=asc`)).toEqual([2, ['d1-a', 'd1-b']]);
    expect(await callIds(`/rooms/${room.id}/participants?session_id=${secondSession}`)).toEqual([1, ['d2']]);
    expect(await callIds(`/rooms/${room.id}/participants?limit=1&offset=1`)).toEqual([3, ['d1-b']]);
    expect(await callIds(`/participants?date_start=2026-07-01&live=true`)).toEqual([2, ['elsewhere', 'd2']]);
    expect(await callIds(`/participants?session_id=${firstSession}&order=asc`)).toEqual([2, ['d1-a', 'd1-b']]);
    expect(await callIds(`/participants?session_id=not-a-session`)).toEqual([0, []]);
    expect(await callIds(`/participants?room_id=${other.friendly_url}`)).toEqual([1, ['elsewhere']]);
    const d1b = (await listOf(`/rooms/${room.id}/participants?order=asc&limit=2`)).data[1].id;
    expect(await callIds(`/rooms/${room.id}/participants?order=asc&after=${d1b}`)).toEqual([3, ['d2']]);

    for (const [query, field] of [
      ['date_start=2026-07-32', 'date_start'],
      ['date_start=2026-07-02&date_end=2026-07-01', 'date_end'],
      ['after=0d9a3d3e-27b1-4e8f-9d39-5a0e2f4c1b7a', 'after'],
    ]) {
      const response = await t.api.get(`/api/v1/rooms/${room.id}/participants?${query}`);
      expect([response.status, Object.keys(response.body.errors ?? {})], query).toEqual([422, [field]]);
    }
  });

  it('gives participants time-ordered ids (UUID version 7): a later join sorts after an earlier one', async () => {
    const room = await createPhoneRoom(t.api);
    // Three batches, a second apart: the list's order is the joins' order.
    for (let batch = 0; batch < 3; batch++) {
      await joined(room, [call(`t${batch}-a`), call(`t${batch}-b`), call(`t${batch}-c`)]);
      clock.advance(SECOND);
    }
    const list = (await listOf(`/rooms/${room.id}/participants?order=asc`)).data;
    expect(list.map((participant: any) => participant.call_id)).toEqual(['t0-a', 't0-b', 't0-c', 't1-a', 't1-b', 't1-c', 't2-a', 't2-b', 't2-c']);
    const ids: string[] = list.map((participant: any) => participant.id);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect([...ids].sort()).toEqual(ids);
  });

  it("answers another team's participant or room exactly like a missing one", async () => {
    const room = await createPhoneRoom(t.api);
    await joined(room, [call('private')]);
    const [participant] = (await listOf(`/rooms/${room.id}/participants`)).data;
    for (const path of [
      `/participants/${participant.id}`,
      `/participants/${participant.id}/statistics`,
      '/participants/0d9a3d3e-27b1-4e8f-9d39-5a0e2f4c1b7a',
      '/participants/nope',
      `/rooms/${room.id}/participants`,
    ]) {
      const response = await t.apiB.get(`/api/v1${path}`);
      expect([response.status, response.body], path).toEqual([404, NOT_FOUND]);
    }
    for (const action of ['raise-hand', 'lower-hand']) {
      const response = await t.apiB.post(`/api/v1/rooms/${room.id}/participants/${participant.id}/${action}`);
      expect([response.status, response.body]).toEqual([404, NOT_FOUND]);
    }
    expect((await t.apiB.get(`/api/v1/participants?room_id=${room.id}`)).body).toEqual({ total_count: '0', data: [] });
  });

  it("shows a phone participant's attendance: minutes, mute periods, hand raises and why it left", async () => {
    const room = await createPhoneRoom(t.api, { external_id: 'ATT' });
    const start = clock.now();
    await joined(room, [call('att', { muted: true, caller_number: '+15550002' })]);
    clock.advance(2 * MINUTE);
    await callAction(room, 'att', 'unmute');
    clock.advance(MINUTE);
    await callAction(room, 'att', 'raise-hand');
    clock.advance(30 * SECOND);
    await callAction(room, 'att', 'lower-hand');
    clock.advance(MINUTE);
    await callAction(room, 'att', 'mute');
    clock.advance(MINUTE);
    await t.api.post(`/api/v1/rooms/${room.id}/phone/disconnect`);
    const [participant] = (await listOf(`/rooms/${room.id}/participants`)).data;

    const detail = await listOf(`/participants/${participant.id}`);
    const at = (offset: number) => isoTime(start + offset);
    expect(detail).toEqual({
      room_id: room.id,
      room_external_id: 'ATT',
      room_friendly_url: room.friendly_url,
      room_privacy: 'public',
      room_is_deleted: false,
      session_id: participant.session_id,
      live: false,
      participant_name: 'Caller att',
      role: participant.role,
      join_time: at(0),
      leave_time: at(5.5 * MINUTE),
      device: 'phone',
      system: null,
      browser: null,
      e2ee: false,
      // 5 min 30 s round to 6.
      participation_minutes: 6,
      public_chat_posts: 0,
      questions: 0,
      answers: 0,
      id: participant.id,
      type: 'phone',
      external_id: null,
      call_id: 'att',
      caller_number: '+15550002',
      muted: true,
      hand_raised: false,
      leave_reason: 'bridge_disconnected',
      segments: [
        { kind: 'present', start: at(0), end: at(5.5 * MINUTE) },
        { kind: 'muted', start: at(0), end: at(2 * MINUTE) },
        { kind: 'hand_raised', start: at(3 * MINUTE), end: at(3.5 * MINUTE) },
        { kind: 'muted', start: at(4.5 * MINUTE), end: at(5.5 * MINUTE) },
      ],
    });
    expect(await listOf(`/participants/${participant.id}/statistics`)).toEqual(detail);
  });

  it('raises and lowers the hand of a live web participant, with its events, and counts a live one up to now', async () => {
    const room = await createPhoneRoom(t.api);
    const start = clock.now();
    const webId = await joinWeb(room, 'desktop');
    clock.advance(MINUTE);
    const hand = (action: string, participantId = webId, roomRef = room.id) => t.api.post(`/api/v1/rooms/${roomRef}/participants/${participantId}/${action}`);

    const recorded = recordEvents(t);
    const raised = await hand('raise-hand');
    expect([raised.status, raised.text]).toEqual([200, '']);
    expect((await hand('raise-hand')).status).toBe(200);
    clock.advance(MINUTE);
    expect((await hand('lower-hand')).status).toBe(200);
    recorded.stop();
    expect(recorded.events.map((event) => [event.name, event.data.participant_id, event.data.hand_raised])).toEqual([
      ['participant_hand_raised', webId, true],
      ['participant_hand_lowered', webId, false],
    ]);

    clock.advance(MINUTE);
    const detail = await listOf(`/participants/${webId}`);
    expect(detail).toMatchObject({ live: true, leave_time: null, participation_minutes: 3, type: 'web', device: 'desktop', hand_raised: false, leave_reason: null });
    expect(detail.segments).toEqual([
      { kind: 'present', start: isoTime(start), end: null },
      { kind: 'hand_raised', start: isoTime(start + MINUTE), end: isoTime(start + 2 * MINUTE) },
    ]);

    const elsewhere = await createPhoneRoom(t.api);
    expect((await hand('raise-hand', webId, elsewhere.id)).status).toBe(404);
    expect((await hand('raise-hand', '0d9a3d3e-27b1-4e8f-9d39-5a0e2f4c1b7a')).status).toBe(404);
    await leaveWeb(room, webId);
    const gone = await hand('raise-hand');
    expect([gone.status, gone.body]).toEqual([404, NOT_FOUND]);
  });
});
