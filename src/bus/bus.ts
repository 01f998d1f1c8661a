import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import type { RoomEvent } from './events.js';
import { LocalBus } from './local-bus.js';

export type EventListener = (event: RoomEvent) => void;

/**
 * Carries committed events to every stream and panel that watches a room. Embedded mode
 * delivers in-process (local-bus.ts); cluster mode fans out through Redis.
 */
export interface Bus {
  /** Delivers events, in the order given, to every listener (on every node, in cluster mode). */
  publish(events: readonly RoomEvent[]): Promise<void>;
  /** Calls `listener` for every published event until the returned function is called. */
  subscribe(listener: EventListener): () => void;
  close(): Promise<void>;
  describe(): string;
  /** Whether events reach the other nodes now (always, in-process); readiness reports it. */
  reachable(): boolean;
}

/** The one place the bus is chosen: Redis when REDIS_URL is set, in-process otherwise. */
export async function createBus(config: Config, logger: Logger): Promise<Bus> {
  if (config.redisUrl !== undefined) {
    const { RedisBus } = await import('./redis-bus.js');
    return RedisBus.connect(config.redisUrl, config.redisPrefix, logger);
  }
  return new LocalBus(logger);
}
