import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { createRoom, type CreatedRoom } from '../helpers/rooms.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { joinPage } from './page-client.js';

const NOW = Date.UTC(2026, 4, 13, 12, 0, 0);
const NOW_SECONDS = NOW / 1000;

/** A room token as a team may sign it itself (DS documents the claims for exactly that). */
function signToken(developerKey: string, claims: Record<string, unknown>): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ typ: 'JWT', alg: 'HS256' }).sign(new TextEncoder().encode(developerKey));
}

async function getPage(t: TestServer, path: string): Promise<{ status: number; headers: Headers; html: string }> {
  const response = await fetch(t.url + path);
  return { status: response.status, headers: response.headers, html: await response.text() };
}

describe('the room page', () => {
  let t: TestServer;
  const clock = new ManualClock(NOW);

  beforeAll(async () => {
    t = await startTestServer({ clock });
  });
  afterAll(async () => t.stop());

  it('serves a public room’s page by friendly_url and by id, with its bundled client and no inline script', async () => {
    const room = await createRoom(t.api, { description: 'Weekly <standup>' });
    // Query parameters the page does not read are left alone, whatever they hold.
    for (const path of [`/${room.friendly_url}`, `/${room.id}`, `/${room.id}?utm_source=a%00b`]) {
      const page = await getPage(t, path);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect(page.headers.get('content-security-policy')).toContain('frame-ancestors *');
      expect(page.headers.get('referrer-policy')).toBe('no-referrer');
      expect(page.html).toContain(`data-room-id="${room.id}"`);
      expect(page.html).toContain('<title>Weekly &#60;standup&#62;</title>');
      expect(page.html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
      expect(page.html).not.toMatch(/\sstyle=|\son[a-z]+=/);
      expect(page.html).not.toContain(t.teamA.developer_key);
    }
  });

  it('serves the client bundle and its styles from the package, cacheable for good', async () => {
    const page = await getPage(t, `/${(await createRoom(t.api)).friendly_url}`);
    const script = /<script type="module" src="([^"]+)"/.exec(page.html)![1]!;
    const style = /<link rel="stylesheet" href="([^"]+)"/.exec(page.html)![1]!;
    expect(script).toMatch(/^\/room-page\/assets\/room\.js\?v=[0-9a-f]{16}$/);
    for (const [url, type] of [
      [script, 'text/javascript; charset=utf-8'],
      [style, 'text/css; charset=utf-8'],
    ] as const) {
      const response = await fetch(t.url + url);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe(type);
      expect(response.headers.get('cache-control')).toContain('immutable');
      expect((await response.text()).length).toBeGreaterThan(100);
    }
    expect((await fetch(`${t.url}/room-page/assets/other.js`)).status).toBe(404);
  });

  it('answers an unknown room with a clear 404 page', async () => {
    for (const path of ['/no-such-room', '/6f1c8a8e-8f5e-4c3a-9a52-3b1d1f7c0a11']) {
      const page = await getPage(t, path);
      expect(page.status).toBe(404);
      expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(page.html).toContain('Room not found');
    }
  });

  it('answers what cannot be a room’s name with the server’s JSON 404, as before', async () => {
    for (const path of ['/favicon.ico', '/wp-login.php', '/api', '/HEALTHZ', `/${'x'.repeat(65)}`]) {
      const response = await fetch(t.url + path);
      expect(response.status, path).toBe(404);
      expect(await response.json(), path).toEqual({ message: 'Not Found', error: 'not-found' });
    }
  });

  it('leaves the server’s own routes alone', async () => {
    expect(await (await fetch(`${t.url}/healthz`)).json()).toEqual({ status: 'ok' });
    expect(await (await fetch(`${t.url}/readyz`)).json()).toEqual({ status: 'ready', bus: 'ok' });
    expect((await fetch(`${t.url}/docs`)).status).toBe(200);
    const api = await fetch(`${t.url}/api/v1/rooms`);
    expect(api.status).toBe(401);
    expect(await api.json()).toEqual({ message: 'Unauthenticated.' });
  });

  describe('a private room', () => {
    let room: CreatedRoom;
    let otherRoom: CreatedRoom;
    const claims = () => ({ td: t.teamA.team_id, rd: room.id, u: 'Ann', iat: NOW_SECONDS });

    beforeAll(async () => {
      room = await createRoom(t.api, { privacy: 'private' });
      otherRoom = await createRoom(t.api, { privacy: 'private' });
    });

    it('asks for an invitation when the link has no token', async () => {
      const page = await getPage(t, `/${room.friendly_url}`);
      expect(page.status).toBe(403);
      expect(page.html).toContain('Invitation needed');
      expect(page.html).toContain('you need an invitation link');
      // The client runs (a tab already in the room goes on), but nothing of the room is on the page but its id.
      expect(page.html).toContain(`data-room-id="${room.id}"`);
      expect(page.html).not.toContain('data-room-title');
      const join = await joinPage(t, room.id, { name: 'Ann' });
      expect(join.status).toBe(403);
      expect(join.body.message).toMatch(/invitation link/);
    });

    it('admits the link POST /token answers, under the token’s name', async () => {
      const issued = await t.api.post(`/api/v1/rooms/${room.id}/token`, { u: 'Ann Token', role: 'attendee' });
      const link = new URL(issued.body.link);
      const page = await getPage(t, link.pathname + link.search);
      expect(page.status).toBe(200);
      expect(page.html).toContain('data-invited-name="Ann Token"');
      const join = await joinPage(t, room.id, { token: issued.body.token });
      expect(join.status).toBe(200);
      const live = await t.api.get(`/api/v1/rooms/${room.id}/live/participants`);
      expect(live.body.live_participants).toEqual([expect.objectContaining({ name: 'Ann Token', role: 'attendee', type: 'web' })]);
    });

    it('refuses a token with a bad signature, expired, not yet valid, for another room or another team', async () => {
      const cases: Array<[string, Promise<string>, RegExp]> = [
        ['signed with another key', signToken(t.teamB.developer_key, claims()), /not signed for this room/],
        ['tampered', signToken(t.teamA.developer_key, claims()).then((token) => `${token.slice(0, -4)}AAAA`), /not (signed|valid)/],
        ['not a JWT', Promise.resolve('not-a-token'), /not valid/],
        ['expired', signToken(t.teamA.developer_key, { ...claims(), exp: NOW_SECONDS - 60 }), /has expired/],
        ['not yet valid', signToken(t.teamA.developer_key, { ...claims(), nbf: NOW_SECONDS + 3600 }), /not valid yet/],
        ['for another room', signToken(t.teamA.developer_key, { ...claims(), rd: otherRoom.id }), /another room/],
        ['for another team', signToken(t.teamA.developer_key, { ...claims(), td: t.teamB.team_id }), /another room/],
        ['without td', signToken(t.teamA.developer_key, { rd: room.id, u: 'Ann' }), /not valid/],
        ['with a role the room lacks', signToken(t.teamA.developer_key, { ...claims(), role: 'nobody' }), /role the room does not have/],
        // Text with a NUL cannot be stored (on PostgreSQL the join was a 500).
        ['with a NUL in its user name', signToken(t.teamA.developer_key, { ...claims(), u: 'Ann\u0000' }), /not valid/],
        ['with a NUL in its user id', signToken(t.teamA.developer_key, { ...claims(), ud: 'id\u0000' }), /not valid/],
      ];
      for (const [what, tokenPromise, message] of cases) {
        const token = await tokenPromise;
        const page = await getPage(t, `/${room.friendly_url}?token=${encodeURIComponent(token)}`);
        expect(page.status, what).toBe(403);
        expect(page.html, what).toMatch(message);
        const join = await joinPage(t, room.id, { token });
        expect(join.status, what).toBe(403);
        expect(join.body.message, what).toMatch(message);
      }
      expect((await t.api.get(`/api/v1/rooms/${otherRoom.id}/live`)).body.session_duration).toBe(0);
    });

    it('accepts a token the team signed itself, while it is valid', async () => {
      const token = await signToken(t.teamA.developer_key, { ...claims(), nbf: NOW_SECONDS - 10, exp: NOW_SECONDS + 60 });
      expect((await getPage(t, `/${room.id}?token=${token}`)).status).toBe(200);
      clock.advance(61_000 + 10_000);
      expect((await getPage(t, `/${room.id}?token=${token}`)).status).toBe(403);
    });
  });

  it('gives a friendly_url’s link to one room: another team can neither take it nor share it', async () => {
    const name = `link-${Date.now()}`;
    // Team B's room is the older one: before, the link went to the oldest room with the name.
    const roomB = await createRoom(t.apiB);
    const roomA = await createRoom(t.api, { friendly_url: name });
    expect((await t.apiB.patch(`/api/v1/rooms/${roomB.id}`, { friendly_url: name })).status).toBe(422);
    expect((await t.apiB.post('/api/v1/rooms', { friendly_url: name })).status).toBe(422);
    expect((await getPage(t, `/${name}`)).html).toContain(`data-room-id="${roomA.id}"`);

    // Renamed, team A's room gives the name up: the next room to take it gets the link.
    expect((await t.api.patch(`/api/v1/rooms/${roomA.id}`, { friendly_url: `${name}-moved` })).status).toBe(200);
    expect((await t.apiB.patch(`/api/v1/rooms/${roomB.id}`, { friendly_url: name })).status).toBe(200);
    expect((await getPage(t, `/${name}`)).html).toContain(`data-room-id="${roomB.id}"`);
    expect((await getPage(t, `/${name}-moved`)).html).toContain(`data-room-id="${roomA.id}"`);
    // So does a deleted room.
    expect((await t.apiB.request('DELETE', `/api/v1/rooms/${roomB.id}`)).status).toBe(204);
    expect((await getPage(t, `/${name}`)).status).toBe(404);
    expect((await t.api.post('/api/v1/rooms', { friendly_url: name })).status).toBe(200);
  });
});
