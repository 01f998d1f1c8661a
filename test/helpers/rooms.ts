import { randomUUID } from 'node:crypto';
import type { RoomEvent } from '../../src/bus/events.js';
import { joinParticipants, lockRosterRoom } from '../../src/domain/roster-changes.js';
import { findRoom } from '../../src/store/repos/rooms.js';
import type { ApiClient, TestServer } from './server.js';

export interface CreatedRoom {
  id: string;
  friendly_url: string;
  [field: string]: unknown;
}

/** Creates a room through the real API (POST /api/v1/rooms); a unique friendly_url unless one is given. */
export async function createRoom(api: ApiClient, body: Record<string, unknown> = {}): Promise<CreatedRoom> {
  const response = await api.post<CreatedRoom>('/api/v1/rooms', { friendly_url: `room-${randomUUID().slice(0, 8)}`, ...body });
  if (response.status !== 200) throw new Error(`POST /api/v1/rooms answered ${response.status}: ${response.text}`);
  return response.body;
}

/** A room with telephony enabled, as the phone tests need. */
export function createPhoneRoom(api: ApiClient, body: Record<string, unknown> = {}): Promise<CreatedRoom> {
  return createRoom(api, { telephony_enabled: true, ...body });
}

/** A phone call as the bridge reports it in `phone-participants/joined`. */
export function call(callId: string, fields: Record<string, unknown> = {}): Record<string, unknown> {
  return { call_id: callId, name: `Caller ${callId}`, ...fields };
}

/** The call ids live in the room, sorted. */
export async function liveCallIds(api: ApiClient, roomId: string): Promise<string[]> {
  const response = await api.get(`/api/v1/rooms/${roomId}/live/participants`);
  if (response.status !== 200) throw new Error(`live participants answered ${response.status}: ${response.text}`);
  return (response.body.live_participants as Array<{ call_id: string | null }>).map((participant) => participant.call_id ?? '').sort();
}

/** Every event published on the server's bus from now on (the real bus, as streams and webhooks see it). */
export function recordEvents(t: TestServer): { events: RoomEvent[]; stop: () => void } {
  const events: RoomEvent[] = [];
  const stop = t.running.services.bus.subscribe((event) => events.push(event));
  return { events, stop };
}

/**
 * A web participant joins through the roster itself, the code path the room page uses, inside
 * a change of its own. Answers the participant's id.
 */
export function joinWebParticipant(
  t: TestServer,
  roomId: string,
  fields: { name: string; device: string; externalId?: string | null },
): Promise<string> {
  return t.running.services.changes.run(async function joinWeb(change) {
    const row = (await findRoom(change.trx, t.teamA.team_id, roomId))!;
    await lockRosterRoom(change, row.id);
    const newcomer = { type: 'web' as const, name: fields.name, external_id: fields.externalId ?? null, call_id: null, caller_number: null, device: fields.device, muted: false };
    const [participant] = await joinParticipants(change, row, [newcomer]);
    return participant!.id;
  });
}
