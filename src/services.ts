import type { AttendanceService } from './domain/attendance.js';
import type { CoreDeps } from './domain/deps.js';
import type { ModerationService } from './domain/moderation.js';
import type { PresenceService } from './domain/presence.js';
import type { RoleService } from './domain/roles.js';
import type { RoomFeed } from './domain/room-feed.js';
import type { RoomService } from './domain/rooms.js';
import type { RosterService } from './domain/roster.js';
import type { SessionService } from './domain/sessions.js';
import type { UsageService } from './domain/usage.js';
import type { TeamService } from './domain/teams.js';
import type { RoomTokenService } from './domain/tokens.js';
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
  /** Sessions of the team's rooms: lists, statistics, ending one. */
  sessions: SessionService;
  /** Participation records, one participant's attendance, hands raised from the API. */
  attendance: AttendanceService;
  /** Usage figures of the team and its rooms. */
  usage: UsageService;
  /** Room tokens (JWTs) and who a room page link admits. */
  tokens: RoomTokenService;
  /** Web participants of room pages: joins, credentials, leases and the sweeper. */
  presence: PresenceService;
  /** What a participant may do from the room page, and doing it. */
  moderation: ModerationService;
}
