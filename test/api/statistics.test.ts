import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { leaveEveryone } from '../../src/domain/roster-changes.js';
import { findRoom } from '../../src/store/repos/rooms.js';
import { call, type CreatedRoom, createPhoneRoom, joinWebParticipant } from '../helpers/rooms.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const NOT_FOUND = { message: 'Not Found', error: 'not-found' };

/** The media-plane figures: roomline carries none of them, and shows each as 0. */
const MEDIA_ZEROS = {
  broadcasted_minutes: 0,
  subscribed_minutes: 0,
  screen_broadcasted_minutes: 0,
  screen_subscribed_minutes: 0,
  recorded_minutes: 0,
  max_active_recorders: 0,
  transcription_minutes: 0,
  e2ee_minutes: 0,
  stored_recorded_minutes: 0,
  whiteboard_minutes: 0,
  captions_minutes: 0,
  breakout_minutes: 0,
  presentation_minutes: 0,
  public_chat_posts: 0,
  questions: 0,
  answers: 0,
  polls: 0,
  summaries: 0,
};

/** The fields of the DS example of the team statistics, with roomline's phone figures. */
const TEAM_KEYS = [
  'participation_minutes', 'desktop_participation_minutes', 'mobile_participation_minutes', 'tablet_participation_minutes', 'smarttv_participation_minutes',
  'phone_participation_minutes', 'broadcasted_minutes', 'subscribed_minutes', 'screen_broadcasted_minutes', 'screen_subscribed_minutes',
  'active_participants', 'max_concurrent_participants', 'desktop_participants', 'mobile_participants', 'tablet_participants', 'smarttv_participants',
  'phone_participants', 'sessions', 'rooms', 'max_concurrent_sessions', 'max_concurrent_participants_per_session', 'live_participants',
  'recorded_minutes', 'max_active_recorders', 'transcription_minutes', 'e2ee_minutes', 'stored_recorded_minutes', 'whiteboard_minutes', 'captions_minutes',
  'active_roles', 'custom_roles', 'breakout_minutes', 'presentation_minutes', 'public_chat_posts', 'questions', 'answers', 'polls', 'summaries',
  'date_start', 'date_end',
];

/**
 * Two tagged rooms around midnight (UTC), "now" being 2026-08-11 00:30:
 *   east:  p1 (phone +15550000) 23:50–00:10, w1 (desktop, external id u-1) 23:50–00:20, then p3 (phone +15550000) 00:25–now
 *   both:  w2 (mobile) 00:00–now, p2 (phone) 00:05–now
 */
