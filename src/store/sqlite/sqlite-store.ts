import fs from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect, type Transaction } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../schema.js';
import type { Store } from '../store.js';
import { migrateToLatest } from '../migrate.js';
import { withStatementCache } from './statement-cache.js';

export interface SqliteStoreOptions {
  /** Folder of the database file; ':memory:' keeps everything in memory (tests of the store alone). */
  dataDir: string;
  synchronous: 'NORMAL' | 'FULL';
}

/** The embedded store: one SQLite file in WAL mode, foreign keys on, migrated at open. */
export async function openSqliteStore(options: SqliteStoreOptions, logger: Logger): Promise<Store> {
  const file = options.dataDir === ':memory:' ? ':memory:' : path.join(options.dataDir, 'roomline.db');
  if (file !== ':memory:') fs.mkdirSync(options.dataDir, { recursive: true });

  const sqlite = new BetterSqlite3(file);
  sqlite.pragma('journal_mode = WAL');
  // NORMAL in WAL mode: a commit is in the OS before the answer, so it survives kill -9;
  // FULL also fsyncs every commit, for power loss.
  sqlite.pragma(`synchronous = ${options.synchronous}`);
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');

  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
  const applied = await migrateToLatest(db);
  if (applied.length > 0) logger.info({ migrations: applied }, 'store migrated');

  return {
    kind: 'sqlite',
    db,
    transaction<T>(work: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
      return db.transaction().execute(work);
    },
    async ping() {
      sqlite.prepare('select 1').get();
    },
    async close() {
      await db.destroy();
    },
    describe() {
      return `sqlite at ${file}`;
    },
  };
}
