import { sql, type Kysely } from 'kysely';

/**
 * A phone call's participation row is its own tombstone. A call joins a room at most once:
 * once it has left, a late `joined` never brings it back. So far every leaving call also
 * wrote a tombstone row, though its participation row already said that it had left; with
 * the calls indexed by room whether live or not, that row answers both questions (is the
 * call live, has it left), and `call_tombstones` keeps only the calls whose `left` came
 * before any `joined`. The index is unique: it states that rule where the rows are. Leaving
 * a batch of calls writes half the rows it did (two trees fewer per call: the tombstone's,
 * and the live-only index's, which leaving had to delete from).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are written against an untyped database, as Kysely recommends
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createIndex('participants_call')
    .on('participants')
    .columns(['room_id', 'call_id'])
    .unique()
    .where(sql.ref('call_id'), 'is not', null)
    .execute();
  await db.schema.dropIndex('participants_one_live_call').execute();
  // Tombstones of calls with a participation row in their room say nothing that row does not.
  await db
    .deleteFrom('call_tombstones')
    .where(({ exists, selectFrom }) =>
      exists(
        selectFrom('participants')
          .select(sql.lit(1).as('one'))
          .whereRef('participants.room_id', '=', 'call_tombstones.room_id')
          .whereRef('participants.call_id', '=', 'call_tombstones.call_id'),
      ),
    )
    .execute();
}
