import type { PanelMessage } from '../../src/pages/panel-protocol.js';
import { createClient, waitFor, type ApiClient, type ApiResponse, type TestServer } from '../helpers/server.js';

/** The room page's own API, driven over HTTP as its client drives it (no browser). */

export interface JoinedPage {
  credential: string;
  participantId: string;
  /** A client sending the participant credential, for the page API. */
  page: ApiClient;
}

export async function joinPage(t: TestServer, roomId: string, body: { name?: string; token?: string }, userAgent?: string): Promise<ApiResponse> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (userAgent !== undefined) headers['user-agent'] = userAgent;
  return t.client().request('POST', `/room-page/api/rooms/${roomId}/join`, { body, headers });
}

/** Joins and answers the participant's credential; fails the test when the join is refused. */
export async function joinAs(t: TestServer, roomId: string, body: { name?: string; token?: string }, userAgent?: string): Promise<JoinedPage> {
  const response = await joinPage(t, roomId, body, userAgent);
  if (response.status !== 200) throw new Error(`join answered ${response.status}: ${response.text}`);
  const { credential, participant_id: participantId } = response.body as { credential: string; participant_id: string };
  return { credential, participantId, page: createClient(t.url, { kind: 'header', value: `Bearer ${credential}` }) };
}

export interface PanelReader {
  status: number;
  messages: PanelMessage[];
  ended: boolean;
  /** Takes messages until one of `type` arrives, and answers it. */
  next<T extends PanelMessage['type']>(type: T): Promise<Extract<PanelMessage, { type: T }>>;
  close(): void;
}

/**
 * Opens the panel stream with a credential and reads its lines as they come. With `alive`, as
 * the page's client opens it: the participant is then kept only while it says it is there
 * (sayAlive); without, for as long as the stream is open.
 */
export async function openPanel(t: TestServer, credential: string | undefined, options: { alive?: boolean } = {}): Promise<PanelReader> {
  const abort = new AbortController();
  const headers: Record<string, string> = credential === undefined ? {} : { authorization: `Bearer ${credential}` };
  const response = await fetch(`${t.url}/room-page/api/stream${options.alive === true ? '?alive=1' : ''}`, { headers, signal: abort.signal });
  let taken = 0;
  const reader: PanelReader = {
    status: response.status,
    messages: [],
    ended: false,
    async next(type) {
      for (;;) {
        const message = await waitFor(() => reader.messages[taken], 5000, `a ${type} message`);
        taken += 1;
        if (message.type === type) return message as never;
      }
    },
    close: () => abort.abort(),
  };
  if (response.status !== 200) {
    await response.text();
    reader.ended = true;
    return reader;
  }
  void (async () => {
    const decoder = new TextDecoder();
    let pending = '';
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        pending += decoder.decode(chunk, { stream: true });
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) if (line.trim() !== '') reader.messages.push(JSON.parse(line) as PanelMessage);
      }
    } catch {
      // Closed by the test, or cut by the server.
    }
    reader.ended = true;
  })();
  return reader;
}

/** What the page's client does every `alive_ms`: says the participant is there. Answers the status. */
export async function sayAlive(t: TestServer, credential: string): Promise<number> {
  return (await t.client({ kind: 'header', value: `Bearer ${credential}` }).request('POST', '/room-page/api/alive')).status;
}
