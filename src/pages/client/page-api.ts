import type { JoinAnswer, JoinRequest, ParticipantActionPath } from '../panel-protocol.js';

/** The room page's calls to its server. Everything after the join carries the participant credential. */

const BASE = '/room-page/api';

/** A refused call, with the server's own words for it. */
export class PageApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function call<T>(path: string, init: { credential?: string; body?: unknown }): Promise<T> {
  const headers: Record<string, string> = {};
  if (init.credential !== undefined) headers.authorization = `Bearer ${init.credential}`;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(BASE + path, { method: 'POST', headers, body: init.body === undefined ? undefined : JSON.stringify(init.body) });
  } catch {
    throw new PageApiError(0, 'The server cannot be reached. Check your connection and try again.');
  }
  const text = await response.text();
  const body = text === '' ? undefined : (JSON.parse(text) as unknown);
  if (!response.ok) {
    const message = (body as { message?: string } | undefined)?.message ?? `The server answered ${response.status}.`;
    throw new PageApiError(response.status, message);
  }
  return body as T;
}

export function join(roomId: string, request: JoinRequest): Promise<JoinAnswer> {
  return call(`/rooms/${encodeURIComponent(roomId)}/join`, { body: request });
}

export function leave(credential: string): Promise<void> {
  return call('/leave', { credential });
}

export function setOwnHand(credential: string, raised: boolean): Promise<void> {
  return call('/hand', { credential, body: { raised } });
}

export function actOn(credential: string, participantId: string, action: ParticipantActionPath): Promise<void> {
  return call(`/participants/${encodeURIComponent(participantId)}/${action}`, { credential });
}

export function setRoomLocked(credential: string, locked: boolean): Promise<void> {
  return call(`/room/${locked ? 'lock' : 'unlock'}`, { credential });
}
