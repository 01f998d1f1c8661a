import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Bus, EventListener } from './bus.js';
import { deliverToListeners } from './listeners.js';
import { watchRedisConnection } from './redis-connection.js';
import { withoutPassword } from '../config/config.js';
import type { RoomEvent } from './events.js';

/** The pub/sub channel every node publishes committed events on, under the configured prefix. */
export const EVENTS_CHANNEL = (prefix: string): string => `${prefix}:events`;

/** The longest a change waits for Redis to take its events; normally it answers within a millisecond. */
const PUBLISH_TIMEOUT_MS = 500;

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
  /** Whether the last publish failed: until one succeeds, changes do not wait for Redis. */
  private failing = false;

  private constructor(
    private readonly publisher: Redis,
    private readonly subscriber: Redis,
    prefix: string,
    private readonly logger: Logger,
  ) {
    this.channel = EVENTS_CHANNEL(prefix);
    publisher.on('ready', () => (this.failing = false));
  }

  /** Connects both Redis connections (publishing, subscribed) and starts listening. */
  static async connect(url: string, prefix: string, logger: Logger): Promise<RedisBus> {
    // A publish never waits for Redis to come back: it fails at once while Redis is out of reach
    // (no offline queue), and after PUBLISH_TIMEOUT_MS while Redis does not answer.
    const publisher = new Redis(url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: PUBLISH_TIMEOUT_MS });
    // The subscription is made again by ioredis on every reconnection.
    const subscriber = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2 });
    watchRedisConnection(publisher, logger, 'publishing events');
    watchRedisConnection(subscriber, logger, 'receiving events');
    try {
      await Promise.all([publisher.connect(), subscriber.connect()]);
    } catch (error) {
      publisher.disconnect();
      subscriber.disconnect();
      throw new Error(`REDIS_URL: cannot connect to Redis at ${withoutPassword(url)}: ${(error as Error).message}`, { cause: error });
    }
    const bus = new RedisBus(publisher, subscriber, prefix, logger);
    subscriber.on('message', (channel: string, text: string) => bus.receive(channel, text));
    await subscriber.subscribe(bus.channel);
    return bus;
  }

  async publish(events: readonly RoomEvent[]): Promise<void> {
    if (events.length === 0) return;
    this.deliver(events);
    const message: BusMessage = { node: this.nodeId, events: [...events] };
    const published = this.publisher.publish(this.channel, JSON.stringify(message)).then(
      () => {
        if (this.failing) this.logger.info('publishing events to redis again');
        this.failing = false;
      },
      (error: unknown) => {
        // The change is committed and its webhooks are in the outbox; other nodes' streams notice
        // the missing numbers at their next event and start over from a snapshot.
        if (!this.failing) this.logger.error({ err: error, events: events.length }, 'could not publish events to redis; other nodes catch up once it is back');
        this.failing = true;
      },
    );
    // Other nodes' streams have the events before the answer goes, while Redis takes them. While
    // it does not, no change waits for it: the API goes on, and other nodes catch up.
    if (!this.failing) await published;
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

  reachable(): boolean {
    return this.publisher.status === 'ready' && this.subscriber.status === 'ready' && !this.failing;
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
