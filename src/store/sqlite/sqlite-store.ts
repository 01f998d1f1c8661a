import fs from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect, type SqliteDatabase } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../schema.js';
import type { Store } from '../store.js';
import { migrateToLatest } from '../migrate.js';
import { startCheckpointer } from './checkpointer.js';
import { createGroupCommit } from '../group-commit.js';
import { settleInTransaction } from '../repos/webhooks.js';
import { withStatementCache } from './statement-cache.js';

/** How often the WAL is copied back into the database file. */
const CHECKPOINT_EVERY_MS = 200;
/** The WAL file's size once it starts over (journal_size_limit): what a steady load needs, not what its largest burst did. */
export const WAL_SIZE_LIMIT_BYTES = 16 * 1024 * 1024;

export interface SqliteStoreOptions {
  /** Folder of the database file; ':memory:' keeps everything in memory (tests of the store alone). */
  dataDir: string;
  synchronous: 'NORMAL' | 'FULL';
}

/**
 * The embedded store: one SQLite file in WAL mode, foreign keys on, migrated at open. Two
 * connections: the writer runs every transaction (one at a time, group-committed), and a
 * read-only connection serves the reads made outside a transaction. WAL lets that reader see
 * the last commit while the writer works, so a request's lookups never queue behind other
 * requests' changes; and since they don't, changes arrive together and share their COMMIT.
 */
export async function openSqliteStore(options: SqliteStoreOptions, logger: Logger): Promise<Store> {
  const file = options.dataDir === ':memory:' ? ':memory:' : path.join(options.dataDir, 'roomline.db');
  if (file !== ':memory:') fs.mkdirSync(options.dataDir, { recursive: true });

  const writer = new BetterSqlite3(file);
  writer.pragma('journal_mode = WAL');
  // NORMAL in WAL mode: a commit is in the OS before the answer, so it survives kill -9;
  // FULL also fsyncs every commit, for power loss.
  writer.pragma(`synchronous = ${options.synchronous}`);
  writer.pragma('foreign_keys = ON');
  // Migrations wait for another process's write lock inside SQLite; nothing else runs yet.
  writer.pragma('busy_timeout = 5000');

  const writeDb = new Kysely<Database>({ dialect: new SqliteDialect({ database: beginningImmediately(withStatementCache(writer)) }) });
  const applied = await migrateToLatest(writeDb);
  if (applied.length > 0) logger.info({ migrations: applied }, 'store migrated');
  // From here on, no wait inside SQLite, which would hold the event loop: a transaction begins by
  // taking the write lock (BEGIN IMMEDIATE), and one that finds another process (the CLI) holding
  // it is begun again a moment later by the group commit, while the loop goes on.
  writer.pragma('busy_timeout = 0');

  // A second connection to ':memory:' would be another, empty database: there, one serves all.
  const reader = file === ':memory:' ? undefined : new BetterSqlite3(file, { readonly: true });
  reader?.pragma('busy_timeout = 5000');
  const readDb = reader === undefined ? writeDb : new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(reader) }) });

  // Checkpoints run on their own thread; the writer's own limit (about 40 MB) is the backstop.
  const checkpointer = file === ':memory:' ? undefined : startCheckpointer(file, CHECKPOINT_EVERY_MS, (error) => logger.warn({ error }, 'WAL checkpoint failed'));
  if (checkpointer !== undefined) writer.pragma('wal_autocheckpoint = 10000');
  // A burst can grow the WAL to the backstop; once it is copied back and starts over, the file
  // is cut back to this, rather than keeping its largest size for good.
  writer.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT_BYTES}`);

  // SQLite's data version moves on the reading connection whenever another connection (the
  // writer, or another process on the same file) commits. With one connection there is no
  // other: it would never move.
  const dataVersion = reader?.prepare('pragma data_version').pluck();
  // On the writer, the same number moves only with other connections' commits: the writer is
  // this process's one writing connection, so those are other processes'.
  const foreignVersion = reader === undefined ? undefined : writer.prepare('pragma data_version').pluck();

  const groupCommit = createGroupCommit(writeDb, { lockedByAnother: (error) => (error as { code?: unknown }).code === 'SQLITE_BUSY' });
  // One writer: every transaction is in the same lane.
  const transaction: Store['transaction'] = (work) => groupCommit('writer', work);
  return {
    kind: 'sqlite',
    db: readDb,
    transaction,
    // A read transaction on the reading connection: WAL keeps its view of the file as it was
    // when it began, while the writer goes on committing.
    snapshot: (work) => readDb.transaction().execute(work),
    // Each statement is a call into SQLite: the settle's transaction costs no round trips.
    settleDelivery: (attempt) => settleInTransaction({ transaction }, attempt),
    dataVersion: () => (dataVersion === undefined ? undefined : (dataVersion.get() as number)),
    foreignVersion: () => (foreignVersion === undefined ? undefined : (foreignVersion.get() as number)),
    async ping() {
      writer.prepare('select 1').get();
    },
    connections: () => undefined,
    async close() {
      await checkpointer?.stop();
      if (readDb !== writeDb) await readDb.destroy();
      await writeDb.destroy();
    },
    describe() {
      return `sqlite at ${file}`;
    },
  };
}

/**
 * A read-only connection to the embedded database in `dataDir`, for a thread of its own (the
 * history reads): WAL lets it read the last commit while this process's writer works. Nothing is
 * migrated or written; the serving store has already brought the file up to date.
 */
export function openSqliteReader(dataDir: string): Pick<Store, 'db' | 'snapshot' | 'close'> {
  const reader = new BetterSqlite3(path.join(dataDir, 'roomline.db'), { readonly: true, fileMustExist: true });
  reader.pragma('busy_timeout = 5000');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(reader) }) });
  return { db, snapshot: (work) => db.transaction().execute(work), close: () => db.destroy() };
}

/**
 * The writer's transactions take SQLite's write lock as they begin (BEGIN IMMEDIATE), not at
 * their first write. Another process may hold it (the CLI's `team` commands): a transaction that
 * has read and then asks for it cannot wait, as its reads may be stale once the other commits
 * (SQLITE_BUSY at once, a 503), while one that asks first can (the group commit begins it again).
 * In this process there is no other writer, so it costs nothing.
 */
function beginningImmediately(database: SqliteDatabase): SqliteDatabase {
  return {
    close: () => database.close(),
    prepare: (sql) => database.prepare(sql === 'begin' ? 'begin immediate' : sql),
  };
}

/**
 * Writes a copy of the embedded database in `dataDir` to `intoFile`, as of one commit, without
 * writing to it (SQLite's VACUUM INTO, on a read-only connection): a server may go on serving
 * it, and its WAL is held back only for the second or two this takes.
 */
export function snapshotDatabaseFile(dataDir: string, intoFile: string): void {
  const source = new BetterSqlite3(path.join(dataDir, 'roomline.db'), { readonly: true, fileMustExist: true });
  try {
    source.pragma('busy_timeout = 5000');
    source.prepare('vacuum into ?').run(intoFile);
  } finally {
    source.close();
  }
}
