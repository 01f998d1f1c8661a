import type { RoomEvent } from '../bus/events.js';
import type { CoreDeps } from './deps.js';
import { findRoomSeqs } from '../store/repos/roster.js';
import { readRosterSnapshot, type RosterSnapshot } from './live-rooms.js';

/** Someone watching a room: a stream, a participants panel. */
export interface RoomWatcher {
  /** The roster as of `snapshot.seq`: sent first (unless resuming), and again whenever the feed lost track. */
  snapshot(snapshot: RosterSnapshot): void;
  /** The room's next event, in sequence order, never twice. */
  event(event: RoomEvent): void;
  /** The room is gone (its final event was delivered): the watch is over. */
  end(): void;
}

/**
 * Per-room event fan-out. Subscribes once to the bus, delivers each watched room's events in
 * sequence order (holding a later one until the gap fills), and keeps a bounded buffer per
 * recently watched room so a dropped stream resumes without gaps.
 */
export interface RoomFeed {
  /**
   * Starts delivering the room's events to `watcher`: right after `lastEventId` when the
   * room's buffer still holds everything since, else from a fresh snapshot. Resolves with the
   * function that stops the watch.
   */
  watch(roomId: string, watcher: RoomWatcher, lastEventId?: number): Promise<() => void>;
  /** How many watchers the room has now. */
  watcherCount(roomId: string): number;
  /** The rooms watched on this node, and their watchers (event streams and panels) in all. */
  watching(): { rooms: number; watchers: number };
  close(): void;
}

export interface RoomFeedOptions {
  /** Events kept per room for resuming. */
  bufferSize: number;
  /** How long a room's buffer is kept after its last watcher left. */
  retentionMs: number;
  /** How long a missing event is waited for before the watchers get a fresh snapshot instead. */
  gapTimeoutMs: number;
  /**
   * How often watched rooms' event numbers are compared with the database. Catches the last
   * events of a change whose node died (or lost Redis) between its commit and its publish:
   * no later event would reveal that gap.
   */
  catchUpMs: number;
}

const DEFAULTS: RoomFeedOptions = { bufferSize: 512, retentionMs: 5 * 60_000, gapTimeoutMs: 1000, catchUpMs: 5000 };

export function createRoomFeed(deps: CoreDeps, options: Partial<RoomFeedOptions> = {}): RoomFeed {
  const settings = { ...DEFAULTS, ...options };
  const channels = new Map<string, RoomChannel>();
  const readSnapshot = (roomId: string) => readRosterSnapshot(deps.changes, roomId);

  const unsubscribe = deps.bus.subscribe(function routeEvent(event) {
    if (event.roomId !== null) channels.get(event.roomId)?.receive(event);
  });

  const catchUpTimer = setInterval(function catchUpWatchedRooms() {
    const watched = [...channels.values()].filter((channel) => channel.watcherCount() > 0);
    if (watched.length === 0) return;
    findRoomSeqs(deps.store.db, watched.map((channel) => channel.roomId)).then(
      (seqs) => {
        for (const channel of watched) {
          const seq = seqs.get(channel.roomId);
          if (seq !== undefined) channel.catchUp(seq);
        }
      },
      (error: unknown) => deps.logger.warn({ err: error }, 'could not compare room event numbers'),
    );
  }, settings.catchUpMs);
  catchUpTimer.unref();

  function channelFor(roomId: string): RoomChannel {
    let channel = channels.get(roomId);
    if (channel === undefined) {
      const created = new RoomChannel(roomId, settings, readSnapshot, deps.logger, function forgetRoom() {
        if (channels.get(roomId) === created) channels.delete(roomId);
      });
      channels.set(roomId, created);
      channel = created;
    }
    return channel;
  }

  return {
    async watch(roomId, watcher, lastEventId) {
      const channel = channelFor(roomId);
      const stop = () => channel.remove(watcher);
      if (lastEventId !== undefined && channel.resume(watcher, lastEventId)) return stop;
      await channel.start(watcher);
      return stop;
    },
    watcherCount: (roomId) => channels.get(roomId)?.watcherCount() ?? 0,
    watching() {
      let rooms = 0;
      let watchers = 0;
      for (const channel of channels.values()) {
        const count = channel.watcherCount();
        // A room kept for resuming after its last watcher left is not watched.
        if (count > 0) rooms += 1;
        watchers += count;
      }
      return { rooms, watchers };
    },
    close() {
      clearInterval(catchUpTimer);
      unsubscribe();
      for (const channel of channels.values()) channel.dispose();
      channels.clear();
    },
  };
}

