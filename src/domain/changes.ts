import { randomUUID } from 'node:crypto';
import type { Transaction } from 'kysely';
import type { Bus } from '../bus/bus.js';
import type { PendingEvent, RoomEvent } from '../bus/events.js';
import type { Database } from '../store/schema.js';
import type { Store, TransactionOptions } from '../store/store.js';
import type { Clock } from './clock.js';
import { advanceRoomSeq } from '../store/repos/roster.js';
import { createCoalescer } from './coalesce.js';

/** One state change in progress: its transaction, its time, and the events it will publish. */
export interface Change {
  readonly trx: Transaction<Database>;
  /** The time of the change (epoch ms), the same for every row and event it writes. */
  readonly now: number;
  emit(event: PendingEvent): void;
}

/**
 * Runs before COMMIT with the change's numbered events, inside its transaction: the place
 * where an outbox row is written with the state change that caused it. It may return a
 * callback to run once the change has committed (to wake whoever sends those rows).
 */
export type CommitHook = (trx: Transaction<Database>, events: readonly RoomEvent[]) => Promise<void | (() => void)>;

export interface ChangeRunner {
  /**
   * Runs `work` as one atomic change; its events are numbered, committed with it, then
   * published. `lane` names what the change locks first (roomLane), see Store.transaction.
   */
  run<T>(work: (change: Change) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /**
   * Runs `item` in one change of `lane` with the items of the same lane that come while that
   * change waits for its turn (domain/coalesce.ts): `apply` gets them in the order they came
   * and answers one result each. Any change `run` is given meanwhile closes the wait, so
   * nothing overtakes what came before it. If the change fails, every item in it fails.
   */
  runTogether<I, R>(item: I, options: TogetherOptions<I, R>): Promise<R>;
  /** Adds a hook that runs inside every change's transaction, after its events are numbered. */
  addCommitHook(hook: CommitHook): void;
}

export interface TogetherOptions<I, R> {
  lane: string;
  /** How much the item counts against `maxWeight`, the most one change carries. */
  weight: number;
  maxWeight: number;
  /** What the item names: one that names something already waiting gets a change of its own. */
  names: readonly string[];
  apply: (change: Change, items: readonly I[]) => Promise<readonly R[]>;
}

export function createChangeRunner(deps: { store: Store; bus: Bus; clock: Clock }): ChangeRunner {
  const hooks: CommitHook[] = [];
  const waiting = createCoalescer();

  function run<T>(work: (change: Change) => Promise<T>, options?: TransactionOptions): Promise<T> {
    // Any change may touch any room (by id or by friendly_url, in a lane or none), and in
    // embedded mode every change waits in one queue: grouped items that come after it must
    // not be applied before it.
    waiting.sealAll();
    return runChange(work, options);
  }

  function runTogether<I, R>(item: I, options: TogetherOptions<I, R>): Promise<R> {
    const lane = { lane: options.lane };
    return waiting.submit<I, R>(options.lane, item, {
      weight: options.weight,
      maxWeight: options.maxWeight,
      names: options.names,
      run: (take) => runChange((change) => options.apply(change, take()), lane),
    });
  }

  async function runChange<T>(work: (change: Change) => Promise<T>, options?: TransactionOptions): Promise<T> {
    let committed: RoomEvent[] = [];
    let afterCommit: (() => void)[] = [];
    const result = await deps.store.transaction(async function runChange(trx) {
      const now = deps.clock.now();
      const pending: PendingEvent[] = [];
      const value = await work({ trx, now, emit: (event) => pending.push(event) });
      committed = await numberEvents(trx, pending, now);
      afterCommit = [];
      for (const hook of hooks) {
        const then = await hook(trx, committed);
        if (then !== undefined) afterCommit.push(then);
      }
      return value;
    }, options);
    if (committed.length > 0) await deps.bus.publish(committed);
    for (const then of afterCommit) then();
    return result;
  }

  return { run, runTogether, addCommitHook: (hook) => void hooks.push(hook) };
}

/**
 * The lane of changes that lock this room first (its roster's): they are committed together
 * when they arrive together. A room named by id and by friendly_url gets two lanes; in cluster
 * mode lanes run side by side, and the room's lock orders their changes as they reach it, so
 * a bridge that needs its requests applied in the order it sends them names the room one way.
 */
export function roomLane(teamId: string, roomRef: string): string {
  return `room:${teamId}:${roomRef}`;
}

/**
 * Gives each room event the next number of its room. The counter lives on the room row and
 * moves inside the change's transaction, so numbers are gap-free and follow commit order on
 * one node or many.
 */
async function numberEvents(trx: Transaction<Database>, pending: PendingEvent[], now: number): Promise<RoomEvent[]> {
  const countByRoom = new Map<string, number>();
  for (const event of pending) {
    if (event.roomId !== null) countByRoom.set(event.roomId, (countByRoom.get(event.roomId) ?? 0) + 1);
  }
  const nextByRoom = new Map<string, number>();
  for (const [roomId, count] of countByRoom) {
    const seq = await advanceRoomSeq(trx, roomId, count);
    // A room deleted by this very change has no counter left: its last events carry 0.
    if (seq !== undefined) nextByRoom.set(roomId, seq - count + 1);
  }
  return pending.map((event) => {
    let seq = 0;
    const next = event.roomId === null ? undefined : nextByRoom.get(event.roomId);
    if (event.roomId !== null && next !== undefined) {
      seq = next;
      nextByRoom.set(event.roomId, next + 1);
    }
    // Written out rather than spread: spreading a thousand events' objects was a tenth of a batch's time.
    return { name: event.name, teamId: event.teamId, roomId: event.roomId, data: event.data, id: randomUUID(), seq, at: now };
  });
}
