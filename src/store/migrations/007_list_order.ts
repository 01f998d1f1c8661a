import { sql, type Kysely } from 'kysely';

/**
 * Indexes that give the lists their whole order. The rooms list (and the live rooms list
 * built on it) orders by creation time, then id; with the id in the index a page is read in
 * order and the read stops at its last row, instead of every room of the team being fetched
 * and sorted. A room's live roster is likewise read in join order, then id.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are written against an untyped database, as Kysely recommends
export async function up(db: Kysely<any>): Promise<void> {
  // external_id too: the live rooms list then reads its rooms from the index alone.
  await db.schema.createIndex('rooms_team_created_id').on('rooms').columns(['team_id', 'created_at', 'id', 'external_id']).execute();
  await db.schema.dropIndex('rooms_team_created').execute();
  await db.schema
    .createIndex('participants_live_by_room_ordered')
    .on('participants')
    .columns(['room_id', 'join_time', 'id'])
    .where(sql.ref('leave_time'), 'is', null)
    .execute();
  await db.schema.dropIndex('participants_live_by_room').execute();
}
