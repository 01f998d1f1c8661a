import type { Executor } from '../store.js';

/**
 * What the metrics read of the whole deployment when they are scraped: the same answer on every
 * node of a cluster. Each is one statement over an index (participants_live_by_room,
 * sessions_one_live_per_room, webhook_deliveries_pending).
 */

export interface LiveCounts {
  web: number;
  phone: number;
  sessions: number;
}

export async function countLive(db: Executor): Promise<LiveCounts> {
  const [participants, sessions] = await Promise.all([
    db.selectFrom('participants').select(['type', (eb) => eb.fn.countAll<number | string>().as('count')]).where('leave_time', 'is', null).groupBy('type').execute(),
    db.selectFrom('sessions').select((eb) => eb.fn.countAll<number | string>().as('count')).where('end_time', 'is', null).executeTakeFirstOrThrow(),
  ]);
  const of = (type: string) => Number(participants.find((row) => row.type === type)?.count ?? 0);
  return { web: of('web'), phone: of('phone'), sessions: Number(sessions.count) };
}

export interface OutboxBacklog {
  /** Deliveries not yet delivered nor given up. */
  pending: number;
  /** When the longest-waiting of them entered its queue (epoch ms); null when none waits. */
  oldestQueuedAt: number | null;
}

export async function outboxBacklog(db: Executor): Promise<OutboxBacklog> {
  const row = await db
    .selectFrom('webhook_deliveries')
    .select((eb) => [eb.fn.countAll<number | string>().as('pending'), eb.fn.min('queued_at').as('oldest')])
    .where('status', '=', 'pending')
    .executeTakeFirstOrThrow();
  return { pending: Number(row.pending), oldestQueuedAt: row.oldest === null ? null : Number(row.oldest) };
}
