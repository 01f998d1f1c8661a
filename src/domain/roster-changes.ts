import { timeOrderedId } from './ids.js';
import type { EventName } from '../bus/events.js';
import type { RoomRow } from '../store/repos/rooms.js';
import {
  addLiveParticipants,
  closeSession,
  findLiveSession,
  findRoleName,
  insertActivity,
  insertParticipants,
  insertSession,
  lastLeaveTime,
  liveParticipants,
  lockRoom,
  markParticipantsLeft,
  updateParticipant,
  type ActivityRow,
  type ParticipantPatch,
  type ParticipantRow,
  type SessionRow,
} from '../store/repos/roster.js';
import type { ParticipantType } from '../store/schema.js';
import type { Change } from './changes.js';
import { participantEventData, sessionEventData } from './participant-view.js';
import { groupBy } from './statistics.js';

/**
 * The roster's building blocks, for participants of any type (web or phone), each run inside
 * a caller's change: who joins, who changes, who leaves, and the room's session opening with
 * its first live participant and closing with its last. Every caller takes the room's lock
 * first (lockRosterRoom), so the live count and the session never race.
 */

/** Why a participant left. */
export type LeaveReason =
  | 'left'
  | 'bridge_disconnected'
  | 'reconciled'
  | 'room_deleted'
  | 'session_ended'
  | 'session_length'
  // A web participant whose live connection was gone for longer than the presence grace period.
  | 'disconnected'
  // A web participant a moderator removed from the room page.
  | 'removed';

/** Why a session ended: its last participant left, or every participant was made to leave for this reason. */
export type SessionEndReason = 'last_participant_left' | LeaveReason;

export interface Newcomer {
  type: ParticipantType;
  name: string | null;
  external_id: string | null;
  call_id: string | null;
  caller_number: string | null;
  device: string;
  muted: boolean;
  /** The role to join with (a room token's); the room's default role when absent. */
  role_id?: string;
}

/** What may change on a live participant; absent fields stay as they are. */
export interface ParticipantChange {
  name?: string | null;
  caller_number?: string | null;
  external_id?: string | null;
  muted?: boolean;
  hand_raised?: boolean;
}

/** Locks the room for this change; false when the room no longer exists. */
export function lockRosterRoom(change: Change, roomId: string): Promise<boolean> {
  return lockRoom(change.trx, roomId);
}

/** Joins newcomers to the room's live session (opening it for the first one), each with its role or the room's default role. */
export async function joinParticipants(change: Change, room: RoomRow, newcomers: readonly Newcomer[]): Promise<ParticipantRow[]> {
  if (newcomers.length === 0) return [];
  const session = (await findLiveSession(change.trx, room.id)) ?? (await openSession(change, room));
  const roleIds = [...new Set(newcomers.map((newcomer) => newcomer.role_id ?? room.default_role_id))];
  const roleNames = new Map(await Promise.all(roleIds.map(async (roleId) => [roleId, (await findRoleName(change.trx, roleId)) ?? null] as const)));
  // Time-ordered ids: with random ones a batch of a thousand dirtied hundreds of pages of the id
  // index, and its COMMIT wrote them all. A batch joins at one instant and its ids are handed
  // out sorted, so ordering by (join_time, id) keeps the batch's order.
  const ids = newcomers.map(() => timeOrderedId()).sort();
  const rows: ParticipantRow[] = newcomers.map((newcomer, index) => ({
    id: ids[index]!,
    team_id: room.team_id,
    room_id: room.id,
    session_id: session.id,
    type: newcomer.type,
    name: newcomer.name,
    external_id: newcomer.external_id,
    role_id: newcomer.role_id ?? room.default_role_id,
    role_name: roleNames.get(newcomer.role_id ?? room.default_role_id) ?? null,
    call_id: newcomer.call_id,
    caller_number: newcomer.caller_number,
    device: newcomer.device,
    join_time: change.now,
    leave_time: null,
    leave_reason: null,
    muted: newcomer.muted ? 1 : 0,
    hand_raised: 0,
  }));
  await insertParticipants(change.trx, rows);
  await addLiveParticipants(change.trx, session.id, rows.length);
  // Joining muted starts a mute period, as attendance detail counts them.
  await insertActivity(change.trx, rows.filter((row) => row.muted === 1).map((row) => activity(change, row, 'muted')));
  for (const row of rows) emitParticipantEvent(change, 'participant_joined', row);
  return rows;
}

/**
 * Applies changes to live participants and announces what actually changed: mute and hand
 * flags with their own events (and an activity row), new details (name, number, external id)
 * with `participant_details_changed` (streams and panels only: a webhook receiver counting
 * joins must not see a second join). A change that changes nothing writes nothing and
 * announces nothing.
 */
export async function changeParticipants(change: Change, updates: ReadonlyArray<{ participant: ParticipantRow; changes: ParticipantChange }>): Promise<void> {
  const activities: ActivityRow[] = [];
  for (const { participant, changes } of updates) {
    const patch = patchFor(participant, changes);
    if (Object.keys(patch).length === 0) continue;
    const row: ParticipantRow = { ...participant, ...patch };
    await updateParticipant(change.trx, row.id, patch);
    const details = detailsOf(patch);
    if (Object.keys(details).length > 0) {
      // With the details that changed, and only those: a stream tells its watchers what changed.
      change.emit({ name: 'participant_details_changed', teamId: row.team_id, roomId: row.room_id, data: { ...participantEventData(row), changed: details } });
    }
    if (patch.muted !== undefined) {
      activities.push(activity(change, row, patch.muted === 1 ? 'muted' : 'unmuted'));
      // Only a phone call has a DS mute event: it is how the bridge learns to mute the real call.
      if (row.type === 'phone') emitParticipantEvent(change, patch.muted === 1 ? 'phone_participant_muted' : 'phone_participant_unmuted', row);
    }
    if (patch.hand_raised !== undefined) {
      const raised = patch.hand_raised === 1;
      activities.push(activity(change, row, raised ? 'hand_raised' : 'hand_lowered'));
      emitParticipantEvent(change, raised ? 'participant_hand_raised' : 'participant_hand_lowered', row);
    }
  }
  await insertActivity(change.trx, activities);
}

