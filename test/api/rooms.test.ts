import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RoomEvent } from '../../src/bus/events.js';
import { ManualClock, isoTime } from '../../src/domain/clock.js';
import { createRoom } from '../helpers/rooms.js';
import { startTestServer, waitFor, type ApiClient, type TestServer } from '../helpers/server.js';

/** Every field of the DS room examples (GET /rooms/{room} and the GET /rooms list item). */
const DS_ROOM_FIELDS = [
  'id', 'description', 'friendly_url', 'privacy', 'max_participants', 'max_broadcasters', 'is_locked', 'topbar_enabled',
  'toolbar_enabled', 'toolbar_position', 'video_tile_layout_mode', 'toolbar_color', 'primary_color', 'background_color',
  'palette_mode', 'language', 'language_selection_enabled', 'audio_on_join_enabled', 'video_on_join_enabled',
  'screenshare_enabled', 'participants_list_enabled', 'recordings_enabled', 'logo_enabled', 'custom_logo',
  'recording_logo_enabled', 'virtual_backgrounds_enabled', 'raise_hand_enabled', 'chat_enabled', 'private_chat_enabled',
  'private_group_chat_enabled', 'private_group_chat_name', 'pin_enabled', 'full_screen_enabled', 'minimize_own_tile_enabled',
  'minimize_own_tile_on_join_enabled', 'end_session_enabled', 'e2ee_enabled', 'layout_mode_switch_enabled',
  'simple_notifications_enabled', 'join_screen_enabled', 'participant_names_in_recordings_enabled',
  'hide_tiles_in_recordings_enabled', 'invite_participants_enabled', 'whiteboard_enabled', 'qa_enabled', 'files_panel_enabled',
  'consent_message_enabled', 'recording_consent_message_enabled', 'consent_message_type', 'consent_message', 'checkbox_message',
  'recordings_layout_mode', 'content_library_enabled', 'library_id', 'layout_mode_on_join', 'room_url', 'external_id',
  'default_role', 'roles', 'files', 'webhooks', 'breakout_rooms_enabled', 'breakouts', 'html_title', 'transcription_enabled',
  'captions_enabled', 'captions_in_recordings_enabled', 'captions_language', 'created_at', 'updated_at', 'topic', 'pip_enabled',
  'auto_pip_enabled', 'room_reactions_enabled', 'languages', 'hd_video_quality', 'audio_quality', 'audio_autogain_enabled',
  'audio_noise_suppression_enabled', 'audio_echo_cancellation_enabled', 'chat_reactions_enabled', 'broadcaster_tile_visibility',
  'leave_session_enabled', 'rejoin_session_enabled', 'connection_message_enabled', 'upvote_qa_enabled', 'shared_notes_enabled',
  'polls_enabled', 'default_content_library', 'transcription_auto_start_enabled', 'transcription_store_enabled',
];

const ISO_Z = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

async function roomIds(api: ApiClient, query = ''): Promise<string[]> {
  const response = await api.get(`/api/v1/rooms${query}`);
  expect(response.status, response.text).toBe(200);
  return response.body.data.map((room: { id: string }) => room.id);
}

function recordEvents(t: TestServer): RoomEvent[] {
  const events: RoomEvent[] = [];
  t.running.services.bus.subscribe((event) => events.push(event));
  return events;
}

