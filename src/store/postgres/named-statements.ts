import type { PostgresCursor, PostgresPool, PostgresPoolClient, PostgresQueryResult } from 'kysely';
import type pg from 'pg';

/** The most statements one pool names; any others run unnamed, as before (bounds each connection's server memory). */
const MAX_NAMED_STATEMENTS = 1_000;

/**
 * How long a connection keeps the plans of its statements. PostgreSQL makes a statement's kept
 * plan for the table as it is then, and replaces it only when the table is analyzed: one made
 * while a table was nearly empty (a sequential scan is then the cheapest look-up, even by a
 * unique key) would go on scanning the table as it grows, until autovacuum next analyzes it,
 * or for good where autovacuum is off. Dropped this often, a plan is made again for the table
 * as it has grown, and a stale one lasts seconds.
 */
export const PLAN_LIFETIME_MS = 10_000;

/**
 * SQLSTATEs after which a connection's named statement cannot be used again: one pg recorded
 * as prepared though the server closed it (26000), and one whose columns changed under it
 * (0A000: a column added to a table a `select *` reads). pg cannot forget such a name; the
 * connection is closed on release instead, and the pool opens a fresh one.
 */
const BROKEN_STATEMENT = new Set(['26000', '0A000']);

interface Connection {
  client: PostgresPoolClient;
  plansSince: number;
  broken: boolean;
}

/**
 * A pool whose connections send the statements `mayKeepPlan` accepts as named statements, so
 * PostgreSQL parses each once per connection and, after its first runs, keeps a plan for it.
 * pg sends every other statement unnamed: parsed and planned again on every run. On a
 * webhook's settle, planning took twice as long as running the statements (0.48 against
 * 0.24 ms). The same text always gets the same name, which pg needs: a connection refuses a
 * name it already prepared with another text. A connection whose statement failed without an
 * answer from the server is closed on release, whatever was named: it may still be running a
 * statement, or be gone.
 */
export function namedStatementPool(pool: pg.Pool, mayKeepPlan: (sql: string) => boolean, now: () => number = Date.now): PostgresPool {
  const names = new Map<string, string>();
  // Kysely keeps its connection object per client object: one wrapper per pg client, always the same.
  const connections = new WeakMap<pg.PoolClient, Connection>();

  function nameOf(sql: string): string | undefined {
    let name = names.get(sql);
    if (name === undefined && names.size < MAX_NAMED_STATEMENTS && mayKeepPlan(sql)) {
      name = `roomline_${names.size}`;
      names.set(sql, name);
    }
    return name;
  }

  function withNamedStatements(pgClient: pg.PoolClient): Connection {
    function query<R>(sql: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>>;
    function query<R>(cursor: PostgresCursor<R>): PostgresCursor<R>;
    function query<R>(sqlOrCursor: string | PostgresCursor<R>, parameters?: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>> | PostgresCursor<R> {
      if (typeof sqlOrCursor !== 'string') return pgClient.query(sqlOrCursor as unknown as pg.Submittable) as unknown as PostgresCursor<R>;
      // The transaction's ROLLBACK would otherwise wait out the same silence before its release.
      if (connection.broken) return Promise.reject(new Error('the PostgreSQL connection failed; it is closed on release'));
      // Kysely hands each query a fresh array of its own: passed on as it is.
      const values = (parameters ?? []) as unknown[];
      // Statements without values (BEGIN, COMMIT, SAVEPOINT) go as simple queries: nothing to plan.
      const name = values.length > 0 ? nameOf(sqlOrCursor) : undefined;
      const sent = name === undefined ? pgClient.query(sqlOrCursor, values) : pgClient.query({ name, text: sqlOrCursor, values });
      return sent.catch((error: unknown) => {
        // No SQLSTATE: no answer from the server (the connection was lost, or went silent past
        // pg's deadline), or a value pg could not send, which leaves a name recorded but not prepared.
        const code = (error as { code?: unknown }).code;
        if (typeof code !== 'string' || (name !== undefined && BROKEN_STATEMENT.has(code))) connection.broken = true;
        throw error;
      }) as unknown as Promise<PostgresQueryResult<R>>;
    }
    // pg-pool listens for a connection's errors only while it is idle. One lost while checked
    // out (during a statement, or between the statements of a transaction) would raise an
    // 'error' event nobody handles, which ends the process; its statements fail on their own.
    pgClient.on('error', () => {
      connection.broken = true;
    });
    const connection: Connection = {
      client: {
        query,
        release: (destroy?: boolean) => pgClient.release(destroy === true || connection.broken ? true : undefined),
      },
      plansSince: now(),
      broken: false,
    };
    return connection;
  }

  return {
    async connect() {
      const client = await pool.connect();
      let connection = connections.get(client);
      if (connection === undefined) {
        connection = withNamedStatements(client);
        connections.set(client, connection);
      } else if (names.size > 0 && now() - connection.plansSince >= PLAN_LIFETIME_MS) {
        // Keeps the statements (pg's record of them stays true) and drops their plans.
        try {
          await client.query('discard plans');
        } catch (error) {
          client.release(true);
          throw error;
        }
        connection.plansSince = now();
      }
      return connection.client;
    },
    end: () => pool.end(),
  };
}
