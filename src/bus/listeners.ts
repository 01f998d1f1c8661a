import type { Logger } from 'pino';
import type { EventListener } from './bus.js';
import type { RoomEvent } from './events.js';

/** Hands events, in order, to every listener; one failing listener never keeps an event from the others. */
export function deliverToListeners(listeners: Iterable<EventListener>, events: readonly RoomEvent[], logger: Logger): void {
  for (const event of events) {
    for (const listener of listeners) {
      try {
        listener(event);
      } catch (error) {
        logger.error({ err: error, event: event.name }, 'event listener failed');
      }
    }
  }
}
