import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dsDateTime, isoTime, isoTimeMicros, ManualClock } from '../../src/domain/clock.js';
import { call, createPhoneRoom, recordEvents, type CreatedRoom } from '../helpers/rooms.js';
import { startTestServer, waitFor, type ApiClient, type TestServer } from '../helpers/server.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const NOT_FOUND = { message: 'Not Found', error: 'not-found' };

const joined = (api: ApiClient, room: string, calls: unknown[]) => api.post(`/api/v1/rooms/${room}/phone-participants/joined`, calls);
const left = (api: ApiClient, room: string, callIds: string[]) => api.post(`/api/v1/rooms/${room}/phone-participants/left`, callIds);

async function sessionsOf(api: ApiClient, room: CreatedRoom): Promise<any[]> {
  const response = await api.get(`/api/v1/rooms/${room.id}/sessions?order=asc`);
  expect(response.status).toBe(200);
  return response.body.data;
}

describe('sessions', () => {
  const clock = new ManualClock(Date.UTC(2026, 2, 10, 9));
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ clock });
  });
  afterAll(async () => t.stop());

  it('lists sessions in the DS shape, field for field, live and then ended', async () => {
    const room = await createPhoneRoom(t.api, { description: 'Sales call', external_id: 'EXT-1' });
    const start = clock.now();
    await joined(t.api, room.id, [call('a'), call('b')]);
    clock.advance(2 * MINUTE);
    await joined(t.api, room.id, [call('c')]);
    clock.advance(3 * MINUTE);
    await left(t.api, room.id, ['a']);

    const live = await t.api.get(`/api/v1/sessions?room_id=${room.id}`);
    expect(live.status).toBe(200);
    const [session] = live.body.data;
    expect(live.body).toEqual({
      // DS sends this list's count as text.
      total_count: '1',
      data: [
        {
          id: session.id,
          start_time: isoTimeMicros(start),
          end_time: null,
          room_id: room.id,
          room_external_id: 'EXT-1',
          description: 'Sales call',
          friendly_url: room.friendly_url,
          room_is_deleted: false,
          participants_live: 2,
          participants_total: 3,
          participants_max: 3,
          live: true,
          end_reason: null,
        },
      ],
    });

    clock.advance(MINUTE);
    await left(t.api, room.id, ['b', 'c']);
    expect(await sessionsOf(t.api, room)).toEqual([
      { ...live.body.data[0], end_time: isoTimeMicros(start + 6 * MINUTE), participants_live: 0, live: false, end_reason: 'last_participant_left' },
    ]);
  });

  it('filters by start day, live and room, and pages with limit, offset, order and after', async () => {
    const room = await createPhoneRoom(t.api);
    const other = await createPhoneRoom(t.api);
    const ids: string[] = [];
    for (const [index, day] of [1, 2].entries()) {
      clock.set(Date.UTC(2026, 3, day, 23, 59, 59));
      await joined(t.api, room.id, [call(`day-${index}`)]);
      clock.advance(10 * MINUTE);
      await left(t.api, room.id, [`day-${index}`]);
      ids.push((await sessionsOf(t.api, room))[index].id);
    }
    clock.set(Date.UTC(2026, 3, 3, 8));
    await joined(t.api, other.friendly_url, [call('still-here')]);
    const liveId = (await sessionsOf(t.api, other))[0].id;

    const list = async (query: string) => {
      const response = await t.api.get(`/api/v1/sessions?${query}`);
      expect(response.status, response.text).toBe(200);
      expect(typeof response.body.total_count, query).toBe('string');
      return [Number(response.body.total_count), response.body.data.map((session: any) => session.id)];
    };
    const [first, second] = ids;
    expect(await list('date_start=2026-04-01&date_end=2026-04-02')).toEqual([2, [second, first]]);
    expect(await list('date_start=2026-04-02&date_end=2026-04-02')).toEqual([1, [second]]);
    expect(await list('date_start=2026-04-01&date_end=2026-04-03&order=asc')).toEqual([3, [first, second, liveId]]);
    expect(await list('date_start=2026-04-01&limit=1')).toEqual([3, [liveId]]);
    expect(await list('date_start=2026-04-01&limit=1&offset=1')).toEqual([3, [second]]);
    expect(await list(`date_start=2026-04-01&after=${second}`)).toEqual([3, [first]]);
    expect(await list(`date_start=2026-04-01&order=asc&after=${first}`)).toEqual([3, [second, liveId]]);
    expect(await list('date_start=2026-04-01&live=true')).toEqual([1, [liveId]]);
    expect(await list('date_start=2026-04-01&live=false')).toEqual([2, [second, first]]);
    // PHP's http_build_query sends true and false as 1 and 0, and Laravel's boolean rule takes them.
    expect(await list('date_start=2026-04-01&live=1')).toEqual([1, [liveId]]);
    expect(await list('date_start=2026-04-01&live=0')).toEqual([2, [second, first]]);
    // A parameter the list does not know (a page number, a tracking tag) is ignored, as DS ignores it.
    expect(await list('date_start=2026-04-01&live=0&page=2&utm_source=x')).toEqual([2, [second, first]]);
    expect(await list(`room_id=${other.friendly_url}`)).toEqual([1, [liveId]]);
    expect(await list(`room_id=${other.id}&live=false`)).toEqual([0, []]);
    expect(await list('room_id=0d9a3d3e-27b1-4e8f-9d39-5a0e2f4c1b7a')).toEqual([0, []]);

    const ofRoom = await t.api.get(`/api/v1/rooms/${room.friendly_url}/sessions?date_end=2026-04-01`);
    expect(ofRoom.body.data.map((session: any) => session.id)).toEqual([first]);
  });

  it('refuses malformed dates, a range ending before it starts and an unknown after, with 422s naming the field', async () => {
    for (const [query, field] of [
      ['date_start=2026-13-01', 'date_start'],
      ['date_start=2026-02-30', 'date_start'],
      ['date_end=01/02/2026', 'date_end'],
      ['date_start=2026-03-02&date_end=2026-03-01', 'date_end'],
      ['after=0d9a3d3e-27b1-4e8f-9d39-5a0e2f4c1b7a', 'after'],
      ['live=maybe', 'live'],
    ]) {
      const response = await t.api.get(`/api/v1/sessions?${query}`);
      expect(response.status, query).toBe(422);
      expect(Object.keys(response.body.errors), query).toEqual([field]);
    }
  });

  it("answers another team's session or room exactly like a missing one", async () => {
    const room = await createPhoneRoom(t.api);
    await joined(t.api, room.id, [call('mine')]);
    const [session] = await sessionsOf(t.api, room);
    for (const id of [session.id, '0d9a3d3e-27b1-4e8f-9d39-5a0e2f4c1b7a', 'not-a-session']) {
      for (const path of [`/sessions/${id}`, `/sessions/${id}/statistics`, `/sessions/${id}/participants`]) {
        const response = await t.apiB.get(`/api/v1${path}`);
        expect([response.status, response.body], path).toEqual([404, NOT_FOUND]);
      }
      const end = await t.apiB.post(`/api/v1/sessions/${id}/end`);
      expect([end.status, end.body]).toEqual([404, NOT_FOUND]);
    }
    expect((await t.apiB.get(`/api/v1/rooms/${room.id}/sessions`)).status).toBe(404);
    expect((await t.apiB.get('/api/v1/sessions')).body).toEqual({ total_count: '0', data: [] });
    expect((await t.apiB.get(`/api/v1/sessions?room_id=${room.id}`)).body).toEqual({ total_count: '0', data: [] });
    expect(await sessionsOf(t.api, room)).toEqual([expect.objectContaining({ id: session.id, live: true })]);
  });

  it("shows one session's statistics in the spec's shape, a live session counted up to now", async () => {
    const room = await createPhoneRoom(t.api, { description: 'Stand-up', external_id: 'EXT-S', max_participants: 50 });
    const start = clock.now();
    await joined(t.api, room.id, [call('a')]);
    clock.advance(90 * SECOND);
    await joined(t.api, room.id, [call('b')]);
    clock.set(start + 10 * MINUTE);
    await left(t.api, room.id, ['a']);
    clock.set(start + 20 * MINUTE);
    const [session] = await sessionsOf(t.api, room);

    const response = await t.api.get(`/api/v1/sessions/${session.id}`);
    expect(response.status).toBe(200);
    const zeros = {
      broadcasted_minutes: 0, subscribed_minutes: 0, screen_broadcasted_minutes: 0, screen_subscribed_minutes: 0,
      transcription_minutes: 0, e2ee_minutes: 0, recorded_minutes: 0, stored_recorded_minutes: 0, whiteboard_minutes: 0, captions_minutes: 0,
      breakout_minutes: 0, presentation_minutes: 0, public_chat_posts: 0, questions: 0, answers: 0, polls: 0,
    };
    expect(response.body).toEqual({
      room_id: room.id,
      room_external_id: 'EXT-S',
      room_description: 'Stand-up',
      room_friendly_url: room.friendly_url,
      room_privacy: room.privacy,
      room_source: 'api',
      room_max_participants: 50,
      room_is_deleted: false,
      session_id: session.id,
      session_duration: 20,
      session_live: true,
      session_start_time: isoTime(start),
      session_end_time: null,
      // a: 10 min; b: 18 min 30 s; 28.5 minutes round to 29.
      participation_minutes: 29,
      desktop_participation_minutes: 0,
      mobile_participation_minutes: 0,
      tablet_participation_minutes: 0,
      smarttv_participation_minutes: 0,
      phone_participation_minutes: 29,
      live_participants: 1,
      active_participants: 2,
      desktop_participants: 0,
      mobile_participants: 0,
      tablet_participants: 0,
      smarttv_participants: 0,
      phone_participants: 2,
      max_concurrent_participants: 2,
      active_roles: 1,
      ...zeros,
    });
    expect((await t.api.get(`/api/v1/sessions/${session.id}/statistics`)).body).toEqual(response.body);

    const picked = await t.api.get(`/api/v1/sessions/${session.id}/statistics?metrics=phone_participants,participation_minutes,recorded_minutes`);
    expect(Object.keys(picked.body).filter((key) => !key.startsWith('room_') && !key.startsWith('session_'))).toEqual([
      'participation_minutes',
      'phone_participants',
      'recorded_minutes',
    ]);
    const unknown = await t.api.get(`/api/v1/sessions/${session.id}?metrics=participation_minutes,sessions,bogus`);
    expect(unknown.status).toBe(422);
    expect(unknown.body.errors).toEqual({ metrics: ['The selected metrics is invalid: sessions, bogus.'] });
  });

  it("lists one session's participants, paged by join time", async () => {
    const room = await createPhoneRoom(t.api);
    await joined(t.api, room.id, [call('p1'), call('p2')]);
    clock.advance(MINUTE);
    await joined(t.api, room.id, [call('p3')]);
    await left(t.api, room.id, ['p1']);
    const [session] = await sessionsOf(t.api, room);
    const list = async (query: string) => (await t.api.get(`/api/v1/sessions/${session.id}/participants?${query}`)).body;
    expect((await list('order=asc')).data.map((participant: any) => participant.call_id)).toEqual(['p1', 'p2', 'p3']);
    expect(await list('limit=1')).toEqual({ total_count: '3', data: [expect.objectContaining({ call_id: 'p3', session_id: session.id, room_id: room.id })] });
    expect((await list('live=true&order=asc')).data.map((participant: any) => participant.call_id)).toEqual(['p2', 'p3']);
  });

  it('POST /sessions/{id}/end makes everyone leave with session_ended and closes the session; again it is a 422', async () => {
    const room = await createPhoneRoom(t.api);
    await joined(t.api, room.id, [call('x'), call('y')]);
    const [session] = await sessionsOf(t.api, room);
    clock.advance(5 * MINUTE);
    const recorded = recordEvents(t);
    const ended = await t.api.post(`/api/v1/sessions/${session.id}/end`);
    recorded.stop();
    expect([ended.status, ended.text]).toEqual([200, '']);

    expect(recorded.events.map((event) => [event.name, event.data.reason])).toEqual([
      ['participant_left', 'session_ended'],
      ['participant_left', 'session_ended'],
      ['session_ended', 'session_ended'],
    ]);
    expect(await sessionsOf(t.api, room)).toEqual([
      expect.objectContaining({ id: session.id, live: false, end_reason: 'session_ended', end_time: isoTimeMicros(clock.now()), participants_live: 0 }),
    ]);
    expect((await t.api.get(`/api/v1/rooms/${room.id}/live`)).body.live_participants).toBe(0);
    const participants = await t.api.get(`/api/v1/sessions/${session.id}/participants`);
    expect(participants.body.data.map((participant: any) => [participant.leave_reason, participant.leave_time])).toEqual([
      ['session_ended', dsDateTime(clock.now())],
      ['session_ended', dsDateTime(clock.now())],
    ]);

    const again = await t.api.post(`/api/v1/sessions/${session.id}/end`);
    expect([again.status, again.body]).toEqual([422, { message: 'The session has already ended.' }]);
    // The calls that were ended cannot come back; a new call opens a new session.
    await joined(t.api, room.id, [call('x'), call('z')]);
    expect((await sessionsOf(t.api, room)).map((entry) => [entry.live, entry.participants_total])).toEqual([
      [false, 2],
      [true, 1],
    ]);
  });

  it("ends a session by itself once it has lasted its room's session_length, not before", async () => {
    const room = await createPhoneRoom(t.api, { session_length: 30 });
    const start = clock.now();
    await joined(t.api, room.id, [call('long-1'), call('long-2')]);
    const recorded = recordEvents(t);

    clock.set(start + 30 * MINUTE - SECOND);
    // A second room whose session is already due: once the scheduler has ended it, it has looked at the first one too.
    const probe = await createPhoneRoom(t.api, { session_length: 1 });
    clock.advance(-MINUTE);
    await joined(t.api, probe.id, [call('probe')]);
    clock.advance(MINUTE);
    await waitFor(async () => ((await sessionsOf(t.api, probe))[0].live ? undefined : true), 5000, 'the probe session to end');
    expect((await sessionsOf(t.api, room))[0]).toMatchObject({ live: true, participants_live: 2 });

    clock.set(start + 30 * MINUTE);
    const [session] = await waitFor(async () => {
      const sessions = await sessionsOf(t.api, room);
      return sessions[0].live ? undefined : sessions;
    });
    recorded.stop();
    expect(session).toMatchObject({ end_reason: 'session_length', end_time: isoTimeMicros(start + 30 * MINUTE), participants_live: 0 });
    const participants = await t.api.get(`/api/v1/sessions/${session.id}/participants`);
    expect(participants.body.data.map((participant: any) => participant.leave_reason)).toEqual(['session_length', 'session_length']);
    const ofRoom = recorded.events.filter((event) => event.roomId === room.id);
    expect(ofRoom.map((event) => [event.name, event.data.reason])).toEqual([
      ['participant_left', 'session_length'],
      ['participant_left', 'session_length'],
      ['session_ended', 'session_length'],
    ]);
  });

  it('writes one instant the same way in the session list and on the live endpoint: whole seconds', async () => {
    const room = await createPhoneRoom(t.api);
    clock.advance(250);
    await joined(t.api, room.id, [call('subsecond')]);
    const [session] = await sessionsOf(t.api, room);
    const live = (await t.api.get(`/api/v1/rooms/${room.id}/live`)).body;
    expect(session.start_time).toMatch(/:\d\d\.000000Z$/);
    expect(session.start_time).toBe(live.start_time);
    await left(t.api, room.id, ['subsecond']);
    clock.advance(750);
  });

  it('keeps naming a deleted room in its sessions', async () => {
    const room = await createPhoneRoom(t.api, { description: 'Gone soon', external_id: 'EXT-GONE' });
    await joined(t.api, room.id, [call('last')]);
    const [session] = await sessionsOf(t.api, room);
    expect((await t.api.delete(`/api/v1/rooms/${room.id}`)).status).toBe(204);

    const list = await t.api.get(`/api/v1/sessions?room_id=${room.id}`);
    expect(list.body.data).toEqual([
      expect.objectContaining({ id: session.id, friendly_url: room.friendly_url, description: 'Gone soon', room_external_id: 'EXT-GONE', room_is_deleted: true, end_reason: 'room_deleted' }),
    ]);
    const statistics = await t.api.get(`/api/v1/sessions/${session.id}`);
    expect(statistics.body).toMatchObject({ room_id: room.id, room_friendly_url: room.friendly_url, room_is_deleted: true, session_live: false });

    // The room's own history routes still answer by its id, as DS's `room_is_deleted` implies.
    const ofRoom = await t.api.get(`/api/v1/rooms/${room.id}/sessions`);
    expect(ofRoom.status).toBe(200);
    expect(ofRoom.body.data.map((entry: any) => entry.id)).toEqual([session.id]);
    const participants = await t.api.get(`/api/v1/rooms/${room.id}/participants`);
    expect(participants.body.data.map((entry: any) => entry.leave_reason)).toEqual(['room_deleted']);
    const roomStatistics = await t.api.get(`/api/v1/rooms/${room.id}/statistics`);
    expect(roomStatistics.body).toMatchObject({ room_id: room.id, room_is_deleted: true, sessions: 1 });
    // By its id only (its friendly_url may name another room now), and never for another team.
    expect((await t.api.get(`/api/v1/rooms/${room.friendly_url}/sessions`)).status).toBe(404);
    expect((await t.apiB.get(`/api/v1/rooms/${room.id}/sessions`)).status).toBe(404);
    expect((await t.apiB.get(`/api/v1/rooms/${room.id}/statistics`)).status).toBe(404);
  });
});

describe('sessions past their length while the server was stopped', () => {
  it('end as the server starts again, as of when their length ran out', async () => {
    const clock = new ManualClock(Date.UTC(2026, 4, 1, 12));
    const start = clock.now();
    const first = await startTestServer({ clock });
    const room = await createPhoneRoom(first.api, { session_length: 10 });
    await joined(first.api, room.id, [call('overnight')]);
    await first.stop({ keepState: true });

    clock.advance(8 * 60 * MINUTE);
    const second = await startTestServer({ clock, state: first.state });
    try {
      // No waiting: the server has ended it before it answers anything.
      const [session] = await sessionsOf(second.api, room);
      // Usage stops at the session's length, not eight hours later when the server came back.
      expect(session).toMatchObject({ live: false, end_reason: 'session_length', end_time: isoTimeMicros(start + 10 * MINUTE) });
      const [participant] = (await second.api.get(`/api/v1/sessions/${session.id}/participants`)).body.data;
      expect(participant).toMatchObject({ leave_reason: 'session_length', leave_time: dsDateTime(start + 10 * MINUTE) });
    } finally {
      await second.stop();
    }
  });
});
