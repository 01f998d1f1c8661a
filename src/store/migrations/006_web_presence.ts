import type { Kysely } from 'kysely';

/**
 * Web participants' presence. A row per web participant who joined from the room page: the
 * hash of the credential its page acts with, and a lease the node holding its live connection
 * keeps renewing. Any node's sweeper makes a participant whose lease ran out leave, so
 * presence survives a node's crash and works the same on one node or many.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are written against an untyped database, as Kysely recommends
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('web_presence')
    .addColumn('participant_id', 'text', (c) => c.primaryKey().references('participants.id').onDelete('cascade'))
    .addColumn('team_id', 'text', (c) => c.notNull())
    .addColumn('room_id', 'text', (c) => c.notNull())
    .addColumn('credential_hash', 'text', (c) => c.notNull())
    .addColumn('lease_expires_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('web_presence_lease').on('web_presence').column('lease_expires_at').execute();
}
