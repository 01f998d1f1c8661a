import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COPIED_TABLES } from '../../src/store/copy.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** `roomline team delete`: a team goes with everything it had, and nothing of another team. */
describe('deleting a team', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ env: { ROOMLINE_WEBHOOK_RETRY_BASE_MS: '60000', ROOMLINE_WEBHOOK_RETRY_MAX_MS: '60000', ROOMLINE_STREAM_HEARTBEAT_MS: '200' } });
  });
  afterAll(async () => t.stop());

  /** Rows of every table, each as one line, for a before-and-after comparison. */
  async function everyRow(): Promise<string[]> {
    const rows: string[] = [];
    for (const { table } of COPIED_TABLES) {
      const found = await sql<Record<string, unknown>>`select * from ${sql.table(table)}`.execute(t.running.services.store.db);
      for (const row of found.rows) rows.push(`${table} ${JSON.stringify(row)}`);
    }
    return rows.sort();
  }

  /** A team with a bit of everything: rooms with tags, links, live and past calls, a tombstone, a role of its own, and a webhook with deliveries queued if asked. */
  async function busyTeam(api: TestServer['api'], name: string, webhook: boolean): Promise<void> {
    // Its deliveries are tried at once, and their rows change: not in the rows compared.
    if (webhook) await api.post('/api/v1/webhooks', { endpoint: 'http://127.0.0.1:9/hook', events: ['participant_joined', 'participant_left', 'session_ended'] });
    await api.post('/api/v1/roles', { name: `${name}-host`, display_name: 'Host', permissions: { broadcast: true } });
    const room = (await api.post('/api/v1/rooms', { friendly_url: `${name}-room`, tags: ['weekly'], telephony_enabled: true })).body;
    await api.post(`/api/v1/rooms/${room.id}/phone-participants/left`, ['early']);
    await api.post(`/api/v1/rooms/${room.id}/phone-participants/joined`, [{ call_id: 'one', name: 'One' }, { call_id: 'two', name: 'Two' }]);
    await api.post(`/api/v1/rooms/${room.id}/phone-participants/left`, ['one']);
    await api.post(`/api/v1/rooms/${room.id}/phone-participants/two/raise-hand`);
    const past = (await api.post('/api/v1/rooms', { friendly_url: `${name}-past`, telephony_enabled: true })).body;
    await api.post(`/api/v1/rooms/${past.id}/phone-participants/joined`, [{ call_id: 'x', name: 'X' }]);
    await api.post(`/api/v1/rooms/${past.id}/phone-participants/left`, ['x']);
  }

  it('removes every row of the team, leaves every row of the others, and frees its rooms\' links', async () => {
    await busyTeam(t.api, 'kept', false);
    const others = (await everyRow()).filter((row) => !row.includes(t.teamB.team_id));
    await busyTeam(t.apiB, 'gone', true);
    const web = await fetch(`${t.url}/room-page/api/rooms/gone-room/join`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Web' }) });
    expect(web.status).toBe(200);
    // The web participant's panel is open: nothing is emitted when a team goes, yet it must end.
    const { credential } = (await web.json()) as { credential: string };
    const panel = await fetch(`${t.url}/room-page/api/stream?alive=1`, { headers: { authorization: `Bearer ${credential}` } });
    expect(panel.status).toBe(200);
    const panelText = (async () => {
      const reader = panel.body!.getReader();
      const decoder = new TextDecoder();
      let text = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return text;
        text += decoder.decode(value);
      }
    })();

    const deleted = await t.running.services.teams.remove(t.teamB.team_id);
    expect(deleted).toMatchObject({ id: t.teamB.team_id, name: 'Team B' });
    // Other teams' rows are exactly as they were, and none of team B's is left.
    expect(await everyRow()).toEqual(others);
    expect((await t.apiB.get('/api/v1/rooms')).status).toBe(401);
    const lines = (await panelText).trim().split('\n');
    expect(JSON.parse(lines.at(-1)!)).toEqual({ type: 'ended', reason: 'room_deleted' });
    expect(await t.running.services.teams.remove(t.teamB.team_id)).toBeUndefined();

    // The deleted team's room names are free: another team's room takes the link.
    const taker = (await t.api.post('/api/v1/rooms', { friendly_url: 'gone-room' })).body;
    const page = await fetch(`${t.url}/gone-room`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain(taker.id);
  });

  it('finishes a deletion that stopped before its end, rather than bring the team back half deleted', async () => {
    const teams = t.running.services.teams;
    const half = await teams.create({ name: 'Half' });
    const api = t.client({ kind: 'bearer', key: half.developer_key });
    await busyTeam(api, 'half', true);
    // As `team delete` leaves it when stopped after its first step: the key no longer works,
    // the team marked as being deleted, its rows still there.
    await t.running.services.store.transaction((trx) => trx.updateTable('teams').set({ key_hash: 'being-deleted:stopped' }).where('id', '=', half.team_id).execute());
    // A key rotation does not bring it back; it says how to finish.
    await expect(teams.rotateKey(half.team_id)).rejects.toThrow(/being deleted.*team delete/);
    // The bootstrap of a team with this id (ROOMLINE_TEAM_ID) finishes the deletion and makes it again, empty.
    const key = `half-again-key-${'x'.repeat(16)}`;
    expect(await teams.ensure({ id: half.team_id, developerKey: key, name: 'Half' })).toEqual({ created: true });
    const again = t.client({ kind: 'bearer', key });
    expect((await again.get('/api/v1/rooms')).body.data).toEqual([]);
    expect((await again.get('/api/v1/participants')).body.data).toEqual([]);
    expect((await again.get('/api/v1/webhooks')).body.data).toEqual([]);
  });
});