describe('statistics', () => {
  const clock = new ManualClock(Date.UTC(2026, 7, 10, 23, 50));
  let t: TestServer;
  let east: CreatedRoom;
  let both: CreatedRoom;
  let w2: string;

  function joinWeb(room: CreatedRoom, device: string, externalId: string | null): Promise<string> {
    return joinWebParticipant(t, room.id, { name: 'Web', device, externalId });
  }
  const at = (hours: number, minutes: number) => clock.set(Date.UTC(2026, 7, hours >= 12 ? 10 : 11, hours, minutes));

  beforeAll(async () => {
    t = await startTestServer({ clock });
    east = await createPhoneRoom(t.api, { tags: ['east'], description: 'East room', external_id: 'EAST' });
    both = await createPhoneRoom(t.api, { tags: ['east', 'west'] });
    const post = (room: CreatedRoom, path: string, body: unknown) => t.api.post(`/api/v1/rooms/${room.id}/phone-participants/${path}`, body);
    at(23, 50);
    await post(east, 'joined', [call('p1', { caller_number: '+15550000' })]);
    await joinWeb(east, 'desktop', 'u-1');
    at(0, 0);
    w2 = await joinWeb(both, 'mobile', null);
    at(0, 5);
    await post(both, 'joined', [call('p2')]);
    at(0, 10);
    await post(east, 'left', ['p1']);
    at(0, 20);
    // w1, the last one in the room, leaves.
    await t.running.services.changes.run(async function leaveWebParticipant(change) {
      await leaveEveryone(change, (await findRoom(change.trx, t.teamA.team_id, east.id))!, 'left');
    });
    at(0, 25);
    await post(east, 'joined', [call('p3', { caller_number: '+15550000' })]);
    at(0, 30);
  });
  afterAll(async () => t.stop());

  async function get(path: string): Promise<any> {
    const response = await t.api.get(`/api/v1${path}`);
    expect(response.status, response.text).toBe(200);
    return response.body;
  }

  it('gives the team figures of a period in the spec shape, with phone figures and media-plane zeros', async () => {
    const body = await get('/statistics?date_start=2026-08-11&date_end=2026-08-11');
    expect(body).toEqual({
      ...MEDIA_ZEROS,
      // 10 (p1 after midnight) + 20 (w1) + 30 (w2) + 25 (p2) + 5 (p3)
      participation_minutes: 90,
      desktop_participation_minutes: 20,
      mobile_participation_minutes: 30,
      tablet_participation_minutes: 0,
      smarttv_participation_minutes: 0,
      phone_participation_minutes: 40,
      active_participants: 5,
      max_concurrent_participants: 4,
      desktop_participants: 1,
      mobile_participants: 1,
      tablet_participants: 0,
      smarttv_participants: 0,
      phone_participants: 3,
      sessions: 3,
      rooms: 2,
      max_concurrent_sessions: 2,
      max_concurrent_participants_per_session: 2,
      live_participants: 3,
      active_roles: 1,
      custom_roles: 0,
      date_start: '2026-08-11',
      date_end: '2026-08-11',
    });
    expect(Object.keys(body).sort()).toEqual([...TEAM_KEYS].sort());

    expect(await get('/statistics?date_start=2026-08-10&date_end=2026-08-10')).toMatchObject({
      participation_minutes: 20,
      desktop_participation_minutes: 10,
      phone_participation_minutes: 10,
      active_participants: 2,
      sessions: 1,
      rooms: 1,
      max_concurrent_participants: 2,
      max_concurrent_sessions: 1,
      live_participants: 3,
    });
  });

  it('defaults to the current period (the month up to today), as /statistics/team/current does', async () => {
    const body = await get('/statistics');
    expect(body).toMatchObject({ participation_minutes: 110, date_start: '2026-07-11', date_end: '2026-08-11' });
    expect(await get('/statistics/team/current')).toEqual(body);
    expect(await get('/statistics?date_end=2026-08-10')).toMatchObject({ participation_minutes: 20, date_start: '2026-07-10' });
  });

  it('answers only the metrics asked for, and refuses unknown metrics and malformed dates with a 422', async () => {
    const picked = await get('/statistics?date_start=2026-08-11&metrics=phone_participants, sessions,participation_minutes');
    expect(picked).toEqual({ participation_minutes: 90, phone_participants: 3, sessions: 3, date_start: '2026-08-11', date_end: '2026-08-11' });
    expect(Object.keys(await get('/statistics?metrics=')).sort()).toEqual([...TEAM_KEYS].sort());

    for (const [path, field] of [
      ['/statistics?metrics=participation_minutes,minutes_of_fun', 'metrics'],
      ['/statistics/team/current?metrics=session_duration', 'metrics'],
      ['/rooms/ROOM/statistics?metrics=rooms', 'metrics'],
      ['/statistics?date_start=2026-8-11', 'date_start'],
      ['/statistics?date_end=2026-02-29', 'date_end'],
      ['/statistics?date_start=2026-08-11&date_end=2026-08-10', 'date_end'],
      ['/statistics/participants/started-sessions?date_start=tomorrow', 'date_start'],
      ['/rooms/ROOM/statistics?date_start=2026-08-11T00:00:00Z', 'date_start'],
    ] as const) {
      const response = await t.api.get(`/api/v1${path.replace('ROOM', east.id)}`);
      expect([response.status, Object.keys(response.body.errors ?? {})], path).toEqual([422, [field]]);
    }
  });

  it('gives the current period in the short /statistics/current shape', async () => {
    expect(await get('/statistics/current')).toEqual({
      participation_minutes: 110,
      live_sessions: 2,
      live_participants: 3,
      active_recorders: 0,
      recorded_minutes: 0,
      transcription_minutes: 0,
      stored_recorded_minutes: 0,
      max_concurrent_participants: 4,
      max_concurrent_sessions: 2,
      date_start: '2026-07-11',
      date_end: '2026-08-11',
    });
  });

  it('gives room figures, about the room, for a period and the current one', async () => {
    const body = await get(`/rooms/${east.friendly_url}/statistics?date_start=2026-08-11`);
    expect(body).toMatchObject({
      room_id: east.id,
      room_external_id: 'EAST',
      room_description: 'East room',
      room_friendly_url: east.friendly_url,
      room_privacy: 'public',
      room_source: 'api',
      room_max_participants: east.max_participants,
      room_is_deleted: false,
      participation_minutes: 35,
      desktop_participation_minutes: 20,
      phone_participation_minutes: 15,
      active_participants: 3,
      phone_participants: 2,
      sessions: 2,
      max_concurrent_participants: 2,
      live_participants: 1,
      summaries: 0,
      date_start: '2026-08-11',
      date_end: '2026-08-11',
    });
    expect(body).not.toHaveProperty('rooms');
    expect(await get(`/rooms/${east.id}/statistics/current?metrics=participation_minutes`)).toMatchObject({
      room_id: east.id,
      participation_minutes: 55,
      date_start: '2026-07-11',
    });
  });

  it('totals every tag of the team over all time', async () => {
    expect(await get('/statistics/totals')).toEqual([
      { tag: 'east', rooms: 2, participants: 5, participation_minutes: 110 },
      { tag: 'west', rooms: 1, participants: 2, participation_minutes: 55 },
    ]);
  });

  it('counts who started sessions: external id, else phone number, else participant id; most first, paged', async () => {
    expect(await get('/statistics/participants/started-sessions')).toEqual({
      total_count: 3,
      data: [
        { browser_id: '+15550000', sessions_started: 2 },
        { browser_id: w2, sessions_started: 1 },
        { browser_id: 'u-1', sessions_started: 1 },
      ],
    });
    expect(await get('/statistics/participants/started-sessions?date_start=2026-08-11&limit=1&offset=1')).toEqual({
      total_count: 2,
      data: [{ browser_id: w2, sessions_started: 1 }],
    });
  });

  it("keeps each team's figures to itself; another team's room is a 404", async () => {
    const figures = await t.apiB.get('/api/v1/statistics');
    expect(figures.body).toMatchObject({ participation_minutes: 0, active_participants: 0, sessions: 0, live_participants: 0 });
    expect((await t.apiB.get('/api/v1/statistics/totals')).body).toEqual([]);
    expect((await t.apiB.get('/api/v1/statistics/participants/started-sessions')).body).toEqual({ total_count: 0, data: [] });
    for (const path of [`/rooms/${east.id}/statistics`, `/rooms/${east.id}/statistics/current`]) {
      const response = await t.apiB.get(`/api/v1${path}`);
      expect([response.status, response.body], path).toEqual([404, NOT_FOUND]);
    }
  });
});
