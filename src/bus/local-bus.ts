import type { Logger } from 'pino';
import type { Bus, EventListener } from './bus.js';
import { deliverToListeners } from './listeners.js';
import type { RoomEvent } from './events.js';

/**
 * The embedded bus: listeners are called synchronously inside publish(), so once a change's
 * HTTP answer is sent every stream in this process has already been handed the event.
 */
export class LocalBus implements Bus {
  private readonly listeners = new Set<EventListener>();

  constructor(private readonly logger: Logger) {}

  async publish(events: readonly RoomEvent[]): Promise<void> {
    deliverToListeners(this.listeners, events, this.logger);
  }

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.listeners.clear();
  }

  describe(): string {
    return 'in-process bus';
  }

  reachable(): boolean {
    return true;
  }
}
