import type BetterSqlite3 from 'better-sqlite3';
import type { SqliteDatabase, SqliteStatement } from 'kysely';

/**
 * better-sqlite3 behind Kysely, with prepared statements kept and reused: Kysely prepares
 * every query it runs, and compiling the SQL each time cost as much as running it. The
 * cache is bounded (least recently used out), since IN lists make many distinct texts.
 */
export function withStatementCache(database: BetterSqlite3.Database, capacity = 500): SqliteDatabase {
  const statements = new Map<string, SqliteStatement>();
  return {
    close: () => database.close(),
    prepare(sql: string): SqliteStatement {
      let statement = statements.get(sql);
      if (statement !== undefined) {
        // Re-inserted so the Map's order is least-recently-used first.
        statements.delete(sql);
      } else {
        const prepared = database.prepare(sql);
        statement = prepared.reader ? rowsBuiltHere(prepared) : (prepared as unknown as SqliteStatement);
        if (statements.size >= capacity) statements.delete(statements.keys().next().value as string);
      }
      statements.set(sql, statement);
      return statement;
    },
  };
}

/**
 * A statement that reads, its rows fetched as arrays and made into objects here:
 * better-sqlite3 builds each row object in C++, one property at a time, which took 10.2 ms
 * for 1000 participation rows of 17 columns (a batch's `left`); as arrays and a loop here,
 * 6.3 ms. Same objects: the columns' names in their order, a later name over an earlier one.
 */
function rowsBuiltHere(statement: BetterSqlite3.Statement): SqliteStatement {
  const raw = statement.raw(true);
  const names = raw.columns().map((column) => column.name);
  function rowOf(values: unknown[]): Record<string, unknown> {
    const row: Record<string, unknown> = {};
    for (let index = 0; index < names.length; index++) row[names[index]!] = values[index];
    return row;
  }
  return {
    reader: true,
    all: (parameters) => (raw.all(parameters) as unknown[][]).map(rowOf),
    run: (parameters) => raw.run(parameters),
    *iterate(parameters) {
      for (const values of raw.iterate(parameters) as IterableIterator<unknown[]>) yield rowOf(values);
    },
  };
}