describe('rooms', () => {
  let t: TestServer;
  const clock = new ManualClock();
  beforeAll(async () => {
    t = await startTestServer({ clock });
  });
  afterAll(async () => t.stop());

  it('creates a room with no body at all, and with {}', async () => {
    const bare = await t.api.request('POST', '/api/v1/rooms');
    const empty = await t.api.post('/api/v1/rooms', {});
    for (const response of [bare, empty]) {
      expect(response.status, response.text).toBe(200);
      const room = response.body;
      expect(Object.keys(room)).toEqual(expect.arrayContaining([...DS_ROOM_FIELDS, 'tags', 'session_length', 'telephony_enabled', 'telephony_phone_number', 'telephony_pin_dtmf']));
      expect(room.friendly_url).toMatch(/^[A-Za-z0-9]{32}$/);
      expect(room.room_url).toBe(`${t.running.services.config.publicUrl}/${room.friendly_url}`);
      expect(room).toMatchObject({ privacy: 'public', is_locked: false, session_length: null, max_participants: 100, tags: [], files: [], webhooks: [] });
      expect(room.default_role).toMatchObject({ name: 'moderator', display_name: 'Moderators' });
      expect(room.roles.map((role: { name: string }) => role.name)).toEqual(['moderator', 'speaker', 'attendee']);
      expect(room.created_at).toMatch(ISO_Z);
      expect(room.updated_at).toMatch(ISO_Z);
    }
    expect(bare.body.friendly_url).not.toBe(empty.body.friendly_url);
  });

  it('round-trips a room: create, get by id and by friendly_url, patch', async () => {
    const webhook = (await t.api.post('/api/v1/webhooks', { endpoint: 'http://127.0.0.1:9/round-trip', events: ['participant_joined'] })).body.id as string;
    const created = await t.api.post('/api/v1/rooms', {
      friendly_url: 'Round_trip-1',
      description: 'Weekly sync',
      privacy: 'private',
      external_id: 'ext-1',
      roles: ['speaker', 'attendee'],
      default_role: 'attendee',
      private_group_chat_roles: ['speaker'],
      session_length: 45,
      max_participants: 20,
      max_broadcasters: 50,
      telephony_enabled: true,
      telephony_phone_number: '+1 234 567 890',
      telephony_pin_dtmf: '123W1www2',
      tags: ['sales', 'weekly', 'sales'],
      webhooks: [webhook.toUpperCase()],
      breakouts: ['Room A', 'Room B'],
      primary_color: '#ff0000',
      language: 'de-DE',
      expires_at: '2099-09-05 12:30:00',
    });
    expect(created.status, created.text).toBe(200);
    const room = created.body;
    expect(room).toMatchObject({
      friendly_url: 'Round_trip-1',
      description: 'Weekly sync',
      topic: 'Weekly sync',
      privacy: 'private',
      external_id: 'ext-1',
      session_length: 45,
      max_participants: 20,
      max_broadcasters: 20,
      telephony_enabled: true,
      telephony_phone_number: '+1 234 567 890',
      telephony_pin_dtmf: '123W1www2',
      tags: ['sales', 'weekly'],
      webhooks: [webhook],
      primary_color: '#ff0000',
      language: 'de-DE',
      expires_at: '2099-09-05T12:30:00Z',
    });
    expect(room.roles.map((role: any) => [role.name, role.allow_private_group_chat])).toEqual([
      ['speaker', true],
      ['attendee', false],
    ]);
    expect(room.default_role.name).toBe('attendee');
    expect(room.breakouts.map((breakout: any) => breakout.name)).toEqual(['Room A', 'Room B']);

    for (const ref of [room.id, room.id.toUpperCase(), 'Round_trip-1']) {
      const fetched = await t.api.get(`/api/v1/rooms/${ref}`);
      expect(fetched.status, ref).toBe(200);
      expect(fetched.body).toEqual(room);
    }

    clock.advance(1000);
    const keep = room.breakouts[0].id;
    const patched = await t.api.patch(`/api/v1/rooms/${room.id}`, {
      friendly_url: 'renamed-room',
      description: null,
      session_length: null,
      roles: ['moderator', 'attendee'],
      breakouts: [keep, 'Room C'],
      tags: [],
      chat_enabled: false,
    });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.body).toMatchObject({ friendly_url: 'renamed-room', description: null, session_length: null, tags: [], chat_enabled: false, privacy: 'private' });
    // The default role (attendee) stays; the private group chat keeps only roles still offered.
    expect(patched.body.default_role.name).toBe('attendee');
    expect(patched.body.roles.map((role: any) => [role.name, role.allow_private_group_chat])).toEqual([
      ['moderator', false],
      ['attendee', false],
    ]);
    expect(patched.body.breakouts).toEqual([room.breakouts[0], { id: expect.any(String), name: 'Room C' }]);
    expect(patched.body.created_at).toBe(room.created_at);
    expect(patched.body.updated_at).not.toBe(room.updated_at);
    expect((await t.api.get('/api/v1/rooms/renamed-room')).body).toEqual(patched.body);
    expect((await t.api.get('/api/v1/rooms/Round_trip-1')).status).toBe(404);
  });

  it('checks an expiry when it is given, not when other fields change later', async () => {
    const room = await createRoom(t.api, { expires_at: isoTime(clock.now() + 60_000) });
    clock.advance(120_000);
    const patched = await t.api.patch(`/api/v1/rooms/${room.id}`, { description: 'after expiry' });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.body.expires_at).toBe(room.expires_at);
    expect((await t.api.patch(`/api/v1/rooms/${room.id}`, { expires_at: isoTime(clock.now()) })).status).toBe(422);
    expect((await t.api.patch(`/api/v1/rooms/${room.id}`, { expires_at: null })).body.expires_at).toBeNull();
  });

  it('takes the first role as default when a new roles list drops the default', async () => {
    const room = await createRoom(t.api, { roles: ['moderator', 'speaker'] });
    const patched = await t.api.patch(`/api/v1/rooms/${room.id}`, { roles: ['speaker', 'attendee'] });
    expect(patched.body.default_role.name).toBe('speaker');
  });

  it('refuses a friendly_url the team already uses, in any room, and another team’s room link', async () => {
    await createRoom(t.api, { friendly_url: 'taken-url' });
    const duplicate = await t.api.post('/api/v1/rooms', { friendly_url: 'taken-url' });
    expect(duplicate.status).toBe(422);
    expect(duplicate.body.errors).toEqual({ friendly_url: ['The friendly_url has already been taken.'] });
    const other = await createRoom(t.api);
    const renamed = await t.api.patch(`/api/v1/rooms/${other.id}`, { friendly_url: 'taken-url' });
    expect(renamed.status).toBe(422);
    expect(renamed.body.errors).toHaveProperty('friendly_url');
    // The page link `/taken-url` is team A's room's: no other team's room may take it.
    const elsewhere = await t.apiB.post('/api/v1/rooms', { friendly_url: 'taken-url' });
    expect(elsewhere.status).toBe(422);
    expect(elsewhere.body.errors).toEqual({ friendly_url: ['The friendly_url has already been taken.'] });
    // A room patched with its own name keeps it.
    expect((await t.api.patch(`/api/v1/rooms/taken-url`, { friendly_url: 'taken-url', description: 'same name' })).status).toBe(200);
  });

  it('refuses every invalid field with its path, and changes nothing', async () => {
    const room = await createRoom(t.api);
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ friendly_url: 'ab' }, 'friendly_url'],
      [{ friendly_url: 'a'.repeat(33) }, 'friendly_url'],
      [{ friendly_url: 'has space' }, 'friendly_url'],
      [{ friendly_url: 'dots.not.ok' }, 'friendly_url'],
      [{ friendly_url: 'healthz' }, 'friendly_url'],
      [{ friendly_url: 'live' }, 'friendly_url'],
      [{ friendly_url: 'LIVE' }, 'friendly_url'],
      [{ friendly_url: 42 }, 'friendly_url'],
      [{ description: 'ab' }, 'description'],
      [{ description: 'x'.repeat(501) }, 'description'],
      [{ privacy: 'secret' }, 'privacy'],
      [{ session_length: 0 }, 'session_length'],
      [{ session_length: 1441 }, 'session_length'],
      [{ session_length: 1.5 }, 'session_length'],
      [{ session_length: '30 minutes' }, 'session_length'],
      [{ session_length: '0x1e' }, 'session_length'],
      [{ max_participants: 1 }, 'max_participants'],
      [{ max_participants: 2001 }, 'max_participants'],
      [{ max_broadcasters: 0 }, 'max_broadcasters'],
      [{ is_locked: 'yes' }, 'is_locked'],
      [{ chat_enabled: 2 }, 'chat_enabled'],
      [{ chat_enabled: 'true' }, 'chat_enabled'],
      [{ toolbar_position: 'top' }, 'toolbar_position'],
      [{ primary_color: 'red' }, 'primary_color'],
      [{ primary_color: '#12345' }, 'primary_color'],
      [{ language: 'xx' }, 'language'],
      [{ languages: ['en', 'xx'] }, 'languages.1'],
      [{ audio_quality: 32 }, 'audio_quality'],
      [{ hd_video_quality: '4k' }, 'hd_video_quality'],
      [{ html_title: 'ab' }, 'html_title'],
      [{ lobby_message: 'x'.repeat(1001) }, 'lobby_message'],
      [{ private_group_chat_name: 'ab' }, 'private_group_chat_name'],
      [{ library_id: 'not-a-uuid-not-a-uuid-not-a-uuid-123' }, 'library_id'],
      [{ telephony_pin_dtmf: '12#x' }, 'telephony_pin_dtmf'],
      [{ tags: 'sales' }, 'tags'],
      [{ tags: ['a,b'] }, 'tags.0'],
      [{ tags: [''] }, 'tags.0'],
      [{ webhooks: [5] }, 'webhooks.0'],
      // An id that names none of the team's webhooks would turn every webhook off for the room.
      [{ webhooks: ['c83c7b87-b9b8-444d-a749-7076fe58fdb8'] }, 'webhooks.0'],
      [{ roles: [] }, 'roles'],
      [{ roles: ['moderator', 'nobody'] }, 'roles.1'],
      [{ default_role: 'nobody' }, 'default_role'],
      [{ roles: ['speaker'], default_role: 'moderator' }, 'default_role'],
      [{ private_group_chat_roles: ['nobody'] }, 'private_group_chat_roles.0'],
      [{ roles: ['speaker'], private_group_chat_roles: ['attendee'] }, 'private_group_chat_roles.0'],
      [{ expires_at: '2020-01-01 00:00:00' }, 'expires_at'],
      [{ expires_at: '2099-02-30 00:00:00' }, 'expires_at'],
      [{ expires_at: 'tomorrow' }, 'expires_at'],
    ];
    const before = await t.api.get(`/api/v1/rooms/${room.id}`);
    const listBefore = await roomIds(t.api);
    for (const [body, path] of cases) {
      for (const [method, url] of [['POST', '/api/v1/rooms'], ['PATCH', `/api/v1/rooms/${room.id}`]] as const) {
        const response = await t.api.request(method, url, { body });
        expect(response.status, `${method} ${JSON.stringify(body)}`).toBe(422);
        expect(Object.keys(response.body.errors), `${method} ${JSON.stringify(body)}`).toContain(path);
        expect(response.body.message).toEqual(expect.any(String));
      }
    }
    expect(await roomIds(t.api)).toEqual(listBefore);
    expect((await t.api.get(`/api/v1/rooms/${room.id}`)).body).toEqual(before.body);
  });

  it('starts new rooms from the team’s default settings; existing rooms keep theirs', async () => {
    const earlier = await createRoom(t.api);
    const defaults = await t.api.patch('/api/v1', {
      session_length: 30,
      primary_color: '#00FF00',
      chat_enabled: false,
      roles: ['speaker', 'attendee'],
      default_role: 'speaker',
    });
    expect(defaults.status, defaults.text).toBe(200);
    try {
      const inherited = await createRoom(t.api);
      expect(inherited).toMatchObject({ session_length: 30, primary_color: '#00FF00', chat_enabled: false });
      expect((inherited.roles as any[]).map((role) => role.name)).toEqual(['speaker', 'attendee']);
      expect((inherited.default_role as any).name).toBe('speaker');

      const overriding = await createRoom(t.api, { session_length: 90, chat_enabled: true, roles: ['moderator'] });
      expect(overriding).toMatchObject({ session_length: 90, chat_enabled: true, primary_color: '#00FF00' });
      expect((overriding.default_role as any).name).toBe('moderator');

      expect((await t.api.get(`/api/v1/rooms/${earlier.id}`)).body).toMatchObject({ session_length: null, primary_color: '#3771E0', chat_enabled: true });
      // Another team's rooms follow their own defaults.
      expect((await createRoom(t.apiB)).session_length).toBeNull();
    } finally {
      await t.api.patch('/api/v1', { session_length: null, primary_color: '#3771E0', chat_enabled: true, roles: ['moderator', 'speaker', 'attendee'], default_role: 'moderator' });
    }
  });

  it('emits room_locked and room_unlocked when is_locked changes, and nothing when it does not', async () => {
    const events = recordEvents(t);
    const room = await createRoom(t.api, { external_id: 'lock-ext' });
    expect((await t.api.patch(`/api/v1/rooms/${room.id}`, { is_locked: true })).body.is_locked).toBe(true);
    await t.api.patch(`/api/v1/rooms/${room.id}`, { is_locked: true, description: 'still locked' });
    expect((await t.api.patch(`/api/v1/rooms/${room.friendly_url}`, { is_locked: false })).body.is_locked).toBe(false);
    const mine = await waitFor(() => {
      const found = events.filter((event) => event.roomId === room.id);
      return found.length >= 2 ? found : undefined;
    });
    expect(mine.map((event) => event.name)).toEqual(['room_locked', 'room_unlocked']);
    expect(mine[0]).toMatchObject({ teamId: t.teamA.team_id, data: { room_id: room.id, friendly_url: room.friendly_url, external_id: 'lock-ext', is_locked: true } });
  });

  it('deletes a room by id or friendly_url, with or without resource flags, and emits room_deleted', async () => {
    const events = recordEvents(t);
    const first = await createRoom(t.api);
    const second = await createRoom(t.api);
    expect((await t.api.request('DELETE', `/api/v1/rooms/${first.id}`)).status).toBe(204);
    const flagged = await t.api.delete(`/api/v1/rooms/${second.friendly_url}`, { delete_resources: true, delete_history: true, delete_library: true });
    expect(flagged.status).toBe(204);
    expect(flagged.text).toBe('');
    for (const room of [first, second]) {
      expect((await t.api.get(`/api/v1/rooms/${room.id}`)).status).toBe(404);
      expect((await t.api.request('DELETE', `/api/v1/rooms/${room.id}`)).status).toBe(404);
    }
    const deleted = await waitFor(() => {
      const found = events.filter((event) => event.name === 'room_deleted');
      return found.length >= 2 ? found : undefined;
    });
    expect(deleted.map((event) => event.data.room_id)).toEqual([first.id, second.id]);
    expect(deleted[1]!.data).toMatchObject({ friendly_url: second.friendly_url });
    // A flag DS does not know is ignored, as DS ignores it: the room is gone all the same.
    expect((await t.api.delete(`/api/v1/rooms/${first.id}`, { delete_everything: true })).status).toBe(404);
  });

  it('anonymises the participation records of a room deleted with delete_history, keeping their times and figures', async () => {
    const kept = await createRoom(t.api, { telephony_enabled: true });
    const forgotten = await createRoom(t.api, { telephony_enabled: true });
    for (const room of [kept, forgotten]) {
      await t.api.post(`/api/v1/rooms/${room.id}/phone-participants/joined`, [{ call_id: 'call-1', name: 'Ada Lovelace', caller_number: '+44 20 7946 0958', external_id: 'crm-7' }]);
      await t.api.post(`/api/v1/rooms/${room.id}/phone-participants/left`, ['call-1']);
    }
    const before = (await t.api.get(`/api/v1/participants?room_id=${forgotten.id}`)).body.data[0];
    expect((await t.api.delete(`/api/v1/rooms/${kept.id}`)).status).toBe(204);
    expect((await t.api.delete(`/api/v1/rooms/${forgotten.id}`, { delete_history: true })).status).toBe(204);

    const after = (await t.api.get(`/api/v1/participants?room_id=${forgotten.id}`)).body.data[0];
    expect(after).toMatchObject({ id: before.id, name: null, external_id: null, join_time: before.join_time, leave_time: before.leave_time, leave_reason: 'left' });
    const detail = (await t.api.get(`/api/v1/participants/${before.id}`)).body;
    expect(detail).toMatchObject({ participant_name: null, external_id: null, caller_number: null, call_id: null, participation_minutes: before.participation_minutes ?? 0 });
    expect(JSON.stringify(detail)).not.toMatch(/Ada|Lovelace|7946|crm-7/);
    // Without the flag, a deleted room's records keep who took part.
    expect((await t.api.get(`/api/v1/participants?room_id=${kept.id}`)).body.data[0]).toMatchObject({ name: 'Ada Lovelace', external_id: 'crm-7' });
  });

  it('refuses to delete the resources of a live room', async () => {
    const room = await createRoom(t.api, { telephony_enabled: true });
    const joined = await t.api.post(`/api/v1/rooms/${room.id}/phone-participants/joined`, [{ call_id: 'call-1', name: 'Caller' }]);
    expect(joined.status, joined.text).toBe(200);
    const refused = await t.api.delete(`/api/v1/rooms/${room.id}`, { delete_resources: true });
    expect(refused.status).toBe(422);
    expect(refused.body.message).toBe('Cannot delete resources of a live room.');
    expect((await t.api.get(`/api/v1/rooms/${room.id}`)).status).toBe(200);
    expect((await t.api.request('DELETE', `/api/v1/rooms/${room.id}`)).status).toBe(204);
  });
});

