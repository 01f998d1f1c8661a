import type { CoreDeps } from './domain/deps.js';
import type { RoleService } from './domain/roles.js';
import type { RoomFeed } from './domain/room-feed.js';
import type { RoomService } from './domain/rooms.js';
import type { RosterService } from './domain/roster.js';
import type { TeamService } from './domain/teams.js';
import type { WebhookService } from './webhooks/webhook-service.js';

/**
 * What the routes are given: the backends and the domain services built on them.
 * Built once in app.ts and passed to each route plugin as an option (no globals).
 */
export interface Services extends CoreDeps {
  teams: TeamService;
  roles: RoleService;
  rooms: RoomService;
  roster: RosterService;
  /** Per-room event fan-out to streams and panels, with a resume buffer. */
  feed: RoomFeed;
  webhooks: WebhookService;
}
