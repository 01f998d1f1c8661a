import { randomUUID } from 'node:crypto';
import { timeOrderedId } from '../domain/ids.js';
import type { WebhookEventName } from '../bus/events.js';
import type { ChangeRunner } from '../domain/changes.js';
import type { Clock } from '../domain/clock.js';
import type { Store } from '../store/store.js';
import { countWebhooks, findDelivery, findWebhook, insertDeliveries, insertWebhook, takeSequences, type DeliveryRow, type WebhookRow } from '../store/repos/webhooks.js';
import { invalidAfter, type Page } from '../api/pagination.js';
import { pageByCreation, type PageCursor } from '../store/repos/paging.js';

export interface WebhookInput {
  endpoint?: string;
  name?: string | null;
  authorization_header?: string | null;
  events?: string[];
}

export interface WebhookList {
  total: number;
  rows: WebhookRow[];
}

export interface DeliveryList {
  total: number;
  rows: DeliveryRow[];
}

/** Why a webhook definition was refused, by field (the API turns it into a 422). */
export type WebhookProblems = Record<string, string>;

export const MAX_WEBHOOKS_PER_TEAM = 100;

/** The team's webhooks and their delivery log. */
export interface WebhookService {
  list(teamId: string, page: Page): Promise<WebhookList>;
  get(teamId: string, webhookId: string): Promise<WebhookRow | undefined>;
  create(teamId: string, input: WebhookInput): Promise<WebhookRow | WebhookProblems>;
  update(teamId: string, webhookId: string, input: WebhookInput): Promise<WebhookRow | WebhookProblems | undefined>;
  remove(teamId: string, webhookId: string): Promise<boolean>;
  deliveries(teamId: string, webhookId: string, page: Page): Promise<DeliveryList | undefined>;
  /** Sends a settled delivery's event again, as a new delivery at the back of its webhook's queue; undefined when not found. */
  retry(teamId: string, webhookId: string, deliveryId: string): Promise<DeliveryRow | 'pending' | undefined>;
}

/**
 * `deliveryClock` times the queue (when a retry is due, when to give up): it is the real clock
 * even when tests drive the app's clock, since delivery timing is about the network.
 */
