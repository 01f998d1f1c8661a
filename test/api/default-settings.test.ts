import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** Every field of the DS example of GET /api/v1. */
const DS_DEFAULT_SETTINGS_FIELDS = [
  'id', 'owner_id', 'domain', 'is_locked', 'topbar_enabled', 'toolbar_enabled', 'toolbar_position', 'video_tile_layout_mode',
  'toolbar_color', 'primary_color', 'background_color', 'palette_mode', 'language', 'language_selection_enabled',
  'audio_on_join_enabled', 'video_on_join_enabled', 'screenshare_enabled', 'participants_list_enabled', 'chat_enabled',
  'private_chat_enabled', 'private_group_chat_enabled', 'private_group_chat_name', 'pin_enabled', 'full_screen_enabled',
  'minimize_own_tile_enabled', 'minimize_own_tile_on_join_enabled', 'end_session_enabled', 'e2ee_enabled',
  'layout_mode_switch_enabled', 'simple_notifications_enabled', 'join_screen_enabled', 'logo_enabled', 'custom_logo',
  'application_logo', 'favicon', 'recordings_enabled', 'recording_logo_enabled', 'virtual_backgrounds_enabled',
  'raise_hand_enabled', 'participant_names_in_recordings_enabled', 'hide_tiles_in_recordings_enabled',
  'invite_participants_enabled', 'whiteboard_enabled', 'qa_enabled', 'files_panel_enabled', 'consent_message_enabled',
  'recording_consent_message_enabled', 'consent_message_type', 'consent_message', 'checkbox_message', 'recordings_layout_mode',
  'layout_mode_on_join', 'content_library_enabled', 'library_id', 'roles', 'default_role', 'custom_cname', 'captions_enabled',
  'captions_in_recordings_enabled', 'captions_language', 'max_participants', 'max_sessions', 'session_length', 'html_title',
  'subscription_start', 'subscription_end',
];

