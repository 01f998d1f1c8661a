import { sql, type Kysely } from 'kysely';

/**
 * Fewer indexes for every webhook delivery to write. A queue's head is found by its key
 * (webhook, sequence), which the unique constraint already indexes, so the index by status
 * only served pruning; nothing reads deliveries by creation time. Pruning gets a partial index
 * of the settled deliveries alone: a delivery is indexed once, when it settles, instead of
 * being written to two indexes when queued and moved in one of them when it settles.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are written against an untyped database, as Kysely recommends
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createIndex('webhook_deliveries_settled')
    .on('webhook_deliveries')
    .column('queued_at')
    // The very term pruning filters by, so both planners see that the index covers it.
    .where(sql<boolean>`status in ('delivered', 'failed')`)
    .execute();
  await db.schema.dropIndex('webhook_deliveries_pending').execute();
  await db.schema.dropIndex('webhook_deliveries_created').execute();
}
