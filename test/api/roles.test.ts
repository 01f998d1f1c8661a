import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RoomEvent } from '../../src/bus/events.js';
import { ManualClock } from '../../src/domain/clock.js';
import { PERMISSIONS } from '../../src/domain/permissions.js';
import { createRoom } from '../helpers/rooms.js';
import { startTestServer, waitFor, type ApiClient, type TestServer } from '../helpers/server.js';

const ISO_Z = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

async function roleNames(api: ApiClient, query = ''): Promise<string[]> {
  const response = await api.get(`/api/v1/roles${query}`);
  expect(response.status, response.text).toBe(200);
  return response.body.data.map((role: { name: string }) => role.name);
}

async function createRole(api: ApiClient, name: string, permissions: Record<string, unknown> = {}): Promise<any> {
  const response = await api.post('/api/v1/roles', { name, display_name: `Role ${name}`, permissions });
  expect(response.status, response.text).toBe(200);
  return response.body;
}

describe('roles', () => {
  let t: TestServer;
  const clock = new ManualClock();
  const events: RoomEvent[] = [];
  beforeAll(async () => {
    t = await startTestServer({ clock });
    t.running.services.bus.subscribe((event) => events.push(event));
  });
  afterAll(async () => t.stop());

  it('lists the built-in roles in the DS shape, the moderator as default', async () => {
    const response = await t.api.get('/api/v1/roles?order=asc');
    expect(response.body.total_count).toBe(3);
    expect(response.body.data.map((role: any) => [role.name, role.display_name, role.default])).toEqual([
      ['attendee', 'Attendees', false],
      ['moderator', 'Moderators', true],
      ['speaker', 'Speakers', false],
    ]);
    for (const role of response.body.data) {
      expect(Object.keys(role).sort()).toEqual(['created_at', 'default', 'description', 'display_name', 'id', 'name', 'updated_at']);
      expect(role.created_at).toMatch(ISO_Z);
    }
  });

  it('answers the permission catalogue', async () => {
    const response = await t.api.get('/api/v1/permissions');
    expect(response.status).toBe(200);
    expect(response.body).toEqual([...PERMISSIONS]);
  });

  it('creates a role with every permission spelled out, and gets it by id or name', async () => {
    clock.advance(1000);
    const role = await createRole(t.api, 'Presenter_1', { broadcast: true, screenshare: true, manage_roles: ['attendee'] });
    expect(role).toMatchObject({ name: 'Presenter_1', display_name: 'Role Presenter_1', description: null, default: false });
    expect(Object.keys(role.permissions)).toEqual([...PERMISSIONS]);
    expect(role.permissions).toMatchObject({ broadcast: true, screenshare: true, manage_roles: ['attendee'], recording: false, raise_hand: false });
    for (const ref of [role.id, role.id.toUpperCase(), 'Presenter_1']) {
      expect((await t.api.get(`/api/v1/roles/${ref}`)).body, ref).toEqual(role);
    }
    expect((await t.api.get('/api/v1/roles/presenter_1')).status).toBe(404);
  });

  it('refuses invalid roles with field paths', async () => {
    await createRole(t.api, 'taken');
    const valid = { name: 'fine', display_name: 'Fine role', permissions: {} };
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ ...valid, name: 'taken' }, 'name'],
      [{ ...valid, name: 'has space' }, 'name'],
      [{ ...valid, name: 'a'.repeat(31) }, 'name'],
      [{ ...valid, name: '' }, 'name'],
      [{ display_name: 'No name', permissions: {} }, 'name'],
      [{ ...valid, display_name: 'ab' }, 'display_name'],
      [{ ...valid, display_name: 'x'.repeat(101) }, 'display_name'],
      [{ name: 'fine', display_name: 'Fine role' }, 'permissions'],
      [{ ...valid, permissions: { broadcast: 'yes' } }, 'permissions.broadcast'],
      [{ ...valid, permissions: { manage_roles: true } }, 'permissions.manage_roles'],
      [{ ...valid, permissions: { manage_roles: ['attendee', 'ghost'] } }, 'permissions.manage_roles.1'],
      [{ ...valid, permissions: [] }, 'permissions'],
    ];
    for (const [body, path] of cases) {
      const response = await t.api.post('/api/v1/roles', body);
      expect(response.status, JSON.stringify(body)).toBe(422);
      expect(Object.keys(response.body.errors), JSON.stringify(body)).toContain(path);
    }
    expect((await t.api.post('/api/v1/roles', { ...valid, name: 'taken' })).body.errors).toEqual({ name: ['The name has already been taken.'] });
    expect(await roleNames(t.api)).not.toContain('fine');
  });

  it('takes what DS takes: unknown fields and permissions ignored, 1 and "0" as booleans', async () => {
    const created = await t.api.post('/api/v1/roles', { name: 'laravel_ways', display_name: 'Laravel ways', colour: 'red', permissions: { fly: true, broadcast: 1, recording: '0' } });
    expect(created.status, created.text).toBe(200);
    expect(created.body).not.toHaveProperty('colour');
    expect(created.body.permissions).toMatchObject({ broadcast: true, recording: false });
    expect(created.body.permissions).not.toHaveProperty('fly');
    expect((await t.api.delete('/api/v1/roles/laravel_ways')).status).toBe(204);
  });

  it('updates what is given: a rename follows into manage_roles, permissions merge', async () => {
    const role = await createRole(t.api, 'host', { broadcast: true, recording: true });
    await createRole(t.api, 'boss', { manage_roles: ['host', 'attendee'] });
    clock.advance(1000);
    const patched = await t.api.patch('/api/v1/roles/host', { name: 'cohost', description: 'Helps the host', permissions: { recording: false, raise_hand: true } });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.body).toMatchObject({ id: role.id, name: 'cohost', display_name: 'Role host', description: 'Helps the host' });
    expect(patched.body.permissions).toMatchObject({ broadcast: true, recording: false, raise_hand: true });
    expect(patched.body.updated_at).not.toBe(role.updated_at);
    expect((await t.api.get('/api/v1/roles/boss')).body.permissions.manage_roles).toEqual(['cohost', 'attendee']);
    expect((await t.api.get('/api/v1/roles/host')).status).toBe(404);

    expect((await t.api.patch('/api/v1/roles/cohost', { name: 'boss' })).status).toBe(422);
    expect((await t.api.patch('/api/v1/roles/cohost', { permissions: { broadcast: 'yes' } })).status).toBe(422);
    expect((await t.api.patch('/api/v1/roles/cohost', { display_name: 'x' })).status).toBe(422);
    expect((await t.api.get('/api/v1/roles/cohost')).body).toEqual(patched.body);
  });

  it('keeps the moderator the default role when it is renamed', async () => {
    const renamed = await t.api.patch('/api/v1/roles/moderator', { name: 'chair' });
    expect(renamed.body).toMatchObject({ name: 'chair', default: true });
    expect((await t.api.get('/api/v1')).body.default_role.name).toBe('chair');
    expect((await createRoom(t.api)).default_role).toMatchObject({ name: 'chair' });
    expect((await t.api.patch('/api/v1/roles/chair', { name: 'moderator' })).status).toBe(200);
  });

  it('refuses to delete a role a room or the team defaults use', async () => {
    const inList = await createRole(t.api, 'listed');
    const asDefault = await createRole(t.api, 'defaulted');
    const teamRole = await createRole(t.api, 'teamwide');
    await createRoom(t.api, { roles: ['moderator', 'listed'] });
    const room = await createRoom(t.api, { roles: ['defaulted'], default_role: 'defaulted' });
    await t.api.patch('/api/v1', { roles: ['moderator', 'teamwide'] });
    try {
      for (const [role, reason] of [
        [inList, /used by 1 room/],
        [asDefault, /used by 1 room/],
        [teamRole, /team's default room roles/],
        [{ id: 'moderator' }, /team's default role/],
      ] as const) {
        const response = await t.api.request('DELETE', `/api/v1/roles/${role.id}`);
        expect(response.status, role.id).toBe(422);
        expect(response.body.message).toMatch(reason);
      }
      await t.api.patch(`/api/v1/rooms/${room.id}`, { roles: ['speaker'] });
      expect((await t.api.request('DELETE', '/api/v1/roles/defaulted')).status).toBe(204);
    } finally {
      await t.api.patch('/api/v1', { roles: ['moderator', 'speaker', 'attendee'] });
    }
  });

  it('deletes an unused role, forgets it in manage_roles and emits role_deleted', async () => {
    const doomed = await createRole(t.api, 'doomed');
    await createRole(t.api, 'keeper', { manage_roles: ['doomed', 'attendee'] });
    const response = await t.api.request('DELETE', `/api/v1/roles/${doomed.id}`);
    expect(response.status).toBe(204);
    expect(response.text).toBe('');
    expect((await t.api.get('/api/v1/roles/doomed')).status).toBe(404);
    expect((await t.api.request('DELETE', '/api/v1/roles/doomed')).status).toBe(404);
    expect((await t.api.get('/api/v1/roles/keeper')).body.permissions.manage_roles).toEqual(['attendee']);
    const event = await waitFor(() => events.find((candidate) => candidate.name === 'role_deleted' && candidate.data.role_id === doomed.id));
    expect(event).toMatchObject({ teamId: t.teamA.team_id, roomId: null, data: { role_id: doomed.id, role_name: 'doomed' } });
  });

  it('deletes an unused built-in role', async () => {
    const team = await t.running.services.teams.create({ name: 'Fresh team' });
    const api = t.client({ kind: 'bearer', key: team.developer_key });
    expect((await api.request('DELETE', '/api/v1/roles/speaker')).status).toBe(204);
    expect(await roleNames(api, '?order=asc')).toEqual(['attendee', 'moderator']);
    expect(((await createRoom(api)).roles as any[]).map((role) => role.name)).toEqual(['moderator', 'attendee']);
  });

  it('pages with limit, offset, order and after (an id or a name)', async () => {
    const all = await roleNames(t.api, '?order=asc');
    expect(all.slice(0, 3)).toEqual(['attendee', 'moderator', 'speaker']);
    expect(await roleNames(t.api, '?order=asc&limit=2&offset=1')).toEqual(all.slice(1, 3));
    expect(await roleNames(t.api, '?order=asc&after=moderator&limit=2')).toEqual(all.slice(2, 4));
    const speakerId = (await t.api.get('/api/v1/roles/speaker')).body.id;
    expect(await roleNames(t.api, `?order=asc&after=${speakerId}`)).toEqual(all.slice(3));
    expect(await roleNames(t.api, '?after=speaker')).toEqual(['moderator', 'attendee']);
    expect(await roleNames(t.api)).toEqual([...all].reverse());
    for (const query of ['limit=0', 'limit=101', 'order=sideways', 'after=nobody']) {
      expect((await t.api.get(`/api/v1/roles?${query}`)).status, query).toBe(422);
    }
    expect(await roleNames(t.api, '?colour=red')).toEqual([...all].reverse());
  });

  it('keeps teams apart: another team’s role is not found', async () => {
    const role = await createRole(t.api, 'private_role');
    for (const ref of [role.id, 'private_role']) {
      for (const [method, body] of [['GET', undefined], ['PATCH', { display_name: 'Taken over' }], ['DELETE', undefined]] as const) {
        const response = await t.apiB.request(method, `/api/v1/roles/${ref}`, { body });
        expect(response.status, `${method} ${ref}`).toBe(404);
        expect(response.body).toEqual({ message: 'Not Found', error: 'not-found' });
      }
    }
    expect(await roleNames(t.apiB)).not.toContain('private_role');
    // Team B's rooms cannot name team A's roles either.
    expect((await t.apiB.post('/api/v1/rooms', { roles: [role.id] })).status).toBe(422);
    expect((await t.api.get(`/api/v1/roles/${role.id}`)).body.display_name).toBe('Role private_role');
  });
});