/** A watcher's place in the room: events at or below `afterSeq` are not for it; `queue` holds events until its snapshot is sent. */
interface Seat {
  afterSeq: number;
  queue: RoomEvent[] | undefined;
}

type SnapshotReader = (roomId: string) => Promise<RosterSnapshot | undefined>;

/** One watched room: its watchers, its in-order delivery and its resume buffer. */
class RoomChannel {
  private readonly seats = new Map<RoomWatcher, Seat>();
  private buffer: RoomEvent[] = [];
  /** Every event numbered above this is in the buffer or yet to come. */
  private coveredAfter = 0;
  /** The last event delivered in order; unknown until the first snapshot. */
  private delivered: number | undefined;
  /** Events that arrived ahead of a missing one (or before the first snapshot). */
  private readonly held = new Map<number, RoomEvent>();
  private gapTimer: NodeJS.Timeout | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private resyncing = false;
  /** The database's event number at the last catch-up check, when this feed was behind it. */
  private behindAt: number | undefined;

  constructor(
    readonly roomId: string,
    private readonly settings: RoomFeedOptions,
    private readonly readSnapshot: SnapshotReader,
    private readonly logger: CoreDeps['logger'],
    private readonly forget: () => void,
  ) {}

  watcherCount(): number {
    return this.seats.size;
  }

  /** Seats the watcher right after `lastEventId` and replays what it missed; false when the buffer no longer covers it. */
  resume(watcher: RoomWatcher, lastEventId: number): boolean {
    if (this.delivered === undefined || this.resyncing) return false;
    if (lastEventId < this.coveredAfter || lastEventId > this.delivered) return false;
    this.seat(watcher, { afterSeq: lastEventId, queue: undefined });
    for (const event of this.buffer) if (event.seq > lastEventId) this.tell(watcher, () => watcher.event(event));
    return true;
  }

  /**
   * Seats the watcher behind a fresh snapshot. It is seated (queueing) before the snapshot is
   * read, so every event numbered above the snapshot reaches it, and nothing at or below.
   */
  async start(watcher: RoomWatcher): Promise<void> {
    const seat: Seat = { afterSeq: Number.MAX_SAFE_INTEGER, queue: [] };
    this.seat(watcher, seat);
    let snapshot: RosterSnapshot | undefined;
    try {
      snapshot = await this.readSnapshot(this.roomId);
    } catch (error) {
      this.remove(watcher);
      throw error;
    }
    if (this.seats.get(watcher) !== seat) return;
    if (snapshot === undefined) return this.finish();
    if (this.delivered === undefined) this.establish(snapshot.seq);
    const queued = seat.queue ?? [];
    seat.afterSeq = snapshot.seq;
    seat.queue = undefined;
    this.tell(watcher, () => watcher.snapshot(snapshot));
    for (const event of queued) if (event.seq > snapshot.seq) this.tell(watcher, () => watcher.event(event));
  }

  remove(watcher: RoomWatcher): void {
    if (!this.seats.delete(watcher) || this.seats.size > 0) return;
    // Kept a while without watchers, so a dropped stream can still resume from the buffer.
    this.idleTimer = setTimeout(() => {
      this.dispose();
      this.forget();
    }, this.settings.retentionMs);
    this.idleTimer.unref();
  }

