import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface ReceivedRequest {
  headers: http.IncomingHttpHeaders;
  body: string;
  json: any;
  /** What this receiver answered (0 when it hung up or was too slow). */
  answered: number;
}

/** How the receiver treats the next requests. */
export type ReceiverMode = { kind: 'ok' } | { kind: 'fail'; status: number } | { kind: 'slow'; delayMs: number };

/**
 * A real webhook receiver on a loopback port. It can refuse connections (stop listening),
 * answer errors, answer slowly, and recover on the same port.
 */
export class Receiver {
  readonly requests: ReceivedRequest[] = [];
  mode: ReceiverMode = { kind: 'ok' };
  private server: http.Server | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;

  get url(): string {
    return `http://127.0.0.1:${this.port}/hook`;
  }

  /** The requests answered 2xx, in arrival order. */
  get accepted(): ReceivedRequest[] {
    return this.requests.filter((request) => request.answered >= 200 && request.answered < 300);
  }

  async start(): Promise<void> {
    const server = http.createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const entry: ReceivedRequest = { headers: request.headers, body, json: safeJson(body), answered: 0 };
        this.requests.push(entry);
        const mode = this.mode;
        if (mode.kind === 'ok') {
          entry.answered = 204;
          response.writeHead(204).end();
        } else if (mode.kind === 'fail') {
          entry.answered = mode.status;
          response.writeHead(mode.status, { 'content-type': 'text/plain' }).end('receiver failure');
        } else {
          const timer = setTimeout(() => {
            if (response.destroyed) return;
            entry.answered = 200;
            response.writeHead(200).end('late');
          }, mode.delayMs);
          response.on('close', () => clearTimeout(timer));
        }
      });
    });
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Stops listening and drops open connections: senders now get "connection refused". */
  async refuse(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server === undefined) return;
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async stop(): Promise<void> {
    await this.refuse();
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