describe('default room settings', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => t.stop());

  it('answers every DS field, with the built-in roles and the moderator as default', async () => {
    for (const path of ['/api/v1', '/api/v1/']) {
      const response = await t.api.get(path);
      expect(response.status, path).toBe(200);
      const settings = response.body;
      expect(Object.keys(settings)).toEqual(expect.arrayContaining(DS_DEFAULT_SETTINGS_FIELDS));
      expect(settings).toMatchObject({
        id: t.teamA.team_id,
        owner_id: t.teamA.team_id,
        domain: 'local',
        session_length: null,
        primary_color: '#3771E0',
        language: 'en',
        max_participants: 2000,
        custom_cname: null,
      });
      expect(settings.subscription_start).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
      expect(settings.roles.map((role: any) => [role.name, role.allow_private_group_chat])).toEqual([
        ['moderator', false],
        ['speaker', false],
        ['attendee', false],
      ]);
      expect(settings.default_role).toEqual({ id: settings.roles[0].id, name: 'moderator', display_name: 'Moderators' });
    }
  });

  it('changes what PATCH gives, keeps the rest, and answers the result', async () => {
    const before = (await t.api.get('/api/v1')).body;
    const patched = await t.api.patch('/api/v1', {
      domain: 'my-team',
      session_length: 1440,
      toolbar_position: 'left',
      background_color: '#FFF',
      favicon: 'https://example.com/favicon.png',
      watermark_text: 'Confidential!',
      languages: ['en', 'de-DE'],
      default_role: 'speaker',
      private_group_chat_roles: ['moderator', 'speaker'],
    });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.body).toMatchObject({
      domain: 'my-team',
      session_length: 1440,
      toolbar_position: 'left',
      background_color: '#FFF',
      favicon: 'https://example.com/favicon.png',
      watermark_text: 'Confidential!',
      languages: ['en', 'de-DE'],
      primary_color: before.primary_color,
      chat_enabled: before.chat_enabled,
    });
    expect(patched.body.default_role.name).toBe('speaker');
    expect(patched.body.roles.map((role: any) => [role.name, role.allow_private_group_chat])).toEqual([
      ['moderator', true],
      ['speaker', true],
      ['attendee', false],
    ]);
    expect((await t.api.get('/api/v1')).body).toEqual(patched.body);
    const roles = (await t.api.get('/api/v1/roles?order=asc')).body.data;
    expect(roles.filter((role: any) => role.default).map((role: any) => role.name)).toEqual(['speaker']);

    const unlimited = await t.api.patch('/api/v1', { session_length: null, default_role: 'moderator', roles: ['moderator', 'attendee'] });
    expect(unlimited.body).toMatchObject({ session_length: null, domain: 'my-team' });
    expect(unlimited.body.roles.map((role: any) => [role.name, role.allow_private_group_chat])).toEqual([
      ['moderator', true],
      ['attendee', false],
    ]);
  });

  it('refuses invalid settings with field paths, and changes nothing', async () => {
    const before = (await t.api.get('/api/v1')).body;
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ domain: 'ab' }, 'domain'],
      [{ domain: 'a'.repeat(33) }, 'domain'],
      [{ domain: 'my.team' }, 'domain'],
      [{ domain: 'Dashboard' }, 'domain'],
      [{ session_length: 0 }, 'session_length'],
      [{ session_length: 1441 }, 'session_length'],
      [{ toolbar_position: 'middle' }, 'toolbar_position'],
      [{ palette_mode: 'dim' }, 'palette_mode'],
      [{ toolbar_color: '000000' }, 'toolbar_color'],
      [{ language: 'klingon' }, 'language'],
      [{ captions_language: 'en-US' }, 'captions_language'],
      [{ consent_message_type: 'legal' }, 'consent_message_type'],
      [{ watermark_text: 'ab' }, 'watermark_text'],
      [{ watermark_text: 'x'.repeat(51) }, 'watermark_text'],
      [{ watermark_text: 'Секретно' }, 'watermark_text'],
      [{ html_title: 'x'.repeat(256) }, 'html_title'],
      [{ chat_enabled: 'true' }, 'chat_enabled'],
      [{ default_role: 'nobody' }, 'default_role'],
      [{ roles: ['speaker'], default_role: 'moderator' }, 'default_role'],
      [{ roles: ['ghost'] }, 'roles.0'],
      [{ private_group_chat_roles: ['ghost'] }, 'private_group_chat_roles.0'],
    ];
    for (const [body, path] of cases) {
      const response = await t.api.patch('/api/v1', body);
      expect(response.status, JSON.stringify(body)).toBe(422);
      expect(Object.keys(response.body.errors), JSON.stringify(body)).toContain(path);
    }
    for (const raw of ['{"domain":', '[]']) {
      const response = await t.api.request('PATCH', '/api/v1', { raw, headers: { 'content-type': 'application/json' } });
      expect([400, 422], raw).toContain(response.status);
    }
    expect((await t.api.get('/api/v1')).body).toEqual(before);
    // Settings only a room has, and read-only fields, are not team defaults: ignored, as DS ignores
    // what it does not validate.
    const ignored = await t.api.patch('/api/v1', { max_participants: 50, friendly_url: 'abc', id: 'x', subscription_end: null });
    expect(ignored.status, ignored.text).toBe(200);
    expect(ignored.body).toEqual(before);
  });

  it('belongs to one team', async () => {
    const beforeB = (await t.apiB.get('/api/v1')).body;
    await t.api.patch('/api/v1', { html_title: 'Team A title' });
    expect((await t.apiB.get('/api/v1')).body).toEqual(beforeB);
    expect(beforeB.id).toBe(t.teamB.team_id);
    // Team A's role names are no ids for team B's defaults: B has its own roles.
    const aModerator = (await t.api.get('/api/v1/roles/moderator')).body.id;
    expect((await t.apiB.patch('/api/v1', { default_role: aModerator })).status).toBe(422);
  });
});
