import type { Executor, Store } from '../store.js';
import { sql, type ExpressionBuilder, type QueryCreator } from 'kysely';
import type { Database, WebhookDeliveryTable, WebhookTable } from '../schema.js';
import { prepared, preparedList, rowShape } from './prepared.js';

export type WebhookRow = WebhookTable;
export type DeliveryRow = WebhookDeliveryTable;

export async function findWebhook(db: Executor, teamId: string, webhookId: string): Promise<WebhookRow | undefined> {
  return (await webhookById(db, teamId, webhookId)).rows[0];
}

const webhookById = prepared(2, (db, teamId: string, webhookId: string) => db.selectFrom('webhooks').selectAll().where('team_id', '=', teamId).where('id', '=', webhookId));

/** Where a delivery goes and how it is signed, read with the delivery itself: what a sender needs for one attempt. */
export interface DeliveryTarget {
  endpoint: string;
  authorization_header: string | null;
  /** The team's developer key, which signs the payload. */
  signing_key: string;
}

/** The target of a webhook's deliveries; undefined when the webhook (or its team) is gone. */
export async function findDeliveryTarget(db: Executor, teamId: string, webhookId: string): Promise<DeliveryTarget | undefined> {
  return (await targetOf(db, teamId, webhookId)).rows[0];
}

const targetOf = prepared(2, (db, teamId: string, webhookId: string) =>
  db
    .selectFrom('webhooks as w')
    .innerJoin('teams as t', 't.id', 'w.team_id')
    .select(['w.endpoint', 'w.authorization_header', 't.developer_key as signing_key'])
    .where('w.team_id', '=', teamId)
    .where('w.id', '=', webhookId),
);

