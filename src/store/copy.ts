import { sql, type Transaction } from 'kysely';
import type { Database } from './schema.js';
import type { Store } from './store.js';

/**
 * Every table, parents before the rows that reference them, each with its primary key: the
 * order rows are read in, one page after another. A table a migration adds must be listed
 * here, or `copyStore` refuses to copy (test/store/copy.test.ts checks the list).
 */
export const COPIED_TABLES: readonly { table: keyof Database; key: readonly string[] }[] = [
  { table: 'teams', key: ['id'] },
  { table: 'roles', key: ['id'] },
  { table: 'rooms', key: ['id'] },
  { table: 'room_roles', key: ['room_id', 'role_id'] },
  { table: 'room_tags', key: ['room_id', 'tag'] },
  { table: 'room_links', key: ['friendly_url'] },
  { table: 'room_history', key: ['room_id'] },
  { table: 'sessions', key: ['id'] },
  { table: 'participants', key: ['id'] },
  { table: 'participant_activity', key: ['id'] },
  { table: 'call_tombstones', key: ['room_id', 'call_id'] },
  { table: 'web_presence', key: ['participant_id'] },
  { table: 'webhooks', key: ['id'] },
  { table: 'webhook_sequences', key: ['webhook_id'] },
  { table: 'webhook_heads', key: ['webhook_id'] },
  { table: 'webhook_deliveries', key: ['id'] },
];

/** Rows read and written at a time: well inside both databases' limit on a statement's parameters. */
const PAGE_ROWS = 500;

type Row = Record<string, unknown>;

/** Why a copy did not start; nothing was written. */
export class CopyRefused extends Error {}

export interface CopyReport {
  /** Rows copied, table by table, in the order they were copied. */
  tables: { table: string; rows: number }[];
  rows: number;
}

/**
 * Copies every row of `source` into `target`, which must hold no rows at all: how a team moves
 * its embedded data to a cluster's PostgreSQL, takes a cluster's data to one machine, or keeps a
 * backup. Both stores are already migrated to this version's schema, and every table has the
 * same columns and values in both dialects (store/schema.ts), so rows go across as they are.
 *
 * The source is read in one snapshot, so a server may go on serving it: the copy holds the
 * data as of one commit. The target is written in one transaction, so a failed copy leaves it
 * empty, and each table's count is checked against the source's before it commits.
 */
export async function copyStore(source: Store, target: Store, onTable?: (table: string, rows: number) => void): Promise<CopyReport> {
  await refuseUnknownTables(source);
  return source.snapshot(async function readSource(from) {
    return target.transaction(async function writeTarget(to) {
      await refuseFilledTarget(to);
      const tables: CopyReport['tables'] = [];
      for (const { table, key } of COPIED_TABLES) {
        const rows = await copyTable(from, to, table, key);
        const [expected, written] = await Promise.all([countRows(from, table), countRows(to, table)]);
        if (rows !== expected || written !== expected) {
          throw new Error(`${table}: the source holds ${expected} rows, ${rows} were read and the target holds ${written}; nothing was copied`);
        }
        tables.push({ table, rows });
        onTable?.(table, rows);
      }
      return { tables, rows: tables.reduce((sum, entry) => sum + entry.rows, 0) };
    });
  });
}

/**
 * A table the source has and this list lacks would be left behind without a word: refuse instead.
 * Only roomline's own schema counts (where `teams` is): a PostgreSQL database may hold others.
 */
export async function refuseUnknownTables(source: Store): Promise<void> {
  const all = await source.db.introspection.getTables();
  const schema = all.find((table) => table.name === 'teams')?.schema;
  const known = new Set<string>(COPIED_TABLES.map((entry) => entry.table));
  const unknown = all.filter((table) => table.schema === schema && !known.has(table.name)).map((table) => table.name);
  if (unknown.length > 0) throw new CopyRefused(`the source has tables this version does not copy (${unknown.join(', ')})`);
}

async function refuseFilledTarget(to: Transaction<Database>): Promise<void> {
  for (const { table } of COPIED_TABLES) {
    const found = await sql<Row>`select 1 from ${sql.table(table)} limit 1`.execute(to);
    if (found.rows.length > 0) throw new CopyRefused(`the target already holds data (its ${table} table has rows): copy into a new, empty database or folder`);
  }
}

/** Reads `table` page by page in key order (no page skips or repeats a row) and inserts each page. */
async function copyTable(from: Transaction<Database>, to: Transaction<Database>, table: keyof Database, key: readonly string[]): Promise<number> {
  const keyColumns = sql.join(key.map((column) => sql.ref(column)));
  let copied = 0;
  let last: Row | undefined;
  for (;;) {
    const after = last === undefined ? sql`1 = 1` : sql`(${keyColumns}) > (${sql.join(key.map((column) => last![column]))})`;
    const page = (await sql<Row>`select * from ${sql.table(table)} where ${after} order by ${keyColumns} limit ${PAGE_ROWS}`.execute(from)).rows;
    if (page.length === 0) return copied;
    // Rows are the same shape in both dialects; the table's name is only known at run time.
    await to
      .insertInto(table)
      .values(page.map((row) => rowForTarget(table, row)) as never)
      .execute();
    copied += page.length;
    last = page[page.length - 1];
  }
}

/**
 * A delivery leased by one of the source's senders was in flight when the copy was taken; no
 * sender of the target holds that lease, so it is released and the delivery goes again at once
 * (delivery is at least once: the receiver may see it twice, never not at all).
 */
function rowForTarget(table: keyof Database, row: Row): Row {
  return table === 'webhook_deliveries' && row.claimed_until !== null ? { ...row, claimed_until: null } : row;
}

async function countRows(executor: Transaction<Database>, table: keyof Database): Promise<number> {
  const { rows } = await sql<{ count: number | string }>`select count(*) as count from ${sql.table(table)}`.execute(executor);
  return Number(rows[0]!.count);
}
