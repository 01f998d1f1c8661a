import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isoTime, isoTimeMicros, ManualClock } from '../../src/domain/clock.js';
import { DEFAULT_PRESENCE_OPTIONS } from '../../src/domain/presence.js';
import { call, createPhoneRoom, createRoom, recordEvents } from '../helpers/rooms.js';
import { startTestServer, waitFor, type TestServer } from '../helpers/server.js';
import { joinAs, joinPage, openPanel, sayAlive } from './page-client.js';

const GRACE = DEFAULT_PRESENCE_OPTIONS.graceMs;
const run = promisify(execFile);

/** Opens COUNT panel streams with one credential, all at once, and prints their statuses. */
const OPEN_PANELS_AT_ONCE = `
import http from 'node:http';
const [url, credential, count] = process.argv.slice(1);
const statuses = await Promise.all(Array.from({ length: Number(count) }, () => new Promise((resolve, reject) => {
  // Each stays open until every one has its answer.
  const request = http.get(url, { agent: false, headers: { authorization: 'Bearer ' + credential } }, (response) => resolve(response.statusCode));
  request.on('error', reject);
})));
console.log(JSON.stringify(statuses));
process.exit(0);
`;

const AGENTS = {
  desktop: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36',
  mobile: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
  tablet: 'Mozilla/5.0 (Linux; Android 14; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36',
  smarttv: 'Mozilla/5.0 (SMART-TV; LINUX; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) 76.0.3809.146/6.0 TV Safari/537.36',
} as const;

