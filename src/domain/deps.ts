import type { Logger } from 'pino';
import type { Bus } from '../bus/bus.js';
import type { Config } from '../config/config.js';
import type { Store } from '../store/store.js';
import type { ChangeRunner } from './changes.js';
import type { Clock } from './clock.js';

/** What every domain service is built from. */
export interface CoreDeps {
  config: Config;
  logger: Logger;
  store: Store;
  bus: Bus;
  clock: Clock;
  changes: ChangeRunner;
}
