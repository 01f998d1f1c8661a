import type { PanelMessage } from '../panel-protocol.js';

/**
 * The panel's live connection: newline-delimited JSON read from a streaming fetch (so the
 * credential travels in a header, never in a URL). A dropped connection is reopened with a
 * growing delay; the server keeps the participant for a grace period meanwhile, and each
 * reopened connection starts with a fresh snapshot.
 */
export interface PanelConnectionHandlers {
  message(message: PanelMessage): void;
  /** Whether the connection is open now (false while reconnecting). */
  connected(open: boolean): void;
  /** The credential no longer admits anyone: the participant is gone. */
  unauthorized(): void;
}

const RETRY_DELAYS_MS = [250, 500, 1000, 2000, 4000];
/** Silence for this many heartbeats means the connection is dead, even if no error says so. */
const MISSED_HEARTBEATS = 2.5;

export function openPanelConnection(credential: string, handlers: PanelConnectionHandlers): { close(): void } {
  let stopped = false;
  let attempt = 0;
  let abort: AbortController | undefined;
  let retryTimer: number | undefined;

  async function connect(): Promise<void> {
    abort = new AbortController();
    const current = abort;
    let heartbeatMs = 15_000;
    let watchdog: number | undefined;
    const feedWatchdog = () => {
      window.clearTimeout(watchdog);
      watchdog = window.setTimeout(() => current.abort(), heartbeatMs * MISSED_HEARTBEATS);
    };
    let ended = false;
    try {
      const response = await fetch('/room-page/api/stream', { headers: { authorization: `Bearer ${credential}` }, signal: current.signal, cache: 'no-store' });
      if (response.status === 401) {
        stopped = true;
        return handlers.unauthorized();
      }
      if (!response.ok || response.body === null) throw new Error(`stream answered ${response.status}`);
      handlers.connected(true);
      attempt = 0;
      feedWatchdog();
      for await (const message of readLines(response.body)) {
        feedWatchdog();
        if (message.type === 'hello') heartbeatMs = message.heartbeat_ms;
        if (message.type === 'ended') ended = true;
        if (message.type !== 'ping') handlers.message(message);
      }
    } catch {
      // A dropped or aborted connection: reconnect below, unless closed on purpose.
    } finally {
      window.clearTimeout(watchdog);
    }
    if (ended) stopped = true;
    if (stopped) return;
    handlers.connected(false);
    const delay = RETRY_DELAYS_MS[Math.min(attempt, RETRY_DELAYS_MS.length - 1)]!;
    attempt += 1;
    retryTimer = window.setTimeout(() => void connect(), delay);
  }

  void connect();
  return {
    close() {
      stopped = true;
      window.clearTimeout(retryTimer);
      abort?.abort();
    },
  };
}

async function* readLines(body: ReadableStream<Uint8Array>): AsyncGenerator<PanelMessage> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let pending = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    pending += decoder.decode(value, { stream: true });
    let end = pending.indexOf('\n');
    while (end >= 0) {
      const line = pending.slice(0, end).trim();
      pending = pending.slice(end + 1);
      if (line !== '') yield JSON.parse(line) as PanelMessage;
      end = pending.indexOf('\n');
    }
  }
}
