import { sql, type Kysely } from 'kysely';

/**
 * A room page's link names its room by friendly_url alone (`/{friendly_url}`), while a
 * friendly_url is unique only within a team. The link went to the oldest room of any team with
 * that name, so a team could take over another team's link by renaming an older room of its
 * own, or claim a name first and receive the visitors of another team's room. Each name now
 * opens one room, the one that took it first, and no other team's room may take it while that
 * room has it (`room_links`, written with the room). Rooms of several teams that already shared
 * a name keep it; its link stays with the oldest, as before, and the others open by id.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are written against an untyped database, as Kysely recommends
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('room_links')
    .addColumn('friendly_url', 'text', (c) => c.primaryKey())
    .addColumn('room_id', 'text', (c) => c.notNull().unique())
    .execute();
  await sql`
    insert into room_links (friendly_url, room_id)
    select r.friendly_url, r.id from rooms r
    where not exists (
      select 1 from rooms o
      where o.friendly_url = r.friendly_url and (o.created_at < r.created_at or (o.created_at = r.created_at and o.id < r.id))
    )`.execute(db);
}
