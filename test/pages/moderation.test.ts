import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_NAMES } from '../../src/bus/events.js';
import { Receiver } from '../helpers/receiver.js';
import { createPhoneRoom, recordEvents, type CreatedRoom } from '../helpers/rooms.js';
import { startTestServer, waitFor, type TestServer } from '../helpers/server.js';
import { joinAs, openPanel, type JoinedPage } from './page-client.js';

describe('moderator controls of the room page', () => {
  let t: TestServer;
  let receiver: Receiver;

  beforeAll(async () => {
    t = await startTestServer();
    receiver = new Receiver();
    await receiver.start();
    const hook = await t.api.post('/api/v1/webhooks', { endpoint: receiver.url, events: EVENT_NAMES });
    expect(hook.status).toBe(200);
  });
  afterAll(async () => {
    await receiver.stop();
    await t.stop();
  });

  /** A room with a moderator and an attendee on the page, and two phone callers (one muted). */
  async function setUp(): Promise<{ room: CreatedRoom; moderator: JoinedPage; attendee: JoinedPage; callers: Record<string, string> }> {
    const room = await createPhoneRoom(t.api);
    await t.api.post(`/api/v1/rooms/${room.id}/phone-participants/joined`, [
      { call_id: 'call-ann', name: 'Ann', caller_number: '+15550001' },
      { call_id: 'call-bob', name: 'Bob', caller_number: '+15550002', muted: true },
    ]);
    const moderator = await joinAs(t, room.id, { name: 'Mo' });
    const token = (await t.api.post(`/api/v1/rooms/${room.id}/token`, { u: 'Attendee', role: 'attendee' })).body.token;
    const attendee = await joinAs(t, room.id, { token });
    const live = (await t.api.get(`/api/v1/rooms/${room.id}/live/participants`)).body.live_participants as Array<{ id: string; name: string }>;
    const callers = Object.fromEntries(live.map((participant) => [participant.name, participant.id]));
    return { room, moderator, attendee, callers };
  }

  const act = (who: JoinedPage, participantId: string, action: string) => who.page.post(`/room-page/api/participants/${participantId}/${action}`);
  const delivered = (event: string, predicate: (data: any) => boolean) =>
    waitFor(() => receiver.accepted.find((request) => request.json.event === event && predicate(request.json.data))?.json.data, 10_000, event);

  it('mutes and unmutes a phone caller, and the bridge hears of it by webhook', async () => {
    const { room, moderator, callers } = await setUp();
    expect((await act(moderator, callers.Ann!, 'mute')).status).toBe(204);
    expect(await delivered('phone_participant_muted', (data) => data.room_id === room.id)).toMatchObject({ call_id: 'call-ann', muted: true });
    expect((await act(moderator, callers.Ann!, 'unmute')).status).toBe(204);
    expect(await delivered('phone_participant_unmuted', (data) => data.room_id === room.id)).toMatchObject({ call_id: 'call-ann', muted: false });
  });

  it('asks a muted caller to unmute: phone_participant_asked_to_unmute with call_id, participant_id and room_id', async () => {
    const { room, moderator, callers } = await setUp();
    const panel = await openPanel(t, moderator.credential);
    await panel.next('snapshot');
    expect((await act(moderator, callers.Bob!, 'ask-to-unmute')).status).toBe(204);
    expect(await delivered('phone_participant_asked_to_unmute', (data) => data.room_id === room.id)).toEqual({
      call_id: 'call-bob',
      participant_id: callers.Bob,
      room_id: room.id,
    });
    expect(await panel.next('asked_to_unmute')).toEqual({ type: 'asked_to_unmute', participant_id: callers.Bob });
    const notMuted = await act(moderator, callers.Ann!, 'ask-to-unmute');
    expect(notMuted.status).toBe(422);
    expect(notMuted.body.message).toBe('The caller is not muted.');
    panel.close();
  });

  it('lowers a raised hand', async () => {
    const { room, moderator, callers } = await setUp();
    await t.api.post(`/api/v1/rooms/${room.id}/phone-participants/call-ann/raise-hand`);
    expect((await act(moderator, callers.Ann!, 'lower-hand')).status).toBe(204);
    expect(await delivered('participant_hand_lowered', (data) => data.room_id === room.id)).toMatchObject({ call_id: 'call-ann', hand_raised: false });
  });

  it('removes a web participant, who is told so and leaves with reason removed', async () => {
    const { room, moderator, attendee } = await setUp();
    const panel = await openPanel(t, attendee.credential);
    await panel.next('snapshot');
    expect((await act(moderator, attendee.participantId, 'remove')).status).toBe(204);
    expect(await panel.next('ended')).toEqual({ type: 'ended', reason: 'removed' });
    expect(await delivered('participant_left', (data) => data.participant_id === attendee.participantId)).toMatchObject({ type: 'web', reason: 'removed', room_id: room.id });
    expect((await openPanel(t, attendee.credential)).status).toBe(401);
  });

  it('refuses actions that do not apply to the participant, and anyone outside the room', async () => {
    const { moderator, attendee, callers } = await setUp();
    const other = await setUp();
    expect((await act(moderator, attendee.participantId, 'mute')).status).toBe(422);
    expect((await act(moderator, callers.Ann!, 'remove')).status).toBe(422);
    const elsewhere = await act(moderator, other.callers.Ann!, 'mute');
    expect(elsewhere.status).toBe(404);
    expect(elsewhere.body).toEqual({ message: 'Not Found', error: 'not-found' });
    expect((await act(moderator, 'nobody', 'mute')).status).toBe(404);
    expect((await act(moderator, callers.Ann!, 'shout')).status).toBe(422);
  });

  it('locks and unlocks the room (room_locked / room_unlocked), and a locked room takes nobody new', async () => {
    const { room, moderator } = await setUp();
    expect((await moderator.page.post('/room-page/api/room/lock')).status).toBe(204);
    expect(await delivered('room_locked', (data) => data.room_id === room.id)).toEqual({
      room_id: room.id,
      friendly_url: room.friendly_url,
      external_id: null,
      is_locked: true,
    });
    expect((await t.api.get(`/api/v1/rooms/${room.id}`)).body.is_locked).toBe(true);
    expect((await t.client().request('POST', `/room-page/api/rooms/${room.id}/join`, { body: { name: 'Late' } })).status).toBe(403);
    expect((await moderator.page.post('/room-page/api/room/unlock')).status).toBe(204);
    expect(await delivered('room_unlocked', (data) => data.room_id === room.id)).toMatchObject({ is_locked: false });
  });

  it('offers an attendee no moderator control, and refuses each one with a 403', async () => {
    const { attendee, moderator, callers } = await setUp();
    const panel = await openPanel(t, attendee.credential);
    expect((await panel.next('hello')).capabilities).toEqual({ mute: false, ask_to_unmute: false, lower_hand: false, remove: false, lock: false, raise_hand: true });
    panel.close();
    const recorded = recordEvents(t);
    const attempts = [
      act(attendee, callers.Ann!, 'mute'),
      act(attendee, callers.Bob!, 'unmute'),
      act(attendee, callers.Bob!, 'ask-to-unmute'),
      act(attendee, callers.Ann!, 'lower-hand'),
      act(attendee, moderator.participantId, 'remove'),
      attendee.page.post('/room-page/api/room/lock'),
      attendee.page.post('/room-page/api/room/unlock'),
    ];
    for (const response of await Promise.all(attempts)) {
      expect(response.status).toBe(403);
      expect(response.body).toEqual({ message: 'This action is unauthorized.' });
    }
    recorded.stop();
    expect(recorded.events).toEqual([]);
  });

  it('lets a participant raise and lower its own hand, with the permission to raise it', async () => {
    const { room, attendee } = await setUp();
    expect((await attendee.page.post('/room-page/api/hand', { raised: true })).status).toBe(204);
    expect(await delivered('participant_hand_raised', (data) => data.participant_id === attendee.participantId)).toMatchObject({ type: 'web', room_id: room.id });
    expect((await attendee.page.post('/room-page/api/hand', { raised: false })).status).toBe(204);
    await delivered('participant_hand_lowered', (data) => data.participant_id === attendee.participantId);
    expect((await attendee.page.post('/room-page/api/hand', { raised: 'yes' })).status).toBe(422);

    const noHands = await t.api.post('/api/v1/roles', { name: 'listener', display_name: 'Listeners', permissions: { raise_hand: false } });
    expect(noHands.status).toBe(200);
    await t.api.patch(`/api/v1/rooms/${room.id}`, { roles: ['moderator', 'attendee', 'listener'] });
    const token = (await t.api.post(`/api/v1/rooms/${room.id}/token`, { u: 'Quiet', role: 'listener' })).body.token;
    const listener = await joinAs(t, room.id, { token });
    expect((await listener.page.post('/room-page/api/hand', { raised: true })).status).toBe(403);
  });
});
