import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * Statistics and session lists read every participation record in their range: a team's own
 * history decides what they cost. They run on a thread of their own, so that one team's cannot
 * hold up everyone else's requests.
 */
describe('reads that grow with a team’s history', () => {
  let t: TestServer;
  const ROUNDS = 30;

  beforeAll(async () => {
    t = await startTestServer();
    // Team B's history: 30,001 participation records in one room's one session (the anchor stays).
    const room = (await t.apiB.post('/api/v1/rooms', { telephony_enabled: true })).body;
    await t.apiB.post(`/api/v1/rooms/${room.id}/phone-participants/joined`, [{ call_id: 'anchor', name: 'Anchor' }]);
    for (let round = 0; round < ROUNDS; round++) {
      const calls = Array.from({ length: 1000 }, (_, i) => ({ call_id: `h-${round}-${i}`, name: `Caller ${i}` }));
      expect((await t.apiB.post(`/api/v1/rooms/${room.id}/phone-participants/joined`, calls)).status).toBe(200);
      expect((await t.apiB.post(`/api/v1/rooms/${room.id}/phone-participants/left`, calls.map((call) => call.call_id))).status).toBe(200);
    }
  }, 120_000);
  afterAll(async () => t.stop());

  it('answer other teams’ requests while a team’s statistics are computed', async () => {
    let computed = false;
    const statistics = t.apiB.get('/api/v1/statistics').then((answer) => {
      computed = true;
      return answer;
    });
    // Computed on the event loop, they held every request for their whole time: none (or the
    // one read before they began) was answered meanwhile.
    let answeredMeanwhile = 0;
    while (!computed) {
      expect((await t.api.get('/api/v1/rooms')).status).toBe(200);
      if (!computed) answeredMeanwhile += 1;
    }
    const answer = await statistics;
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ active_participants: ROUNDS * 1000 + 1, max_concurrent_participants: 1001 });
    expect(answeredMeanwhile).toBeGreaterThanOrEqual(5);
  });

  it('take a team’s requests one at a time: one team asking again and again holds up another’s for one of its own at most', async () => {
    let answeredB = 0;
    const asked = Array.from({ length: 4 }, () => t.apiB.get('/api/v1/statistics').then((answer) => {
      answeredB += 1;
      return answer;
    }));
    const ofA = await t.api.get('/api/v1/statistics');
    expect(ofA.status).toBe(200);
    expect(answeredB).toBeLessThanOrEqual(1);
    for (const answer of await Promise.all(asked)) expect(answer.status).toBe(200);
  });

  it('include the participant lists, which count the records: a team’s are answered in the order asked', async () => {
    const answered: string[] = [];
    const asked = ['/api/v1/statistics', '/api/v1/participants?live=false', '/api/v1/sessions/x/participants'].map((path) =>
      t.apiB.get(path).then((answer) => {
        answered.push(path);
        return answer;
      }),
    );
    const [, participants, ofMissingSession] = await Promise.all(asked);
    expect(Number(participants!.body.total_count)).toBe(ROUNDS * 1000);
    expect(ofMissingSession!.status).toBe(404);
    // On the event loop, the lists would have been answered while the statistics were computed.
    expect(answered).toEqual(['/api/v1/statistics', '/api/v1/participants?live=false', '/api/v1/sessions/x/participants']);
  });

  it('answer session lists and a session’s statistics as before, with what was committed before they began', async () => {
    const sessions = await t.apiB.get('/api/v1/sessions');
    expect(sessions.status).toBe(200);
    expect(sessions.body.data[0]).toMatchObject({ participants_total: ROUNDS * 1000 + 1, participants_max: 1001 });
    const figures = await t.apiB.get(`/api/v1/sessions/${sessions.body.data[0].id}/statistics`);
    expect(figures.status).toBe(200);
    // A session of another team is not found, as before.
    expect((await t.api.get(`/api/v1/sessions/${sessions.body.data[0].id}/statistics`)).status).toBe(404);
    // A 422 made on the thread comes back as one.
    const invalid = await t.apiB.get('/api/v1/sessions?after=00000000-0000-4000-8000-000000000000');
    expect(invalid.status).toBe(422);
    expect(invalid.body.errors).toHaveProperty('after');
  });
});
