import { sql, type Kysely } from 'kysely';
import type { Database, DeliveryStatus } from '../schema.js';
import type { Store } from '../store.js';
import { prepared } from '../repos/prepared.js';
import { headUpdate, leasedDelivery, outcomeUpdate, settleInTransaction, type DeliveryRow, type DeliveryTarget, type LeasedDelivery, type SettledAttempt } from '../repos/webhooks.js';

/** A settle that goes on to the webhook's next delivery: the kind written as one statement. */
type SettlingAttempt = SettledAttempt & { next: NonNullable<SettledAttempt['next']> };

interface Waiting {
  attempt: SettlingAttempt;
  resolve: (next: LeasedDelivery | undefined) => void;
  reject: (error: unknown) => void;
}

/** The most attempts one statement settles; a node's senders (ROOMLINE_WEBHOOK_CONCURRENCY) rarely reach it. */
const MAX_BATCH = 256;

/**
 * How long a running statement holds the next one back. A settle takes about a millisecond;
 * one that waits far longer (a lock held by a webhook's deletion, a connection that went
 * silent) no longer stops the node's other senders: the waiting attempts go in a statement of
 * their own on another pooled connection.
 */
const PATIENCE_MS = 1_000;

/**
 * Store.settleDelivery for PostgreSQL: settled attempts, their webhooks' heads moved on and
 * each webhook's next delivery leased, in one statement. As a transaction (BEGIN, the outcome,
 * the head, the next delivery read, its lease, COMMIT) a settle was six round trips, and the pg
 * driver's write of each was most of what a node spent per delivery. One statement runs at a
 * time: the senders whose attempts end while it runs are settled together in the next, so a
 * node's twenty busy webhooks cost a few statements and commits, not twenty (B5, row 31 of
 * docs/performance-history.md); an idle node's settle goes at once. The statement's writes are those
 * of settleInTransaction, which records an attempt that does not go on to a next delivery.
 */
export function settleDeliveriesTogether(db: Kysely<Database>, store: Pick<Store, 'transaction'>) {
  const waiting: Waiting[] = [];
  /** When each running statement started. */
  const running = new Set<{ startedAt: number }>();

  /** Starts the next statement, unless one that started less than PATIENCE_MS ago still runs (it calls again when it ends). */
  function settleWaiting(): void {
    if (waiting.length === 0) return;
    const now = Date.now();
    for (const statement of running) if (now - statement.startedAt < PATIENCE_MS) return;
    const statement = { startedAt: now };
    running.add(statement);
    // A statement that waits (a lock, a lost connection) holds the others back this long at most.
    const patience = setTimeout(settleWaiting, PATIENCE_MS);
    patience.unref();
    void settleBatch(takeBatch()).finally(() => {
      clearTimeout(patience);
      running.delete(statement);
      settleWaiting();
    });
  }

  /** The waiting attempts in order, up to MAX_BATCH, one per webhook: a webhook's next attempt waits for the next statement. */
  function takeBatch(): Waiting[] {
    const batch: Waiting[] = [];
    const webhooks = new Set<string>();
    for (let index = 0; index < waiting.length && batch.length < MAX_BATCH; ) {
      const item = waiting[index]!;
      if (webhooks.has(item.attempt.delivery.webhook_id)) {
        index += 1;
        continue;
      }
      webhooks.add(item.attempt.delivery.webhook_id);
      batch.push(item);
      waiting.splice(index, 1);
    }
    return batch;
  }

  async function settleBatch(batch: Waiting[]): Promise<void> {
    let leased: Map<string, LeasedDelivery>;
    try {
      leased = batch.length === 1 ? await settleOne(db, batch[0]!.attempt) : await settleMany(db, batch.map((item) => item.attempt));
    } catch (error) {
      if (batch.length === 1 || !mayComeFromOneAttempt(error)) {
        for (const item of batch) item.reject(error);
        return;
      }
      // One attempt's failure is its own (a text PostgreSQL refuses, a deadlock it broke by
      // ending this statement): the attempts are settled again one by one.
      for (const item of batch) await settleBatch([item]);
      return;
    }
    for (const item of batch) item.resolve(leased.get(item.attempt.delivery.id));
  }

  return function settleDelivery(attempt: SettledAttempt): Promise<LeasedDelivery | undefined> {
    const { outcome, next } = attempt;
    if (outcome.status === 'pending' || next === undefined) return settleInTransaction(store, attempt);
    return new Promise((resolve, reject) => {
      waiting.push({ attempt: { ...attempt, next }, resolve, reject });
      settleWaiting();
    });
  };
}

