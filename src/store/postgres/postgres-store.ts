import { Kysely, PostgresDialect, type Transaction } from 'kysely';
import pg from 'pg';
import type { Logger } from 'pino';
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
}

/** The cluster store: PostgreSQL through a pg pool, migrated at open. */
export async function openPostgresStore(options: PostgresStoreOptions, logger: Logger): Promise<Store> {
  const { databaseUrl } = options;
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 10 });
  // An idle connection the server dropped (a restart, a failover, an administrator) is
  // reported here; the pool replaces it. Unhandled, the event would end the process.
  pool.on('error', (error) => logger.warn({ err: error }, 'a PostgreSQL connection was lost; the pool replaces it'));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: options.preparedStatements ? namedStatementPool(pool, planMayBeKept) : pool }) });
  const applied = await migrateToLatest(db);
  if (applied.length > 0) logger.info({ migrations: applied }, 'store migrated');
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
    settleDelivery: settleDeliveriesTogether(db, { transaction }),
    // PostgreSQL has no cheap, exact "nothing was committed since" number for a reader.
    dataVersion: () => undefined,
    async ping() {
      await pool.query('select 1');
    },
    async close() {
      await db.destroy();
    },
    describe() {
      // Never the password: the log line names host and database only.
      return `postgres at ${target.hostname}:${target.port || '5432'}${target.pathname}`;
    },
  };
}
