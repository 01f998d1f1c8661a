import { sql, type Kysely } from 'kysely';

/**
 * The all-rooms live endpoints list a team's live sessions on every call: a partial index
 * holds only those, so the query stays small however much session history a team has.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are written against an untyped database, as Kysely recommends
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createIndex('sessions_live_by_team')
    .on('sessions')
    .column('team_id')
    .where(sql.ref('end_time'), 'is', null)
    .execute();
}
