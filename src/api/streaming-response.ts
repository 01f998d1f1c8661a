import type { ServerResponse } from 'node:http';

export interface StreamingResponseOptions {
  /** Response headers (content type and the like); sent at once. */
  headers: Record<string, string>;
  /** What keeps an idle connection open, and how often it is written. */
  heartbeat: { text: string; everyMs: number };
  /** A client this far behind in reading is cut off rather than buffered for: it never slows the server. */
  maxBufferedBytes: number;
}

/**
 * A long-lived response written as things happen (the API's event stream, the room page's
 * panel): its headers, its heartbeat, the cut-off for a client that stopped reading, and its
 * end, once, whoever ends it (the client, the room, a shutdown).
 */
export class StreamingResponse {
  private readonly heartbeat: NodeJS.Timeout;
  private readonly onClose: Array<() => void> = [];
  private closed = false;
  /** Text written in this turn of the event loop, sent as one write when it ends. */
  private pending = '';

  constructor(
    private readonly response: ServerResponse,
    private readonly options: StreamingResponseOptions,
  ) {
    response.writeHead(200, { 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no', ...options.headers });
    response.flushHeaders();
    this.heartbeat = setInterval(() => this.write(options.heartbeat.text), options.heartbeat.everyMs);
    response.on('close', () => this.close());
  }

  /** Ends the response cleanly. */
  end(): void {
    if (this.closed) return;
    this.response.end(this.pending);
    this.pending = '';
    this.close();
  }

  /** Runs `callback` when the response closes, at once if it already has. */
  whenClosed(callback: () => void): void {
    if (this.closed) callback();
    else this.onClose.push(callback);
  }

  /**
   * Writes `text` unless closed; past the buffer limit the client is cut off. Writes of one
   * turn of the event loop go out together: a commit carries many changes, and a room's
   * watchers would otherwise cost a system call per event each.
   */
  write(text: string): void {
    if (this.closed) return;
    if (this.pending === '') setImmediate(() => this.flush());
    this.pending += text;
  }

  private flush(): void {
    if (this.closed || this.pending === '') return;
    this.response.write(this.pending);
    this.pending = '';
    if (this.response.writableLength > this.options.maxBufferedBytes) {
      this.response.destroy();
      this.close();
    }
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.heartbeat);
    for (const callback of this.onClose.splice(0)) callback();
  }
}