/**
 * Whether a statement's error may come from one of its attempts: bad data (class 22), a
 * broken constraint (23), or a transaction PostgreSQL ended to break a deadlock or a
 * serialization conflict (40). A lost connection or a closing pool fails every attempt alike,
 * and settling them one by one would only repeat it.
 */
function mayComeFromOneAttempt(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^(22|23|40)/.test(code);
}

/** Settles one attempt; answers its delivery's id with the next delivery it leased. */
async function settleOne(db: Kysely<Database>, { delivery, outcome, next }: SettlingAttempt): Promise<Map<string, LeasedDelivery>> {
  const { rows } = await settleOneStatement(
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
  return new Map(rows.map((row) => [delivery.id, leasedDelivery(row)]));
}

/** Settles the attempts (of distinct webhooks); answers each settled delivery's id with the next delivery it leased. */
async function settleMany(db: Kysely<Database>, attempts: readonly SettlingAttempt[]): Promise<Map<string, LeasedDelivery>> {
  const column = <T>(value: (attempt: SettlingAttempt) => T): T[] => attempts.map(value);
  const { rows } = await settleManyStatement(
    db,
    column((a) => a.delivery.id),
    column((a) => a.outcome.status),
    column((a) => a.outcome.attempts),
    column((a) => a.outcome.next_attempt_at),
    column((a) => a.outcome.last_status_code),
    column((a) => a.outcome.last_error),
    column((a) => a.outcome.last_attempt_at),
    column((a) => a.outcome.delivered_at),
    column((a) => a.delivery.webhook_id),
    column((a) => a.delivery.sequence),
    column((a) => a.next.now),
    column((a) => a.next.until),
  );
  return new Map(rows.map(({ settled_id, ...row }) => [settled_id, leasedDelivery(row)]));
}

// The statement of settleOneStatement (below) for many attempts, one row each: their values
// come as arrays of equal length, zipped by the unnest calls of a select list, so the text is
// the same for any number. PostgreSQL plans it on each run (a kept plan cannot know how many
// rows the arrays hold, and looks dearer than one made for them), once for the whole batch;
// a lone attempt goes as settleOneStatement, whose plan is kept. Its locks are taken as there:
// each attempt's own delivery, then the next deliveries that no other transaction holds.
const settleManyStatement = prepared(
  12,
  (
    db,
    ids: string[],
    statuses: DeliveryStatus[],
    attempts: number[],
    nextAttemptAts: number[],
    lastStatusCodes: (number | null)[],
    lastErrors: (string | null)[],
    lastAttemptAts: (number | null)[],
    deliveredAts: (number | null)[],
    webhookIds: string[],
    sequences: number[],
    nows: number[],
    untils: number[],
  ) =>
    db
      .with('attempt', (qb) =>
        qb.selectNoFrom([
          sql<string>`unnest(${ids}::text[])`.as('id'),
          sql<DeliveryStatus>`unnest(${statuses}::text[])`.as('status'),
          sql<number>`unnest(${attempts}::integer[])`.as('attempts'),
          sql<number>`unnest(${nextAttemptAts}::bigint[])`.as('next_attempt_at'),
          sql<number | null>`unnest(${lastStatusCodes}::integer[])`.as('last_status_code'),
          sql<string | null>`unnest(${lastErrors}::text[])`.as('last_error'),
          sql<number | null>`unnest(${lastAttemptAts}::bigint[])`.as('last_attempt_at'),
          sql<number | null>`unnest(${deliveredAts}::bigint[])`.as('delivered_at'),
          sql<string>`unnest(${webhookIds}::text[])`.as('webhook_id'),
          sql<number>`unnest(${sequences}::bigint[])`.as('sequence'),
          sql<number>`unnest(${nows}::bigint[])`.as('now'),
          sql<number>`unnest(${untils}::bigint[])`.as('until'),
        ]),
      )
      .with('settled', (qb) =>
        qb
          .updateTable('webhook_deliveries as d')
          .from('attempt as a')
          .set((eb) => ({
            status: eb.ref('a.status'),
            attempts: eb.ref('a.attempts'),
            next_attempt_at: eb.ref('a.next_attempt_at'),
            last_status_code: eb.ref('a.last_status_code'),
            last_error: eb.ref('a.last_error'),
            last_attempt_at: eb.ref('a.last_attempt_at'),
            delivered_at: eb.ref('a.delivered_at'),
            // The sender's lease ends with its attempt.
            claimed_until: null,
          }))
          .whereRef('d.id', '=', 'a.id')
          .returning('d.id'),
      )
      .with('head', (qb) =>
        // The head moves from the settled delivery's predecessor; not when another sender moved it already.
        qb
          .updateTable('webhook_heads as h')
          .from('attempt as a')
          .set((eb) => ({ settled_through: eb.ref('a.sequence') }))
          .whereRef('h.webhook_id', '=', 'a.webhook_id')
          .where((eb) => eb('h.settled_through', '=', eb('a.sequence', '-', 1)))
          .returning('h.webhook_id'),
      )
      .with('leased', (qb) =>
        qb
          .updateTable('webhook_deliveries as d')
          .from('attempt as a')
          .set((eb) => ({ claimed_until: eb.ref('a.until') }))
          .whereRef('d.webhook_id', '=', 'a.webhook_id')
          .where((eb) => eb('d.sequence', '=', eb('a.sequence', '+', 1)))
          .where('d.id', 'in', (eb) =>
            eb
              .selectFrom('webhook_deliveries as n')
              .innerJoin('attempt as b', (join) => join.onRef('n.webhook_id', '=', 'b.webhook_id').on((on) => on('n.sequence', '=', on('b.sequence', '+', 1))))
              .select('n.id')
              .where('n.status', '=', 'pending')
              .whereRef('n.next_attempt_at', '<=', 'b.now')
              .where((on) => on.or([on('n.claimed_until', 'is', null), on('n.claimed_until', '<', on.ref('b.now'))]))
              // Always true: it makes the two writes above run (and lock) before this one.
              .where(sql<boolean>`(select count(*) from settled) + (select count(*) from head) >= 0`)
              .forUpdate('n')
              .skipLocked(),
          )
          .returningAll('d')
          .returning('a.id as settled_id'),
      )
      .selectFrom('leased as d')
      .innerJoin('webhooks as w', 'w.id', 'd.webhook_id')
      .innerJoin('teams as t', 't.id', 'w.team_id')
      .selectAll('d')
      .select(['w.endpoint', 'w.authorization_header', 't.developer_key as signing_key'])
      .$castTo<DeliveryRow & DeliveryTarget & { settled_id: string }>(),
);

// Every CTE that writes runs to completion whether or not the query reads it, but one the query
// does not read runs last; all three see the statement's one snapshot. The lease reads the
// other two first, so the settled delivery is locked before the next. The lease passes over a
// next delivery that another transaction holds (another node's claim, the webhook's deletion):
// the sender stops there, and the dispatcher finds that delivery once it is free. So a settle
// waits for no lock but its own delivery's, and whatever order a webhook's deletion takes its
// rows in, the two cannot deadlock.
const settleOneStatement = prepared(
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
          .where('id', 'in', (eb) =>
            eb
              .selectFrom('webhook_deliveries')
              .select('id')
              .where('webhook_id', '=', webhookId)
              .where('sequence', '=', nextSequence)
              .where('status', '=', 'pending')
              .where('next_attempt_at', '<=', now)
              .where((on) => on.or([on('claimed_until', 'is', null), on('claimed_until', '<', now)]))
              // Always true: it makes the two writes above run (and lock) before this one.
              .where(sql<boolean>`(select count(*) from settled) + (select count(*) from head) >= 0`)
              .forUpdate()
              .skipLocked(),
          )
          .returningAll(),
      )
      .selectFrom('leased as d')
      .innerJoin('webhooks as w', 'w.id', 'd.webhook_id')
      .innerJoin('teams as t', 't.id', 'w.team_id')
      .selectAll('d')
      .select(['w.endpoint', 'w.authorization_header', 't.developer_key as signing_key']),
);