export function createWebhookService(deps: { store: Store; changes: ChangeRunner; deliveryClock: Clock; onRetry: () => void }): WebhookService {
  const { store, changes } = deps;

  async function list(teamId: string, page: Page): Promise<WebhookList> {
    const base = store.db.selectFrom('webhooks').where('team_id', '=', teamId);
    const total = Number((await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
    let cursor: PageCursor | undefined;
    if (page.after !== undefined) {
      const anchor = await findWebhookLoose(teamId, page.after);
      if (anchor === undefined) throw invalidAfter();
      cursor = { createdAt: anchor.created_at, key: anchor.id };
    }
    return { total, rows: await pageByCreation(base.selectAll(), page, 'id', cursor).execute() };
  }

  async function findWebhookLoose(teamId: string, webhookId: string): Promise<WebhookRow | undefined> {
    return findWebhook(store.db, teamId, webhookId.toLowerCase());
  }

  async function create(teamId: string, input: WebhookInput): Promise<WebhookRow | WebhookProblems> {
    const problems = checkDefinition(input);
    if (Object.keys(problems).length > 0) return problems;
    return changes.run(async function createWebhook(change) {
      if ((await countWebhooks(change.trx, teamId)) >= MAX_WEBHOOKS_PER_TEAM) {
        return { endpoint: `A team may have at most ${MAX_WEBHOOKS_PER_TEAM} webhooks.` };
      }
      const row: WebhookRow = {
        id: randomUUID(),
        team_id: teamId,
        name: input.name ?? null,
        endpoint: input.endpoint!,
        authorization_header: input.authorization_header ?? null,
        events: JSON.stringify(unique(input.events!)),
        created_at: change.now,
        updated_at: change.now,
      };
      await insertWebhook(change.trx, row);
      return row;
    });
  }

  async function update(teamId: string, webhookId: string, input: WebhookInput): Promise<WebhookRow | WebhookProblems | undefined> {
    const problems = checkDefinition(input);
    if (Object.keys(problems).length > 0) return problems;
    return changes.run(async function updateWebhook(change) {
      const existing = await findWebhook(change.trx, teamId, webhookId.toLowerCase());
      if (existing === undefined) return undefined;
      const next: WebhookRow = {
        ...existing,
        endpoint: input.endpoint ?? existing.endpoint,
        name: input.name === undefined ? existing.name : input.name,
        authorization_header: input.authorization_header === undefined ? existing.authorization_header : input.authorization_header,
        events: input.events === undefined ? existing.events : JSON.stringify(unique(input.events)),
        updated_at: change.now,
      };
      await change.trx.updateTable('webhooks').set(next).where('id', '=', existing.id).execute();
      return next;
    });
  }

  async function remove(teamId: string, webhookId: string): Promise<boolean> {
    return changes.run(async function deleteWebhook(change) {
      const existing = await findWebhook(change.trx, teamId, webhookId.toLowerCase());
      if (existing === undefined) return false;
      await change.trx.deleteFrom('webhook_deliveries').where('webhook_id', '=', existing.id).execute();
      await change.trx.deleteFrom('webhooks').where('id', '=', existing.id).execute();
      return true;
    });
  }

  async function deliveries(teamId: string, webhookId: string, page: Page): Promise<DeliveryList | undefined> {
    const webhook = await findWebhookLoose(teamId, webhookId);
    if (webhook === undefined) return undefined;
    const base = store.db.selectFrom('webhook_deliveries').where('webhook_id', '=', webhook.id);
    const total = Number((await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
    let query = base.selectAll();
    if (page.after !== undefined) {
      const anchor = await findDelivery(store.db, webhook.id, page.after.toLowerCase());
      if (anchor === undefined) throw invalidAfter();
      query = query.where('sequence', page.order === 'asc' ? '>' : '<', anchor.sequence);
    }
    const rows = await query.orderBy('sequence', page.order).limit(page.limit).offset(page.offset).execute();
    return { total, rows };
  }

  async function retry(teamId: string, webhookId: string, deliveryId: string): Promise<DeliveryRow | 'pending' | undefined> {
    const webhook = await findWebhookLoose(teamId, webhookId);
    if (webhook === undefined) return undefined;
    const outcome = await changes.run(async function retryDelivery(change) {
      const delivery = await findDelivery(change.trx, webhook.id, deliveryId.toLowerCase());
      if (delivery === undefined) return undefined;
      if (delivery.status === 'pending') return 'pending' as const;
      // Sent again as a new delivery at the back of the queue: the same event (id and body),
      // a new sequence number, so the webhook's order stays what the receiver has seen.
      const again: DeliveryRow = {
        ...delivery,
        id: timeOrderedId(),
        sequence: await takeSequences(change.trx, webhook.id, 1),
        status: 'pending',
        attempts: 0,
        next_attempt_at: deps.deliveryClock.now(),
        claimed_until: null,
        last_status_code: null,
        last_error: null,
        last_attempt_at: null,
        delivered_at: null,
        queued_at: deps.deliveryClock.now(),
      };
      await insertDeliveries(change.trx, [again]);
      return again;
    });
    if (outcome !== undefined && outcome !== 'pending') deps.onRetry();
    return outcome;
  }

  return { list, get: findWebhookLoose, create, update, remove, deliveries, retry };
}

/**
 * What the route schemas cannot say: the endpoint must parse as an http(s) URL, and the
 * authorization header must be a value that can be sent. (Lengths, required fields and known
 * event names are checked by the schemas.)
 */
function checkDefinition(input: WebhookInput): WebhookProblems {
  const problems: WebhookProblems = {};
  if (input.endpoint !== undefined && !isHttpUrl(input.endpoint)) problems.endpoint = 'The endpoint field must be a valid URL.';
  if (typeof input.authorization_header === 'string' && UNSENDABLE_HEADER_CHARACTER.test(input.authorization_header)) {
    problems.authorization_header =
      'The authorization_header field must hold only tabs and printable characters up to U+00FF, without line breaks or other control characters: it is sent as an HTTP header.';
  }
  return problems;
}

/**
 * What undici refuses in a header value (its `headerCharRegex`, from Node's HTTP client):
 * control characters other than tab, DEL, and anything past Latin-1. Accepted, such a header
 * would fail every delivery, and a webhook sends in order, so its queue would stall for the
 * whole retry period.
 */
const UNSENDABLE_HEADER_CHARACTER = /[^\t\x20-\x7e\x80-\xff]/;

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

function unique(events: string[]): WebhookEventName[] {
  return [...new Set(events)] as WebhookEventName[];
}
