import { decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { createRoom } from '../helpers/rooms.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const NOW = Date.UTC(2026, 4, 13, 12, 0, 0);
const NOW_SECONDS = NOW / 1000;

describe('POST /api/v1/rooms/{room}/token', () => {
  let t: TestServer;
  const clock = new ManualClock(NOW);

  beforeAll(async () => {
    t = await startTestServer({ clock });
  });
  afterAll(async () => t.stop());

  const key = () => new TextEncoder().encode(t.teamA.developer_key);

  it('signs a DS token (HS256 with the developer key) and answers the room page link carrying it', async () => {
    const room = await createRoom(t.api);
    const response = await t.api.post(`/api/v1/rooms/${room.friendly_url}/token`, {});
    expect(response.status).toBe(200);
    expect(Object.keys(response.body).sort()).toEqual(['link', 'token']);
    const { token, link } = response.body;
    expect(link).toBe(`${t.url}/${room.friendly_url}?token=${token}`);
    expect(decodeProtectedHeader(token)).toEqual({ typ: 'JWT', alg: 'HS256' });
    const { payload } = await jwtVerify(token, key(), { currentDate: new Date(NOW) });
    expect(payload).toEqual({ rd: room.id, td: t.teamA.team_id, iat: NOW_SECONDS });
  });

  it('works with no body at all, and by room id', async () => {
    const room = await createRoom(t.api);
    const response = await t.api.request('POST', `/api/v1/rooms/${room.id}/token`);
    expect(response.status).toBe(200);
    expect(decodeJwt(response.body.token)).toMatchObject({ rd: room.id, td: t.teamA.team_id });
  });

  it('carries every given claim, the role by id or name', async () => {
    const room = await createRoom(t.api, { breakouts: ['Side room'] });
    const attendee = (room.roles as Array<{ id: string; name: string }>).find((role) => role.name === 'attendee')!;
    const breakoutId = (room.breakouts as Array<{ id: string }>)[0]!.id;
    const body = { ud: 'EXT1234', u: 'Mohammed', initials: 'MA', role: 'attendee', breakoutId, avatar: 'https://example.com/a.png', nbf: NOW_SECONDS, exp: NOW_SECONDS + 3600 };
    const response = await t.api.post(`/api/v1/rooms/${room.id}/token`, body);
    expect(response.status).toBe(200);
    expect(decodeJwt(response.body.token)).toEqual({ ...body, rd: room.id, td: t.teamA.team_id, iat: NOW_SECONDS });

    const byId = await t.api.post(`/api/v1/rooms/${room.id}/token`, { role: attendee.id });
    expect(decodeJwt(byId.body.token).role).toBe(attendee.id);
  });

  it('takes exp as a unix timestamp, minutes from now, or a date-time; nbf as a timestamp or a date-time', async () => {
    const room = await createRoom(t.api);
    const claimsOf = async (body: Record<string, unknown>) => {
      const response = await t.api.post(`/api/v1/rooms/${room.id}/token`, body);
      expect(response.status, response.text).toBe(200);
      return decodeJwt(response.body.token);
    };
    expect((await claimsOf({ exp: NOW_SECONDS + 60 })).exp).toBe(NOW_SECONDS + 60);
    expect((await claimsOf({ exp: 30 })).exp).toBe(NOW_SECONDS + 30 * 60);
    expect((await claimsOf({ exp: '90' })).exp).toBe(NOW_SECONDS + 90 * 60);
    expect((await claimsOf({ exp: '2026-05-14 12:00:00' })).exp).toBe(NOW_SECONDS + 86_400);
    expect((await claimsOf({ exp: '2026-05-14T14:00:00+02:00' })).exp).toBe(NOW_SECONDS + 86_400);
    expect((await claimsOf({ nbf: '2026-05-13T13:00:00Z' })).nbf).toBe(NOW_SECONDS + 3600);
    expect(await claimsOf({ u: null, exp: null, nbf: null })).toEqual({ rd: room.id, td: t.teamA.team_id, iat: NOW_SECONDS });
  });

  it('refuses bad fields with a Laravel-shaped 422 naming each', async () => {
    const room = await createRoom(t.api);
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ role: 'nobody' }, 'role'],
      [{ breakoutId: 'not-a-breakout' }, 'breakoutId'],
      [{ exp: 'tomorrow' }, 'exp'],
      [{ exp: NOW_SECONDS - 1 }, 'exp'],
      [{ nbf: 'soon' }, 'nbf'],
      [{ nbf: NOW_SECONDS + 600, exp: NOW_SECONDS + 300 }, 'nbf'],
      [{ u: 42 }, 'u'],
      [{ exp: 1.5 }, 'exp'],
    ];
    for (const [body, field] of cases) {
      const response = await t.api.post(`/api/v1/rooms/${room.id}/token`, body);
      expect(response.status, JSON.stringify(body)).toBe(422);
      expect(Object.keys(response.body.errors), JSON.stringify(body)).toContain(field);
    }
  });

  it('refuses a role of the team that the room does not offer', async () => {
    const role = await t.api.post('/api/v1/roles', { name: 'guest', display_name: 'Guests', permissions: { raise_hand: true } });
    expect(role.status).toBe(200);
    const room = await createRoom(t.api, { roles: ['moderator', 'attendee'] });
    const response = await t.api.post(`/api/v1/rooms/${room.id}/token`, { role: 'guest' });
    expect(response.status).toBe(422);
    expect(response.body.errors).toEqual({ role: ['The selected role is invalid.'] });
  });

  it('is a 404 for another team’s room, exactly like a missing one, and a 401 without credentials', async () => {
    const room = await createRoom(t.apiB);
    const other = await t.api.post(`/api/v1/rooms/${room.id}/token`, {});
    const missing = await t.api.post('/api/v1/rooms/no-such-room/token', {});
    expect(other.status).toBe(404);
    expect(other.body).toEqual({ message: 'Not Found', error: 'not-found' });
    expect(missing.body).toEqual(other.body);
    expect((await t.client().post(`/api/v1/rooms/${room.id}/token`, {})).status).toBe(401);
  });
});