describe('rooms deleted with delete_history, with a long history', () => {
  /** Records of the room that still name someone. */
  const named = async (t: TestServer, roomId: string) =>
    Number(
      (
        await t.running.services.store.db
          .selectFrom('participants')
          .select((eb) => eb.fn.countAll<number | string>().as('count'))
          .where('room_id', '=', roomId)
          .where((eb) => eb.or([eb('name', 'is not', null), eb('call_id', 'is not', null), eb('caller_number', 'is not', null)]))
          .executeTakeFirstOrThrow()
      ).count,
    );
  /** A room with 2,500 participation records, their join times shared a thousand at a time. */
  async function roomWithHistory(t: TestServer): Promise<string> {
    const room = await createRoom(t.api, { telephony_enabled: true });
    for (const size of [1000, 1000, 500]) {
      const calls = Array.from({ length: size }, (_, i) => ({ call_id: `c-${size}-${i}-${Math.random()}`, name: `Caller ${i}`, caller_number: '+15550100' }));
      await t.api.post(`/api/v1/rooms/${room.id}/phone-participants/joined`, calls);
      await t.api.post(`/api/v1/rooms/${room.id}/phone-participants/left`, calls.map((call) => call.call_id));
    }
    return room.id;
  }

  it('anonymises every record before answering, a step at a time, and finishes at the next start what a stop broke off', async () => {
    const t = await startTestServer();
    const deleted = await roomWithHistory(t);
    expect(await named(t, deleted)).toBe(2500);
    expect((await t.api.delete(`/api/v1/rooms/${deleted}`, { delete_history: true })).status).toBe(204);
    expect(await named(t, deleted)).toBe(0);
    expect(Number((await t.api.get(`/api/v1/participants?room_id=${deleted}`)).body.total_count)).toBe(2500);

    // Stopped after the deletion committed, before its records were anonymised: as the change leaves it.
    const broken = await roomWithHistory(t);
    expect((await t.api.delete(`/api/v1/rooms/${broken}`)).status).toBe(204);
    await t.running.services.store.transaction((trx) => trx.updateTable('room_history').set({ anonymise_pending: 1 }).where('room_id', '=', broken).execute());
    await t.stop({ keepState: true });
    const again = await startTestServer({ state: t.state });
    try {
      const mark = async () => (await again.running.services.store.db.selectFrom('room_history').select('anonymise_pending').where('room_id', '=', broken).executeTakeFirstOrThrow()).anonymise_pending;
      await waitFor(async () => ((await mark()) === 0 ? true : undefined), 10_000, 'the anonymising finished');
      expect(await named(again, broken)).toBe(0);
    } finally {
      await again.stop();
    }
  });
});

