import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, waitFor, type TestServer } from '../helpers/server.js';
import { createPhoneRoom } from '../helpers/rooms.js';
import { openRoomStream } from '../helpers/sse.js';

describe('event streams per team', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ env: { ROOMLINE_MAX_STREAMS_PER_TEAM: '2' } });
  });
  afterAll(async () => t.stop());

  it('refuses a team’s stream past the limit with a 429, and takes one again once a stream closes', async () => {
    const room = await createPhoneRoom(t.api);
    const first = await openRoomStream(t, room.id);
    const second = await openRoomStream(t, room.id);
    const third = await openRoomStream(t, room.id);
    expect([first.status, second.status, third.status]).toEqual([200, 200, 429]);
    expect(third.errorBody.message).toMatch(/at most 2 event streams/);

    // Another team has a limit of its own.
    const other = await createPhoneRoom(t.apiB);
    const theirs = await openRoomStream(t, other.id, { authorization: `Bearer ${t.teamB.developer_key}` });
    expect(theirs.status).toBe(200);
    theirs.close();

    first.close();
    const again = await waitFor(async () => {
      const attempt = await openRoomStream(t, room.id);
      if (attempt.status === 200) return attempt;
      attempt.close();
      return undefined;
    }, 15_000, 'a free stream');
    again.close();
    second.close();
  });
});
