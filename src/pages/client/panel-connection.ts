import type { PanelMessage } from '../panel-protocol.js';

/**
 * The panel's live connection: newline-delimited JSON read from a streaming fetch (so the
 * credential travels in a header, never in a URL). A dropped connection is reopened with a
 * growing delay; the server keeps the participant for a grace period meanwhile, and each
 * reopened connection starts with a fresh snapshot.
 *
 * The page also says it is there every `alive_ms` (POST /room-page/api/alive): the server keeps
 * the participant only while it does, since a socket whose network went silent can look open to
 * the server for many minutes. A word that does not get through also tells the page that its
 * connection is in trouble long before the stream's heartbeat would.
 */
export interface PanelConnectionHandlers {
  /** The messages of one read, in order: a burst (a bridge's batch of a thousand calls) comes as one. */
  messages(messages: PanelMessage[]): void;
  /** Whether the connection is open now (false while reconnecting). */
  connected(open: boolean): void;
  /** Why the connection keeps failing, after a few attempts in a row; undefined once it works again. */
  trouble(message: string | undefined): void;
  /** The credential no longer admits anyone: the participant is gone. */
  unauthorized(): void;
}

const STREAM_URL = '/room-page/api/stream?alive=1';
const ALIVE_URL = '/room-page/api/alive';
const RETRY_DELAYS_MS = [250, 500, 1000, 2000, 4000];
/** Silence for this many heartbeats means the connection is dead, even if no error says so. */
const MISSED_HEARTBEATS = 2.5;
/** Failed attempts in a row before the page says why. */
const TROUBLE_AFTER = 3;

export function openPanelConnection(credential: string, handlers: PanelConnectionHandlers): { close(): void } {
  const authorization = `Bearer ${credential}`;
  let stopped = false;
  let attempt = 0;
  let abort: AbortController | undefined;
  let retryTimer: number | undefined;
  let aliveTimer: number | undefined;

  function stop(): void {
    stopped = true;
    window.clearTimeout(retryTimer);
    window.clearInterval(aliveTimer);
    abort?.abort();
  }

  function unauthorized(): void {
    if (stopped) return;
    stop();
    handlers.unauthorized();
  }

  /** Says the page is there; a word that does not get through drops the stream, to reconnect at once. */
  async function sayAlive(everyMs: number): Promise<void> {
    try {
      const response = await fetch(ALIVE_URL, { method: 'POST', headers: { authorization }, cache: 'no-store', signal: AbortSignal.timeout(everyMs) });
      if (response.status === 401) unauthorized();
    } catch {
      abort?.abort();
    }
  }

  function startSayingAlive(everyMs: number): void {
    if (aliveTimer !== undefined || stopped) return;
    aliveTimer = window.setInterval(() => void sayAlive(everyMs), everyMs);
  }

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
    let failure: string | undefined;
    try {
      const response = await fetch(STREAM_URL, { headers: { authorization }, signal: current.signal, cache: 'no-store' });
      if (response.status === 401) return unauthorized();
      if (!response.ok || response.body === null) {
        failure = await refusalOf(response);
        throw new Error(failure);
      }
      handlers.connected(true);
      handlers.trouble(undefined);
      attempt = 0;
      feedWatchdog();
      for await (const batch of readLines(response.body)) {
        feedWatchdog();
        const shown: PanelMessage[] = [];
        for (const message of batch) {
          if (message.type === 'hello') {
            heartbeatMs = message.heartbeat_ms;
            startSayingAlive(message.alive_ms);
          }
          if (message.type === 'ended') ended = true;
          if (message.type !== 'ping') shown.push(message);
        }
        if (shown.length > 0) handlers.messages(shown);
      }
    } catch {
      // A dropped or aborted connection: reconnect below, unless closed on purpose.
      failure ??= 'The connection to the room was lost.';
    } finally {
      window.clearTimeout(watchdog);
    }
    if (ended) stop();
    if (stopped) return;
    handlers.connected(false);
    attempt += 1;
    if (attempt >= TROUBLE_AFTER) handlers.trouble(failure);
    const delay = RETRY_DELAYS_MS[Math.min(attempt - 1, RETRY_DELAYS_MS.length - 1)]!;
    retryTimer = window.setTimeout(() => void connect(), delay);
  }

  void connect();
  return { close: stop };
}

/** The server's own words for a refused stream (a 429: too many panels open), else its status. */
async function refusalOf(response: Response): Promise<string> {
  try {
    const body = (await response.json()) as { message?: unknown };
    if (typeof body.message === 'string') return body.message;
  } catch {
    // Not JSON: the status says it.
  }
  return `The server answered ${response.status}.`;
}

/** The stream's messages, a batch per read. */
async function* readLines(body: ReadableStream<Uint8Array>): AsyncGenerator<PanelMessage[]> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let pending = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    pending += decoder.decode(value, { stream: true });
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    const batch: PanelMessage[] = [];
    for (const line of lines) if (line.trim() !== '') batch.push(JSON.parse(line) as PanelMessage);
    if (batch.length > 0) yield batch;
  }
}
