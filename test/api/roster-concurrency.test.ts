import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createPhoneRoom, liveCallIds, recordEvents } from '../helpers/rooms.js';
import { startTestServer, waitFor, type TestServer } from '../helpers/server.js';
import { openRoomStream } from '../helpers/sse.js';

const CLIENTS = 100;
const CALLS_PER_CLIENT = 6;

describe('a roster under concurrent bridges', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => t.stop());

  it('100 clients joining and leaving disjoint calls at once leave exactly the expected roster, count and stream', async () => {
    const room = await createPhoneRoom(t.api);
    const stream = await openRoomStream(t, room.id);
    const snapshot = await stream.next();
    const recorded = recordEvents(t);

    // Each client: its calls join in two batches, then half of them leave, one of them twice.
    // A second stream connects in the middle of it all, once a quarter of the clients are done.
    const expected: string[] = [];
    let done = 0;
    const lateStart = waitFor(() => (done >= CLIENTS / 4 ? true : undefined), 30_000, 'a quarter of the clients').then(async () => {
      const late = await openRoomStream(t, room.id);
      return { late, lateSnapshot: await late.next() };
    });
    await Promise.all(
      Array.from({ length: CLIENTS }, async (_, client) => {
        const ids = Array.from({ length: CALLS_PER_CLIENT }, (_, n) => `client${client}-call${n}`);
        const path = `/api/v1/rooms/${room.id}/phone-participants`;
        expect((await t.api.post(`${path}/joined`, ids.slice(0, 3).map((id) => call(id)))).status).toBe(200);
        expect((await t.api.post(`${path}/joined`, ids.slice(3).map((id) => call(id)))).status).toBe(200);
        expect((await t.api.post(`${path}/left`, [ids[0], ids[2], ids[4]])).status).toBe(200);
        expect((await t.api.post(`${path}/left`, [ids[0]])).status).toBe(200);
        expected.push(ids[1]!, ids[3]!, ids[5]!);
        done += 1;
      }),
    );
    recorded.stop();

    expect(await liveCallIds(t.api, room.id)).toEqual(expected.sort());
    expect((await t.api.get(`/api/v1/rooms/${room.id}/live`)).body.live_participants).toBe(expected.length);
    const sessions = await t.running.services.store.db.selectFrom('sessions').selectAll().where('room_id', '=', room.id).execute();
    expect(sessions).toEqual([expect.objectContaining({ end_time: null, live_participants: expected.length })]);
    const rows = await t.running.services.store.db.selectFrom('participants').select(['call_id', 'leave_time']).where('room_id', '=', room.id).execute();
    expect(rows).toHaveLength(CLIENTS * CALLS_PER_CLIENT);

    // Every event numbered once, without gaps. The bus may hand over two changes' events out of
    // order (on PostgreSQL the second change's commit can overtake the first's answer); the room
    // feed puts them back in order, which the streams below check.
    const seqs = recorded.events.map((event) => event.seq).sort((a, b) => a - b);
    expect(seqs).toEqual(seqs.map((_, index) => Number(snapshot.id) + 1 + index));
    expect(recorded.events.filter((event) => event.name === 'participant_joined')).toHaveLength(CLIENTS * CALLS_PER_CLIENT);
    expect(recorded.events.filter((event) => event.name === 'participant_left')).toHaveLength(CLIENTS * 3);

    // A stream that watched it all, replayed, arrives at the same roster.
    const roster = new Set<string>();
    const total = recorded.events.length;
    for (let received = 0; received < total; received++) {
      const message = await stream.next();
      expect(message.id).toBe(String(Number(snapshot.id) + 1 + received));
      if (message.event === 'participant_joined') roster.add(message.data.participant.call_id);
      if (message.event === 'participant_left') roster.delete(message.data.participant.call_id);
    }
    expect([...roster].sort()).toEqual(expected);
    stream.close();

    // The stream that joined midway: its snapshot plus what followed it is the same roster.
    const { late, lateSnapshot } = await lateStart;
    const lastSeq = seqs.at(-1)!;
    expect(Number(lateSnapshot.id)).toBeGreaterThan(Number(snapshot.id));
    const lateRoster = new Set<string>(lateSnapshot.data.participants.map((participant: any) => participant.call_id));
    for (let seq = Number(lateSnapshot.id) + 1; seq <= lastSeq; seq++) {
      const message = await late.next();
      expect(message.id).toBe(String(seq));
      if (message.event === 'participant_joined') lateRoster.add(message.data.participant.call_id);
      if (message.event === 'participant_left') lateRoster.delete(message.data.participant.call_id);
    }
    expect([...lateRoster].sort()).toEqual(expected);
    late.close();
  });

  it('announces concurrent reports of one call as if they came one after another', async () => {
    const room = await createPhoneRoom(t.api);
    const path = `/api/v1/rooms/${room.id}/phone-participants`;
    const recorded = recordEvents(t);
    const REPORTS = 12;
    // Reports that arrive together are applied in one change: a call they share must still
    // join once and then change its details once per later report, never just join with the last.
    const joined = await Promise.all(
      Array.from({ length: REPORTS }, (_, index) => t.api.post(`${path}/joined`, [call('shared', { name: `Name ${index}` }), call(`own-${index}`)])),
    );
    expect(joined.map((response) => response.status)).toEqual(Array(REPORTS).fill(200));
    const left = await Promise.all(Array.from({ length: REPORTS }, (_, index) => t.api.post(`${path}/left`, ['shared', `own-${index}`])));
    expect(left.map((response) => response.status)).toEqual(Array(REPORTS).fill(200));
    recorded.stop();
    // In event order: on PostgreSQL the bus may hand two changes' events over out of order.
    recorded.events.sort((a, b) => a.seq - b.seq);

    const ofShared = (name: string) => recorded.events.filter((event) => event.name === name && event.data.call_id === 'shared');
    expect(ofShared('participant_joined')).toHaveLength(1);
    expect(ofShared('participant_details_changed')).toHaveLength(REPORTS - 1);
    expect(ofShared('participant_left')).toHaveLength(1);
    expect(recorded.events.filter((event) => event.name === 'participant_left')).toHaveLength(REPORTS + 1);
    expect(recorded.events.filter((event) => event.name === 'session_ended')).toHaveLength(1);
    // The name it left with is the one the last of its reports gave.
    const lastName = ofShared('participant_details_changed').at(-1)!.data.name;
    expect(ofShared('participant_left')[0]!.data.name).toBe(lastName);
    expect(await liveCallIds(t.api, room.id)).toEqual([]);
  });

  describe('reports that arrive together', () => {
    type Step =
      | ['joined', Array<Record<string, unknown>>]
      | ['left', string[]]
      | ['reconcile', Array<Record<string, unknown>>]
      | ['mute', string]
      | ['end session'];

    /**
     * Applies the steps to a new room, one after another or all in the same turn; answers the
     * events, the live calls and each call's attendance. The bridge's steps name the room by
     * `reportsBy`; a mute names it by id, and ending the session takes no room at all.
     */
    async function play(steps: Step[], together: boolean, setup: Step[] = [], reportsBy: 'id' | 'friendly_url' = 'id') {
      const room = await createPhoneRoom(t.api);
      const { roster, sessions, store } = t.running.services;
      const team = t.teamA.team_id;
      const ref = room[reportsBy];
      let liveSession = '';
      const apply = ([kind, value]: Step): Promise<unknown> => {
        if (kind === 'joined') return roster.phoneCallsJoined(team, ref, value as any);
        if (kind === 'left') return roster.phoneCallsLeft(team, ref, value);
        if (kind === 'reconcile') return roster.reconcilePhoneCalls(team, ref, value as any);
        if (kind === 'mute') return roster.changePhoneCall(team, room.id, value, { muted: true });
        return sessions.end(team, liveSession);
      };
      for (const step of setup) await apply(step);
      const session = await store.db.selectFrom('sessions').select('id').where('room_id', '=', room.id).where('end_time', 'is', null).executeTakeFirst();
      liveSession = session?.id ?? '';
      const recorded = recordEvents(t);
      if (together) await Promise.all(steps.map(apply));
      else for (const step of steps) await apply(step);
      recorded.stop();
      const events = recorded.events
        .filter((event) => event.roomId === room.id)
        .sort((a, b) => a.seq - b.seq)
        .map((event) => `${event.name} ${String(event.data.call_id ?? '')} ${String(event.data.name ?? '')}`.trim());
      const participants = (await t.api.get(`/api/v1/rooms/${room.id}/participants?order=asc`)).body.data as Array<{ id: string; call_id: string }>;
      const attendance = await Promise.all(
        participants.map(async (participant) => {
          const detail = (await t.api.get(`/api/v1/participants/${participant.id}`)).body;
          return [participant.call_id, (detail.segments as any[]).map((segment: any) => `${segment.kind}${segment.end === null ? ' open' : ''}`)];
        }),
      );
      return { events, live: await liveCallIds(t.api, room.id), attendance };
    }

    const cases: Array<{ name: string; steps: Step[]; setup?: Step[]; reportsBy?: 'id' | 'friendly_url' }> = [
      { name: 'a new call, then a live one muted', setup: [['joined', [call('y')]]], steps: [['joined', [call('x')]], ['joined', [call('y', { muted: true })]]] },
      { name: 'leaves in another order than the calls joined', setup: [['joined', [call('b'), call('a'), call('c')]]], steps: [['left', ['b']], ['left', ['a']], ['left', ['c', 'b']]] },
      { name: 'one call joining, renamed twice, leaving', steps: [['joined', [call('x', { name: 'A' })]], ['joined', [call('x', { name: 'B' })]], ['left', ['x']], ['joined', [call('x', { name: 'C' })]]] },
      { name: 'the session ending and a new one starting', setup: [['joined', [call('a')]]], steps: [['left', ['a']], ['joined', [call('b'), call('c')]], ['left', ['c']], ['joined', [call('d')]]] },
      { name: 'reports around a reconcile', setup: [['joined', [call('a')]]], steps: [['joined', [call('c')]], ['reconcile', [call('a')]], ['joined', [call('d')]]] },
      { name: 'reports around a mute', setup: [['joined', [call('x')]]], steps: [['joined', [call('y')]], ['mute', 'x'], ['joined', [call('x', { muted: false })]]] },
      { name: 'reports by friendly_url around a mute by id', reportsBy: 'friendly_url', setup: [['joined', [call('x')]]], steps: [['joined', [call('y')]], ['mute', 'x'], ['joined', [call('x', { muted: false })]]] },
      { name: 'reports around the end of the session', setup: [['joined', [call('a')]]], steps: [['joined', [call('b')]], ['end session'], ['joined', [call('c')]]] },
      { name: 'one call unmuted and muted again', setup: [['joined', [call('x', { muted: true })]]], steps: [['joined', [call('y')]], ['joined', [call('x', { muted: false })]], ['joined', [call('x', { muted: true })]]] },
    ];
    /**
     * The orders the steps may take effect in. Embedded mode has one queue for every change:
     * the order they came. In cluster mode each way of naming a room is a lane of its own, and
     * changes of different lanes (or of none: ending a session) meet only at the room's lock,
     * so they are concurrent: any order that keeps each lane's own order.
     */
    function allowedOrders(steps: Step[], reportsBy: 'id' | 'friendly_url'): Step[][] {
      const laneOf = ([kind]: Step, index: number) => (kind === 'end session' ? `none ${index}` : kind === 'mute' ? 'id' : reportsBy);
      if (process.env.ROOMLINE_TEST_BACKEND !== 'cluster') return [steps];
      const orders: Step[][] = [];
      const extend = (order: number[]) => {
        if (order.length === steps.length) return void orders.push(order.map((index) => steps[index]!));
        for (let index = 0; index < steps.length; index++) {
          if (order.includes(index)) continue;
          // A step goes only after every earlier step of its lane.
          if (steps.slice(0, index).some((step, earlier) => laneOf(step, earlier) === laneOf(steps[index]!, index) && !order.includes(earlier))) continue;
          extend([...order, index]);
        }
      };
      extend([]);
      return orders;
    }

    for (const { name, steps, setup, reportsBy = 'id' } of cases) {
      it(`give what they give one after another: ${name}`, async () => {
        const together = await play(steps, true, setup, reportsBy);
        const oneByOne = [];
        for (const order of allowedOrders(steps, reportsBy)) oneByOne.push(await play(order, false, setup, reportsBy));
        expect(oneByOne).toContainEqual(together);
      });
    }
  });

  it('keeps concurrent batches on different rooms apart', async () => {
    const rooms = await Promise.all([createPhoneRoom(t.api), createPhoneRoom(t.api)]);
    await Promise.all(
      Array.from({ length: 40 }, (_, index) => {
        const room = rooms[index % 2]!;
        return t.api.post(`/api/v1/rooms/${room.id}/phone-participants/joined`, [call(`shared-${Math.floor(index / 2)}`)]);
      }),
    );
    const expected = Array.from({ length: 20 }, (_, index) => `shared-${index}`).sort();
    for (const room of rooms) expect(await liveCallIds(t.api, room.id)).toEqual(expected);
  });
});
