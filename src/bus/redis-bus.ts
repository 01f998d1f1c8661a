import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Bus, EventListener } from './bus.js';
import { deliverToListeners } from './listeners.js';
import type { RoomEvent } from './events.js';

/** The pub/sub channel every node publishes committed events on, under the configured prefix. */
export const EVENTS_CHANNEL = (prefix: string): string => `${prefix}:events`;

/** What travels on the channel: one change's events, in order, and the node that committed them. */
interface BusMessage {
  node: string;
  events: RoomEvent[];
}

/**
 * The cluster bus: events go to this node's listeners at once (so a node's own answers are
 * read-your-writes) and to every other node through Redis pub/sub. Per-room sequence numbers
 * come from the database, so a receiver puts events from different nodes back in order
 * (room-feed.ts) whatever order Redis hands them over in.
 */
export class RedisBus implements Bus {
  private readonly listeners = new Set<EventListener>();
  private readonly nodeId = randomUUID();
  private readonly channel: string;

  private constructor(
    private readonly publisher: Redis,
    private readonly subscriber: Redis,
    prefix: string,
    private readonly logger: Logger,
  ) {
    this.channel = EVENTS_CHANNEL(prefix);
  }

  /** Connects both Redis connections (publishing, subscribed) and starts listening. */
  static async connect(url: string, prefix: string, logger: Logger): Promise<RedisBus> {
    const options = { lazyConnect: true, maxRetriesPerRequest: 2, enableOfflineQueue: true };
    const publisher = new Redis(url, options);
    const subscriber = new Redis(url, options);
    for (const connection of [publisher, subscriber]) {
      connection.on('error', (error: Error) => logger.warn({ err: error }, 'redis connection error'));
    }
    await Promise.all([publisher.connect(), subscriber.connect()]);
    const bus = new RedisBus(publisher, subscriber, prefix, logger);
    subscriber.on('message', (channel: string, text: string) => bus.receive(channel, text));
    await subscriber.subscribe(bus.channel);
    return bus;
  }

  async publish(events: readonly RoomEvent[]): Promise<void> {
    if (events.length === 0) return;
    this.deliver(events);
    const message: BusMessage = { node: this.nodeId, events: [...events] };
    try {
      await this.publisher.publish(this.channel, JSON.stringify(message));
    } catch (error) {
      // The change is committed and its webhooks are in the outbox; other nodes' streams notice
      // the missing numbers at their next event and start over from a snapshot.
      this.logger.error({ err: error, events: events.length }, 'could not publish events to redis');
    }
  }

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.listeners.clear();
    await Promise.allSettled([this.subscriber.quit(), this.publisher.quit()]);
  }

  describe(): string {
    return `redis bus on ${this.channel}`;
  }

  private receive(channel: string, text: string): void {
    if (channel !== this.channel) return;
    let message: BusMessage;
    try {
      message = JSON.parse(text) as BusMessage;
    } catch (error) {
      this.logger.warn({ err: error }, 'ignoring an unreadable bus message');
      return;
    }
    if (message.node === this.nodeId) return; // delivered locally when published
    this.deliver(message.events);
  }

  private deliver(events: readonly RoomEvent[]): void {
    deliverToListeners(this.listeners, events, this.logger);
  }
}
