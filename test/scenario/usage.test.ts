import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dsDateTime, isoTime, isoTimeMicros, ManualClock } from '../../src/domain/clock.js';
import { leaveParticipants, lockRosterRoom } from '../../src/domain/roster-changes.js';
import { findRoom } from '../../src/store/repos/rooms.js';
import { liveParticipants } from '../../src/store/repos/roster.js';
import { type CreatedRoom, createPhoneRoom, joinWebParticipant, recordEvents } from '../helpers/rooms.js';
import { startTestServer, waitFor, type TestServer } from '../helpers/server.js';

/**
 * Three simulated hours in two rooms, 30 participants (web and phone), crossing midnight UTC:
 * overlapping joins and leaves, one session ended by its room's session_length, one bridge
 * disconnect, one POST /sessions/{id}/end. Every endpoint's figures must equal what a
 * brute-force count, second by second, derives from the same events.
 */

const SECOND = 1000;
const T0 = Date.UTC(2026, 0, 1, 22, 30);
const END = T0 + 3 * 3600 * SECOND;
const ROOM_B_SESSION_LENGTH = 45;

/** "h:mm[:ss]" after T0. */
function time(offset: string): number {
  const [hours = 0, minutes = 0, seconds = 0] = offset.split(':').map(Number);
  return T0 + ((hours * 60 + minutes) * 60 + seconds) * SECOND;
}

type RoomKey = 'A' | 'B';

interface SessionModel {
  room: RoomKey;
  start: number;
  end: number | null;
  reason: string | null;
  id?: string;
}

interface Presence {
  key: string;
  room: RoomKey;
  type: 'web' | 'phone';
  device: string;
  join: number;
  leave: number | null;
  reason: string | null;
  session: SessionModel;
  caller: string | null;
  externalId: string | null;
  id?: string;
}

/** What the test believes happened: who was where from when to when, and the sessions this makes. */
class World {
  readonly presences: Presence[] = [];
  readonly sessions: SessionModel[] = [];
  now = T0;

  live(room: RoomKey): Presence[] {
    return this.presences.filter((presence) => presence.room === room && presence.leave === null);
  }

  join(room: RoomKey, key: string, type: 'web' | 'phone', device: string, caller: string | null, externalId: string | null): Presence {
    let session = this.sessions.find((candidate) => candidate.room === room && candidate.end === null);
    if (session === undefined) {
      session = { room, start: this.now, end: null, reason: null };
      this.sessions.push(session);
    }
    const presence: Presence = { key, room, type, device, join: this.now, leave: null, reason: null, session, caller, externalId };
    this.presences.push(presence);
    return presence;
  }

  leave(presences: Presence[], reason: string, sessionReason = 'last_participant_left'): void {
    for (const presence of presences) Object.assign(presence, { leave: this.now, reason });
    for (const room of new Set(presences.map((presence) => presence.room))) {
      if (this.live(room).length > 0) continue;
      Object.assign(presences.find((presence) => presence.room === room)!.session, { end: this.now, reason: sessionReason });
    }
  }

  byKey(key: string): Presence {
    return this.presences.find((presence) => presence.key === key)!;
  }
}

// --- the brute-force count ------------------------------------------------------------------

interface Window {
  from: number;
  to: number;
}
const ALL: Window = { from: -Infinity, to: Infinity };
const DEVICES = ['desktop', 'mobile', 'tablet', 'smarttv', 'phone'];

const presentAt = (presence: Presence, at: number) => presence.join <= at && at < (presence.leave ?? END);
const liveAt = (session: SessionModel, at: number) => session.start <= at && at < (session.end ?? END);

/** Every second of the window, up to now (every event falls on a whole second). */
function secondsOf(window: Window): number[] {
  const seconds: number[] = [];
  for (let at = Math.max(window.from, T0); at < Math.min(window.to, END); at += SECOND) seconds.push(at);
  return seconds;
}

