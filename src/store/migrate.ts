import { Migrator, sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import type { Database } from './schema.js';
import * as initial from './migrations/001_initial.js';
import * as liveSessions from './migrations/003_live_sessions.js';
import * as webhooks from './migrations/004_webhooks.js';
import * as sessionHistory from './migrations/005_session_history.js';
import * as webPresence from './migrations/006_web_presence.js';
import * as listOrder from './migrations/007_list_order.js';
import * as deliveryIndexes from './migrations/008_delivery_indexes.js';
import * as timedRooms from './migrations/009_timed_rooms.js';
import * as webhookCounters from './migrations/010_webhook_counters.js';
import * as callRecords from './migrations/011_call_records.js';
import * as roomLinks from './migrations/012_room_links.js';
import * as pendingAnonymisation from './migrations/013_pending_anonymisation.js';

/**
 * The migrations, in order. Listed here rather than read from a folder so the compiled
 * package carries them and both dialects apply exactly the same list.
 */
const MIGRATIONS: Record<string, Migration> = {
  '001_initial': initial,
  '003_live_sessions': liveSessions,
  '004_webhooks': webhooks,
  '005_session_history': sessionHistory,
  '006_web_presence': webPresence,
  '007_list_order': listOrder,
  '008_delivery_indexes': deliveryIndexes,
  '009_timed_rooms': timedRooms,
  '010_webhook_counters': webhookCounters,
  '011_call_records': callRecords,
  '012_room_links': roomLinks,
  '013_pending_anonymisation': pendingAnonymisation,
};

class StaticMigrationProvider implements MigrationProvider {
  async getMigrations(): Promise<Record<string, Migration>> {
    return MIGRATIONS;
  }
}

/**
 * Brings the schema up to date, or up to the migration named `through` (tests of a migration
 * start from the schema before it); throws with the failing migration's name and cause.
 */
export async function migrateToLatest(db: Kysely<Database>, through?: string): Promise<string[]> {
  const migrator = new Migrator({ db, provider: new StaticMigrationProvider() });
  const { error, results } = through === undefined ? await migrator.migrateToLatest() : await migrator.migrateTo(through);
  if (error !== undefined) {
    const failed = results?.find((result) => result.status === 'Error');
    if (failed !== undefined) throw new Error(`migration ${failed.migrationName} failed: ${String(error)}`, { cause: error });
    // Kysely's words for a database a newer roomline migrated: a migration it ran is not in this list.
    const newer = /previously executed migration (\S+) is missing/.exec(String(error))?.[1];
    if (newer !== undefined) {
      throw new Error(`the database was migrated by a newer roomline (it has migration ${newer}, which this version does not know): run that version or a later one`, { cause: error });
    }
    throw new Error(`the database could not be read to migrate it: ${String(error)}`, { cause: error });
  }
  return (results ?? []).filter((result) => result.status === 'Success').map((result) => result.migrationName);
}

/**
 * How a database's schema stands against this version's, without changing it: the migrations it
 * lacks (an older roomline's) and those it has that this version does not know (a newer one's).
 * Undefined when it holds no roomline schema at all.
 */
export async function migrationState(db: Kysely<Database>): Promise<{ missing: string[]; unknown: string[] } | undefined> {
  let applied: string[];
  try {
    applied = (await sql<{ name: string }>`select name from kysely_migration`.execute(db)).rows.map((row) => row.name);
  } catch {
    return undefined;
  }
  const known = Object.keys(MIGRATIONS);
  return { missing: known.filter((name) => !applied.includes(name)), unknown: applied.filter((name) => !known.includes(name)) };
}
