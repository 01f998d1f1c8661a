import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.js';
import type { Store } from '../store/store.js';
import { nextTurn } from '../store/group-commit.js';
import {
  claimDelivery,
  dueHeads,
  findDeliveryTarget,
  nextDueTime,
  pruneSettled,
  releaseLeases,
  type AttemptOutcome,
  type DeliveryRow,
  type DeliveryTarget,
  type LeasedDelivery,
} from '../store/repos/webhooks.js';
import { AddressNotAllowedError, literalAddress, type AddressPolicy, type RefusedAddressKind } from './addresses.js';
import { createWebhookSender, describeFailure } from './sender.js';
import { NO_METRICS, type Metrics } from '../metrics/metrics.js';

export interface DispatcherOptions {
  /** How long one attempt may take before it counts as failed. */
  timeoutMs: number;
  /** The first retry's delay; each further retry doubles it (with jitter) up to retryMaxMs. */
  retryBaseMs: number;
  retryMaxMs: number;
  /** A delivery still failing this long after its event is marked failed, and its webhook's next one proceeds. */
  giveUpAfterMs: number;
  /** Webhooks sent to at once (each webhook has at most one delivery in flight, to keep its order). */
  concurrency: number;
  /** How often to look for work committed by other nodes or due retries, at the longest. */
  pollMs: number;
  /** How long delivered and failed rows stay in the delivery log. */
  retentionMs: number;
}

/** How long a wake-up waits for more commits to gather before the dispatcher looks for work. */
const WAKE_COALESCE_MS = 2;

/**
 * How long a sender stays on its webhook before it hands itself back to a webhook waiting for a
 * sender: a turn of a few deliveries each, not one, where each hand-over costs a look for due
 * heads and a claim of its own.
 */
const TURN_MS = 50;

/** With every sender busy, how often the dispatcher looks at who waits (to hand senders over). */
const WAITING_LOOK_MS = 50;

/** Settled deliveries pruned per transaction, and transactions per prune (once a minute). */
const PRUNE_BATCH_SIZE = 1000;
const PRUNE_BATCHES = 20;

export const DEFAULT_DISPATCHER_OPTIONS: DispatcherOptions = {
  timeoutMs: 10_000,
  retryBaseMs: 1_000,
  retryMaxMs: 60 * 60_000,
  giveUpAfterMs: 24 * 60 * 60_000,
  concurrency: 64,
  pollMs: 1_000,
  retentionMs: 7 * 24 * 60 * 60_000,
};

/** Sends the outbox: every webhook's deliveries in sequence order, at least once, with retries. */
export interface Dispatcher {
  start(): void;
  /**
   * Looks for work now (called when a change has just enqueued deliveries, for these webhooks
   * when it says which): unless each of them has a sender here already, which goes on to them.
   */
  wake(webhookIds?: readonly string[]): void;
  /** Attempts in flight from this node now: at most the concurrency, one per webhook. */
  sending(): number;
  /** Stops taking work and waits for the attempts in flight. */
  stop(): Promise<void>;
}

