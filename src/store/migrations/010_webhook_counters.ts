import type { Kysely } from 'kysely';

/**
 * A webhook's two counters move to narrow rows of their own: `last_sequence` (moved by every
 * change that enqueues a delivery) and `settled_through` (moved by every settled delivery).
 * On the webhook's row, every change rewrote the whole row, and PostgreSQL keeps each old
 * version until no transaction can see it: under a steady stream of changes the row's
 * versions piled up faster than they could be pruned, so every read of the team's webhooks
 * and every delivery's key check walked them (1.4 ms each after 30,000 changes, from 0.05 ms),
 * and a sender settling a delivery waited for the lock of the change numbering the next ones.
 * Apart, each counter is a row a tenth as wide, the two never wait for each other, and the
 * webhook's own row changes only when the webhook does.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are written against an untyped database, as Kysely recommends
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('webhook_sequences')
    .addColumn('webhook_id', 'text', (c) => c.primaryKey().references('webhooks.id').onDelete('cascade'))
    .addColumn('last_sequence', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('webhook_heads')
    .addColumn('webhook_id', 'text', (c) => c.primaryKey().references('webhooks.id').onDelete('cascade'))
    .addColumn('settled_through', 'bigint', (c) => c.notNull())
    .execute();
  await db
    .insertInto('webhook_sequences')
    .columns(['webhook_id', 'last_sequence'])
    .expression(db.selectFrom('webhooks').select(['id', 'last_sequence']))
    .execute();
  await db
    .insertInto('webhook_heads')
    .columns(['webhook_id', 'settled_through'])
    .expression(db.selectFrom('webhooks').select(['id', 'settled_through']))
    .execute();
  await db.schema.alterTable('webhooks').dropColumn('last_sequence').execute();
  await db.schema.alterTable('webhooks').dropColumn('settled_through').execute();
}