describe('web participants on the room page', () => {
  let t: TestServer;
  const clock = new ManualClock(Date.UTC(2026, 4, 13, 12, 0, 0));

  beforeAll(async () => {
    t = await startTestServer({ clock });
  });
  afterAll(async () => t.stop());

  const liveOf = async (roomId: string) => (await t.api.get(`/api/v1/rooms/${roomId}/live/participants`)).body.live_participants as any[];
  const presence = () => t.running.services.presence;

  it('holds at most 10 panels open for one participant: the next is a 429 until one closes', async () => {
    const room = await createRoom(t.api);
    const { credential } = await joinAs(t, room.id, { name: 'Many tabs' });
    const panels = [];
    for (let n = 0; n < 10; n++) {
      const panel = await openPanel(t, credential);
      expect(panel.status).toBe(200);
      await panel.next('hello');
      panels.push(panel);
    }
    const refused = await openPanel(t, credential);
    expect(refused.status).toBe(429);
    // Once the server has seen one go, another may open.
    panels.pop()!.close();
    const again = await waitFor(async () => {
      const panel = await openPanel(t, credential);
      if (panel.status === 200) return panel;
      return undefined;
    }, 5000, 'a panel again');
    panels.push(again);
    for (const panel of panels) panel.close();
  });

  it('holds the limit for panels asked for all at once, too', async () => {
    const room = await createRoom(t.api);
    const { credential } = await joinAs(t, room.id, { name: 'Many tabs at once' });
    // From another process, so that the requests arrive together, as a client's would: this
    // process's own requests would reach the server one turn of its event loop at a time.
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', OPEN_PANELS_AT_ONCE, `${t.url}/room-page/api/stream`, credential, '100']);
    const answered = JSON.parse(stdout) as number[];
    expect(answered.filter((status) => status === 200)).toHaveLength(10);
    expect(answered.filter((status) => status === 429)).toHaveLength(90);
  });

  it('joins under the given name and the room’s default role, with the device its browser reports', async () => {
    const room = await createRoom(t.api);
    const recorded = recordEvents(t);
    for (const [device, agent] of Object.entries(AGENTS)) await joinAs(t, room.id, { name: `  ${device} user ` }, agent);
    // The test clock stands still: everyone joins at the same instant, so the order is the ids'.
    const live = (await liveOf(room.id)).sort((a, b) => a.name.localeCompare(b.name));
    expect(live.map((participant) => [participant.name, participant.device, participant.type, participant.role])).toEqual(
      Object.keys(AGENTS)
        .sort()
        .map((device) => [`${device} user`, device, 'web', 'moderator']),
    );
    recorded.stop();
    expect(recorded.events.map((event) => event.name)).toEqual(['session_started', 'participant_joined', 'participant_joined', 'participant_joined', 'participant_joined']);
    expect(recorded.events.find((event) => event.data.name === 'desktop user')!.data).toMatchObject({ type: 'web', device: 'desktop', role: 'moderator' });
  });

  it('needs a name when the invitation gives none, and grants nothing for fields it does not know', async () => {
    const room = await createRoom(t.api, { default_role: 'attendee' });
    for (const body of [{}, { name: '   ' }]) {
      const response = await joinPage(t, room.id, body);
      expect(response.status).toBe(422);
      expect(response.body.errors).toEqual({ name: ['The name field is required.'] });
    }
    expect((await joinPage(t, '6f1c8a8e-8f5e-4c3a-9a52-3b1d1f7c0a11', { name: 'Ann' })).status).toBe(404);
    expect(await liveOf(room.id)).toEqual([]);
    // Unknown fields are ignored, as everywhere: one that asks for power is not obeyed.
    const joined = await joinPage(t, room.id, { name: 'Ann', admin: true, role: 'moderator' } as never);
    expect(joined.status).toBe(200);
    expect((await liveOf(room.id)).map((participant) => [participant.name, participant.role])).toEqual([['Ann', 'attendee']]);
  });

  it('refuses new joins while the room is locked or full, with a clear message', async () => {
    const locked = await createRoom(t.api, { is_locked: true });
    const refused = await joinPage(t, locked.id, { name: 'Ann' });
    expect(refused.status).toBe(403);
    expect(refused.body.message).toBe('The room is locked: nobody new can join it now.');

    const small = await createPhoneRoom(t.api, { max_participants: 2 });
    await t.api.post(`/api/v1/rooms/${small.id}/phone-participants/joined`, [call('c1'), call('c2')]);
    const full = await joinPage(t, small.id, { name: 'Ann' });
    expect(full.status).toBe(403);
    expect(full.body.message).toBe('The room is full.');
  });

  it('streams the panel: who it is, a snapshot with phone numbers masked, then the room’s changes', async () => {
    const room = await createPhoneRoom(t.api);
    await t.api.post(`/api/v1/rooms/${room.id}/phone-participants/joined`, [{ call_id: 'c1', caller_number: '+1 555 000 1234', external_id: 'crm-1' }]);
    const ann = await joinAs(t, room.id, { name: 'Ann' });
    const panel = await openPanel(t, ann.credential);
    const hello = await panel.next('hello');
    expect(hello.self).toMatchObject({ id: ann.participantId, name: 'Ann', type: 'web', role: 'moderator' });
    expect(hello.capabilities).toEqual({ mute: true, ask_to_unmute: true, lower_hand: true, remove: true, lock: true, raise_hand: true });
    const snapshot = await panel.next('snapshot');
    expect(snapshot.locked).toBe(false);
    expect(snapshot.participants.find((participant) => participant.type === 'phone')).toEqual({
      id: expect.any(String),
      name: '•••• 1234',
      role: 'moderator',
      type: 'phone',
      device: 'phone',
      number: '•••• 1234',
      muted: false,
      hand_raised: false,
    });
    // The number's hidden digits as written ("555 000"), not a bare "555" that an id's hex may hold.
    expect(JSON.stringify(panel.messages)).not.toMatch(/555 000|crm-1|"c1"/);

    await t.api.post(`/api/v1/rooms/${room.id}/phone-participants/joined`, [{ call_id: 'c2', name: 'Bob', caller_number: '+44 20 7946 0958' }]);
    expect((await panel.next('joined')).participant).toMatchObject({ name: 'Bob', number: '•••• 0958' });
    await t.api.post(`/api/v1/rooms/${room.id}/phone-participants/c2/mute`);
    expect((await panel.next('updated')).participant).toMatchObject({ name: 'Bob', muted: true });
    await t.api.post(`/api/v1/rooms/${room.id}/phone-participants/left`, ['c2']);
    expect(await panel.next('left')).toEqual({ type: 'left', participant_id: expect.any(String), name: 'Bob' });
    await t.api.patch(`/api/v1/rooms/${room.id}`, { is_locked: true });
    expect(await panel.next('locked')).toEqual({ type: 'locked', locked: true });
    panel.close();
  });

  it('opens the stream only with a live participant’s credential', async () => {
    const room = await createRoom(t.api);
    expect((await openPanel(t, undefined)).status).toBe(401);
    expect((await openPanel(t, 'made-up')).status).toBe(401);
    const ann = await joinAs(t, room.id, { name: 'Ann' });
    const forged = `${ann.credential.slice(0, -3)}${ann.credential.endsWith('AAA') ? 'BBB' : 'AAA'}`;
    expect((await openPanel(t, forged)).status).toBe(401);
    expect((await ann.page.post('/room-page/api/leave')).status).toBe(204);
    expect((await openPanel(t, ann.credential)).status).toBe(401);
    expect((await t.client({ kind: 'bearer', key: t.teamA.developer_key }).post('/room-page/api/leave')).status).toBe(401);
  });

  it('keeps a participant while its connection is open, and for the grace period after it closed; then it leaves, disconnected', async () => {
    const room = await createRoom(t.api);
    const ann = await joinAs(t, room.id, { name: 'Ann' });
    const recorded = recordEvents(t);
    const panel = await openPanel(t, ann.credential);
    await panel.next('snapshot');

    clock.advance(GRACE * 3);
    await presence().sweep();
    expect((await liveOf(room.id)).map((participant) => participant.id)).toEqual([ann.participantId]);

    const closedAt = clock.now();
    panel.close();
    await waitFor(() => (presence().connectionCount(ann.participantId) === 0 ? true : undefined), 5000, 'the connection to close');
    clock.advance(GRACE - 1);
    await presence().sweep();
    expect(await liveOf(room.id)).toHaveLength(1);

    clock.advance(2);
    await presence().sweep();
    expect(await liveOf(room.id)).toEqual([]);
    recorded.stop();
    const ofRoom = recorded.events.filter((event) => event.roomId === room.id);
    expect(ofRoom.map((event) => event.name)).toEqual(['participant_left', 'session_ended']);
    expect(ofRoom[0]!.data).toMatchObject({ participant_id: ann.participantId, type: 'web', reason: 'disconnected' });
    // It left when its page closed, not when the grace period ran out: usage counts the time it was there.
    expect((await t.api.get(`/api/v1/participants/${ann.participantId}`)).body).toMatchObject({ leave_time: isoTime(closedAt), live: false });
    const [session] = (await t.api.get(`/api/v1/rooms/${room.id}/sessions`)).body.data;
    expect(session).toMatchObject({ end_time: isoTimeMicros(closedAt), end_reason: 'last_participant_left' });
  });

  it('keeps a page that says it is there, and lets one go silent leave though its stream stays open', async () => {
    const room = await createRoom(t.api);
    const ann = await joinAs(t, room.id, { name: 'Ann' });
    const panel = await openPanel(t, ann.credential, { alive: true });
    const hello = await panel.next('hello');
    expect(hello.alive_ms).toBe(GRACE / 2.5);

    // Saying it every alive_ms keeps it, well past the grace period.
    for (let step = 0; step < 10; step += 1) {
      clock.advance(hello.alive_ms);
      expect(await sayAlive(t, ann.credential)).toBe(204);
      await presence().sweep();
    }
    expect((await liveOf(room.id)).map((participant) => participant.id)).toEqual([ann.participantId]);
    const lastWord = clock.now();

    // Its network goes silent: the socket still looks open here, but no word comes.
    clock.advance(hello.alive_ms);
    await presence().sweep();
    expect(await liveOf(room.id)).toHaveLength(1);
    clock.advance(GRACE);
    await presence().sweep();
    expect(await liveOf(room.id)).toEqual([]);
    expect(await panel.next('ended')).toEqual({ type: 'ended', reason: 'disconnected' });
    // It left when it was last heard from (the renewal that followed its last word), not a grace period later.
    const record = (await t.api.get(`/api/v1/participants/${ann.participantId}`)).body;
    expect(record).toMatchObject({ leave_reason: 'disconnected', leave_time: isoTime(lastWord) });
    expect(await sayAlive(t, ann.credential)).toBe(401);
    panel.close();
  });

  it('keeps the same participant when the page reconnects within the grace period', async () => {
    const room = await createRoom(t.api);
    const ann = await joinAs(t, room.id, { name: 'Ann' });
    const first = await openPanel(t, ann.credential);
    await first.next('snapshot');
    first.close();
    await waitFor(() => (presence().connectionCount(ann.participantId) === 0 ? true : undefined), 5000, 'the connection to close');
    clock.advance(GRACE - 1000);
    const second = await openPanel(t, ann.credential);
    expect((await second.next('hello')).self.id).toBe(ann.participantId);
    clock.advance(GRACE * 2);
    await presence().sweep();
    expect((await liveOf(room.id)).map((participant) => participant.id)).toEqual([ann.participantId]);
    second.close();
  });

  it('keeps the lease in the database: a participant nobody holds a connection for leaves after the grace period', async () => {
    const room = await createRoom(t.api);
    await joinAs(t, room.id, { name: 'Never connected' });
    clock.advance(GRACE + 1);
    // The node's own sweeper finds it too, without being asked.
    await waitFor(async () => ((await liveOf(room.id)).length === 0 ? true : undefined), 5000, 'the sweeper');
  });

  it('leaves at once with the Leave button, and says so on the participant’s stream', async () => {
    const room = await createRoom(t.api);
    const ann = await joinAs(t, room.id, { name: 'Ann' });
    const panel = await openPanel(t, ann.credential);
    await panel.next('snapshot');
    expect((await ann.page.post('/room-page/api/leave')).status).toBe(204);
    expect(await panel.next('ended')).toEqual({ type: 'ended', reason: 'left' });
    await waitFor(() => (panel.ended ? true : undefined), 5000, 'the stream to end');
    expect(await liveOf(room.id)).toEqual([]);
  });

  it('tells the page when the session it is in ends', async () => {
    const room = await createRoom(t.api);
    const ann = await joinAs(t, room.id, { name: 'Ann' });
    const panel = await openPanel(t, ann.credential);
    await panel.next('snapshot');
    const sessions = await t.api.get(`/api/v1/sessions?room_id=${room.id}&live=true`);
    const [session] = sessions.body.data as Array<{ id: string }>;
    expect((await t.api.post(`/api/v1/sessions/${session!.id}/end`)).status).toBe(200);
    expect(await panel.next('ended')).toEqual({ type: 'ended', reason: 'session_ended' });
  });

  it('ends the stream of everyone in a room that is deleted', async () => {
    const room = await createRoom(t.api);
    const ann = await joinAs(t, room.id, { name: 'Ann' });
    const panel = await openPanel(t, ann.credential);
    await panel.next('snapshot');
    expect((await t.api.delete(`/api/v1/rooms/${room.id}`)).status).toBe(204);
    expect(await panel.next('ended')).toEqual({ type: 'ended', reason: 'room_deleted' });
    await waitFor(() => (panel.ended ? true : undefined), 5000, 'the stream to end');
  });
});

