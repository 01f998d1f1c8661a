import type { Kysely } from 'kysely';

/**
 * A room deleted with `delete_history` has its participation records anonymised after its
 * deletion commits, a step at a time (one UPDATE of every record of a room with a long history
 * held an embedded server's other requests for as long). `anonymise_pending` marks a deleted
 * room whose records are not all anonymised yet, so that steps a stop broke off are finished at
 * the next start.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are written against an untyped database, as Kysely recommends
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('room_history').addColumn('anonymise_pending', 'integer', (c) => c.notNull().defaultTo(0)).execute();
}