export function createDispatcher(deps: { store: Store; clock: Clock; logger: Logger; addresses: AddressPolicy; metrics?: Metrics }, options: DispatcherOptions): Dispatcher {
  const { store, clock, addresses, metrics = NO_METRICS } = deps;
  const logger = deps.logger.child({ component: 'webhooks' });
  // The HTTP exchanges, with the address check at each connection, on a thread of their own.
  const sender = createWebhookSender({ addressMode: addresses.mode, timeoutMs: options.timeoutMs }, logger);
  /** Each endpoint's IP-literal host, when it is refused (null when it is not): see refuseAddressLiteral. */
  const literalRefusals = new Map<string, { address: string; kind: RefusedAddressKind } | null>();
  /** Webhooks with an attempt in flight from this node, and the attempts themselves. */
  const inFlight = new Map<string, Promise<void>>();
  /** Senders busy per team. */
  const sendersOf = new Map<string, number>();
  const senders = (teamId: string) => sendersOf.get(teamId) ?? 0;
  /** Teams with a webhook whose due delivery found no free sender at the last look (see yieldsSender). */
  let waitingTeams = new Set<string>();
  // A sender's lease outlives its longest attempt, so a live sender never loses its row to another.
  const leaseMs = options.timeoutMs + 5_000;
  let stopped = true;
  let pumping = false;
  let wakeScheduled = false;
  let pumpAgain = false;
  let timer: NodeJS.Timeout | undefined;
  let lastPrune = 0;
  let lastWaitingLook = -Infinity;

  async function pump(): Promise<void> {
    if (stopped) return;
    if (pumping) {
      pumpAgain = true;
      return;
    }
    pumping = true;
    logger.trace({ inFlight: inFlight.size }, 'looking for webhook deliveries to send');
    try {
      do {
        pumpAgain = false;
        await startDueAttempts();
      } while (pumpAgain && !stopped);
      await pruneOccasionally();
    } catch (error) {
      logger.error({ err: error }, 'webhook dispatch failed; retrying shortly');
    } finally {
      pumping = false;
    }
    await scheduleNextPump();
  }

  /**
   * Gives free senders to due heads, teams taking turns: the next sender goes to a head of the
   * team with the fewest senders busy, the earliest due first. Teams whose heads found no free
   * sender are noted, and senders hand themselves back after their attempt for them
   * (yieldsSender), so one team's many webhooks cannot keep another's waiting, nor a team's
   * busiest webhooks its others. A webhook kept waiting has the oldest head, so it is next.
   */
  async function startDueAttempts(): Promise<void> {
    const now = clock.now();
    // With no sender free nothing can start: a look would only note who waits, which a stream of
    // commits to other webhooks would repeat after each one.
    if (inFlight.size >= options.concurrency) {
      if (performance.now() - lastWaitingLook < WAITING_LOOK_MS) return;
      lastWaitingLook = performance.now();
    }
    const due = (await dueHeads(store.db, now, options.concurrency)).filter((head) => !inFlight.has(head.webhook_id));
    const tried = new Set<DeliveryRow>();
    while (!stopped && inFlight.size < options.concurrency) {
      let next: DeliveryRow | undefined;
      for (const head of due) {
        if (tried.has(head) || inFlight.has(head.webhook_id)) continue;
        if (next === undefined || senders(head.team_id) < senders(next.team_id)) next = head;
      }
      if (next === undefined) break;
      tried.add(next);
      const head = next;
      if (!(await store.transaction((trx) => claimDelivery(trx, head.id, now, now + leaseMs)))) continue;
      sendersOf.set(head.team_id, senders(head.team_id) + 1);
      const attempt = sendInOrder(head)
        .catch((error: unknown) => logger.error({ err: error, delivery: head.id }, 'webhook attempt could not be recorded'))
        .finally(() => {
          inFlight.delete(head.webhook_id);
          const left = senders(head.team_id) - 1;
          if (left > 0) sendersOf.set(head.team_id, left);
          else sendersOf.delete(head.team_id);
          void pump();
        });
      inFlight.set(head.webhook_id, attempt);
    }
    waitingTeams = new Set(due.filter((head) => !tried.has(head) && !inFlight.has(head.webhook_id)).map((head) => head.team_id));
  }

  /**
   * Whether a sender of this team hands its sender back instead of going on to its webhook's
   * next delivery: another webhook of the team waits for one, or another team does that has
   * fewer senders busy.
   */
  function yieldsSender(teamId: string): boolean {
    for (const waiting of waitingTeams) if (waiting === teamId || senders(waiting) < senders(teamId)) return true;
    return false;
  }

  /** Sends a webhook's deliveries one after another, from a claimed head, while the next is due. */
  async function sendInOrder(head: DeliveryRow): Promise<void> {
    const target = await findDeliveryTarget(store.db, head.team_id, head.webhook_id);
    // Deleted meanwhile: its rows went with it.
    let next = target === undefined ? undefined : { delivery: head, target };
    // Measured in the process's own time, whatever the delivery clock says.
    const turnStarted = performance.now();
    while (next !== undefined) next = await attemptDelivery(next.delivery, next.target, turnStarted);
  }

  /**
   * One attempt to `target`, read just before (with the claim of the delivery), recorded;
   * answers the webhook's next delivery, already claimed, with its target, when it may go at once.
   */
  async function attemptDelivery(delivery: DeliveryRow, target: DeliveryTarget, turnStarted: number): Promise<LeasedDelivery | undefined> {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': 'roomline-webhooks',
      'x-roomline-event-id': delivery.event_id,
      'x-roomline-sequence': String(delivery.sequence),
      'x-roomline-delivery-id': delivery.id,
    };
    if (target.authorization_header !== null && target.authorization_header !== '') headers.authorization = target.authorization_header;

    let statusCode: number | null = null;
    let error: string | null = null;
    let refused: { address: string; kind: RefusedAddressKind | 'unresolved'; detail?: string } | undefined;
    const sent = performance.now();
    try {
      refuseAddressLiteral(target.endpoint);
      const outcome = await sender.post({ endpoint: target.endpoint, headers, body: delivery.payload, signingKey: target.signing_key });
      if ('statusCode' in outcome) statusCode = outcome.statusCode;
      else ({ error, refused } = outcome);
    } catch (cause) {
      error = describeFailure(cause);
      if (cause instanceof AddressNotAllowedError) refused = { address: cause.address, kind: cause.kind, detail: cause.detail };
    }

    const took = (performance.now() - sent) / 1000;
    const now = clock.now();
    const attempts = delivery.attempts + 1;
    const delivered = statusCode !== null && statusCode >= 200 && statusCode < 300;
    if (!delivered && error === null) error = `HTTP ${statusCode}`;
    const givenUp = !delivered && now - delivery.queued_at >= options.giveUpAfterMs;
    const outcome: AttemptOutcome = {
      status: delivered ? 'delivered' : givenUp ? 'failed' : 'pending',
      attempts,
      next_attempt_at: delivered || givenUp ? now : now + retryDelay(attempts),
      last_status_code: statusCode,
      last_error: delivered ? null : error,
      last_attempt_at: now,
      delivered_at: delivered ? now : null,
    };
    // The webhook's next delivery goes on with this sender, unless its turn is over and another
    // webhook waits for one.
    const goOn = !stopped && (performance.now() - turnStarted < TURN_MS || !yieldsSender(delivery.team_id));
    // Counted as made, whether or not its outcome can be recorded.
    metrics.webhookAttempt(delivered ? 'delivered' : givenUp ? 'failed' : 'retrying', took);
    const next = await store.settleDelivery({ delivery, outcome, next: goOn ? { now, until: now + leaseMs } : undefined });
    if (!delivered) {
      logger.info({ delivery: delivery.id, webhook: delivery.webhook_id, attempts, status: statusCode, error, refused, givenUp }, 'webhook attempt failed');
    }
    return next;
  }

  /**
   * An IP-literal host is connected to without a lookup, so the sender thread's check at each
   * connection never sees it: it is checked here (a webhook stored before the server turned to public addresses only). The
   * answer depends only on the endpoint's text and the mode, so each endpoint is parsed and
   * checked once: per delivery the two cost a tenth of the sender's throughput (B5).
   */
  function refuseAddressLiteral(endpoint: string): void {
    let refused = literalRefusals.get(endpoint);
    if (refused === undefined) {
      const address = literalAddress(new URL(endpoint));
      const kind = address === undefined ? undefined : addresses.refusal(address);
      refused = address === undefined || kind === undefined ? null : { address, kind };
      if (literalRefusals.size >= 10_000) literalRefusals.clear();
      literalRefusals.set(endpoint, refused);
    }
    if (refused !== null) throw new AddressNotAllowedError(refused.address, refused.kind);
  }

  /** Exponential backoff with jitter: base·2^(n-1), capped, then scaled by a random 50–100 %. */
  function retryDelay(attempts: number): number {
    const exponential = Math.min(options.retryMaxMs, options.retryBaseMs * 2 ** Math.min(attempts - 1, 30));
    return Math.round(exponential * (0.5 + Math.random() * 0.5));
  }

  async function pruneOccasionally(): Promise<void> {
    const now = clock.now();
    if (now - lastPrune < 60_000) return;
    lastPrune = now;
    // In batches, each its own transaction, so a long log (a lowered retention, a busy week)
    // never holds the writer in one long delete; what a minute's turn leaves, the next takes.
    for (let batch = 0; batch < PRUNE_BATCHES; batch += 1) {
      const pruned = await store.transaction((trx) => pruneSettled(trx, now - options.retentionMs, PRUNE_BATCH_SIZE));
      if (pruned < PRUNE_BATCH_SIZE || stopped) return;
      await nextTurn();
    }
  }

  async function scheduleNextPump(): Promise<void> {
    if (stopped) return;
    let delay = options.pollMs;
    // With every sender busy, a due head waits for one to finish, and a finishing sender looks
    // for work itself: a timer set by the due time would only find no room, again and again.
    if (inFlight.size < options.concurrency) {
      try {
        const nextDue = await nextDueTime(store.db);
        if (nextDue !== undefined) delay = Math.max(0, Math.min(delay, nextDue - clock.now()));
      } catch (error) {
        logger.warn({ err: error }, 'could not read the next webhook due time');
      }
    }
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(() => void pump(), delay);
    timer.unref();
  }

  return {
    sending: () => inFlight.size,
    start() {
      if (!stopped) return;
      stopped = false;
      // Embedded mode has one sender, this process: the leases of the one before it (stopped
      // mid-attempt, or killed) guard nothing, and their webhooks go on at once. In cluster mode
      // another node may hold them, and they run out by themselves.
      const released = store.kind === 'sqlite' ? store.transaction((trx) => releaseLeases(trx)) : Promise.resolve(0);
      void released.then(
        (count) => {
          if (count > 0) logger.info({ deliveries: count }, 'webhook deliveries left in flight by the last run go again');
        },
        (error: unknown) => logger.warn({ err: error }, 'could not release the last run’s webhook leases'),
      ).finally(() => void pump());
    },
    wake(webhookIds) {
      // A webhook's sender here claims its next delivery as each one settles, and looks for
      // work again when it stops: new rows of such webhooks need no search for heads, which
      // under a stream of changes to one webhook had run after every commit, finding nothing.
      if (webhookIds !== undefined && webhookIds.every((id) => inFlight.has(id))) return;
      // Coalesced: a burst of commits wakes the dispatcher once, not once per commit.
      if (wakeScheduled) return;
      wakeScheduled = true;
      setTimeout(() => {
        wakeScheduled = false;
        void pump();
      }, WAKE_COALESCE_MS).unref();
    },
    async stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      await Promise.allSettled(inFlight.values());
      await sender.close();
    },
  };
}
