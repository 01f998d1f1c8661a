import type { DeliveryRow } from '../../src/store/repos/webhooks.js';

/** A delivery row as the outbox queues it (pending, never tried), with `fields` over the defaults. */
export function queuedDelivery(fields: Pick<DeliveryRow, 'id' | 'webhook_id' | 'team_id' | 'sequence'> & Partial<DeliveryRow>): DeliveryRow {
  return {
    event_id: `event-${fields.sequence}`,
    event: 'participant_joined',
    payload: `{"n":${fields.sequence}}`,
    status: 'pending',
    attempts: 0,
    next_attempt_at: 0,
    claimed_until: null,
    last_status_code: null,
    last_error: null,
    last_attempt_at: null,
    delivered_at: null,
    created_at: 0,
    queued_at: 0,
    ...fields,
  };
}
