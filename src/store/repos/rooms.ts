import type { Executor } from '../store.js';
import type { RoomTable } from '../schema.js';

export type RoomRow = RoomTable;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The team's room named by `ref`: its UUID or its friendly_url. Another team's room is
 * simply not found, exactly like a missing one.
 */
export async function findRoom(db: Executor, teamId: string, ref: string): Promise<RoomRow | undefined> {
  const query = db.selectFrom('rooms').selectAll().where('team_id', '=', teamId);
  if (UUID.test(ref)) {
    const byId = await query.where('id', '=', ref.toLowerCase()).executeTakeFirst();
    if (byId !== undefined) return byId;
  }
  return query.where('friendly_url', '=', ref).executeTakeFirst();
}
