import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Transaction } from 'kysely';
import type { Database } from '../store/schema.js';
import type { Store } from '../store/store.js';
import { deleteTeam, deleteTeamHistoryStep, findTeamById, findTeamByKeyHash, insertTeam, listTeams, updateTeamKey, type TeamRow } from '../store/repos/teams.js';
import { BUILTIN_ROLES } from './permissions.js';
import type { Clock } from './clock.js';
import { sharedReads } from './shared-reads.js';

/** A team as the rest of roomline sees it. The developer key signs room tokens and webhooks. */
export interface Team {
  id: string;
  name: string;
  developerKey: string;
  createdAt: number;
}

export interface TeamCredentials {
  team_id: string;
  developer_key: string;
  name: string;
}

export function hashKey(developerKey: string): string {
  return createHash('sha256').update(developerKey, 'utf8').digest('hex');
}

/**
 * The digests of the keys requests came with lately: every API request hashes its credential,
 * and a bridge or dashboard sends the same one every time. Bounded; emptied when full.
 */
const recentDigests = new Map<string, string>();

function digestOf(developerKey: string): string {
  let digest = recentDigests.get(developerKey);
  if (digest === undefined) {
    digest = hashKey(developerKey);
    if (recentDigests.size >= 1000) recentDigests.clear();
    recentDigests.set(developerKey, digest);
  }
  return digest;
}

/** A new developer key: 40 random bytes, base64url (no ':' so Basic auth stays unambiguous). */
export function generateDeveloperKey(): string {
  return randomBytes(30).toString('base64url');
}

/** What a credential check reads of a team's row: none of it changes but through this service. */
type TeamCredentialRow = Pick<TeamRow, 'id' | 'name' | 'developer_key' | 'key_hash' | 'created_at'>;

function toTeam(row: TeamCredentialRow): Team {
  return { id: row.id, name: row.name, developerKey: row.developer_key, createdAt: row.created_at };
}

/**
 * The key hash of a team whose deletion has begun (never a SHA-256 in hex, so no key matches
 * it): an interrupted deletion is told from a team, and is finished rather than brought back by
 * the ROOMLINE_TEAM_ID bootstrap or a key rotation.
 */
const BEING_DELETED = 'being-deleted:';

function beingDeleted(team: TeamRow): boolean {
  return team.key_hash.startsWith(BEING_DELETED);
}

/** Rows of a team's history one step of its deletion takes (a few milliseconds' work), and the pause after each. */
const TEAM_DELETION_STEP_ROWS = 1000;
const TEAM_DELETION_PAUSE_MS = 10;

export interface TeamService {
  create(input: { name: string; id?: string; developerKey?: string }): Promise<TeamCredentials>;
  /** Makes sure the team exists with this key (idempotent): the ROOMLINE_TEAM_ID / ROOMLINE_DEVELOPER_KEY bootstrap. */
  ensure(input: { id: string; developerKey: string; name: string }): Promise<{ created: boolean }>;
  list(): Promise<Team[]>;
  rotateKey(teamId: string): Promise<TeamCredentials | undefined>;
  /**
   * Deletes the team with everything it owns, for good (repos/teams.ts deleteTeam); answers it,
   * or undefined when there is none. Its key fails at once, as after rotateKey.
   */
  remove(teamId: string): Promise<Team | undefined>;
  /** The team whose key this is, compared in constant time; undefined when none matches. */
  authenticateKey(developerKey: string): Promise<Team | undefined>;
  /** The team with this id, if the key is its key (constant-time comparison). */
  authenticateTeamKey(teamId: string, developerKey: string): Promise<Team | undefined>;
}

