import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createClient, type ApiClient } from '../helpers/server.js';
import { startServeProcess, tempDataDir } from '../helpers/process.js';

/** What one client believes its room holds: live calls and their flags. */
type Roster = Map<string, { muted: boolean; hand_raised: boolean }>;

type Op =
  | { kind: 'joined'; calls: string[] }
  | { kind: 'left'; calls: string[] }
  | { kind: 'mute' | 'raise-hand'; call: string }
  | { kind: 'reconcile'; calls: string[] };

/** A small seeded generator (mulberry32), so each seed replays the same schedule. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The model: what an acknowledged operation does to a room's roster. Calls that left never come back. */
function apply(roster: Roster, gone: Set<string>, op: Op): void {
  if (op.kind === 'joined') for (const call of op.calls) if (!gone.has(call) && !roster.has(call)) roster.set(call, { muted: false, hand_raised: false });
  if (op.kind === 'left') {
    for (const call of op.calls) {
      roster.delete(call);
      gone.add(call);
    }
  }
  if (op.kind === 'mute') roster.get(op.call)!.muted = true;
  if (op.kind === 'raise-hand') roster.get(op.call)!.hand_raised = true;
  if (op.kind === 'reconcile') {
    for (const call of [...roster.keys()]) {
      if (op.calls.includes(call)) continue;
      roster.delete(call);
      gone.add(call);
    }
    for (const call of op.calls) if (!gone.has(call) && !roster.has(call)) roster.set(call, { muted: false, hand_raised: false });
  }
}

function copy(roster: Roster): Roster {
  return new Map([...roster].map(([call, flags]) => [call, { ...flags }]));
}

/** The next operation of a client, from its roster: join two, flag, leave, reconcile. */
function nextOp(step: number, roster: Roster, fresh: () => string): Op {
  const live = [...roster.keys()];
  switch (step % 5) {
    case 0:
      return { kind: 'joined', calls: [fresh(), fresh()] };
    case 1:
      return live.length > 0 ? { kind: 'mute', call: live[0]! } : { kind: 'joined', calls: [fresh()] };
    case 2:
      return live.length > 0 ? { kind: 'raise-hand', call: live[live.length - 1]! } : { kind: 'joined', calls: [fresh()] };
    case 3:
      return { kind: 'left', calls: live.slice(0, 1).concat(['never-joined']) };
    default:
      return { kind: 'reconcile', calls: live.slice(-1).concat([fresh()]) };
  }
}

async function send(api: ApiClient, roomId: string, op: Op): Promise<number> {
  const base = `/api/v1/rooms/${roomId}/phone-participants`;
  const items = (calls: string[]) => calls.map((call) => ({ call_id: call, name: call }));
  if (op.kind === 'joined') return (await api.post(`${base}/joined`, items(op.calls))).status;
  if (op.kind === 'left') return (await api.post(`${base}/left`, op.calls)).status;
  if (op.kind === 'reconcile') return (await api.put(base, items(op.calls))).status;
  return (await api.post(`${base}/${op.call}/${op.kind}`)).status;
}

function sameRoster(actual: Roster, expected: Roster): boolean {
  return actual.size === expected.size && [...expected].every(([call, flags]) => JSON.stringify(actual.get(call)) === JSON.stringify(flags));
}

describe('crash consistency under load', () => {
  const folders: Array<{ remove(): void }> = [];
  afterAll(() => folders.forEach((folder) => folder.remove()));

  for (const seed of [11, 23, 47]) {
    it(`kill -9 at a random moment under 50 clients loses nothing acknowledged and half-applies nothing (seed ${seed})`, async () => {
      const next = random(seed);
      const data = tempDataDir();
      folders.push(data);
      const key = `crash-${randomUUID()}`;
      const env = { ROOMLINE_DATA_DIR: data.dataDir, ROOMLINE_TEAM_ID: randomUUID(), ROOMLINE_DEVELOPER_KEY: key, LOG_LEVEL: 'info' };
      const first = await startServeProcess(env);
      const api = createClient(first.url, { kind: 'bearer', key });

      // One room per client, so a reconciliation concerns that client's calls alone.
      const clients = await Promise.all(
        Array.from({ length: 50 }, async (_, index) => ({
          index,
          roomId: (await api.post('/api/v1/rooms', { telephony_enabled: true })).body.id as string,
          acked: new Map() as Roster,
          gone: new Set<string>(),
          inFlight: undefined as Op | undefined,
        })),
      );

      // The moment is counted in answered requests, not in time: on a slow machine a timer
      // could fire before the clients had done anything worth checking.
      let killed = false;
      const killAfter = 100 + Math.floor(next() * 500);
      let acknowledged = 0;
      await Promise.all(
        clients.map(async (client) => {
          let counter = 0;
          for (let step = 0; !killed; step++) {
            const op = nextOp(step, client.acked, () => `c${client.index}-${counter++}`);
            client.inFlight = op;
            let status: number;
            try {
              status = await send(api, client.roomId, op);
            } catch {
              return; // the server died with this request in flight
            }
            expect(status, JSON.stringify(op)).toBe(200);
            apply(client.acked, client.gone, op);
            client.inFlight = undefined;
            acknowledged += 1;
            if (acknowledged === killAfter) {
              killed = true;
              first.child.kill('SIGKILL');
            }
          }
        }),
      );
      await first.exited;

      const second = await startServeProcess(env);
      try {
        const after = createClient(second.url, { kind: 'bearer', key });
        for (const client of clients) {
          const live = (await after.get(`/api/v1/rooms/${client.roomId}/live/participants`)).body.live_participants as any[];
          const actual: Roster = new Map(live.map((p) => [p.call_id, { muted: p.muted, hand_raised: p.hand_raised }]));
          // Either the request in flight at the crash was applied whole, or not at all.
          const withInFlight = copy(client.acked);
          if (client.inFlight !== undefined) apply(withInFlight, new Set(client.gone), client.inFlight);
          const matches = sameRoster(actual, client.acked) || sameRoster(actual, withInFlight);
          expect(matches, `client ${client.index}: ${JSON.stringify([...actual])} vs acked ${JSON.stringify([...client.acked])} / in flight ${JSON.stringify(client.inFlight)}`).toBe(true);
          const room = (await after.get(`/api/v1/rooms/${client.roomId}/live`)).body;
          expect(room.live_participants).toBe(actual.size);
        }
        expect(acknowledged).toBeGreaterThanOrEqual(killAfter);
      } finally {
        await second.stop();
      }
    });
  }
});
