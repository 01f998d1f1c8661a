import { randomUUID } from 'node:crypto';
import { timeOrderedId } from '../domain/ids.js';
import type { WebhookEventName } from '../bus/events.js';
import type { ChangeRunner } from '../domain/changes.js';
import type { Clock } from '../domain/clock.js';
import type { Store } from '../store/store.js';
import { nextTurn } from '../store/group-commit.js';
import { countWebhooks, findDelivery, findWebhook, forgetSettledOf, insertDeliveries, insertWebhook, lockSequences, takeSequences, type DeliveryRow, type WebhookRow } from '../store/repos/webhooks.js';
import { invalidAfter, type Page } from '../api/pagination.js';
import { pageByCreation, type PageCursor } from '../store/repos/paging.js';
import type { AddressPolicy, RefusedAddressKind } from './addresses.js';

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
  /** What is wrong with a definition beyond what the route schemas check (create and update check it too). */
  problems(input: WebhookInput): WebhookProblems;
  deliveries(teamId: string, webhookId: string, page: Page): Promise<DeliveryList | undefined>;
  /** Sends a settled delivery's event again, as a new delivery at the back of its webhook's queue; undefined when not found. */
  retry(teamId: string, webhookId: string, deliveryId: string): Promise<DeliveryRow | 'pending' | undefined>;
}

/**
 * `deliveryClock` times the queue (when a retry is due, when to give up): it is the real clock
 * even when tests drive the app's clock, since delivery timing is about the network.
 */
export function createWebhookService(deps: {
  store: Store;
  changes: ChangeRunner;
  deliveryClock: Clock;
  addresses: AddressPolicy;
  onRetry: () => void;
}): WebhookService {
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
    const problems = checkDefinition(input, deps.addresses);
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
    const problems = checkDefinition(input, deps.addresses);
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
    // Its delivery log first, a step at a time: in one transaction, a log of 200,000 deliveries
    // held an embedded server's other requests for most of a second. The webhook stays meanwhile.
    const known = await findWebhook(store.db, teamId, webhookId.toLowerCase());
    if (known === undefined) return false;
    while ((await store.transaction((trx) => forgetSettledOf(trx, { webhookId: known.id }, FORGET_STEP_ROWS))) > 0) await nextTurn();
    return changes.run(async function deleteWebhook(change) {
      const existing = await findWebhook(change.trx, teamId, webhookId.toLowerCase());
      if (existing === undefined) return false;
      await lockSequences(change.trx, existing.id);
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
      const sequence = await takeSequences(change.trx, webhook.id, 1);
      // The webhook was deleted on another node since the delivery was read.
      if (sequence === undefined) return undefined;
      // Sent again as a new delivery at the back of the queue: the same event (id and body),
      // a new sequence number, so the webhook's order stays what the receiver has seen.
      const again: DeliveryRow = {
        ...delivery,
        id: timeOrderedId(),
        sequence,
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

  return { list, get: findWebhookLoose, create, update, remove, problems: (input) => checkDefinition(input, deps.addresses), deliveries, retry };
}

/**
 * What the route schemas cannot say: the endpoint must be an http(s) URL with a host that
 * webhooks may reach, and the authorization header a value that can be sent. (Lengths,
 * required fields and known event names are checked by the schemas.)
 */
function checkDefinition(input: WebhookInput, addresses: AddressPolicy): WebhookProblems {
  const problems: WebhookProblems = {};
  const endpoint = input.endpoint === undefined ? undefined : endpointProblem(input.endpoint, addresses);
  if (endpoint !== undefined) problems.endpoint = endpoint;
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
/** Settled deliveries forgotten per transaction when a webhook is deleted: a few milliseconds' work. */
const FORGET_STEP_ROWS = 1000;

const UNSENDABLE_HEADER_CHARACTER = /[^\t\x20-\x7e\x80-\xff]/;

/**
 * Only a host as written is sent to: after `http:` the URL parser skips any number of slashes
 * and backslashes, so `http:///x` and `http:/x` would go to host `x`. The host checked is the
 * parser's, the one undici connects to (`http://2852039166/` is 169.254.169.254); names are
 * checked again at each connection, on what they resolve to then (see addresses.ts).
 */
function endpointProblem(endpoint: string, addresses: AddressPolicy): string | undefined {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return 'The endpoint field must be a valid URL.';
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') return 'The endpoint field must be a valid URL.';
  if (!HOST_AS_WRITTEN.test(asTheUrlParserReadsIt(endpoint))) return 'The endpoint field must name its host after "//", as in https://bridge.example/hooks.';
  const refused = addresses.endpointRefusal(url);
  return refused === undefined ? undefined : REFUSED_ENDPOINT[refused];
}

/** Exactly two slashes after the scheme, then the host. */
const HOST_AS_WRITTEN = /^https?:[/\\]{2}(?![/\\])/i;

/** The URL parser first drops leading and trailing controls and spaces, and tabs and newlines anywhere. */
function asTheUrlParserReadsIt(value: string): string {
  // eslint-disable-next-line no-control-regex -- these are the characters the parser drops
  return value.replace(/^[\x00-\x20]+|[\x00-\x20]+$/g, '').replace(/[\t\n\r]/g, '');
}

const PUBLIC_ONLY = 'this server sends webhooks to public addresses only (ROOMLINE_WEBHOOK_ADDRESSES=public).';

const REFUSED_ENDPOINT: Record<RefusedAddressKind, string> = {
  'link-local': 'The endpoint field must not be a link-local address (169.254.0.0/16, fe80::/10, where cloud metadata services answer).',
  unspecified: 'The endpoint field must not be an unspecified address (0.0.0.0/8, ::).',
  multicast: 'The endpoint field must not be a multicast address.',
  broadcast: 'The endpoint field must not be a broadcast address.',
  loopback: `The endpoint field must not be a loopback address (localhost, 127.0.0.0/8, ::1): ${PUBLIC_ONLY}`,
  private: `The endpoint field must not be a private network address (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10, fc00::/7): ${PUBLIC_ONLY}`,
};

function unique(events: string[]): WebhookEventName[] {
  return [...new Set(events)] as WebhookEventName[];
}
