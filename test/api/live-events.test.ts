import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RoomEvent } from '../../src/bus/events.js';
import { call, createPhoneRoom } from '../helpers/rooms.js';
import { startTestServer, waitFor, type TestServer } from '../helpers/server.js';
import { openRoomStream, type SseMessage } from '../helpers/sse.js';

describe('the room event stream', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ env: { ROOMLINE_STREAM_HEARTBEAT_MS: '100' } });
  });
  afterAll(async () => t.stop());

  const joined = (room: string, body: unknown) => t.api.post(`/api/v1/rooms/${room}/phone-participants/joined`, body);
  const left = (room: string, body: unknown) => t.api.post(`/api/v1/rooms/${room}/phone-participants/left`, body);
  const roomSeq = async (roomId: string) =>
    Number((await t.running.services.store.db.selectFrom('rooms').select('event_seq').where('id', '=', roomId).executeTakeFirstOrThrow()).event_seq);

  it('starts with a snapshot of the roster, then sends a participant_left posted meanwhile', async () => {
    const room = await createPhoneRoom(t.api);
    await joined(room.id, [call('a', { caller_number: '+1' }), call('b')]);
    const stream = await openRoomStream(t, room.friendly_url);
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);

    const snapshot = await stream.next();
    const roster = (await t.api.get(`/api/v1/rooms/${room.id}/live/participants`)).body.live_participants;
    expect(snapshot).toEqual({
      id: String(await roomSeq(room.id)),
      event: 'snapshot',
      data: { room_id: room.id, session_id: expect.any(String), participants: roster },
    });

    expect((await left(room.id, ['a'])).status).toBe(200);
    const gone = await stream.next();
    expect(gone).toEqual({
      id: String(Number(snapshot.id) + 1),
      event: 'participant_left',
      data: { room_id: room.id, session_id: snapshot.data.session_id, participant: roster[0], leave_time: expect.stringMatching(/Z$/), reason: 'left' },
    });
    stream.close();
  });

  it('sends joins, hand and mute changes (the whole participant and what changed) and the session events', async () => {
    const room = await createPhoneRoom(t.api);
    const stream = await openRoomStream(t, room.id);
    expect(await stream.next()).toEqual({ id: '0', event: 'snapshot', data: { room_id: room.id, session_id: null, participants: [] } });

    await joined(room.id, [call('a')]);
    const started = await stream.next();
    const arrived = await stream.next();
    expect(started).toMatchObject({ id: '1', event: 'session_started', data: { room_id: room.id, session_id: expect.any(String) } });
    expect(arrived).toMatchObject({ id: '2', event: 'participant_joined', data: { room_id: room.id, participant: { call_id: 'a', muted: false } } });
    const participant = arrived.data.participant;

    await t.api.post(`/api/v1/rooms/${room.id}/phone-participants/a/raise-hand`);
    await t.api.post(`/api/v1/rooms/${room.id}/phone-participants/a/mute`);
    await t.api.post(`/api/v1/rooms/${room.id}/phone-participants/a/mute`);
    await t.api.post(`/api/v1/rooms/${room.id}/phone-participants/a/lower-hand`);
    const updates = [await stream.next(), await stream.next(), await stream.next()];
    expect(updates).toEqual([
      { id: '3', event: 'participant_updated', data: { room_id: room.id, session_id: started.data.session_id, participant: { ...participant, hand_raised: true }, changed: { hand_raised: true } } },
      { id: '4', event: 'participant_updated', data: { room_id: room.id, session_id: started.data.session_id, participant: { ...participant, hand_raised: true, muted: true }, changed: { muted: true } } },
      { id: '5', event: 'participant_updated', data: { room_id: room.id, session_id: started.data.session_id, participant: { ...participant, muted: true }, changed: { hand_raised: false } } },
    ]);

    // New details name only what changed.
    await joined(room.id, [{ call_id: 'a', name: 'Renamed' }]);
    expect(await stream.next()).toEqual({
      id: '6',
      event: 'participant_updated',
      data: { room_id: room.id, session_id: started.data.session_id, participant: { ...participant, muted: true, name: 'Renamed' }, changed: { name: 'Renamed' } },
    });

    await left(room.id, ['a']);
    expect((await stream.next()).event).toBe('participant_left');
    expect(await stream.next()).toMatchObject({ id: '8', event: 'session_ended', data: { session_id: started.data.session_id, end: expect.any(String) } });
    stream.close();
  });

  it('resumes after a dropped connection from Last-Event-ID (header or query) with nothing missed and nothing twice', async () => {
    const room = await createPhoneRoom(t.api);
    const first = await openRoomStream(t, room.id);
    await first.next();
    await joined(room.id, [call('a'), call('b')]);
    const seen: SseMessage[] = [await first.next(), await first.next()];
    first.close();
    // The room keeps its buffer after its last watcher left.
    await waitFor(() => (t.running.services.feed.watcherCount(room.id) === 0 ? true : undefined), 5000, 'the server to see the stream go');

    await joined(room.id, [call('c')]);
    await t.api.post(`/api/v1/rooms/${room.id}/phone-participants/c/mute`);
    await left(room.id, ['a']);
    const lastSeen = seen.at(-1)!.id!;
    const resumed = await openRoomStream(t, room.id, { 'last-event-id': lastSeen });
    const missed = [await resumed.next(), await resumed.next(), await resumed.next(), await resumed.next()];
    expect(missed.map((message) => [message.id, message.event])).toEqual([
      [String(Number(lastSeen) + 1), 'participant_joined'],
      [String(Number(lastSeen) + 2), 'participant_joined'],
      [String(Number(lastSeen) + 3), 'participant_updated'],
      [String(Number(lastSeen) + 4), 'participant_left'],
    ]);
    expect(missed.map((message) => message.data.participant.call_id)).toEqual(['b', 'c', 'c', 'a']);
    resumed.close();

    const byQuery = await openRoomStream(t, room.id, {}, `?last_event_id=${Number(lastSeen) + 3}`);
    expect(await byQuery.next()).toMatchObject({ id: String(Number(lastSeen) + 4), event: 'participant_left' });
    await joined(room.id, [call('d')]);
    expect(await byQuery.next()).toMatchObject({ id: String(Number(lastSeen) + 5), event: 'participant_joined' });
    byQuery.close();
  });

  it('starts over from a fresh snapshot when the events since Last-Event-ID are no longer buffered', async () => {
    const room = await createPhoneRoom(t.api);
    const first = await openRoomStream(t, room.id);
    const snapshot = await first.next();
    first.close();
    await joined(room.id, Array.from({ length: 600 }, (_, index) => call(`c${index}`)));

    for (const lastEventId of [snapshot.id!, 'not-a-number', '999999']) {
      const resumed = await openRoomStream(t, room.id, { 'last-event-id': lastEventId });
      const fresh = await resumed.next();
      expect(fresh.event, lastEventId).toBe('snapshot');
      expect(fresh.id).toBe(String(await roomSeq(room.id)));
      expect(fresh.data.participants).toHaveLength(600);
      resumed.close();
    }
  });

  it('keeps an idle connection open with a heartbeat comment', async () => {
    const room = await createPhoneRoom(t.api);
    const stream = await openRoomStream(t, room.id);
    await waitFor(() => (stream.comments.includes('heartbeat') ? true : undefined), 5000, 'a heartbeat');
    stream.close();
  });

  it("answers another team's room with a JSON 404 before any stream starts", async () => {
    const room = await createPhoneRoom(t.api);
    const stream = await openRoomStream(t, room.id, { authorization: `Bearer ${t.teamB.developer_key}` });
    expect(stream.status).toBe(404);
    expect(stream.headers.get('content-type')).toMatch(/^application\/json/);
    expect(stream.errorBody).toEqual({ message: 'Not Found', error: 'not-found' });
  });

  it('has handed a change to every watcher by the time the change is answered', async () => {
    const room = await createPhoneRoom(t.api);
    const events: RoomEvent[] = [];
    const stop = await t.running.services.feed.watch(room.id, { snapshot: () => {}, event: (event) => events.push(event), end: () => {} });
    await joined(room.id, [call('a')]);
    expect(events.map((event) => event.name)).toEqual(['session_started', 'participant_joined']);
    await left(room.id, ['a']);
    expect(events.map((event) => event.name).slice(2)).toEqual(['participant_left', 'session_ended']);
    stop();
  });

  describe('when the bus hands events over out of order', () => {
    /** Events another node committed (the room's counter moved) and published late or never. */
    async function committedElsewhere(roomId: string, count: number): Promise<(offset: number) => RoomEvent> {
      const base = await roomSeq(roomId);
      await t.running.services.store.transaction((trx) => trx.updateTable('rooms').set({ event_seq: base + count }).where('id', '=', roomId).execute());
      return (offset) => ({ id: randomUUID(), name: 'room_locked', teamId: t.teamA.team_id, roomId, seq: base + offset, at: Date.now(), data: { room_id: roomId, offset } });
    }

    it('holds a later event until the earlier one arrives, and delivers both in order', async () => {
      const room = await createPhoneRoom(t.api);
      const stream = await openRoomStream(t, room.id);
      const snapshot = await stream.next();
      const event = await committedElsewhere(room.id, 2);
      await t.running.services.bus.publish([event(2)]);
      await t.running.services.bus.publish([event(1)]);
      const delivered = [await stream.next(), await stream.next()];
      expect(delivered.map((message) => [Number(message.id) - Number(snapshot.id), message.event, message.data.offset])).toEqual([
        [1, 'room_locked', 1],
        [2, 'room_locked', 2],
      ]);
      stream.close();
    });

    it('sends a fresh snapshot when the missing event never comes', async () => {
      const room = await createPhoneRoom(t.api);
      const stream = await openRoomStream(t, room.id);
      await stream.next();
      const event = await committedElsewhere(room.id, 2);
      await t.running.services.bus.publish([event(2)]);
      const fresh = await stream.next('a fresh snapshot');
      expect(fresh).toMatchObject({ event: 'snapshot', id: String(await roomSeq(room.id)) });
      await joined(room.id, [call('a')]);
      expect((await stream.next()).id).toBe(String(Number(fresh.id) + 1));
      stream.close();
    });
  });

  it('cuts off a consumer that stops reading instead of buffering for it', async () => {
    const room = await createPhoneRoom(t.api);
    const { hostname, port } = new URL(t.url);
    const socket = net.connect(Number(port), hostname);
    socket.write(`GET /api/v1/rooms/${room.id}/live/events HTTP/1.1\r\nHost: ${hostname}\r\nAuthorization: Bearer ${t.teamA.developer_key}\r\n\r\n`);
    socket.pause();
    const feed = t.running.services.feed;
    try {
      await waitFor(() => (feed.watcherCount(room.id) === 1 ? true : undefined), 5000, 'the stream to start');
      const name = 'n'.repeat(255);
      for (let round = 0; round < 100 && feed.watcherCount(room.id) > 0; round++) {
        const callIds = Array.from({ length: 1000 }, (_, index) => `r${round}-${index}`);
        expect((await joined(room.id, callIds.map((callId) => call(callId, { name })))).status).toBe(200);
        expect((await left(room.id, callIds)).status).toBe(200);
      }
      expect(feed.watcherCount(room.id)).toBe(0);
    } finally {
      socket.destroy();
    }
  });
});

describe('the room event stream and the server’s life', () => {
  it('sends room_deleted and ends when the room is deleted', async () => {
    const t = await startTestServer();
    try {
      const room = await createPhoneRoom(t.api);
      await t.api.post(`/api/v1/rooms/${room.id}/phone-participants/joined`, [call('a')]);
      const stream = await openRoomStream(t, room.id);
      await stream.next();
      const deleted = await t.api.delete(`/api/v1/rooms/${room.id}`);
      expect(deleted.status, deleted.text).toBeLessThan(300);
      expect(await stream.nextNamed('room_deleted')).toMatchObject({ data: { room_id: room.id } });
      await stream.waitForEnd();
    } finally {
      await t.stop();
    }
  });

  it('ends open streams on shutdown instead of waiting out the grace period', async () => {
    const t = await startTestServer({ env: { ROOMLINE_SHUTDOWN_GRACE_SECONDS: '600' } });
    const room = await createPhoneRoom(t.api);
    const stream = await openRoomStream(t, room.id);
    await stream.next();
    await t.stop();
    await stream.waitForEnd();
  });
});