function countFigures(presences: Presence[], sessions: SessionModel[], window: Window) {
  const seconds = secondsOf(window);
  const secondsPresent = (group: Presence[]) => seconds.reduce((sum, at) => sum + group.filter((presence) => presentAt(presence, at)).length, 0);
  const peak = (group: Presence[]) => Math.max(0, ...seconds.map((at) => group.filter((presence) => presentAt(presence, at)).length));
  const active = presences.filter((presence) => seconds.some((at) => presentAt(presence, at)));
  const activeSessions = sessions.filter((session) => seconds.some((at) => liveAt(session, at)));
  const figures: Record<string, number> = {
    participation_minutes: Math.round(secondsPresent(presences) / 60),
    active_participants: active.length,
    max_concurrent_participants: peak(presences),
    active_roles: active.length > 0 ? 1 : 0,
    sessions: activeSessions.length,
    rooms: new Set(activeSessions.map((session) => session.room)).size,
    max_concurrent_sessions: Math.max(0, ...seconds.map((at) => sessions.filter((session) => liveAt(session, at)).length)),
    max_concurrent_participants_per_session: Math.max(0, ...sessions.map((session) => peak(presences.filter((presence) => presence.session === session)))),
    live_participants: presences.filter((presence) => presence.leave === null).length,
  };
  for (const device of DEVICES) {
    const ofDevice = presences.filter((presence) => presence.device === device);
    figures[`${device}_participation_minutes`] = Math.round(secondsPresent(ofDevice) / 60);
    figures[`${device}_participants`] = active.filter((presence) => presence.device === device).length;
  }
  return figures;
}

/** `expected` exactly, and every other field a 0 (the media-plane figures). */
function expectFigures(body: Record<string, unknown>, expected: Record<string, unknown>, what: string): void {
  expect(body, what).toMatchObject(expected);
  for (const [field, value] of Object.entries(body)) {
    if (!(field in expected)) expect(value, `${what}: ${field}`).toBe(0);
  }
}

const dayWindow = (day: string): Window => ({ from: Date.parse(`${day}T00:00:00Z`), to: Date.parse(`${day}T00:00:00Z`) + 86_400_000 });

