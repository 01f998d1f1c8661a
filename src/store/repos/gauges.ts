import { sql } from 'kysely';
import type { Executor } from '../store.js';

/**
 * What the metrics read of the whole deployment when they are scraped: the same answer on every
 * node of a cluster. Each read goes by counters the writes keep or by an index of what is live,
 * never through what grows with history (the delivery log, past participation records).
 */

export interface LiveCounts {
  web: number;
  phone: number;
  sessions: number;
}

/**
 * Live sessions and their participants from the sessions' own counts (a row per live room);
 * phone participants by the index of live participants (participants_live_by_room_ordered: what
 * is live now, not every call ever made), web ones the rest.
 */
export async function countLive(db: Executor): Promise<LiveCounts> {
  const [sessions, phone] = await Promise.all([
    db
      .selectFrom('sessions')
      .select((eb) => [eb.fn.countAll<number | string>().as('sessions'), eb.fn.sum<number | string | null>('live_participants').as('participants')])
      .where('end_time', 'is', null)
      .executeTakeFirstOrThrow(),
    db
      .selectFrom('participants')
      .select((eb) => eb.fn.countAll<number | string>().as('count'))
      .where('leave_time', 'is', null)
      .where('type', '=', 'phone')
      .executeTakeFirstOrThrow(),
  ]);
  const participants = Number(sessions.participants ?? 0);
  const phoneCount = Number(phone.count);
  return { phone: phoneCount, web: Math.max(0, participants - phoneCount), sessions: Number(sessions.sessions) };
}

export interface OutboxBacklog {
  /** Deliveries not yet delivered nor given up. */
  pending: number;
  /** When the head of the longest-waiting queue entered it (its event's time, or a manual retry's; epoch ms); null when none waits. */
  oldestQueuedAt: number | null;
}

/**
 * From each webhook's counters (migration 010): what it has enqueued beyond what is settled is
 * pending, and its head is the delivery right after what is settled, found by its unique key.
 */
export async function outboxBacklog(db: Executor): Promise<OutboxBacklog> {
  const row = await db
    .selectFrom('webhook_sequences as s')
    .innerJoin('webhook_heads as h', 'h.webhook_id', 's.webhook_id')
    .leftJoin('webhook_deliveries as d', (join) => join.onRef('d.webhook_id', '=', 's.webhook_id').on('d.sequence', '=', sql<number>`h.settled_through + 1`))
    .select([sql<number | string | null>`sum(s.last_sequence - h.settled_through)`.as('pending'), sql<number | string | null>`min(d.queued_at)`.as('oldest')])
    .executeTakeFirstOrThrow();
  return { pending: Number(row.pending ?? 0), oldestQueuedAt: row.oldest === null ? null : Number(row.oldest) };
}
