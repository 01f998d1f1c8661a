export type WebhookOutcome = 'delivered' | 'retrying' | 'failed';

/**
 * What roomline counts of its own work as it goes: Prometheus's (prometheus.ts) where
 * ROOMLINE_METRICS_PORT is set, nothing at all otherwise.
 */
export interface Metrics {
  /** One answered request: its method, its route's pattern (never its URL: ids would make a series each), status and seconds. */
  request(method: string, route: string, status: number, seconds: number): void;
  /** One webhook attempt: what came of it, and how long its receiver took. */
  webhookAttempt(outcome: WebhookOutcome, seconds: number): void;
}

export const NO_METRICS: Metrics = {
  request() {},
  webhookAttempt() {},
};
