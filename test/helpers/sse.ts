import { authorizationHeader, waitFor, type TestServer } from './server.js';

/** One Server-Sent Event, its data parsed as JSON. */
export interface SseMessage {
  id: string | undefined;
  event: string;
  data: any;
}

export interface SseStream {
  status: number;
  headers: Headers;
  /** The body when the answer is not a stream (an error). */
  errorBody: any;
  /** Every event received so far, in order. */
  messages: SseMessage[];
  /** Every comment line received so far (": heartbeat" → "heartbeat"). */
  comments: string[];
  /** True once the server has ended the stream. */
  ended: boolean;
  /** The next event not yet taken by next(), waiting for it to arrive. */
  next(what?: string): Promise<SseMessage>;
  /** Takes events until one named `event` arrives, and answers it. */
  nextNamed(event: string): Promise<SseMessage>;
  /** Waits until the server ends the stream. */
  waitForEnd(): Promise<void>;
  close(): void;
}

/** Opens a room's event stream (GET …/live/events) and parses it as it arrives. */
export async function openEventStream(url: string, headers: Record<string, string> = {}): Promise<SseStream> {
  const abort = new AbortController();
  const response = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: abort.signal });
  const stream: SseStream = {
    status: response.status,
    headers: response.headers,
    errorBody: undefined,
    messages: [],
    comments: [],
    ended: false,
    next: (what = 'next event') =>
      waitFor(
        () => {
          const message = stream.messages[taken];
          if (message !== undefined) taken += 1;
          return message;
        },
        5000,
        what,
      ),
    async nextNamed(event) {
      for (;;) {
        const message = await stream.next(`a ${event} event`);
        if (message.event === event) return message;
      }
    },
    waitForEnd: () => waitFor(() => (stream.ended ? true : undefined), 5000, 'the stream to end').then(() => undefined),
    close: () => abort.abort(),
  };
  let taken = 0;

  if (!response.headers.get('content-type')?.startsWith('text/event-stream')) {
    const text = await response.text();
    stream.errorBody = text === '' ? undefined : JSON.parse(text);
    stream.ended = true;
    return stream;
  }
  void readEvents(response, stream);
  return stream;
}

async function readEvents(response: Response, stream: SseStream): Promise<void> {
  const decoder = new TextDecoder();
  let pending = '';
  try {
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      pending += decoder.decode(chunk, { stream: true });
      let end = pending.indexOf('\n\n');
      while (end >= 0) {
        parseBlock(pending.slice(0, end), stream);
        pending = pending.slice(end + 2);
        end = pending.indexOf('\n\n');
      }
    }
  } catch {
    // Aborted by close(), or cut by the server: either way the stream is over.
  }
  stream.ended = true;
}

function parseBlock(block: string, stream: SseStream): void {
  let id: string | undefined;
  let event = 'message';
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) stream.comments.push(line.slice(1).trim());
    else if (line.startsWith('id:')) id = line.slice(3).trim();
    else if (line.startsWith('event:')) event = line.slice(6).trim();
    else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
  }
  if (data.length > 0) stream.messages.push({ id, event, data: JSON.parse(data.join('\n')) });
}

/** Opens a room's stream as team A (Bearer developer key). */
export function openRoomStream(t: TestServer, room: string, headers: Record<string, string> = {}, query = ''): Promise<SseStream> {
  const authorization = authorizationHeader({ kind: 'bearer', key: t.teamA.developer_key }) ?? '';
  return openEventStream(`${t.url}/api/v1/rooms/${room}/live/events${query}`, { authorization, ...headers });
}
