import { sql, type Kysely } from 'kysely';
import type { Database, DeliveryStatus } from '../schema.js';
import type { Store } from '../store.js';
import { prepared } from '../repos/prepared.js';
import { headUpdate, leasedDelivery, outcomeUpdate, settleInTransaction, type LeasedDelivery, type SettledAttempt } from '../repos/webhooks.js';

/**
 * Store.settleDelivery for PostgreSQL: a settled attempt, the head moved on and the next
 * delivery leased, in one statement. As a transaction (BEGIN, the outcome, the head, the next
 * delivery read, its lease, COMMIT) a settle was six round trips, and the pg driver's write
 * of each was most of what a node spent per delivery. The statements' writes are those of
 * settleInTransaction; a lone statement is a transaction of its own.
 */
export function settleDeliveryInOneStatement(db: Kysely<Database>, store: Pick<Store, 'transaction'>) {
  return async function settleDelivery(attempt: SettledAttempt): Promise<LeasedDelivery | undefined> {
    const { delivery, outcome, next } = attempt;
    if (outcome.status === 'pending' || next === undefined) return settleInTransaction(store, attempt);
    const { rows } = await settleAndLeaseNext(
      db,
      outcome.status,
      outcome.attempts,
      outcome.next_attempt_at,
      outcome.last_status_code,
      outcome.last_error,
      outcome.last_attempt_at,
      outcome.delivered_at,
      delivery.id,
      delivery.webhook_id,
      delivery.sequence,
      delivery.sequence - 1,
      delivery.sequence + 1,
      next.now,
      next.until,
    );
    const [row] = rows;
    return row === undefined ? undefined : leasedDelivery(row);
  };
}

// Every CTE that writes runs to completion whether or not the query reads it, but one the query
// does not read runs last; all three see the statement's one snapshot. The lease reads the
// other two first, so the rows are locked in the transaction's order, the settled delivery
// before the next: a webhook's deletion, which deletes its deliveries in sequence order, would
// otherwise hold the first while this statement held the next, and one of them would fail as a
// deadlock. The lease is taken on another row (the next sequence), and waits for any other
// sender's lock on it like the transaction's own UPDATE did.
const settleAndLeaseNext = prepared(
  14,
  (
    db,
    status: DeliveryStatus,
    attempts: number,
    nextAttemptAt: number,
    lastStatusCode: number | null,
    lastError: string | null,
    lastAttemptAt: number | null,
    deliveredAt: number | null,
    deliveryId: string,
    webhookId: string,
    sequence: number,
    previous: number,
    nextSequence: number,
    now: number,
    until: number,
  ) =>
    db
      // Built on `db`: the same builders as the transaction's statements (repos/webhooks.ts).
      .with('settled', () =>
        outcomeUpdate(
          db,
          { status, attempts, next_attempt_at: nextAttemptAt, last_status_code: lastStatusCode, last_error: lastError, last_attempt_at: lastAttemptAt, delivered_at: deliveredAt },
          deliveryId,
        ).returning('id'),
      )
      .with('head', () => headUpdate(db, sequence, webhookId, previous).returning('webhook_id'))
      .with('leased', (qb) =>
        qb
          .updateTable('webhook_deliveries')
          .set({ claimed_until: until })
          .where('webhook_id', '=', webhookId)
          .where('sequence', '=', nextSequence)
          .where('status', '=', 'pending')
          .where('next_attempt_at', '<=', now)
          .where((eb) => eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<', now)]))
          // Always true: it makes the two writes above run (and lock) before this one.
          .where(sql<boolean>`(select count(*) from settled) + (select count(*) from head) >= 0`)
          .returningAll(),
      )
      .selectFrom('leased as d')
      .innerJoin('webhooks as w', 'w.id', 'd.webhook_id')
      .innerJoin('teams as t', 't.id', 'w.team_id')
      .selectAll('d')
      .select(['w.endpoint', 'w.authorization_header', 't.developer_key as signing_key']),
);
