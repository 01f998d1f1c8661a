import { timeOrderedId } from '../domain/ids.js';
import type { Transaction } from 'kysely';
import type { RoomEvent } from '../bus/events.js';
import { isoTime, type Clock } from '../domain/clock.js';
import type { CommitHook } from '../domain/changes.js';
import type { Database } from '../store/schema.js';
import { findRoomSettings } from '../store/repos/rooms.js';
import { insertDeliveries, takeSequences, webhooksForTeam, type DeliveryRow, type WebhookRow } from '../store/repos/webhooks.js';

/** The DS webhook body: `{"event", "timestamp", "data"}`. */
export function webhookPayload(event: RoomEvent): string {
  return JSON.stringify({ event: event.name, timestamp: isoTime(event.at), data: event.data });
}

/**
 * The outbox: a commit hook that, inside the change's own transaction, writes one delivery
 * row per (subscribed webhook, event). If the change commits, its deliveries exist; if it
 * rolls back, they never did — so a committed event cannot be lost, even to kill -9.
 */
export function createOutboxHook(options: { afterEnqueued: (webhookIds: readonly string[]) => void; deliveryClock: Clock }): CommitHook {
  return async function enqueueDeliveries(trx: Transaction<Database>, events: readonly RoomEvent[]): Promise<void | (() => void)> {
    if (events.length === 0) return;
    const rows: DeliveryRow[] = [];
    const webhooksByTeam = new Map<string, WebhookRow[]>();
    const roomFilters = new Map<string, Set<string> | null>();

    for (const event of events) {
      // One body per event, however many webhooks it goes to: each delivery stores the same text.
      let payload: string | undefined;
      let webhooks = webhooksByTeam.get(event.teamId);
      if (webhooks === undefined) {
        webhooks = await webhooksForTeam(trx, event.teamId);
        webhooksByTeam.set(event.teamId, webhooks);
      }
      if (webhooks.length === 0) continue;
      const allowed = event.roomId === null ? null : await roomWebhookFilter(trx, event.roomId, roomFilters);
      for (const webhook of webhooks) {
        if (!subscribes(webhook, event.name)) continue;
        if (allowed !== null && !allowed.has(webhook.id)) continue;
        payload ??= webhookPayload(event);
        rows.push(delivery(webhook, event, payload, options.deliveryClock.now()));
      }
    }
    if (rows.length === 0) return;

    // Number each webhook's new rows in event order, taking the numbers in one update per webhook.
    const perWebhook = new Map<string, DeliveryRow[]>();
    for (const row of rows) {
      const queue = perWebhook.get(row.webhook_id);
      if (queue === undefined) perWebhook.set(row.webhook_id, [row]);
      else queue.push(row);
    }
    for (const [webhookId, queue] of perWebhook) {
      const first = await takeSequences(trx, webhookId, queue.length);
      // Deleted by another node since the team's webhooks were read: nothing to deliver to.
      if (first === undefined) perWebhook.delete(webhookId);
      else queue.forEach((row, index) => (row.sequence = first + index));
    }
    if (perWebhook.size === 0) return;
    await insertDeliveries(trx, [...perWebhook.values()].flat());
    // Woken only after COMMIT: a sender on another connection would not see the rows before.
    const webhookIds = [...perWebhook.keys()];
    return () => options.afterEnqueued(webhookIds);
  };
}

const subscriptionCache = new WeakMap<WebhookRow, Set<string>>();

function subscribes(webhook: WebhookRow, eventName: string): boolean {
  let events = subscriptionCache.get(webhook);
  if (events === undefined) {
    events = new Set(JSON.parse(webhook.events) as string[]);
    subscriptionCache.set(webhook, events);
  }
  return events.has(eventName);
}

/** A room may limit which webhooks fire for it (the DS room field `webhooks`); null means all. */
async function roomWebhookFilter(trx: Transaction<Database>, roomId: string, cache: Map<string, Set<string> | null>): Promise<Set<string> | null> {
  if (cache.has(roomId)) return cache.get(roomId) ?? null;
  const settings = await findRoomSettings(trx, roomId);
  const filter = settings === undefined ? null : webhookFilterOf(roomId, settings);
  cache.set(roomId, filter);
  return filter;
}

/**
 * The filter a room's settings name. A room's settings are some kilobytes of JSON, read again
 * by every change: each room's last settings text is kept with its filter (bounded, emptied
 * when full), so they are parsed once per edit, not once per change. Kept by room and compared
 * as text: a lookup by the text itself would hash those kilobytes on every change.
 */
function webhookFilterOf(roomId: string, settings: string): Set<string> | null {
  const known = filtersByRoom.get(roomId);
  if (known !== undefined && known.settings === settings) return known.filter;
  const listed = (JSON.parse(settings) as { webhooks?: unknown }).webhooks;
  // Ids in lower case, as webhooks' are: a room's list written before rooms kept it so still counts.
  const filter = Array.isArray(listed) && listed.length > 0 ? new Set(listed.map((id) => String(id).toLowerCase())) : null;
  if (filtersByRoom.size >= 1000) filtersByRoom.clear();
  filtersByRoom.set(roomId, { settings, filter });
  return filter;
}

const filtersByRoom = new Map<string, { settings: string; filter: Set<string> | null }>();

/** A delivery of `event` (its body, `payload`) to `webhook`, due at once (`queuedAt`, on the delivery clock). */
function delivery(webhook: WebhookRow, event: RoomEvent, payload: string, queuedAt: number): DeliveryRow {
  return {
    id: timeOrderedId(),
    webhook_id: webhook.id,
    team_id: event.teamId,
    event_id: event.id,
    event: event.name,
    sequence: 0,
    payload,
    status: 'pending',
    attempts: 0,
    next_attempt_at: queuedAt,
    claimed_until: null,
    last_status_code: null,
    last_error: null,
    last_attempt_at: null,
    delivered_at: null,
    created_at: event.at,
    queued_at: queuedAt,
  };
}
