import { ApiError, notFound } from '../api/errors.js';
import { findRole } from '../store/repos/roles.js';
import { findParticipant, findRoomById } from '../store/repos/room-page.js';
import type { ParticipantRow } from '../store/repos/roster.js';
import { roomLane } from './changes.js';
import type { CoreDeps } from './deps.js';
import type { Permission, PermissionSet } from './permissions.js';
import { leaveWebParticipants } from './presence.js';
import { fromColumns } from './room-settings.js';
import type { RoomService } from './rooms.js';
import { changeParticipants, lockRosterRoom } from './roster-changes.js';
import type { Capabilities } from './capabilities.js';

/**
 * What a participant may do from the room page, by the permissions of its role: moderators'
 * actions on other participants and on the room, and raising its own hand. The page shows
 * only the controls a participant may use; every action is checked again here.
 */

/** An action on another live participant of the room. */
export type ParticipantAction = 'mute' | 'unmute' | 'ask_to_unmute' | 'lower_hand' | 'remove';

/** The role permissions (any one of them) each capability needs. */
const NEEDS: Record<keyof Capabilities, readonly Permission[]> = {
  mute: ['remote_muting', 'manage_phone_users'],
  ask_to_unmute: ['ask_remote_unmute'],
  lower_hand: ['remote_muting'],
  remove: ['remove_participant'],
  lock: ['control_room_entry'],
  raise_hand: ['raise_hand'],
};

const CAPABILITY_OF: Record<ParticipantAction, keyof Capabilities> = {
  mute: 'mute',
  unmute: 'mute',
  ask_to_unmute: 'ask_to_unmute',
  lower_hand: 'lower_hand',
  remove: 'remove',
};

export interface ModerationService {
  capabilities(actor: ParticipantRow): Promise<Capabilities>;
  /** Acts on a live participant of the actor's room: 403 without the permission, 404 for anyone else, 422 when the action does not apply. */
  act(actor: ParticipantRow, action: ParticipantAction, targetId: string): Promise<void>;
  /** Locks or unlocks the actor's room (room_locked / room_unlocked). */
  setRoomLocked(actor: ParticipantRow, locked: boolean): Promise<void>;
  /** Raises (with the permission, where the room allows hands) or lowers the actor's own hand. */
  setOwnHand(actor: ParticipantRow, raised: boolean): Promise<void>;
}

export function createModerationService(deps: CoreDeps & { rooms: RoomService }): ModerationService {
  const { store, changes, rooms } = deps;

  async function capabilities(actor: ParticipantRow): Promise<Capabilities> {
    const role = actor.role_id === null ? undefined : await findRole(store.db, actor.team_id, actor.role_id);
    const permissions = role === undefined ? {} : (JSON.parse(role.permissions) as PermissionSet);
    const room = await findRoomById(store.db, actor.room_id);
    const handsAllowed = room !== undefined && fromColumns(room).settings.raise_hand_enabled;
    const granted = (capability: keyof Capabilities) => NEEDS[capability].some((permission) => permissions[permission] === true);
    return {
      mute: granted('mute'),
      ask_to_unmute: granted('ask_to_unmute'),
      lower_hand: granted('lower_hand'),
      remove: granted('remove'),
      lock: granted('lock'),
      raise_hand: granted('raise_hand') && handsAllowed,
    };
  }

  async function requireCapability(actor: ParticipantRow, capability: keyof Capabilities): Promise<void> {
    if (!(await capabilities(actor))[capability]) throw new ApiError('forbidden');
  }

  async function act(actor: ParticipantRow, action: ParticipantAction, targetId: string): Promise<void> {
    await requireCapability(actor, CAPABILITY_OF[action]);
    await changes.run(async function moderate(change) {
      const room = (await lockRosterRoom(change, actor.room_id)) ? await findRoomById(change.trx, actor.room_id) : undefined;
      const target = await findParticipant(change.trx, targetId);
      if (room === undefined || target === undefined || target.room_id !== room.id || target.leave_time !== null) throw notFound();
      const phoneOnly = action === 'mute' || action === 'unmute' || action === 'ask_to_unmute';
      if (phoneOnly && target.type !== 'phone') throw new ApiError('unprocessable', 'Only phone callers are muted from the room page.');
      if (action === 'remove' && target.type !== 'web') throw new ApiError('unprocessable', 'A phone caller leaves when the bridge ends the call.');
      switch (action) {
        case 'mute':
        case 'unmute':
          return changeParticipants(change, [{ participant: target, changes: { muted: action === 'mute' } }]);
        case 'lower_hand':
          return changeParticipants(change, [{ participant: target, changes: { hand_raised: false } }]);
        case 'remove':
          return leaveWebParticipants(change, room, [target], 'removed');
        case 'ask_to_unmute':
          if (target.muted !== 1) throw new ApiError('unprocessable', 'The caller is not muted.');
          // The bridge unmutes the real call (or asks the caller to) when it receives this.
          change.emit({
            name: 'phone_participant_asked_to_unmute',
            teamId: room.team_id,
            roomId: room.id,
            data: { call_id: target.call_id, participant_id: target.id, room_id: room.id },
          });
      }
    }, { lane: roomLane(actor.team_id, actor.room_id) });
  }

  async function setRoomLocked(actor: ParticipantRow, locked: boolean): Promise<void> {
    await requireCapability(actor, 'lock');
    await rooms.update(actor.team_id, actor.room_id, { is_locked: locked });
  }

  async function setOwnHand(actor: ParticipantRow, raised: boolean): Promise<void> {
    if (raised) await requireCapability(actor, 'raise_hand');
    await changes.run(async function changeOwnHand(change) {
      const current = (await lockRosterRoom(change, actor.room_id)) ? await findParticipant(change.trx, actor.id) : undefined;
      if (current === undefined || current.leave_time !== null) throw notFound();
      await changeParticipants(change, [{ participant: current, changes: { hand_raised: raised } }]);
    }, { lane: roomLane(actor.team_id, actor.room_id) });
  }

  return { capabilities, act, setRoomLocked, setOwnHand };
}
