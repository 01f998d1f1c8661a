import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Team, TeamService } from '../domain/teams.js';
import { ApiError, sendError } from './errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated caller's team; set on every /api/v1 route. */
    team: Team;
  }
}

const UUID_COLON = /^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}):(.+)$/s;

/**
 * The three ways a DS client authenticates, all accepted:
 * - `Authorization: Bearer <developer_key>` (the DS default);
 * - HTTP Basic `team_id:developer_key` (what `curl --user` sends);
 * - `Authorization: Bearer base64(team_id:developer_key)` (the DS Java sample).
 */
export async function resolveTeam(teams: TeamService, authorization: string | undefined): Promise<Team | undefined> {
  if (authorization === undefined) return undefined;
  const match = /^(Bearer|Basic)\s+(\S+)\s*$/i.exec(authorization);
  if (match === null) return undefined;
  const scheme = match[1]!.toLowerCase();
  const credential = match[2]!;

  const pair = UUID_COLON.exec(decodeBase64(credential) ?? '');
  if (pair !== null) {
    const team = await teams.authenticateTeamKey(pair[1]!, pair[2]!);
    if (team !== undefined || scheme === 'basic') return team;
  } else if (scheme === 'basic') {
    return undefined;
  }
  return teams.authenticateKey(credential);
}

function decodeBase64(value: string): string | undefined {
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(value)) return undefined;
  return Buffer.from(value, 'base64').toString('utf8');
}

/** An onRequest hook: answers 401 in the DS shape unless the caller authenticates. */
export function authenticateRequests(teams: TeamService) {
  return async function authenticate(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
    const team = await resolveTeam(teams, request.headers.authorization);
    if (team === undefined) return sendError(reply, new ApiError('unauthenticated'));
    request.team = team;
    return undefined;
  };
}
