import { Kysely, PostgresDialect, type Transaction } from 'kysely';
import pg from 'pg';
import type { Logger } from 'pino';
import { withoutPassword } from '../../config/config.js';
import type { Database } from '../schema.js';
import type { Store, TransactionOptions } from '../store.js';
import { createGroupCommit } from '../group-commit.js';
import { migrateToLatest } from '../migrate.js';
import { planMayBeKept } from '../repos/prepared.js';
import { namedStatementPool } from './named-statements.js';
import { settleDeliveriesTogether } from './settle-delivery.js';

// bigint columns hold epoch milliseconds and counters, all well inside Number's exact range:
// read them as numbers so rows look the same as SQLite's.
const INT8_OID = 20;
pg.types.setTypeParser(INT8_OID, (value: string) => Number(value));

export interface PostgresStoreOptions {
  databaseUrl: string;
  /** Key look-ups as named statements, planned once per connection (namedStatementPool). */
  preparedStatements: boolean;
  /** The longest a statement may run before PostgreSQL cancels it; 0 for no limit. */
  statementTimeoutMs?: number;
  /** The longest opening a connection, or waiting for a free one, may take. */
  connectTimeoutMs?: number;
  /** Bring the schema up to date at open (the default); `roomline copy` reads a source as it is. */
  migrate?: boolean;
  /** What the URL was given as, for messages: DATABASE_URL, or a flag of `roomline copy`. */
  setting?: string;
  /** The pool's size: 10 by default; the history reads' thread keeps a small one of its own. */
  maxConnections?: number;
}

/**
 * A transaction left open this long without a statement belongs to a node that hung or lost
 * its network: PostgreSQL ends it, and the room locks it held go to the other nodes.
 */
const IDLE_IN_TRANSACTION_TIMEOUT_MS = 60_000;

/** Idle connections are probed from this long on, so one a failover or a firewall dropped is noticed. */
const KEEPALIVE_DELAY_MS = 10_000;

/** The cluster store: PostgreSQL through a pg pool, migrated at open. */
export async function openPostgresStore(options: PostgresStoreOptions, logger: Logger): Promise<Store> {
  const { databaseUrl, statementTimeoutMs = 30_000, connectTimeoutMs = 10_000, setting = 'DATABASE_URL' } = options;
  if (options.migrate ?? true) await migrate(databaseUrl, connectTimeoutMs, setting, logger);

  // Set on each connection as it opens, rather than as startup parameters, which poolers such as
  // PgBouncer refuse. A connection that refuses them is closed and its request fails.
  const sessionSettings = `set statement_timeout = ${statementTimeoutMs}; set idle_in_transaction_session_timeout = ${IDLE_IN_TRANSACTION_TIMEOUT_MS}`;
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: options.maxConnections ?? 10,
    connectionTimeoutMillis: connectTimeoutMs,
    keepAlive: true,
    keepAliveInitialDelayMillis: KEEPALIVE_DELAY_MS,
    // PostgreSQL cancels a slow statement itself, and the connection stays usable. An answer
    // that has not come by twice that never will (a network gone silent): pg fails the
    // statement, and namedStatementPool closes the connection.
    ...(statementTimeoutMs > 0 ? { query_timeout: 2 * statementTimeoutMs } : {}),
    onConnect: async (client) => void (await client.query(sessionSettings)),
  });
  // An idle connection the server dropped (a restart, a failover, an administrator) is
  // reported here; the pool replaces it. Unhandled, the event would end the process.
  pool.on('error', (error) => logger.warn({ err: error }, 'a PostgreSQL connection was lost; the pool replaces it'));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: namedStatementPool(pool, options.preparedStatements ? planMayBeKept : () => false) }) });
  const target = new URL(databaseUrl);
  const groupCommit = createGroupCommit(db);
  function transaction<T>(work: (trx: Transaction<Database>) => Promise<T>, options?: TransactionOptions): Promise<T> {
    // Without a lane, transactions run side by side on the pool.
    return options?.lane === undefined ? db.transaction().execute(work) : groupCommit(options.lane, work);
  }

  return {
    kind: 'postgres',
    db,
    transaction,
    snapshot: (work) => db.transaction().setIsolationLevel('repeatable read').setAccessMode('read only').execute(work),
    settleDelivery: settleDeliveriesTogether(db, { transaction }),
    // PostgreSQL has no cheap, exact "nothing was committed since" number for a reader.
    dataVersion: () => undefined,
    foreignVersion: () => undefined,
    async ping() {
      await pool.query('select 1');
    },
    connections: () => ({ open: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    async close() {
      await db.destroy();
    },
    describe() {
      // Never the password: the log line names host and database only.
      return `postgres at ${target.hostname}:${target.port || '5432'}${target.pathname}`;
    },
  };
}

/**
 * Brings the schema up to date on a connection of its own, without the statement timeout: a
 * migration of a large table may rightly take longer than any request should.
 */
async function migrate(databaseUrl: string, connectTimeoutMs: number, setting: string, logger: Logger): Promise<void> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 1, connectionTimeoutMillis: connectTimeoutMs });
  pool.on('error', (error) => logger.warn({ err: error }, 'the migrations lost their PostgreSQL connection'));
  // Wrapped as the others are, for its handling of a connection lost while in use; it names nothing.
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: namedStatementPool(pool, () => false) }) });
  try {
    // The first connection: one that fails says which setting to look at.
    await pool.query('select 1').catch((error: unknown) => {
      throw new Error(`${setting}: cannot connect to PostgreSQL at ${withoutPassword(databaseUrl)}: ${(error as Error).message}`, { cause: error });
    });
    const applied = await migrateToLatest(db);
    if (applied.length > 0) logger.info({ migrations: applied }, 'store migrated');
  } finally {
    await db.destroy();
  }
}
