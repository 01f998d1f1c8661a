import type { Kysely, Transaction } from 'kysely';
import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import type { Database } from './schema.js';
import type { LeasedDelivery, SettledAttempt } from './repos/webhooks.js';
import { openSqliteStore } from './sqlite/sqlite-store.js';

export interface TransactionOptions {
  lane?: string;
}

/** Something queries run on: the database itself, or a transaction a caller passed in. */
export type Executor = Kysely<Database> | Transaction<Database>;

/**
 * Where roomline keeps its state. Every query is written once with Kysely against `db`;
 * an implementation only says how to connect, migrate and close. Embedded mode uses
 * SQLite (sqlite/), cluster mode PostgreSQL (postgres/).
 */
export interface Store {
  readonly kind: 'sqlite' | 'postgres';
  /**
   * For reads outside a transaction: they see the last commit. Every write goes through
   * `transaction` (in embedded mode this is a read-only connection).
   */
  readonly db: Kysely<Database>;
  /**
   * Runs `work` in one transaction: everything it writes commits together, or nothing does.
   * `lane` names the row the work locks first (a room's, for its roster changes): work of one
   * lane runs one at a time anyway, so what arrives while the lane is busy is committed
   * together with it, each in a savepoint (store/group-commit.ts). Embedded mode has one lane
   * for everything, its one writer.
   */
  transaction<T>(work: (trx: Transaction<Database>) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /**
   * Runs `work` in a read-only transaction that sees one commit throughout, however long it
   * takes and whatever is committed meanwhile (`roomline copy` reads a serving store with it).
   */
  snapshot<T>(work: (trx: Transaction<Database>) => Promise<T>): Promise<T>;
  /**
   * Records a webhook delivery's attempt; when it settled (delivered, or given up), moves its
   * webhook's head on and leases the webhook's next delivery if that is due, answering it with
   * its target. One transaction (repos/webhooks.ts); in cluster mode one statement, as every
   * round trip to the database is paid per delivery.
   */
  settleDelivery(attempt: SettledAttempt): Promise<LeasedDelivery | undefined>;
  /**
   * A number that moves whenever a commit may have changed what `db` reads, on any connection
   * or process; cheap to read. Undefined where the backend has no such number (PostgreSQL):
   * there, nothing may keep a read for being unchanged.
   */
  dataVersion(): number | undefined;
  /**
   * A number that moves whenever another process commits to the database (the CLI's `team`
   * commands), and not with this process's own commits; cheap to read. Undefined where the
   * backend has no such number (PostgreSQL).
   */
  foreignVersion(): number | undefined;
  /** Resolves when the database answers a trivial query (readiness). */
  ping(): Promise<void>;
  /**
   * The node's database connections now: open, idle, and requests waiting for one. Undefined
   * where there is no pool (SQLite: one writer and one reader, always open).
   */
  connections(): { open: number; idle: number; waiting: number } | undefined;
  close(): Promise<void>;
  /** One line for the start-up log, e.g. "sqlite at ./data/roomline.db". */
  describe(): string;
}

/** The one place the backend is chosen: PostgreSQL when DATABASE_URL is set, SQLite otherwise. */
export function createStore(config: Config, logger: Logger): Promise<Store> {
  return openStoreAt(config.databaseUrl ?? config.dataDir, config, logger);
}

/** Whether a store's location names a PostgreSQL database (otherwise it is a data folder). */
export function isPostgresLocation(location: string): boolean {
  return /^postgres(ql)?:\/\//i.test(location);
}

export interface OpenOptions {
  /** Bring the schema up to date (the default). PostgreSQL only: a SQLite file is always migrated. */
  migrate?: boolean;
  /** What the location was given as, for messages (DATABASE_URL, --from, --to). */
  setting?: string;
  /** PostgreSQL only: the pool's size (10 by default). */
  maxConnections?: number;
}

/**
 * Opens the store at `location`: a postgres:// URL, or the folder of an embedded SQLite file,
 * with the rest of `config`'s settings for that backend. `roomline copy` opens two this way.
 */
export async function openStoreAt(location: string, config: Config, logger: Logger, options: OpenOptions = {}): Promise<Store> {
  if (isPostgresLocation(location)) {
    const { openPostgresStore } = await import('./postgres/postgres-store.js');
    return openPostgresStore(
      {
        databaseUrl: location,
        preparedStatements: config.postgresPreparedStatements,
        statementTimeoutMs: config.postgresStatementTimeoutMs,
        connectTimeoutMs: config.postgresConnectTimeoutMs,
        ...options,
      },
      logger,
    );
  }
  return openSqliteStore({ dataDir: location, synchronous: config.sqliteSynchronous }, logger);
}