describe('the panel stream’s heartbeat', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ env: { ROOMLINE_STREAM_HEARTBEAT_MS: '100' } });
  });
  afterAll(async () => t.stop());

  it('tells the page how often to expect a ping, and sends one that often', async () => {
    const room = await createRoom(t.api);
    const ann = await joinAs(t, room.id, { name: 'Ann' });
    const panel = await openPanel(t, ann.credential);
    expect((await panel.next('hello')).heartbeat_ms).toBe(100);
    expect(await panel.next('ping')).toEqual({ type: 'ping' });
    panel.close();
  });
});

describe('web participants of a server that stopped', () => {
  it('leave, once it starts again, as of the last moment they were known connected', async () => {
    const clock = new ManualClock(Date.UTC(2026, 4, 13, 18, 0, 0));
    const first = await startTestServer({ clock });
    const room = await createRoom(first.api);
    const ann = await joinAs(first, room.id, { name: 'Ann' });
    const panel = await openPanel(first, ann.credential);
    await panel.next('snapshot');
    clock.advance(GRACE * 4);
    await first.running.services.presence.sweep();
    const stoppedAt = clock.now();
    await first.stop({ keepState: true });

    clock.advance(60 * 60 * 1000);
    const second = await startTestServer({ clock, state: first.state });
    try {
      // Its page has one grace period from the start to come back; it does not.
      await second.running.services.presence.sweep();
      expect((await second.api.get(`/api/v1/participants/${ann.participantId}`)).body.live).toBe(true);
      clock.advance(GRACE + 1);
      await second.running.services.presence.sweep();
      const record = (await second.api.get(`/api/v1/participants/${ann.participantId}`)).body;
      // Not an hour later, when the server came back to sweep.
      expect(record).toMatchObject({ live: false, leave_reason: 'disconnected', leave_time: isoTime(stoppedAt) });
      const [session] = (await second.api.get(`/api/v1/rooms/${room.id}/sessions`)).body.data;
      expect(session).toMatchObject({ end_time: isoTimeMicros(stoppedAt) });
    } finally {
      await second.stop();
    }
  });

  it('keep their participant when their page reconnects to the server started again, however long it was down', async () => {
    const clock = new ManualClock(Date.UTC(2026, 4, 14, 9, 0, 0));
    const first = await startTestServer({ clock });
    const room = await createRoom(first.api);
    const ben = await joinAs(first, room.id, { name: 'Ben' });
    const before = await openPanel(first, ben.credential);
    await before.next('snapshot');
    await first.stop({ keepState: true });

    // A deploy: down for longer than the grace period.
    clock.advance(3 * GRACE);
    const second = await startTestServer({ clock, state: first.state });
    try {
      // The new server's sweeper looks before the page is back, and again after.
      await second.running.services.presence.sweep();
      clock.advance(GRACE - 1000);
      await second.running.services.presence.sweep();
      const after = await openPanel(second, ben.credential);
      expect((await after.next('hello')).self.id).toBe(ben.participantId);
      clock.advance(2 * GRACE);
      await second.running.services.presence.sweep();
      const live = (await second.api.get(`/api/v1/rooms/${room.id}/live/participants`)).body.live_participants;
      expect(live.map((participant: { id: string }) => participant.id)).toEqual([ben.participantId]);
      after.close();
    } finally {
      await second.stop();
    }
  });
});
