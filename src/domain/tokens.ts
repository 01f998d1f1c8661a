import { decodeJwt, errors, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import { notFound, validationError, type FieldErrors } from '../api/errors.js';
import { findRole } from '../store/repos/roles.js';
import { findRoomByLink } from '../store/repos/room-page.js';
import { findRoom, roomRoleIds, type RoomRow } from '../store/repos/rooms.js';
import { findTeamById } from '../store/repos/teams.js';
import type { Executor } from '../store/store.js';
import type { CoreDeps } from './deps.js';
import { fromColumns } from './room-settings.js';

/**
 * Room tokens: the DS JWTs (HS256, signed with the team's developer key) that let someone into
 * a room, as POST /rooms/{room}/token issues them and as a team may also sign them itself.
 * Also who a room page link admits: a public room anyone, a private room only with a token.
 */

/** What POST /rooms/{room}/token accepts (the DS field names); null means not given. */
export interface RoomTokenRequest {
  ud?: string | null;
  u?: string | null;
  initials?: string | null;
  role?: string | null;
  breakoutId?: string | null;
  avatar?: string | null;
  /** A unix timestamp or a date-time string. */
  nbf?: number | string | null;
  /** A unix timestamp, minutes from now, or a date-time string. */
  exp?: number | string | null;
}

/** A room token's claims, as DS defines them (times in unix seconds). */
export interface RoomTokenClaims {
  td: string;
  rd: string;
  ud?: string;
  u?: string;
  role?: string;
  initials?: string;
  avatar?: string;
  breakoutId?: string;
  iat?: number;
  nbf?: number;
  exp?: number;
}

/** Why a token does not let its bearer in. */
export type TokenRefusal = 'malformed' | 'bad_signature' | 'expired' | 'not_yet_valid' | 'other_room' | 'unknown_role';

/** Who a valid token (or a public room's link) lets in: its name and external id if it gives them, and a role of the room. */
export interface Invitation {
  name: string | null;
  externalId: string | null;
  roleId: string;
}

/** What a room page link leads to. */
export type RoomEntry =
  | { kind: 'no_room' }
  | { kind: 'invitation_needed'; room: RoomRow }
  | { kind: 'refused'; room: RoomRow; refusal: TokenRefusal }
  | { kind: 'admitted'; room: RoomRow; invitation: Invitation };

export interface RoomTokenService {
  /** Signs a token for the team's room (404 when there is none; 422 for a bad field). */
  issue(teamId: string, roomRef: string, request: RoomTokenRequest): Promise<{ token: string; room: RoomRow }>;
  /** Where the page link `/{ref}` (a room id or friendly_url) with this token leads. */
  enter(ref: string, token: string | undefined): Promise<RoomEntry>;
}

/** Below this, a numeric `exp` counts minutes from now; from it on, a unix timestamp (1e9 s is 2001-09-09). */
const MINUTES_BELOW = 1_000_000_000;
/** Clocks of a token's issuer and of roomline may differ a little. */
const CLOCK_TOLERANCE_SECONDS = 10;
const CLAIM_TEXT_FIELDS = ['ud', 'u', 'role', 'initials', 'avatar', 'breakoutId'] as const;

export function createRoomTokenService(deps: CoreDeps): RoomTokenService {
  const { store, clock } = deps;

  async function issue(teamId: string, roomRef: string, request: RoomTokenRequest): Promise<{ token: string; room: RoomRow }> {
    const room = await findRoom(store.db, teamId, roomRef);
    const team = await findTeamById(store.db, teamId);
    if (room === undefined || team === undefined) throw notFound();
    const now = clock.now();
    const problems: FieldErrors = {};
    const nbf = tokenTime('nbf', request.nbf, now, false, problems);
    const exp = tokenTime('exp', request.exp, now, true, problems);
    if (exp !== undefined && exp * 1000 <= now) problems.exp ??= ['The exp field must be a time in the future.'];
    if (nbf !== undefined && exp !== undefined && nbf >= exp) problems.nbf ??= ['The nbf field must be a time before exp.'];
    if (present(request.role) && (await roomRoleId(store.db, room, request.role)) === undefined) problems.role = ['The selected role is invalid.'];
    if (present(request.breakoutId) && !fromColumns(room).breakouts.some((breakout) => breakout.id === request.breakoutId)) {
      problems.breakoutId = ['The selected breakoutId is invalid.'];
    }
    if (Object.keys(problems).length > 0) throw validationError(problems);

    // The DS claim order: who, where, then times.
    const claims: Record<string, string | number> = {};
    if (present(request.ud)) claims.ud = request.ud;
    if (present(request.u)) claims.u = request.u;
    claims.rd = room.id;
    claims.td = room.team_id;
    for (const name of ['role', 'initials', 'avatar', 'breakoutId'] as const) {
      const value = request[name];
      if (present(value)) claims[name] = value;
    }
    claims.iat = Math.floor(now / 1000);
    if (nbf !== undefined) claims.nbf = nbf;
    if (exp !== undefined) claims.exp = exp;
    const token = await new SignJWT(claims).setProtectedHeader({ typ: 'JWT', alg: 'HS256' }).sign(secretOf(team.developer_key));
    return { token, room };
  }

  /** Checks a token against the room it is used for: its team's signature, this room, its time window, a role of the room. */
  async function check(room: RoomRow, token: string): Promise<{ invitation: Invitation } | { refusal: TokenRefusal }> {
    const team = await findTeamById(store.db, room.team_id);
    if (team === undefined) return { refusal: 'other_room' };
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, secretOf(team.developer_key), {
        algorithms: ['HS256'],
        currentDate: new Date(clock.now()),
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
      }));
    } catch (error) {
      return { refusal: refusalOf(error) };
    }
    const claims = readClaims(payload);
    if (claims === undefined) return { refusal: 'malformed' };
    if (claims.td !== room.team_id || claims.rd !== room.id) return { refusal: 'other_room' };
    const roleId = claims.role === undefined ? room.default_role_id : await roomRoleId(store.db, room, claims.role);
    if (roleId === undefined) return { refusal: 'unknown_role' };
    return { invitation: { name: claims.u ?? null, externalId: claims.ud ?? null, roleId } };
  }

  async function enter(ref: string, token: string | undefined): Promise<RoomEntry> {
    // A token names its team (checked below, with that team's key); without one, the link's own room.
    const room = await findRoomByLink(store.db, ref, token === undefined ? undefined : unverifiedTeamId(token));
    if (room === undefined) return { kind: 'no_room' };
    if (token === undefined) {
      if (room.privacy === 'private') return { kind: 'invitation_needed', room };
      return { kind: 'admitted', room, invitation: { name: null, externalId: null, roleId: room.default_role_id } };
    }
    const checked = await check(room, token);
    return 'refusal' in checked ? { kind: 'refused', room, refusal: checked.refusal } : { kind: 'admitted', room, invitation: checked.invitation };
  }

  return { issue, enter };
}

