import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateToLatest } from '../../src/store/migrate.js';
import { findRoomByLink } from '../../src/store/repos/room-page.js';
import type { Database } from '../../src/store/schema.js';

/** A database in memory, migrated as far as `migration` only, with one team (`t`) in it. */
async function databaseAt(migration: string): Promise<Kysely<Database>> {
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: new BetterSqlite3(':memory:') }) });
  await migrateToLatest(db, migration);
  await db.insertInto('teams').values({ id: 't', name: 'Team', developer_key: 'k', key_hash: 'h', room_settings: '{}', created_at: 0, updated_at: 0 }).execute();
  return db;
}

/** The attendee role `r` of team `t`, which the rooms below take as their default. */
async function insertRole(db: Kysely<Database>): Promise<void> {
  await db
    .insertInto('roles')
    .values({ id: 'r', team_id: 't', name: 'attendee', display_name: 'Attendee', description: null, is_builtin: 1, permissions: '[]', created_at: 0, updated_at: 0 })
    .execute();
}

/** A room row as the schema before 009 has it (no expires_at column), with `overrides`. */
function legacyRoom(id: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id,
    team_id: 't',
    friendly_url: id,
    description: null,
    privacy: 'public',
    external_id: null,
    is_locked: 0,
    session_length: null,
    default_role_id: 'r',
    max_participants: 100,
    telephony_enabled: 0,
    telephony_phone_number: null,
    telephony_pin_dtmf: null,
    phone_connected: 0,
    event_seq: 0,
    settings: '{}',
    created_at: 0,
    updated_at: 0,
    ...overrides,
  };
}

describe('migration 009: room expiry in a column of its own', () => {
  let db: Kysely<Database>;
  beforeAll(async () => {
    db = await databaseAt('008_delivery_indexes');
  });
  afterAll(async () => db.destroy());

  it('moves each stored expiry out of the settings document, and leaves rooms without one alone', async () => {
    await insertRole(db);
    const room = (id: string, settings: Record<string, unknown>) => legacyRoom(id, { settings: JSON.stringify(settings) });
    // Written with the schema before 009, which has no expires_at column.
    const before = db as unknown as Kysely<Record<string, Record<string, unknown>>>;
    await before.insertInto('rooms').values([room('expiring', { expires_at: '2099-09-05T12:30:00Z', webhooks: [] }), room('lasting', { expires_at: null, webhooks: [] })]).execute();

    expect(await migrateToLatest(db)).toContain('009_timed_rooms');
    const rows = await db.selectFrom('rooms').select(['id', 'expires_at', 'settings']).orderBy('id').execute();
    expect(rows).toEqual([
      { id: 'expiring', expires_at: Date.UTC(2099, 8, 5, 12, 30), settings: JSON.stringify({ webhooks: [] }) },
      { id: 'lasting', expires_at: null, settings: JSON.stringify({ expires_at: null, webhooks: [] }) },
    ]);
  });
});

describe('migration 010: a webhook’s counters in rows of their own', () => {
  let db: Kysely<Database>;
  beforeAll(async () => {
    db = await databaseAt('009_timed_rooms');
  });
  afterAll(async () => db.destroy());

  it('carries each webhook’s numbering and settled head over, and drops them from the webhook', async () => {
    const webhook = (id: string, lastSequence: number, settledThrough: number) => ({
      id,
      team_id: 't',
      name: null,
      endpoint: `https://bridge.example/${id}`,
      authorization_header: null,
      events: '["participant_left"]',
      last_sequence: lastSequence,
      settled_through: settledThrough,
      created_at: 0,
      updated_at: 0,
    });
    // Written with the schema before 010, where the counters are the webhook's columns.
    const before = db as unknown as Kysely<Record<string, Record<string, unknown>>>;
    await before.insertInto('webhooks').values([webhook('busy', 42, 40), webhook('idle', 0, 0)]).execute();

    expect(await migrateToLatest(db)).toContain('010_webhook_counters');
    expect(await db.selectFrom('webhook_sequences').selectAll().orderBy('webhook_id').execute()).toEqual([
      { webhook_id: 'busy', last_sequence: 42 },
      { webhook_id: 'idle', last_sequence: 0 },
    ]);
    expect(await db.selectFrom('webhook_heads').selectAll().orderBy('webhook_id').execute()).toEqual([
      { webhook_id: 'busy', settled_through: 40 },
      { webhook_id: 'idle', settled_through: 0 },
    ]);
    expect(Object.keys(await db.selectFrom('webhooks').selectAll().where('id', '=', 'busy').executeTakeFirstOrThrow()).sort()).toEqual(
      ['authorization_header', 'created_at', 'endpoint', 'events', 'id', 'name', 'team_id', 'updated_at'],
    );
    // A deleted webhook takes its counters with it.
    await db.deleteFrom('webhooks').where('id', '=', 'idle').execute();
    expect((await db.selectFrom('webhook_heads').select('webhook_id').execute()).map((row) => row.webhook_id)).toEqual(['busy']);
  });
});

