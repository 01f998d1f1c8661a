import { sql, type Kysely } from 'kysely';

/**
 * The first schema. Written with Kysely's schema builder only, so the same migration runs
 * on SQLite and PostgreSQL. Partial unique indexes (both dialects have them) let the
 * database itself refuse a second live participant for one call in one room.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are written against an untyped database, as Kysely recommends
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('teams')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('developer_key', 'text', (c) => c.notNull())
    .addColumn('key_hash', 'text', (c) => c.notNull().unique())
    .addColumn('room_settings', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('roles')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('team_id', 'text', (c) => c.notNull().references('teams.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('display_name', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('is_builtin', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('permissions', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('roles_team_name', ['team_id', 'name'])
    .execute();

  await db.schema
    .createTable('rooms')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('team_id', 'text', (c) => c.notNull().references('teams.id').onDelete('cascade'))
    .addColumn('friendly_url', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('privacy', 'text', (c) => c.notNull())
    .addColumn('external_id', 'text')
    .addColumn('is_locked', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('session_length', 'integer')
    .addColumn('default_role_id', 'text', (c) => c.notNull().references('roles.id'))
    .addColumn('max_participants', 'integer', (c) => c.notNull())
    .addColumn('telephony_enabled', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('telephony_phone_number', 'text')
    .addColumn('telephony_pin_dtmf', 'text')
    .addColumn('phone_connected', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('event_seq', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('settings', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('rooms_team_friendly_url', ['team_id', 'friendly_url'])
    .execute();
  await db.schema.createIndex('rooms_team_created').on('rooms').columns(['team_id', 'created_at']).execute();

  await db.schema
    .createTable('room_roles')
    .addColumn('room_id', 'text', (c) => c.notNull().references('rooms.id').onDelete('cascade'))
    .addColumn('role_id', 'text', (c) => c.notNull().references('roles.id'))
    .addColumn('position', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('room_roles_pk', ['room_id', 'role_id'])
    .execute();
  await db.schema.createIndex('room_roles_role').on('room_roles').column('role_id').execute();

  await db.schema
    .createTable('room_tags')
    .addColumn('room_id', 'text', (c) => c.notNull().references('rooms.id').onDelete('cascade'))
    .addColumn('tag', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('room_tags_pk', ['room_id', 'tag'])
    .execute();
  await db.schema.createIndex('room_tags_tag').on('room_tags').column('tag').execute();

  // Sessions and participation records outlive their room (history and statistics), so they
  // reference it without a cascading foreign key.
  await db.schema
    .createTable('sessions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('team_id', 'text', (c) => c.notNull().references('teams.id').onDelete('cascade'))
    .addColumn('room_id', 'text', (c) => c.notNull())
    .addColumn('start_time', 'bigint', (c) => c.notNull())
    .addColumn('end_time', 'bigint')
    .addColumn('end_reason', 'text')
    .addColumn('live_participants', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.createIndex('sessions_room_start').on('sessions').columns(['room_id', 'start_time']).execute();
  await db.schema.createIndex('sessions_team_start').on('sessions').columns(['team_id', 'start_time']).execute();
  await db.schema
    .createIndex('sessions_one_live_per_room')
    .on('sessions')
    .column('room_id')
    .unique()
    .where(sql.ref('end_time'), 'is', null)
    .execute();

  await db.schema
    .createTable('participants')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('team_id', 'text', (c) => c.notNull().references('teams.id').onDelete('cascade'))
    .addColumn('room_id', 'text', (c) => c.notNull())
    .addColumn('session_id', 'text', (c) => c.notNull().references('sessions.id'))
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('name', 'text')
    .addColumn('external_id', 'text')
    .addColumn('role_id', 'text')
    .addColumn('role_name', 'text')
    .addColumn('call_id', 'text')
    .addColumn('caller_number', 'text')
    .addColumn('device', 'text', (c) => c.notNull())
    .addColumn('join_time', 'bigint', (c) => c.notNull())
    .addColumn('leave_time', 'bigint')
    .addColumn('leave_reason', 'text')
    .addColumn('muted', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('hand_raised', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.createIndex('participants_session').on('participants').columns(['session_id', 'join_time']).execute();
  await db.schema.createIndex('participants_team_join').on('participants').columns(['team_id', 'join_time']).execute();
  await db.schema
    .createIndex('participants_live_by_room')
    .on('participants')
    .columns(['room_id', 'join_time'])
    .where(sql.ref('leave_time'), 'is', null)
    .execute();
  await db.schema
    .createIndex('participants_one_live_call')
    .on('participants')
    .columns(['room_id', 'call_id'])
    .unique()
    .where(sql<boolean>`leave_time is null and call_id is not null`)
    .execute();

  await db.schema
    .createTable('participant_activity')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('participant_id', 'text', (c) => c.notNull().references('participants.id').onDelete('cascade'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('participant_activity_participant').on('participant_activity').columns(['participant_id', 'at']).execute();

  await db.schema
    .createTable('call_tombstones')
    .addColumn('team_id', 'text', (c) => c.notNull().references('teams.id').onDelete('cascade'))
    .addColumn('room_id', 'text', (c) => c.notNull())
    .addColumn('call_id', 'text', (c) => c.notNull())
    .addColumn('left_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('call_tombstones_pk', ['room_id', 'call_id'])
    .execute();
}
