import { sql, type Kysely } from 'kysely';

/**
 * A room's expiry in a column of its own (epoch ms), indexed over the rooms that have one, so
 * the rooms due for deletion are found without reading every room's settings. It lived in the
 * settings document until now: each room that had one gets it moved.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are written against an untyped database, as Kysely recommends
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('rooms').addColumn('expires_at', 'bigint').execute();
  await db.schema.createIndex('rooms_expiry').on('rooms').column('expires_at').where(sql.ref('expires_at'), 'is not', null).execute();

  const withExpiry: Array<{ id: string; settings: string }> = await db
    .selectFrom('rooms')
    .select(['id', 'settings'])
    .where('settings', 'like', '%"expires_at":"%')
    .execute();
  for (const room of withExpiry) {
    const { expires_at: expiresAt, ...rest } = JSON.parse(room.settings) as { expires_at?: unknown };
    // Stored as "YYYY-MM-DDThh:mm:ssZ" by the rooms API; anything else was never accepted.
    const time = typeof expiresAt === 'string' ? Date.parse(expiresAt) : Number.NaN;
    await db
      .updateTable('rooms')
      .set({ expires_at: Number.isNaN(time) ? null : time, settings: JSON.stringify(rest) })
      .where('id', '=', room.id)
      .execute();
  }
}
