import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql, type Transaction } from 'kysely';
import type { Logger } from 'pino';
import { withoutPassword, type Config } from '../config/config.js';
import type { Database } from './schema.js';
import { isPostgresLocation, openStoreAt, type Store } from './store.js';
import { migrationState } from './migrate.js';
import { snapshotDatabaseFile } from './sqlite/sqlite-store.js';

/**
 * Every table, parents before the rows that reference them, each with its primary key: the
 * order rows are read in, one page after another. A table a migration adds must be listed
 * here: test/store/copy.test.ts fails until it is.
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

/** Why a copy was refused (its source, its target, or a row the target cannot hold); nothing was written. */
export class CopyRefused extends Error {}

export interface CopySource {
  store: Store;
  /** Closes the store, and removes what opening it made. */
  close(): Promise<void>;
}

/**
 * Opens the store at `location` to be copied from, never writing to it: it may be served, by
 * this version or by an older one, while it is read.
 * - A data folder: its database is first copied whole into a file of its own under the system's
 *   temporary folder (TMPDIR), as of one commit (snapshotDatabaseFile: a second or two, where
 *   reading the store itself for the whole copy would hold its WAL back all that time). That file
 *   is brought up to this version's schema, whatever version wrote it, and read at leisure.
 * - A PostgreSQL database: read as it is, in one snapshot, so it must be at this version's schema
 *   already; migrating it here would change it under the nodes that serve it.
 */
export async function openCopySource(location: string, config: Config, logger: Logger): Promise<CopySource> {
  if (isPostgresLocation(location)) {
    const store = await openStoreAt(location, config, logger, { migrate: false, setting: '--from' });
    try {
      await store.ping().catch((error: unknown) => {
        throw new CopyRefused(`--from: cannot connect to PostgreSQL at ${withoutPassword(location)}: ${(error as Error).message}`);
      });
      const state = await migrationState(store.db);
      if (state === undefined) throw new CopyRefused(`--from: ${withoutPassword(location)} holds no roomline database`);
      if (state.unknown.length > 0) {
        throw new CopyRefused(`the source was migrated by a newer roomline (it has migration ${state.unknown[0]}, which this version does not know): copy it with that version or a later one`);
      }
      if (state.missing.length > 0) {
        throw new CopyRefused(`the source was last migrated by an older roomline (it lacks migration ${state.missing[0]}): upgrade it first (stop its nodes, start this version's), then copy it`);
      }
    } catch (error) {
      await store.close();
      throw error;
    }
    return { store, close: () => store.close() };
  }
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'roomline-copy-'));
  const remove = () => fs.rmSync(folder, { recursive: true, force: true });
  try {
    snapshotDatabaseFile(location, path.join(folder, 'roomline.db'));
    const store = await openStoreAt(folder, config, logger);
    return {
      store,
      async close() {
        await store.close();
        remove();
      },
    };
  } catch (error) {
    remove();
    throw error;
  }
}

export interface CopyReport {
  /** Rows copied, table by table, in the order they were copied. */
  tables: { table: string; rows: number }[];
  rows: number;
}

/**
 * Copies every row of `source` into `target`, which must hold no rows at all: how a team moves
 * its embedded data to a cluster's PostgreSQL, takes a cluster's data to one machine, or keeps a
 * backup. Both stores are at this version's schema (openCopySource), and every table has the
 * same columns and values in both dialects (store/schema.ts), so rows go across as they are.
 *
 * The source is read in one snapshot, so a server may go on serving it: the copy holds the
 * data as of one commit. The target is written in one transaction, so a failed copy leaves it
 * empty, and each table's count is checked against the source's before it commits.
 */
export async function copyStore(source: Store, target: Store, onTable?: (table: string, rows: number) => void): Promise<CopyReport> {
  // What the copy was doing when it failed: a lost connection's own words name neither side.
  let doing = 'reading the source';
  try {
    return await source.snapshot(async function readSource(from) {
      doing = 'writing the target';
      return target.transaction(async function writeTarget(to) {
        await holdEmptyTarget(target, to);
        const tables: CopyReport['tables'] = [];
        for (const { table, key } of COPIED_TABLES) {
          doing = `copying ${table}`;
          const rows = await copyTable(from, to, table, key, target.kind === 'postgres');
          const [expected, written] = await Promise.all([countRows(from, table), countRows(to, table)]);
          if (rows !== expected || written !== expected) {
            throw new Error(`the source holds ${expected} rows, ${rows} were read and the target holds ${written}`);
          }
          tables.push({ table, rows });
          onTable?.(table, rows);
        }
        doing = 'committing the target';
        return { tables, rows: tables.reduce((sum, entry) => sum + entry.rows, 0) };
      });
    });
  } catch (error) {
    if (error instanceof CopyRefused) throw error;
    throw new Error(`${doing} failed, and the target was left as it was: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * Refuses a target with any row in any table, and keeps it so until the copy commits: another
 * copy into it waits, then finds it filled. PostgreSQL is locked by table; SQLite's one writer
 * is taken as the transaction begins (sqlite-store.ts).
 */
async function holdEmptyTarget(target: Store, to: Transaction<Database>): Promise<void> {
  if (target.kind === 'postgres') await sql`lock table teams in exclusive mode`.execute(to);
  for (const { table } of COPIED_TABLES) {
    const found = await sql<Row>`select 1 from ${sql.table(table)} limit 1`.execute(to);
    if (found.rows.length > 0) {
      throw new CopyRefused(
        `the target already holds data (its ${table} table has rows): copy into a new, empty database or folder (a server started on it first makes a team of its own: start servers after the copy)`,
      );
    }
  }
}

/** Reads `table` page by page in key order (no page skips or repeats a row) and inserts each page. */
async function copyTable(from: Transaction<Database>, to: Transaction<Database>, table: keyof Database, key: readonly string[], refuseNul: boolean): Promise<number> {
  const keyColumns = sql.join(key.map((column) => sql.ref(column)));
  let copied = 0;
  let last: Row | undefined;
  for (;;) {
    const after = last === undefined ? sql`1 = 1` : sql`(${keyColumns}) > (${sql.join(key.map((column) => last![column]))})`;
    const page = (await sql<Row>`select * from ${sql.table(table)} where ${after} order by ${keyColumns} limit ${PAGE_ROWS}`.execute(from)).rows;
    if (page.length === 0) return copied;
    if (refuseNul) refuseNulCharacters(table, key, page);
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

/**
 * PostgreSQL cannot store a NUL character in text, which SQLite can, and which roomline accepted
 * before it refused such text at its API: name the row rather than fail on PostgreSQL's words.
 */
function refuseNulCharacters(table: string, key: readonly string[], page: Row[]): void {
  for (const row of page) {
    const column = Object.keys(row).find((name) => typeof row[name] === 'string' && (row[name] as string).includes('\u0000'));
    if (column === undefined) continue;
    const where = key.map((name) => `${name} = ${JSON.stringify(row[name])}`).join(', ');
    throw new CopyRefused(`${table} (${where}): its ${column} holds a NUL character, which PostgreSQL cannot store; change it in the source (the API refuses such text since), then copy again`);
  }
}

async function countRows(executor: Transaction<Database>, table: keyof Database): Promise<number> {
  const { rows } = await sql<{ count: number | string }>`select count(*) as count from ${sql.table(table)}`.execute(executor);
  return Number(rows[0]!.count);
}