  receive(event: RoomEvent): void {
    // A room deleted by a change has no counter left: that change's events carry 0 and close the room.
    if (event.seq === 0) return this.deliver(event);
    if (this.delivered !== undefined && event.seq <= this.delivered) return;
    this.held.set(event.seq, event);
    if (this.delivered !== undefined && !this.resyncing) this.drain();
  }

  /**
   * Compares the room's event number in the database with what was delivered. Behind at two
   * checks in a row (not just an event between its commit and its publish): start over from a
   * snapshot.
   */
  catchUp(databaseSeq: number): void {
    if (this.delivered === undefined || this.resyncing || databaseSeq <= this.delivered) {
      this.behindAt = undefined;
      return;
    }
    if (this.behindAt !== undefined && this.delivered < this.behindAt) {
      this.behindAt = undefined;
      void this.resync();
      return;
    }
    this.behindAt = databaseSeq;
  }

  dispose(): void {
    clearTimeout(this.gapTimer);
    clearTimeout(this.idleTimer);
    this.gapTimer = undefined;
  }

  private seat(watcher: RoomWatcher, seat: Seat): void {
    clearTimeout(this.idleTimer);
    this.seats.set(watcher, seat);
  }

  private establish(seq: number): void {
    this.delivered = seq;
    this.coveredAfter = seq;
    this.buffer = [];
    for (const held of this.held.keys()) if (held <= seq) this.held.delete(held);
    this.drain();
  }

  /** Delivers held events while they follow on without a gap; waits a short while for a missing one. */
  private drain(): void {
    let next = this.held.get((this.delivered ?? 0) + 1);
    while (next !== undefined) {
      this.held.delete(next.seq);
      this.delivered = next.seq;
      this.buffer.push(next);
      if (this.buffer.length > this.settings.bufferSize) this.coveredAfter = this.buffer.shift()?.seq ?? this.coveredAfter;
      this.deliver(next);
      next = this.held.get(this.delivered + 1);
    }
    clearTimeout(this.gapTimer);
    this.gapTimer = undefined;
    if (this.held.size > 0) {
      this.gapTimer = setTimeout(() => void this.resync(), this.settings.gapTimeoutMs);
      this.gapTimer.unref();
    }
  }

  /** The missing event never came: start everyone over from a fresh snapshot. */
  private async resync(): Promise<void> {
    this.gapTimer = undefined;
    this.resyncing = true;
    let snapshot: RosterSnapshot | undefined;
    try {
      snapshot = await this.readSnapshot(this.roomId);
    } catch (error) {
      this.logger.error({ err: error, roomId: this.roomId }, 'room snapshot failed');
      this.resyncing = false;
      return this.drain();
    }
    this.resyncing = false;
    if (snapshot === undefined) return this.finish();
    this.logger.warn({ roomId: this.roomId, missing: (this.delivered ?? 0) + 1 }, 'room event missing: watchers start over from a snapshot');
    for (const [watcher, seat] of this.seats) {
      if (seat.queue !== undefined) continue;
      seat.afterSeq = snapshot.seq;
      this.tell(watcher, () => watcher.snapshot(snapshot));
    }
    this.establish(snapshot.seq);
  }

  private deliver(event: RoomEvent): void {
    for (const [watcher, seat] of this.seats) {
      if (seat.queue !== undefined) seat.queue.push(event);
      else if (event.seq === 0 || event.seq > seat.afterSeq) this.tell(watcher, () => watcher.event(event));
    }
    if (event.name === 'room_deleted') this.finish();
  }

  /** The room is gone: every watcher is told, and the room is forgotten. */
  private finish(): void {
    const watchers = [...this.seats.keys()];
    this.seats.clear();
    this.dispose();
    this.forget();
    for (const watcher of watchers) this.tell(watcher, () => watcher.end());
  }

  /** One watcher's failure must not keep the event from the others. */
  private tell(watcher: RoomWatcher, call: () => void): void {
    try {
      call();
    } catch (error) {
      this.logger.error({ err: error, roomId: this.roomId }, 'room watcher failed');
    }
  }
}
