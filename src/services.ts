import type { Logger } from 'pino';
import type { Bus } from './bus/bus.js';
import type { Config } from './config/config.js';
import type { ChangeRunner } from './domain/changes.js';
import type { Clock } from './domain/clock.js';
import type { TeamService } from './domain/teams.js';
import type { Store } from './store/store.js';

/**
 * What the routes are given: the backends and the domain services built on them.
 * Built once in app.ts and passed to each route plugin as an option (no globals).
 */
export interface Services {
  config: Config;
  logger: Logger;
  store: Store;
  bus: Bus;
  clock: Clock;
  changes: ChangeRunner;
  teams: TeamService;
}