export function createTeamService(deps: { store: Store; clock: Clock }): TeamService {
  const { store, clock } = deps;
  // Every API request's first read: a burst with one credential shares it (sharedReads). A
  // credential check reads only what this service writes (the id, name and key of a team), so in
  // embedded mode its result is kept until this service writes or another process commits (the
  // CLI's `team` commands), not until any commit: a bridge's stream of changes no longer sends
  // each of its requests back to the table.
  let credentialsVersion = 0;
  let foreignSeen: number | undefined;
  function credentialsRead(): number | undefined {
    const foreign = store.foreignVersion();
    if (foreign === undefined) return undefined;
    if (foreign !== foreignSeen) {
      foreignSeen = foreign;
      credentialsVersion += 1;
    }
    return credentialsVersion;
  }
  async function writeTeams(work: (trx: Transaction<Database>) => Promise<unknown>): Promise<void> {
    try {
      await store.transaction(work);
    } finally {
      credentialsVersion += 1;
    }
  }
  const teamsByKeyHash = sharedReads<TeamCredentialRow | undefined>({ version: credentialsRead });
  const teamsById = sharedReads<TeamCredentialRow | undefined>({ version: credentialsRead });

  async function create(input: { name: string; id?: string; developerKey?: string }): Promise<TeamCredentials> {
    const id = input.id ?? randomUUID();
    const developerKey = input.developerKey ?? generateDeveloperKey();
    const now = clock.now();
    await writeTeams(async function createTeam(trx) {
      await insertTeam(trx, {
        id,
        name: input.name,
        developer_key: developerKey,
        key_hash: hashKey(developerKey),
        room_settings: '{}',
        created_at: now,
        updated_at: now,
      });
      for (const role of BUILTIN_ROLES) {
        await trx
          .insertInto('roles')
          .values({
            id: randomUUID(),
            team_id: id,
            name: role.name,
            display_name: role.display_name,
            description: role.description,
            is_builtin: 1,
            permissions: JSON.stringify(role.permissions),
            created_at: now,
            updated_at: now,
          })
          .execute();
      }
    });
    return { team_id: id, developer_key: developerKey, name: input.name };
  }

  async function ensure(input: { id: string; developerKey: string; name: string }): Promise<{ created: boolean }> {
    const existing = await findTeamById(store.db, input.id);
    // A deletion that was interrupted is finished first: the team is made again, empty.
    if (existing !== undefined && beingDeleted(existing)) await remove(input.id);
    if (existing === undefined || beingDeleted(existing)) {
      await create(input);
      return { created: true };
    }
    if (!sameSecret(existing.key_hash, hashKey(input.developerKey))) {
      await writeTeams((trx) => updateTeamKey(trx, input.id, input.developerKey, hashKey(input.developerKey), clock.now()));
    }
    return { created: false };
  }

  async function rotateKey(teamId: string): Promise<TeamCredentials | undefined> {
    const developerKey = generateDeveloperKey();
    const team = await findTeamById(store.db, teamId);
    if (team === undefined) return undefined;
    if (beingDeleted(team)) {
      throw new Error(`team ${teamId} is being deleted (an earlier \`team delete\` stopped before its end): run \`roomline team delete ${teamId} --yes\` again to finish it`);
    }
    await writeTeams((trx) => updateTeamKey(trx, teamId, developerKey, hashKey(developerKey), clock.now()));
    return { team_id: teamId, developer_key: developerKey, name: team.name };
  }

  async function remove(teamId: string): Promise<Team | undefined> {
    const team = await findTeamById(store.db, teamId);
    if (team === undefined) return undefined;
    // Its key stops working first, marked as being deleted (BEING_DELETED). Then its history goes a
    // step at a time, each in a transaction of its own: a serving server's writes (SQLite has one
    // writer) wait for one step, not for a history of millions of records. Interrupted, the team
    // is left without a working key, and the same command again (or, for the ROOMLINE_TEAM_ID
    // team, the next start) finishes the deletion.
    const retired = generateDeveloperKey();
    await writeTeams((trx) => updateTeamKey(trx, teamId, retired, `${BEING_DELETED}${randomUUID()}`, clock.now()));
    while ((await store.transaction((trx) => deleteTeamHistoryStep(trx, teamId, TEAM_DELETION_STEP_ROWS))) > 0) {
      // A pause between steps, for a serving server waiting for the lock to take it.
      await new Promise((resolve) => setTimeout(resolve, TEAM_DELETION_PAUSE_MS));
    }
    let deleted = false;
    await writeTeams(async (trx) => void (deleted = await deleteTeam(trx, teamId)));
    return deleted ? toTeam(team) : undefined;
  }

  async function authenticateKey(developerKey: string): Promise<Team | undefined> {
    const digest = digestOf(developerKey);
    const row = await teamsByKeyHash(digest, () => findTeamByKeyHash(store.db, digest));
    return row !== undefined && sameSecret(row.key_hash, digest) ? toTeam(row) : undefined;
  }

  async function authenticateTeamKey(teamId: string, developerKey: string): Promise<Team | undefined> {
    const id = teamId.toLowerCase();
    const row = await teamsById(id, () => findTeamById(store.db, id));
    // Hash even when the team is unknown, so a wrong team id costs the same time as a wrong key.
    const digest = digestOf(developerKey);
    if (row === undefined) return undefined;
    return sameSecret(row.key_hash, digest) ? toTeam(row) : undefined;
  }

  return {
    create,
    ensure,
    list: async () => (await listTeams(store.db)).map(toTeam),
    rotateKey,
    remove,
    authenticateKey,
    authenticateTeamKey,
  };
}

/** Constant-time equality of two hex digests. */
function sameSecret(a: string, b: string): boolean {
  const left = Buffer.from(a, 'hex');
  const right = Buffer.from(b, 'hex');
  return left.length === right.length && timingSafeEqual(left, right);
}