describe('deleting many rooms by tag', () => {
  it('deletes every tagged room, a hundred a change, and skips the live one wherever it falls', async () => {
    const t = await startTestServer();
    try {
      const rooms = [];
      for (let n = 0; n < 250; n++) rooms.push(await createRoom(t.api, { tags: ['bulk'], telephony_enabled: true }));
      const untagged = await createRoom(t.api);
      // In the middle of the second hundred.
      const live = rooms[150]!;
      expect((await t.api.post(`/api/v1/rooms/${live.id}/phone-participants/joined`, [{ call_id: 'on-air', name: 'Caller' }])).status).toBe(200);
      expect((await t.api.delete('/api/v1/rooms', { tags: ['bulk'], delete_history: false })).status).toBe(202);
      expect((await t.api.get('/api/v1/rooms?limit=100')).body.data.map((room: { id: string }) => room.id).sort()).toEqual([live.id, untagged.id].sort());
    } finally {
      await t.stop();
    }
  });
});

describe('room lists', () => {
  let t: TestServer;
  const clock = new ManualClock();
  const created: Array<{ id: string; friendly_url: string }> = [];
  beforeAll(async () => {
    t = await startTestServer({ clock });
    for (const tags of [['red'], ['blue'], ['red', 'blue'], [], ['green']]) {
      clock.advance(1000);
      created.push(await createRoom(t.api, { tags }));
    }
    await createRoom(t.apiB, { tags: ['red'] });
  });
  afterAll(async () => t.stop());

  const ids = (indexes: number[]) => indexes.map((index) => created[index]!.id);

  it('lists newest first by default, with the total count', async () => {
    const response = await t.api.get('/api/v1/rooms');
    // DS sends the rooms list's count as text.
    expect(response.body.total_count).toBe('5');
    expect(response.body.data.map((room: { id: string }) => room.id)).toEqual(ids([4, 3, 2, 1, 0]));
    expect(response.body.data[0]).toMatchObject({ tags: ['green'], default_role: { name: 'moderator' } });
  });

  it('pages with limit, offset, order and after (an id or a friendly_url)', async () => {
    expect(await roomIds(t.api, '?order=asc&limit=2')).toEqual(ids([0, 1]));
    expect(await roomIds(t.api, '?order=asc&limit=2&offset=2')).toEqual(ids([2, 3]));
    expect(await roomIds(t.api, `?order=asc&after=${created[1]!.id}`)).toEqual(ids([2, 3, 4]));
    expect(await roomIds(t.api, `?order=asc&after=${created[1]!.friendly_url}&limit=1`)).toEqual(ids([2]));
    expect(await roomIds(t.api, `?after=${created[3]!.friendly_url}`)).toEqual(ids([2, 1, 0]));
    expect(await roomIds(t.api, `?after=${created[3]!.id}&offset=1&limit=1`)).toEqual(ids([1]));
    expect((await t.api.get(`/api/v1/rooms?after=${created[0]!.id}&order=asc`)).body.total_count).toBe('5');
  });

  it('refuses bad list parameters', async () => {
    for (const query of ['limit=0', 'limit=101', 'limit=ten', 'offset=-1', 'order=up', 'after=no-such-room']) {
      const response = await t.api.get(`/api/v1/rooms?${query}`);
      expect(response.status, query).toBe(422);
    }
    // A parameter the list does not know is ignored, as DS ignores it.
    expect(await roomIds(t.api, '?colour=red&page=2')).toEqual(await roomIds(t.api));
    const otherTeamRoom = (await t.apiB.get('/api/v1/rooms')).body.data[0].id;
    expect((await t.api.get(`/api/v1/rooms?after=${otherTeamRoom}`)).status).toBe(422);
  });

  it('filters by tag: a comma list, tag[] or repeated tag, matching any of them', async () => {
    expect(await roomIds(t.api, '?tag=red')).toEqual(ids([2, 0]));
    expect(await roomIds(t.api, '?tag=red,green&order=asc')).toEqual(ids([0, 2, 4]));
    expect(await roomIds(t.api, '?tag[]=blue&tag[]=green&order=asc')).toEqual(ids([1, 2, 4]));
    expect(await roomIds(t.api, '?tag=blue&tag=green&order=asc')).toEqual(ids([1, 2, 4]));
    expect(await roomIds(t.api, '?tag=purple')).toEqual([]);
    expect((await t.api.get('/api/v1/rooms?tag=red&limit=1')).body.total_count).toBe('2');
  });

  it('deletes by tags (202): every room with any of them, nothing when a tag is unknown', async () => {
    const unknown = await t.api.delete('/api/v1/rooms', { tags: ['green', 'purple'] });
    expect(unknown.status).toBe(422);
    expect(unknown.body.errors).toEqual({ 'tags.1': ['The selected tags.1 is invalid.'] });
    expect((await t.api.delete('/api/v1/rooms', {})).status).toBe(422);
    expect(await roomIds(t.api, '?order=asc')).toEqual(ids([0, 1, 2, 3, 4]));

    const accepted = await t.api.delete('/api/v1/rooms', { tags: 'red' });
    expect(accepted.status).toBe(202);
    expect(accepted.headers.get('content-type')).toMatch(/^application\/json/);
    expect(accepted.body).toEqual({});
    expect(await roomIds(t.api, '?order=asc')).toEqual(ids([1, 3, 4]));
    // A room whose session is live is skipped, as DS skips it: the call in it goes on.
    const joined = await t.api.post(`/api/v1/rooms/${created[4]!.id}/phone-participants/joined`, [{ call_id: 'still-talking', name: 'Caller' }]);
    expect(joined.status, joined.text).toBe(200);
    expect((await t.api.delete('/api/v1/rooms', { tags: ['blue', 'green'] })).status).toBe(202);
    expect(await roomIds(t.api)).toEqual(ids([4, 3]));
    expect((await t.api.get(`/api/v1/rooms/${created[4]!.id}/live`)).body.live_participants).toBe(1);
    expect((await t.api.post(`/api/v1/rooms/${created[4]!.id}/phone-participants/left`, ['still-talking'])).status).toBe(200);
    expect((await t.api.delete('/api/v1/rooms', { tags: ['green'] })).status).toBe(202);
    expect(await roomIds(t.api)).toEqual(ids([3]));
    // Team B's red room is untouched.
    expect((await t.apiB.get('/api/v1/rooms?tag=red')).body.total_count).toBe('1');
  });

  it('never reads an empty tag list as every room', async () => {
    await expect(t.running.services.rooms.removeTagged(t.teamA.team_id, [], {})).rejects.toThrow('The tags field is required.');
    expect(await roomIds(t.api)).toEqual(ids([3]));
  });
});