/** How a group of participants leaves, beyond its reason. */
export interface LeaveOptions {
  /** Why the session ends if this empties the room; `last_participant_left` unless everyone was made to leave at once. */
  sessionEndReason?: SessionEndReason;
  /**
   * When they left, if before this change: a page's lease or a session's length that ran out
   * while no node was looking (a server down, a sweep not yet come). Usage counts to here, not
   * to when the change was made. No leave is recorded before its participant's join, nor a
   * session's end before its last leave.
   */
  at?: number;
}

/**
 * Makes live participants leave. A phone call's row, now left, keeps a late `joined` from
 * bringing it back (applyCalls). When nobody is left, the session ends: with `sessionEndReason` when
 * everyone was made to leave at once (session end, room deletion), else because its last
 * participant left.
 */
export async function leaveParticipants(
  change: Change,
  room: RoomRow,
  participants: readonly ParticipantRow[],
  reason: LeaveReason,
  options: LeaveOptions = {},
): Promise<void> {
  if (participants.length === 0) return;
  const at = Math.min(options.at ?? change.now, change.now);
  const leaveTimeOf = (participant: ParticipantRow): number => Math.max(at, participant.join_time);
  if (at === change.now) {
    await markParticipantsLeft(change.trx, participants.map((participant) => participant.id), at, reason);
  } else {
    for (const [time, group] of groupBy(participants, leaveTimeOf)) {
      await markParticipantsLeft(change.trx, group.map((participant) => participant.id), time, reason);
    }
  }
  for (const participant of participants) {
    emitParticipantEvent(change, 'participant_left', { ...participant, leave_time: leaveTimeOf(participant), leave_reason: reason });
  }

  const sessionIds = new Set(participants.map((participant) => participant.session_id));
  for (const sessionId of sessionIds) {
    const leaving = participants.filter((participant) => participant.session_id === sessionId).length;
    const remaining = await addLiveParticipants(change.trx, sessionId, -leaving);
    if (remaining <= 0) {
      // Ended by its last leave, which an earlier `at` may have put before another participant's.
      const endTime = at === change.now ? at : ((await lastLeaveTime(change.trx, sessionId)) ?? at);
      const ended = await closeSession(change.trx, sessionId, endTime, options.sessionEndReason ?? 'last_participant_left');
      change.emit({ name: 'session_ended', teamId: room.team_id, roomId: room.id, data: { ...sessionEventData(ended) } });
    }
  }
}

/** Every live participant of the room leaves, and its session ends, for one reason (session end, room deletion); at `at` if that was earlier. */
export async function leaveEveryone(change: Change, room: RoomRow, reason: LeaveReason, at?: number): Promise<void> {
  await leaveParticipants(change, room, await liveParticipants(change.trx, room.id), reason, { sessionEndReason: reason, at });
}

async function openSession(change: Change, room: RoomRow): Promise<SessionRow> {
  const session: SessionRow = {
    // Time-ordered: a session that opens in the same millisecond as the last one closed still lists after it.
    id: timeOrderedId(),
    team_id: room.team_id,
    room_id: room.id,
    start_time: change.now,
    end_time: null,
    end_reason: null,
    live_participants: 0,
  };
  await insertSession(change.trx, session);
  change.emit({ name: 'session_started', teamId: room.team_id, roomId: room.id, data: { ...sessionEventData(session) } });
  return session;
}

/** The details (name, number, external id) a patch changes. */
function detailsOf(patch: ParticipantPatch): Pick<ParticipantPatch, 'name' | 'caller_number' | 'external_id'> {
  const details: Pick<ParticipantPatch, 'name' | 'caller_number' | 'external_id'> = {};
  if (patch.name !== undefined) details.name = patch.name;
  if (patch.caller_number !== undefined) details.caller_number = patch.caller_number;
  if (patch.external_id !== undefined) details.external_id = patch.external_id;
  return details;
}

/** Only the fields whose value really changes, in the stored form. */
function patchFor(participant: ParticipantRow, changes: ParticipantChange): ParticipantPatch {
  const patch: ParticipantPatch = {};
  if (changes.name !== undefined && changes.name !== participant.name) patch.name = changes.name;
  if (changes.caller_number !== undefined && changes.caller_number !== participant.caller_number) patch.caller_number = changes.caller_number;
  if (changes.external_id !== undefined && changes.external_id !== participant.external_id) patch.external_id = changes.external_id;
  const muted = changes.muted === undefined ? undefined : changes.muted ? 1 : 0;
  if (muted !== undefined && muted !== participant.muted) patch.muted = muted;
  const handRaised = changes.hand_raised === undefined ? undefined : changes.hand_raised ? 1 : 0;
  if (handRaised !== undefined && handRaised !== participant.hand_raised) patch.hand_raised = handRaised;
  return patch;
}

function activity(change: Change, participant: ParticipantRow, kind: 'muted' | 'unmuted' | 'hand_raised' | 'hand_lowered'): ActivityRow {
  // Time-ordered, so two activities of one instant keep the order they happened in (attendanceSegments).
  return { id: timeOrderedId(), participant_id: participant.id, kind, at: change.now };
}

function emitParticipantEvent(change: Change, name: EventName, participant: ParticipantRow): void {
  change.emit({ name, teamId: participant.team_id, roomId: participant.room_id, data: { ...participantEventData(participant) } });
}
