import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** Requests racing for one unique name: one wins, the others get a 422, none a 5xx, on either database. */
describe('concurrent creates of one unique name', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => t.stop());

  it('gives a friendly_url to exactly one of twenty rooms created at once', async () => {
    const answers = await Promise.all(Array.from({ length: 20 }, () => t.api.post('/api/v1/rooms', { friendly_url: 'contested-room' })));
    expect(answers.filter((answer) => answer.status === 200)).toHaveLength(1);
    expect(answers.filter((answer) => answer.status === 422)).toHaveLength(19);
    expect((await t.api.get('/api/v1/rooms')).body.data.filter((room: any) => room.friendly_url === 'contested-room')).toHaveLength(1);
  });

  it('gives a role name to exactly one of twenty roles created at once', async () => {
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => t.api.post('/api/v1/roles', { name: 'contested-role', display_name: 'Contested', permissions: { raise_hand: true } })),
    );
    expect(answers.filter((answer) => answer.status === 200)).toHaveLength(1);
    expect(answers.filter((answer) => answer.status === 422)).toHaveLength(19);
  });
});