function secretOf(developerKey: string): Uint8Array {
  return new TextEncoder().encode(developerKey);
}

function present(value: string | null | undefined): value is string {
  return value !== undefined && value !== null && value !== '';
}

/** The room's role named by id or name; undefined when the room does not offer it. */
async function roomRoleId(db: Executor, room: RoomRow, ref: string): Promise<string | undefined> {
  const role = await findRole(db, room.team_id, ref);
  if (role === undefined) return undefined;
  const offered = (await roomRoleIds(db, [room.id])).get(room.id) ?? [];
  return offered.includes(role.id) || role.id === room.default_role_id ? role.id : undefined;
}

function refusalOf(error: unknown): TokenRefusal {
  if (error instanceof errors.JWTExpired) return 'expired';
  if (error instanceof errors.JWTClaimValidationFailed && error.claim === 'nbf') return 'not_yet_valid';
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'bad_signature';
  return 'malformed';
}

/** The claims roomline reads, when each has the type DS gives it; undefined otherwise. */
function readClaims(payload: JWTPayload): RoomTokenClaims | undefined {
  const record = payload as Record<string, unknown>;
  if (typeof record.td !== 'string' || typeof record.rd !== 'string') return undefined;
  const claims: RoomTokenClaims = { td: record.td.toLowerCase(), rd: record.rd.toLowerCase() };
  for (const name of CLAIM_TEXT_FIELDS) {
    const value = record[name];
    if (value === undefined || value === null || value === '') continue;
    // Text with a NUL cannot be stored (PostgreSQL refuses it): such a token is not valid.
    if (typeof value !== 'string' || value.includes('\0')) return undefined;
    claims[name] = value;
  }
  return claims;
}

/** The team a token claims to be for, read without checking it (the signature check follows). */
function unverifiedTeamId(token: string): string | undefined {
  try {
    const td = decodeJwt(token).td;
    return typeof td === 'string' ? td.toLowerCase() : undefined;
  } catch {
    return undefined;
  }
}

const DATE_TIME = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)(Z|[+-]\d{2}:?\d{2})?$/;

/**
 * A token time in unix seconds: a unix timestamp, a date-time string (UTC unless it names an
 * offset) or, for `exp`, minutes from now. Records a problem and answers undefined when the
 * value is none of these.
 */
function tokenTime(field: 'nbf' | 'exp', value: number | string | null | undefined, now: number, minutesAllowed: boolean, problems: FieldErrors): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const number = typeof value === 'number' ? value : /^\d{1,12}$/.test(value.trim()) ? Number(value.trim()) : undefined;
  if (number !== undefined) {
    if (minutesAllowed && number < MINUTES_BELOW) return Math.floor(now / 1000) + number * 60;
    return number;
  }
  const match = DATE_TIME.exec(String(value).trim());
  const time = match === null ? Number.NaN : Date.parse(`${match[1]}T${match[2]}${match[3] ?? 'Z'}`);
  if (Number.isNaN(time)) {
    const accepted = minutesAllowed ? 'a unix timestamp, a number of minutes or a date-time' : 'a unix timestamp or a date-time';
    problems[field] = [`The ${field} field must be ${accepted}.`];
    return undefined;
  }
  return Math.floor(time / 1000);
}