export async function countWebhooks(db: Executor, teamId: string): Promise<number> {
  const row = await db
    .selectFrom('webhooks')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where('team_id', '=', teamId)
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

/** The team's webhooks subscribed to any of `events`, oldest first (the order deliveries are enqueued in). */
export async function webhooksForTeam(db: Executor, teamId: string): Promise<WebhookRow[]> {
  return (await teamWebhooks(db, teamId)).rows;
}

const teamWebhooks = prepared(
  1,
  (db, teamId: string) => db.selectFrom('webhooks').selectAll().where('team_id', '=', teamId).orderBy('created_at', 'asc').orderBy('id', 'asc'),
  { planEachRun: true },
);

/**
 * Takes the next `count` sequence numbers of a webhook; returns the first, or undefined when
 * the webhook is gone (deleted by another node since its team's webhooks were read). Holds the
 * counter's row lock to the end of the transaction, which a deletion takes first (lockSequences).
 */
export async function takeSequences(db: Executor, webhookId: string, count: number): Promise<number | undefined> {
  const [row] = (await advanceLastSequence(db, count, webhookId)).rows;
  return row === undefined ? undefined : Number(row.last_sequence) - count + 1;
}

/**
 * Takes the lock of a webhook's counter, as numbering its deliveries does first: a deletion that
 * takes it before anything else waits for a change numbering deliveries to commit (or makes the
 * change find the webhook gone), instead of the two locking the webhook and its counter in
 * opposite orders, a deadlock PostgreSQL breaks by failing one of them.
 */
export async function lockSequences(db: Executor, webhookId: string): Promise<void> {
  await db
    .updateTable('webhook_sequences')
    .set((eb) => ({ last_sequence: eb.ref('last_sequence') }))
    .where('webhook_id', '=', webhookId)
    .execute();
}

const advanceLastSequence = prepared(2, (db, count: number, webhookId: string) =>
  db
    .updateTable('webhook_sequences')
    .set((eb) => ({ last_sequence: eb('last_sequence', '+', count) }))
    .where('webhook_id', '=', webhookId)
    .returning('last_sequence'),
);

/** A new webhook's counters: nothing enqueued, nothing settled. */
export async function insertWebhook(db: Executor, row: WebhookRow): Promise<void> {
  await db.insertInto('webhooks').values(row).execute();
  await db.insertInto('webhook_sequences').values({ webhook_id: row.id, last_sequence: 0 }).execute();
  await db.insertInto('webhook_heads').values({ webhook_id: row.id, settled_through: 0 }).execute();
}

export async function insertDeliveries(db: Executor, rows: DeliveryRow[]): Promise<void> {
  if (rows.length > 0) await insertDeliveryRows(db, rows);
}

/** Every column of a delivery row, in the order its values are bound. */
const DELIVERY_COLUMNS = [
  'id',
  'webhook_id',
  'team_id',
  'event_id',
  'event',
  'sequence',
  'payload',
  'status',
  'attempts',
  'next_attempt_at',
  'claimed_until',
  'last_status_code',
  'last_error',
  'last_attempt_at',
  'delivered_at',
  'created_at',
  'queued_at',
] as const satisfies ReadonlyArray<keyof DeliveryRow>;

const insertDeliveryRows = preparedList(rowShape<DeliveryRow>()(DELIVERY_COLUMNS), 0, (db, rows) => db.insertInto('webhook_deliveries').values([...rows]));

/**
 * "(webhook, sequence) in (the heads)": the delivery after each webhook's `settled_through`.
 * Written this way so both planners start from the webhooks with a backlog and look each head
 * up by its unique key, never scanning the pending rows.
 */
function isQueueHead({ eb, refTuple, selectFrom }: ExpressionBuilder<Database & { d: WebhookDeliveryTable }, 'd'>) {
  return eb(
    refTuple('d.webhook_id', 'd.sequence'),
    'in',
    selectFrom('webhook_heads as h')
      .innerJoin('webhook_sequences as s', 's.webhook_id', 'h.webhook_id')
      .select((inner) => ['h.webhook_id', inner('h.settled_through', '+', 1).as('head')])
      .whereRef('s.last_sequence', '>', 'h.settled_through')
      .$asTuple('webhook_id', 'head'),
  );
}

/**
 * The head of every webhook's queue (the delivery after `settled_through`) that is due and
 * not leased by a sender, the `perTeam` earliest of each team, earliest first. Only a queue's
 * head is ever sent, which keeps each webhook in order; it is found by key, so the cost does not
 * grow with the length of the queues. Per team: a team with many webhooks due cannot hide
 * another team's from the dispatcher, which shares its senders between teams.
 */
export async function dueHeads(db: Executor, now: number, perTeam: number): Promise<DeliveryRow[]> {
  const ranked = db
    .selectFrom('webhook_deliveries as d')
    .selectAll('d')
    .select((eb) => eb.fn.agg<number>('row_number').over((ob) => ob.partitionBy('d.team_id').orderBy('d.next_attempt_at', 'asc')).as('team_rank'))
    .where(isQueueHead)
    .where('d.status', '=', 'pending')
    .where('d.next_attempt_at', '<=', now)
    .where((eb) => eb.or([eb('d.claimed_until', 'is', null), eb('d.claimed_until', '<', now)]));
  const rows = await db.selectFrom(ranked.as('r')).selectAll('r').where('r.team_rank', '<=', perTeam).orderBy('r.next_attempt_at', 'asc').execute();
  return rows.map(({ team_rank: _rank, ...row }) => row);
}

/** Leases a delivery to this sender; false when another sender holds it or it is no longer pending. */
export async function claimDelivery(db: Executor, deliveryId: string, now: number, until: number): Promise<boolean> {
  const result = await claimRow(db, until, deliveryId, now);
  return Number(result.numAffectedRows ?? 0) === 1;
}

const claimRow = prepared(3, (db, until: number, deliveryId: string, now: number) =>
  db
    .updateTable('webhook_deliveries')
    .set({ claimed_until: until })
    .where('id', '=', deliveryId)
    .where('status', '=', 'pending')
    .where((eb) => eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<', now)])),
);

/**
 * Leases the delivery that follows `sequence` in its webhook's queue, when it is due and no
 * sender holds it: how a sender goes on with its webhook's next delivery as soon as one
 * settles, with no search for heads in between. The delivery comes with its target, read in
 * the same query, so the next attempt needs no lookups of its own. Undefined when there is
 * none to take (or its webhook is gone).
 */
export async function claimNextDelivery(db: Executor, webhookId: string, sequence: number, now: number, until: number): Promise<LeasedDelivery | undefined> {
  const [row] = (await deliveryWithTargetAt(db, webhookId, sequence + 1)).rows;
  if (row === undefined || row.status !== 'pending' || row.next_attempt_at > now) return undefined;
  if (row.claimed_until !== null && row.claimed_until >= now) return undefined;
  if (!(await claimDelivery(db, row.id, now, until))) return undefined;
  return leasedDelivery({ ...row, claimed_until: until });
}

/** A delivery row read together with its webhook's endpoint and header and its team's key, split in two. */
export function leasedDelivery(row: DeliveryRow & DeliveryTarget): LeasedDelivery {
  const { endpoint, authorization_header, signing_key, ...delivery } = row;
  return { delivery, target: { endpoint, authorization_header, signing_key } };
}

const deliveryWithTargetAt = prepared(2, (db, webhookId: string, sequence: number) =>
  db
    .selectFrom('webhook_deliveries as d')
    .innerJoin('webhooks as w', 'w.id', 'd.webhook_id')
    .innerJoin('teams as t', 't.id', 'w.team_id')
    .selectAll('d')
    .select(['w.endpoint', 'w.authorization_header', 't.developer_key as signing_key'])
    .where('d.webhook_id', '=', webhookId)
    .where('d.sequence', '=', sequence),
);

/** What one attempt did to its delivery. */
export type AttemptOutcome = Pick<DeliveryRow, 'status' | 'attempts' | 'next_attempt_at' | 'last_status_code' | 'last_error' | 'last_attempt_at' | 'delivered_at'>;

/** A delivery leased to a sender, with where it goes. */
export interface LeasedDelivery {
  delivery: DeliveryRow;
  target: DeliveryTarget;
}

/** An attempt to record, as its sender saw it end (Store.settleDelivery). */
export interface SettledAttempt {
  delivery: Pick<DeliveryRow, 'id' | 'webhook_id' | 'sequence'>;
  outcome: AttemptOutcome;
  /** Lease the webhook's next delivery until `until`, when it is due at `now`; absent when the sender stops after this one. */
  next?: { now: number; until: number };
}

/**
 * Store.settleDelivery as a transaction of the statements below: embedded mode's, where each
 * statement is a call into SQLite, and every backend's for an attempt that did not settle.
 */
export function settleInTransaction(store: Pick<Store, 'transaction'>, attempt: SettledAttempt): Promise<LeasedDelivery | undefined> {
  return store.transaction(async function settle(trx) {
    await recordAttempt(trx, attempt.delivery, attempt.outcome);
    if (attempt.outcome.status === 'pending' || attempt.next === undefined) return undefined;
    return claimNextDelivery(trx, attempt.delivery.webhook_id, attempt.delivery.sequence, attempt.next.now, attempt.next.until);
  });
}

/** Records one attempt; a settled delivery (delivered or given up) moves its webhook's head on. Run it in a transaction. */
export async function recordAttempt(db: Executor, delivery: Pick<DeliveryRow, 'id' | 'webhook_id' | 'sequence'>, outcome: AttemptOutcome): Promise<void> {
  await recordOutcome(db, outcome.status, outcome.attempts, outcome.next_attempt_at, outcome.last_status_code, outcome.last_error, outcome.last_attempt_at, outcome.delivered_at, delivery.id);
  if (outcome.status === 'pending') return;
  await moveHead(db, delivery.sequence, delivery.webhook_id, delivery.sequence - 1);
}

// Every attempt runs both: prepared, like the other statements on a delivery's path.
const recordOutcome = prepared(
  8,
  (
    db,
    status: DeliveryRow['status'],
    attempts: number,
    nextAttemptAt: number,
    lastStatusCode: number | null,
    lastError: string | null,
    lastAttemptAt: number | null,
    deliveredAt: number | null,
    deliveryId: string,
  ) =>
    outcomeUpdate(
      db,
      { status, attempts, next_attempt_at: nextAttemptAt, last_status_code: lastStatusCode, last_error: lastError, last_attempt_at: lastAttemptAt, delivered_at: deliveredAt },
      deliveryId,
    ),
);

const moveHead = prepared(3, (db, sequence: number, webhookId: string, previous: number) => headUpdate(db, sequence, webhookId, previous));

/** What an attempt writes on its delivery (its lease ends with it): alone, or in a larger statement (store/postgres/settle-delivery.ts). */
export function outcomeUpdate(db: QueryCreator<Database>, outcome: AttemptOutcome, deliveryId: string) {
  return db
    .updateTable('webhook_deliveries')
    .set({ ...outcome, claimed_until: null })
    .where('id', '=', deliveryId);
}

/** Moves a webhook's head from `previous` to `sequence`; nothing when another sender moved it already. */
export function headUpdate(db: QueryCreator<Database>, sequence: number, webhookId: string, previous: number) {
  return db.updateTable('webhook_heads').set({ settled_through: sequence }).where('webhook_id', '=', webhookId).where('settled_through', '=', previous);
}

/**
 * The earliest time a queue's head may be taken, for the dispatcher's next wake-up: when its
 * next attempt is due, or once the lease of the sender holding it runs out (dueHeads passes a
 * leased head by). Without the lease, a head in flight looked due at once, and the dispatcher
 * searched for work again and again for as long as a receiver took to answer.
 */
export async function nextDueTime(db: Executor): Promise<number | undefined> {
  const row = await db
    .selectFrom('webhook_deliveries as d')
    .select((eb) =>
      eb.fn
        .min(
          eb
            .case()
            .when(eb.and([eb('d.claimed_until', 'is not', null), eb('d.claimed_until', '>=', eb.ref('d.next_attempt_at'))]))
            .then(eb('d.claimed_until', '+', 1))
            .else(eb.ref('d.next_attempt_at'))
            .end(),
        )
        .as('next'),
    )
    .where(isQueueHead)
    .where('d.status', '=', 'pending')
    .executeTakeFirst();
  return row?.next === null || row?.next === undefined ? undefined : Number(row.next);
}

export async function findDelivery(db: Executor, webhookId: string, deliveryId: string): Promise<DeliveryRow | undefined> {
  return db
    .selectFrom('webhook_deliveries')
    .selectAll()
    .where('webhook_id', '=', webhookId)
    .where('id', '=', deliveryId)
    .executeTakeFirst();
}

/** Forgets settled deliveries older than `before` (the delivery log's retention). */
export async function pruneSettled(db: Executor, before: number, limit: number): Promise<number> {
  const result = await db
    .deleteFrom('webhook_deliveries')
    .where('id', 'in', (eb) =>
      eb
        .selectFrom('webhook_deliveries')
        .select('id')
        // Written out as the settled index's own condition (008_delivery_indexes), not bound as
        // values: a planner can only match a partial index to a condition it can read.
        .where(sql<boolean>`status in ('delivered', 'failed')`)
        .where('queued_at', '<', before)
        .limit(limit),
    )
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/**
 * Forgets up to `limit` settled deliveries of one webhook, or of every webhook of a team, ahead
 * of deleting them: a long delivery log goes a step at a time, each in its own transaction,
 * rather than in the one that deletes the webhook. Answers how many went.
 */
export async function forgetSettledOf(db: Executor, of: { webhookId: string } | { teamId: string }, limit: number): Promise<number> {
  const result = await db
    .deleteFrom('webhook_deliveries')
    .where('id', 'in', (eb) => {
      const settled = eb.selectFrom('webhook_deliveries').select('id').where(sql<boolean>`status in ('delivered', 'failed')`);
      const ofWebhooks = 'webhookId' in of ? settled.where('webhook_id', '=', of.webhookId) : settled.where('webhook_id', 'in', eb.selectFrom('webhooks').select('id').where('team_id', '=', of.teamId));
      return ofWebhooks.limit(limit);
    })
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/**
 * Makes every lease on a pending delivery run out now. For embedded mode's start: this process
 * is the only sender, so a lease left by the one before it (stopped mid-attempt, or killed)
 * guards nothing, and waiting it out would hold its webhook's queue back for up to a timeout.
 */
export async function releaseLeases(db: Executor): Promise<number> {
  const result = await db.updateTable('webhook_deliveries').set({ claimed_until: null }).where('status', '=', 'pending').where('claimed_until', 'is not', null).executeTakeFirst();
  return Number(result.numUpdatedRows);
}
