import type { Kysely } from 'kysely';

/**
 * Session history. Sessions and participation records outlive their room; `room_history`
 * keeps what a room looked like when one of its sessions last started or ended, so the
 * history of a deleted room still shows its friendly_url, description and settings. The
 * room-scoped index serves a room's participation records by time (statistics, lists).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are written against an untyped database, as Kysely recommends
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('room_history')
    .addColumn('room_id', 'text', (c) => c.primaryKey())
    .addColumn('team_id', 'text', (c) => c.notNull().references('teams.id').onDelete('cascade'))
    .addColumn('friendly_url', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('external_id', 'text')
    .addColumn('privacy', 'text', (c) => c.notNull())
    .addColumn('max_participants', 'integer', (c) => c.notNull())
    .addColumn('recorded_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('participants_room_join').on('participants').columns(['room_id', 'join_time']).execute();
}