describe('migration 011: a call’s participation row is its own tombstone', () => {
  let db: Kysely<Database>;
  beforeAll(async () => {
    db = await databaseAt('010_webhook_counters');
  });
  afterAll(async () => db.destroy());

  const participant = (id: string, callId: string | null, leaveTime: number | null) => ({
    id,
    team_id: 't',
    room_id: 'room',
    session_id: 's',
    type: callId === null ? ('web' as const) : ('phone' as const),
    name: null,
    external_id: null,
    role_id: null,
    role_name: null,
    call_id: callId,
    caller_number: null,
    device: callId === null ? 'desktop' : 'phone',
    join_time: 1,
    leave_time: leaveTime,
    leave_reason: leaveTime === null ? null : 'left',
    muted: 0 as const,
    hand_raised: 0 as const,
  });
  const tombstone = (roomId: string, callId: string) => ({ team_id: 't', room_id: roomId, call_id: callId, left_at: 2 });

  it('drops the tombstones a participation row already stands for, and keeps a call to one row per room', async () => {
    await db.insertInto('sessions').values({ id: 's', team_id: 't', room_id: 'room', start_time: 1, end_time: null, end_reason: null, live_participants: 1 }).execute();
    await db.insertInto('participants').values([participant('p1', 'gone', 2), participant('p2', 'live', null), participant('p3', null, null)]).execute();
    // Before 011 every call that left had a tombstone; 'early' left before it ever joined.
    await db.insertInto('call_tombstones').values([tombstone('room', 'gone'), tombstone('room', 'early'), tombstone('other-room', 'gone')]).execute();

    expect(await migrateToLatest(db)).toContain('011_call_records');
    const kept = await db.selectFrom('call_tombstones').select(['room_id', 'call_id']).orderBy('room_id').execute();
    expect(kept).toEqual([
      { room_id: 'other-room', call_id: 'gone' },
      { room_id: 'room', call_id: 'early' },
    ]);
    // A call has one row in a room, live or left; web participants have no call and any number of rows.
    await expect(db.insertInto('participants').values(participant('p4', 'gone', null)).execute()).rejects.toThrow(/UNIQUE/);
    await expect(db.insertInto('participants').values(participant('p5', 'live', null)).execute()).rejects.toThrow(/UNIQUE/);
    await db.insertInto('participants').values(participant('p6', null, null)).execute();
    await db.insertInto('participants').values({ ...participant('p7', 'gone', null), room_id: 'other-room' }).execute();
  });
});

describe('migration 012: one room per page link', () => {
  let db: Kysely<Database>;
  beforeAll(async () => {
    db = await databaseAt('011_call_records');
  });
  afterAll(async () => db.destroy());

  it('gives each friendly_url’s link to the oldest room with it, as links went before; a token’s team still finds its own', async () => {
    await db.insertInto('teams').values({ id: 'b', name: 'Other', developer_key: 'kb', key_hash: 'hb', room_settings: '{}', created_at: 0, updated_at: 0 }).execute();
    await insertRole(db);
    const room = (id: string, teamId: string, friendlyUrl: string, createdAt: number) =>
      legacyRoom(id, { team_id: teamId, friendly_url: friendlyUrl, expires_at: null, created_at: createdAt, updated_at: createdAt });
    // Written before 012, when two teams could share a name.
    const before = db as unknown as Kysely<Record<string, Record<string, unknown>>>;
    await before.insertInto('rooms').values([room('newer', 't', 'shared', 2), room('older', 'b', 'shared', 1), room('alone', 't', 'alone', 3)]).execute();

    expect(await migrateToLatest(db)).toContain('012_room_links');
    expect(await db.selectFrom('room_links').selectAll().orderBy('friendly_url').execute()).toEqual([
      { friendly_url: 'alone', room_id: 'alone' },
      { friendly_url: 'shared', room_id: 'older' },
    ]);
    expect((await findRoomByLink(db, 'shared'))?.id).toBe('older');
    expect((await findRoomByLink(db, 'shared', 't'))?.id).toBe('newer');
    expect((await findRoomByLink(db, 'shared', 'nobody'))?.id).toBe('older');
    expect(await findRoomByLink(db, 'unknown')).toBeUndefined();
  });
});

describe('a database migrated by a newer version', () => {
  it('is refused: an older node does not start on a schema it does not know', async () => {
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: new BetterSqlite3(':memory:') }) });
    try {
      await migrateToLatest(db);
      const migrations = db as unknown as Kysely<{ kysely_migration: { name: string; timestamp: string } }>;
      await migrations.insertInto('kysely_migration').values({ name: '999_from_a_newer_version', timestamp: new Date().toISOString() }).execute();
      await expect(migrateToLatest(db)).rejects.toThrow(/999_from_a_newer_version/);
    } finally {
      await db.destroy();
    }
  });
});