describe('rooms of another team', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => t.stop());

  it('are not found on every room route, exactly like a missing room', async () => {
    const room = await createRoom(t.api, { tags: ['a-only'] });
    const missing = { message: 'Not Found', error: 'not-found' };
    for (const ref of [room.id, room.friendly_url, '00000000-0000-4000-8000-000000000000', 'no-such-room']) {
      for (const [method, body] of [['GET', undefined], ['PATCH', { description: 'taken over' }], ['DELETE', undefined]] as const) {
        const response = await t.apiB.request(method, `/api/v1/rooms/${ref}`, { body });
        expect(response.status, `${method} ${ref}`).toBe(404);
        expect(response.body).toEqual(missing);
      }
    }
    expect((await t.apiB.get('/api/v1/rooms')).body).toEqual({ total_count: '0', data: [] });
    expect((await t.apiB.get('/api/v1/rooms?tag=a-only')).body.total_count).toBe('0');
    expect((await t.apiB.delete('/api/v1/rooms', { tags: ['a-only'] })).status).toBe(422);
    expect((await t.api.get(`/api/v1/rooms/${room.id}`)).body).toMatchObject({ description: null });
  });
});

describe('bad input on rooms', () => {
  let t: TestServer;
  let roomId: string;
  let listBefore: string[];
  beforeAll(async () => {
    t = await startTestServer();
    roomId = (await createRoom(t.api, { friendly_url: 'steady-room' })).id;
    listBefore = await roomIds(t.api);
  });
  afterAll(async () => t.stop());

  async function expectNothingChanged(): Promise<void> {
    expect((await t.client().get('/healthz')).status).toBe(200);
    expect(await roomIds(t.api)).toEqual(listBefore);
    expect((await t.api.get(`/api/v1/rooms/${roomId}`)).body).toMatchObject({ friendly_url: 'steady-room', description: null });
  }

  it('answers malformed JSON with a 400', async () => {
    for (const [method, path] of [['POST', '/api/v1/rooms'], ['PATCH', `/api/v1/rooms/${roomId}`], ['DELETE', '/api/v1/rooms']] as const) {
      for (const raw of ['{"description":', 'not json', '{"a":1}}']) {
        const response = await t.api.request(method, path, { raw, headers: { 'content-type': 'application/json' } });
        expect(response.status, `${method} ${path} ${raw}`).toBe(400);
        expect(response.body.message).toEqual(expect.any(String));
      }
    }
    await expectNothingChanged();
  });

  it('answers an array or a scalar where an object belongs with a 422', async () => {
    for (const body of [[{ description: 'array' }], 'text', 5, null]) {
      for (const [method, path] of [['POST', '/api/v1/rooms'], ['PATCH', `/api/v1/rooms/${roomId}`]] as const) {
        const response = await t.api.request(method, path, { body });
        expect(response.status, `${method} ${JSON.stringify(body)}`).toBe(422);
      }
    }
    await expectNothingChanged();
  });

  it('answers a 1 MiB string with a 413 or 422', async () => {
    const description = 'x'.repeat(1024 * 1024);
    for (const [method, path] of [['POST', '/api/v1/rooms'], ['PATCH', `/api/v1/rooms/${roomId}`]] as const) {
      const response = await t.api.request(method, path, { body: { description } });
      expect([413, 422], `${method} ${path}`).toContain(response.status);
      expect(response.body.message).toEqual(expect.any(String));
    }
    await expectNothingChanged();
  });

  it('takes what DS takes: unknown fields ignored, 1/0/"1"/"0" as booleans, integers written as text', async () => {
    // Laravel validates the fields it knows and ignores the rest; its boolean rule takes 1, 0,
    // "1" and "0", and its integer rule digits in a string: DS clients send all of these.
    // Fields of a room's answer that nobody sets (topic, room_url) are ignored the same way, so
    // a room read can be sent back as a change.
    const created = await t.api.post('/api/v1/rooms', { friendly_url: 'laravel-ways', colour: 'red', topic: 'x', room_url: 'https://example.com', is_locked: 1, chat_enabled: '0', max_participants: '50', session_length: 30 });
    expect(created.status, created.text).toBe(200);
    expect(created.body).toMatchObject({ friendly_url: 'laravel-ways', is_locked: true, chat_enabled: false, max_participants: 50, session_length: 30 });
    expect(created.body).not.toHaveProperty('colour');
    expect(created.body.room_url).not.toBe('https://example.com');
    const patched = await t.api.patch(`/api/v1/rooms/${created.body.id}`, { colour: 'blue', is_locked: '0', session_length: '45' });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.body).toMatchObject({ is_locked: false, session_length: 45 });
    expect((await t.api.request('DELETE', `/api/v1/rooms/${created.body.id}`, { body: { colour: 'red' } })).status).toBe(204);
    await expectNothingChanged();
  });

  it('answers odd room references with a JSON 404', async () => {
    for (const ref of ['%C3%BC-room', 'r%C3%A4um', '..%2F..%2Fhealthz', '..%2F', '../nothing', 'a%00b', '%00', 'steady-room%00', 'x'.repeat(300), '%F0%9F%98%80']) {
      for (const method of ['GET', 'PATCH', 'DELETE']) {
        const response = await t.api.request(method, `/api/v1/rooms/${ref}`, { body: method === 'PATCH' ? { description: 'changed' } : undefined });
        expect(response.status, `${method} ${ref}`).toBe(404);
        expect(response.headers.get('content-type')).toMatch(/^application\/json/);
        expect(response.body.message).toBe('Not Found');
      }
    }
    await expectNothingChanged();
  });
});