describe('a three-hour scenario in two rooms, every figure against a brute-force count', () => {
  const clock = new ManualClock(T0);
  const world = new World();
  let t: TestServer;
  const rooms = {} as Record<RoomKey, CreatedRoom>;
  let events: ReturnType<typeof recordEvents>;

  // --- the moves, each applied to the server and to the world --------------------------------

  function at(offset: string): void {
    clock.set(time(offset));
    world.now = clock.now();
  }

  async function phoneJoin(room: RoomKey, calls: Array<[key: string, caller?: string, muted?: boolean]>): Promise<void> {
    const body = calls.map(([key, caller, muted]) => ({ call_id: key, name: `Caller ${key}`, caller_number: caller ?? null, muted: muted ?? false }));
    const response = await t.api.post(`/api/v1/rooms/${rooms[room].id}/phone-participants/joined`, body);
    expect(response.status).toBe(200);
    for (const [key, caller] of calls) world.join(room, key, 'phone', 'phone', caller ?? null, null);
  }

  async function phoneLeave(room: RoomKey, keys: string[]): Promise<void> {
    expect((await t.api.post(`/api/v1/rooms/${rooms[room].id}/phone-participants/left`, keys)).status).toBe(200);
    world.leave(keys.map((key) => world.byKey(key)), 'left');
  }

  async function phoneAction(room: RoomKey, key: string, action: string): Promise<void> {
    expect((await t.api.post(`/api/v1/rooms/${rooms[room].id}/phone-participants/${key}/${action}`)).status).toBe(200);
  }

  /** A web participant joins through the roster itself, as the room page does. */
  async function webJoin(room: RoomKey, key: string, device: string, externalId: string | null = null): Promise<void> {
    const id = await joinWebParticipant(t, rooms[room].id, { name: key, device, externalId });
    world.join(room, key, 'web', device, null, externalId).id = id;
  }

  async function webLeave(room: RoomKey, key: string): Promise<void> {
    const presence = world.byKey(key);
    await t.running.services.changes.run(async function leaveWebParticipant(change) {
      const row = (await findRoom(change.trx, t.teamA.team_id, rooms[room].id))!;
      await lockRosterRoom(change, row.id);
      await leaveParticipants(change, row, (await liveParticipants(change.trx, row.id)).filter((participant) => participant.id === presence.id), 'left');
    });
    world.leave([presence], 'left');
  }

  async function liveSessionId(room: RoomKey): Promise<string> {
    const response = await t.api.get(`/api/v1/rooms/${rooms[room].id}/sessions?live=true`);
    return response.body.data[0].id;
  }

  beforeAll(async () => {
    t = await startTestServer({ clock });
    rooms.A = await createPhoneRoom(t.api, { tags: ['alpha', 'common'], description: 'Room A', external_id: 'EXT-A' });
    rooms.B = await createPhoneRoom(t.api, { tags: ['common'], session_length: ROOM_B_SESSION_LENGTH });
    events = recordEvents(t);

    at('0:00');
    await phoneJoin('A', [['a1', '+15550001'], ['a2', '+15550002'], ['a3']]);
    at('0:05:30');
    await webJoin('A', 'w1', 'desktop', 'user-w1');
    await webJoin('A', 'w2', 'mobile');
    at('0:10');
    await phoneJoin('B', [['b1', '+15550011'], ['b2']]);
    at('0:12:10');
    await phoneJoin('A', [['a4', undefined, true]]);
    at('0:15');
    await webJoin('B', 'v1', 'mobile');
    at('0:20');
    await phoneLeave('A', ['a1']);
    await phoneJoin('B', [['b3']]);
    at('0:25:45');
    await phoneAction('A', 'a2', 'mute');
    at('0:30');
    await webLeave('B', 'v1');
    await webJoin('B', 'v2', 'desktop');
    at('0:31');
    await phoneAction('A', 'a2', 'unmute');
    at('0:33');
    await webJoin('A', 'w3', 'tablet');
    at('0:35');
    expect((await t.api.post(`/api/v1/rooms/${rooms.A.id}/participants/${world.byKey('w3').id}/raise-hand`)).status).toBe(200);
    at('0:40:20');
    await webLeave('A', 'w1');
    await phoneAction('A', 'a3', 'raise-hand');
    at('0:47');
    await phoneJoin('A', [['a5'], ['a6']]);
    at('0:52:30');
    await phoneAction('A', 'a3', 'lower-hand');

    // Room B's first session has lasted its 45 minutes: the scheduler ends it by itself. Its id
    // is read before the clock gets there, as the scheduler may be quicker than the read.
    const expiring = await liveSessionId('B');
    at('0:55');
    await waitFor(async () => ((await t.api.get(`/api/v1/sessions/${expiring}`)).body.session_live === false ? true : undefined), 5000, 'the expiry');
    world.leave(world.live('B'), 'session_length', 'session_length');

    at('1:00');
    await phoneJoin('B', [['b4'], ['b5'], ['b6']]);
    await webJoin('B', 'v3', 'tablet');
    at('1:05');
    await webLeave('A', 'w2');
    await phoneLeave('A', ['a2', 'a4']);
    at('1:10');
    await webJoin('A', 'w4', 'smarttv');
    at('1:15');
    expect((await t.api.post(`/api/v1/sessions/${await liveSessionId('A')}/end`)).status).toBe(200);
    world.leave(world.live('A'), 'session_ended', 'session_ended');
    at('1:20');
    await phoneJoin('A', [['a7', '+15550001']]);
    await webJoin('A', 'w5', 'desktop');
    at('1:20:30');
    await phoneLeave('B', ['b4']);
    at('1:25');
    await webJoin('B', 'v4', 'mobile');
    at('1:30');
    expect((await t.api.post(`/api/v1/rooms/${rooms.B.id}/phone/disconnect`)).status).toBe(200);
    world.leave(world.live('B').filter((presence) => presence.type === 'phone'), 'bridge_disconnected');
    at('1:40');
    await webLeave('B', 'v3');
    at('1:44:59');
    await webLeave('B', 'v4');
    at('1:45');
    await phoneLeave('A', ['a7']);
    at('2:00');
    await phoneJoin('A', [['a8'], ['a9']]);
    await phoneJoin('B', [['b7', '+15550001']]);
    at('2:05');
    await webJoin('B', 'v5', 'smarttv');
    at('2:10:15');
    await webLeave('A', 'w5');
    at('2:20');
    await phoneJoin('B', [['b8']]);
    at('2:30');
    await phoneJoin('A', [['a10']]);
    await webJoin('A', 'w6', 'mobile');
    await phoneLeave('B', ['b7']);
    at('2:40');
    await webLeave('B', 'v5');
    at('2:44');
    await phoneLeave('B', ['b8']);
    at('2:50');
    await phoneLeave('A', ['a8']);
    await webJoin('B', 'v6', 'desktop', 'user-v6');
    at('3:00');
    events.stop();
  });
  afterAll(async () => t.stop());

  /** The room fields of a statistics answer. */
  const roomAbout = (key: RoomKey) => ({
    room_id: rooms[key].id,
    room_external_id: rooms[key].external_id ?? null,
    room_description: rooms[key].description ?? null,
    room_friendly_url: rooms[key].friendly_url,
    room_privacy: 'public',
    room_source: 'api',
    room_max_participants: rooms[key].max_participants,
    room_is_deleted: false,
  });

  async function get(path: string): Promise<any> {
    const response = await t.api.get(`/api/v1${path}`);
    expect(response.status, `${path}: ${response.text}`).toBe(200);
    return response.body;
  }

  /** Every entry of a list, read page by page. */
  async function all(path: string, limit: number): Promise<any[]> {
    const entries: any[] = [];
    for (let offset = 0; ; offset += limit) {
      const page = await get(`${path}${path.includes('?') ? '&' : '?'}limit=${limit}&offset=${offset}`);
      entries.push(...page.data);
      if (entries.length >= page.total_count) return entries;
    }
  }

  it('had the scenario it meant: 30 participants, 6 sessions, each way of leaving', () => {
    expect(world.presences).toHaveLength(30);
    expect(world.sessions.map((session) => [session.room, session.reason])).toEqual([
      ['A', 'session_ended'],
      ['B', 'session_length'],
      ['B', 'last_participant_left'],
      ['A', null],
      ['B', 'last_participant_left'],
      ['B', null],
    ]);
    const names = events.events.map((event) => event.name);
    const count = (name: string) => names.filter((candidate) => candidate === name).length;
    expect([count('participant_joined'), count('participant_left'), count('session_started'), count('session_ended')]).toEqual([30, 26, 6, 4]);
  });

  it('lists every participation record with its times, session and leave reason', async () => {
    const sessions = await all('/sessions?order=asc', 4);
    for (const session of world.sessions) {
      session.id = sessions.find((entry) => entry.room_id === rooms[session.room].id && entry.start_time === isoTimeMicros(session.start))?.id;
    }
    const entries = await all('/participants?order=asc', 7);
    expect(entries).toHaveLength(30);
    for (const presence of world.presences) {
      const entry = entries.find((candidate) => (presence.type === 'phone' ? candidate.call_id === presence.key : candidate.id === presence.id));
      presence.id = entry.id;
      expect(entry, presence.key).toMatchObject({
        room_id: rooms[presence.room].id,
        session_id: presence.session.id,
        type: presence.type,
        device: presence.device,
        join_time: dsDateTime(presence.join),
        leave_time: presence.leave === null ? null : dsDateTime(presence.leave),
        live: presence.leave === null,
        leave_reason: presence.reason,
        caller_number: presence.caller,
        external_id: presence.externalId,
      });
    }
    for (const key of ['A', 'B'] as const) {
      const ofRoom = await all(`/rooms/${rooms[key].id}/participants`, 100);
      expect(ofRoom.map((entry) => entry.id).sort()).toEqual(world.presences.filter((presence) => presence.room === key).map((presence) => presence.id).sort());
    }
  });

  it('lists every session with its counts, peak and end', async () => {
    const sessions = await all('/sessions', 4);
    expect(sessions).toHaveLength(6);
    for (const session of world.sessions) {
      const members = world.presences.filter((presence) => presence.session === session);
      expect(sessions.find((entry) => entry.id === session.id)).toEqual({
        id: session.id,
        start_time: isoTimeMicros(session.start),
        end_time: session.end === null ? null : isoTimeMicros(session.end),
        room_id: rooms[session.room].id,
        room_external_id: rooms[session.room].external_id ?? null,
        description: rooms[session.room].description ?? null,
        friendly_url: rooms[session.room].friendly_url,
        room_is_deleted: false,
        participants_live: members.filter((presence) => presence.leave === null).length,
        participants_total: members.length,
        participants_max: countFigures(members, [session], ALL).max_concurrent_participants,
        live: session.end === null,
        end_reason: session.reason,
      });
      const ofSession = await all(`/sessions/${session.id}/participants`, 3);
      expect(ofSession.map((entry) => entry.id).sort()).toEqual(members.map((presence) => presence.id).sort());
    }
    for (const key of ['A', 'B'] as const) {
      const ofRoom = await all(`/rooms/${rooms[key].id}/sessions`, 100);
      expect(ofRoom.map((entry) => entry.id)).toEqual(world.sessions.filter((session) => session.room === key).map((session) => session.id).reverse());
    }
  });

  it("gives each session's statistics", async () => {
    for (const session of world.sessions) {
      const members = world.presences.filter((presence) => presence.session === session);
      const { sessions: _s, rooms: _r, max_concurrent_sessions: _m, max_concurrent_participants_per_session: _p, ...figures } = countFigures(members, [session], ALL);
      const body = await get(`/sessions/${session.id}`);
      expectFigures(
        body,
        {
          ...roomAbout(session.room),
          session_id: session.id,
          session_duration: Math.round(((session.end ?? END) - session.start) / 60_000),
          session_live: session.end === null,
          session_start_time: isoTime(session.start),
          session_end_time: session.end === null ? null : isoTime(session.end),
          ...figures,
        },
        `session ${session.room} ${isoTime(session.start)}`,
      );
      expect(await get(`/sessions/${session.id}/statistics`)).toEqual(body);
    }
  });

  it("gives each participant's minutes, and the attendance segments of those who muted or raised a hand", async () => {
    for (const presence of world.presences) {
      const body = await get(`/participants/${presence.id}`);
      expect(body, presence.key).toMatchObject({
        participation_minutes: Math.round(((presence.leave ?? END) - presence.join) / 60_000),
        leave_reason: presence.reason,
        live: presence.leave === null,
        session_id: presence.session.id,
      });
    }
    const segments = async (key: string) => (await get(`/participants/${world.byKey(key).id}/statistics`)).segments;
    const span = (kind: string, from: string, to: string) => ({ kind, start: isoTime(time(from)), end: isoTime(time(to)) });
    expect(await segments('a2')).toEqual([span('present', '0:00', '1:05'), span('muted', '0:25:45', '0:31')]);
    expect(await segments('a4')).toEqual([span('present', '0:12:10', '1:05'), span('muted', '0:12:10', '1:05')]);
    expect(await segments('a3')).toEqual([span('present', '0:00', '1:15'), span('hand_raised', '0:40:20', '0:52:30')]);
    expect(await segments('w3')).toEqual([span('present', '0:33', '1:15'), span('hand_raised', '0:35', '1:15')]);
    expect(await segments('a10')).toEqual([{ kind: 'present', start: isoTime(time('2:30')), end: null }]);
  });

  it('gives the team figures for the current period and for each day, split at midnight', async () => {
    const { sessions, presences } = world;
    const current = { ...countFigures(presences, sessions, ALL), custom_roles: 0, date_start: '2025-12-02', date_end: '2026-01-02' };
    expectFigures(await get('/statistics'), current, 'current period');
    expectFigures(await get('/statistics/team/current'), current, 'team current');
    for (const day of ['2026-01-01', '2026-01-02']) {
      const expected = { ...countFigures(presences, sessions, dayWindow(day)), custom_roles: 0, date_start: day, date_end: day };
      expectFigures(await get(`/statistics?date_start=${day}&date_end=${day}`), expected, day);
    }
    const figures = countFigures(presences, sessions, ALL);
    expectFigures(
      await get('/statistics/current'),
      {
        participation_minutes: figures.participation_minutes,
        live_sessions: sessions.filter((session) => session.end === null).length,
        live_participants: figures.live_participants,
        max_concurrent_participants: figures.max_concurrent_participants,
        max_concurrent_sessions: figures.max_concurrent_sessions,
        date_start: '2025-12-02',
        date_end: '2026-01-02',
      },
      'statistics/current',
    );
  });

  it("gives each room's figures for the current period and for each day", async () => {
    for (const key of ['A', 'B'] as const) {
      const presences = world.presences.filter((presence) => presence.room === key);
      const sessions = world.sessions.filter((session) => session.room === key);
      const roomFigures = (window: Window) => {
        const { rooms: _r, max_concurrent_sessions: _m, max_concurrent_participants_per_session: _p, ...figures } = countFigures(presences, sessions, window);
        return { ...roomAbout(key), ...figures };
      };
      const current = { ...roomFigures(ALL), date_start: '2025-12-02', date_end: '2026-01-02' };
      expectFigures(await get(`/rooms/${rooms[key].id}/statistics`), current, `room ${key}`);
      expectFigures(await get(`/rooms/${rooms[key].friendly_url}/statistics/current`), current, `room ${key} current`);
      for (const day of ['2026-01-01', '2026-01-02']) {
        expectFigures(await get(`/rooms/${rooms[key].id}/statistics?date_start=${day}&date_end=${day}`), { ...roomFigures(dayWindow(day)), date_start: day, date_end: day }, `room ${key} ${day}`);
      }
    }
  });

  it('totals each tag, and counts who started the sessions', async () => {
    const minutesOf = (presences: Presence[]) => countFigures(presences, [], ALL).participation_minutes;
    const inA = world.presences.filter((presence) => presence.room === 'A');
    expect(await get('/statistics/totals')).toEqual([
      { tag: 'alpha', rooms: 1, participants: inA.length, participation_minutes: minutesOf(inA) },
      { tag: 'common', rooms: 2, participants: 30, participation_minutes: minutesOf(world.presences) },
    ]);

    const started = new Map<string, Set<SessionModel>>();
    for (const presence of world.presences.filter((candidate) => candidate.join === candidate.session.start)) {
      const identity = presence.externalId ?? presence.caller ?? presence.id!;
      started.set(identity, (started.get(identity) ?? new Set()).add(presence.session));
    }
    const ranked = [...started]
      .map(([browser_id, opened]) => ({ browser_id, sessions_started: opened.size }))
      .sort((a, b) => b.sessions_started - a.sessions_started || (a.browser_id < b.browser_id ? -1 : 1));
    expect(ranked[0]).toEqual({ browser_id: '+15550001', sessions_started: 3 });
    expect(await all('/statistics/participants/started-sessions', 5)).toEqual(ranked);
  });
});
