import { findRoom, findRoomEntry, type RoomEntry, type RoomRow } from '../store/repos/rooms.js';
import {
  insertTombstones,
  liveParticipantsByCallIds,
  livePhoneParticipants,
  participantsByCallIds,
  setPhoneConnected,
  tombstonedCallIds,
  type ParticipantRow,
} from '../store/repos/roster.js';
import { roomLane, type Change } from './changes.js';
import type { CoreDeps } from './deps.js';
import { liveRoomCount, LiveRoomsCache, LiveRosterCache, type LiveRoomList, type LiveRoomsQuery } from './live-rooms.js';
import type { LiveParticipant, LiveRoom } from './participant-view.js';
import { sharedReads } from './shared-reads.js';
import { changeParticipants, joinParticipants, leaveParticipants, lockRosterRoom, type Newcomer, type ParticipantChange } from './roster-changes.js';

/** A phone call as the bridge reports it (an item of `phone-participants/joined`). */
export interface PhoneCall {
  call_id: string;
  name?: string | null;
  caller_number?: string | null;
  external_id?: string | null;
  muted?: boolean | null;
}

/** What a moderator or the bridge may change on a live call. */
export type CallChange = Pick<ParticipantChange, 'muted' | 'hand_raised'>;

export type ConnectResult = 'connected' | 'room_not_found' | 'telephony_disabled';

/**
 * The live roster of rooms, with the telephony bridge's entry points on top of the generic
 * join / change / leave of roster-changes.ts. Every method names the room by id or
 * friendly_url within the caller's team; `false` / undefined means no such room (or call).
 */
export interface RosterService {
  /** Calls joined: new calls join, live ones are updated, calls that already left stay gone. Atomic. */
  phoneCallsJoined(teamId: string, roomRef: string, calls: readonly PhoneCall[]): Promise<boolean>;
  /** Calls left: live ones leave; none of them can come back, not even by a reordered `joined` that arrives after its `left`. */
  phoneCallsLeft(teamId: string, roomRef: string, callIds: readonly string[]): Promise<boolean>;
  /** The bridge's complete list of live calls: joins and updates as `joined`, and every other live call leaves. */
  reconcilePhoneCalls(teamId: string, roomRef: string, calls: readonly PhoneCall[]): Promise<boolean>;
  /** Mutes, unmutes, raises or lowers the hand of a live call; false when the call is not live in the room. */
  changePhoneCall(teamId: string, roomRef: string, callId: string, change: CallChange): Promise<boolean>;
  connectPhoneBridge(teamId: string, roomRef: string): Promise<ConnectResult>;
  /** Marks the bridge disconnected; every live phone participant leaves, as one batch. */
  disconnectPhoneBridge(teamId: string, roomRef: string): Promise<boolean>;

  findRoom(teamId: string, roomRef: string): Promise<RoomRow | undefined>;
  liveRoom(teamId: string, roomRef: string): Promise<LiveRoom<number> | undefined>;
  liveRoomParticipants(teamId: string, roomRef: string): Promise<LiveRoom<LiveParticipant[]> | undefined>;
  /** The team's live rooms; undefined when `after` names no room of the team. */
  liveRooms(teamId: string, query: LiveRoomsQuery): Promise<LiveRoomList<number> | undefined>;
  liveRoomsParticipants(teamId: string, query: LiveRoomsQuery): Promise<LiveRoomList<LiveParticipant[]> | undefined>;
}

export function createRosterService(deps: CoreDeps): RosterService {
  const { store, changes, clock } = deps;
  // The room page's panels and bridges poll single rooms' rosters: each read is one room lookup while nothing changed.
  const rosters = new LiveRosterCache();
  // Dashboards poll the team's live rooms; between commits each poll is a version read.
  const liveRooms = new LiveRoomsCache(store.db, () => store.dataVersion());
  // Each read of a room's live state starts with the room: polls of one room together share it,
  // and in embedded mode it is kept until the next commit.
  const roomEntries = sharedReads<RoomEntry | undefined>({ version: () => store.dataVersion() });
  const roomEntry = (teamId: string, roomRef: string) => roomEntries(JSON.stringify([teamId, roomRef]), () => findRoomEntry(store.db, teamId, roomRef));

  /** Runs `work` as one change on the team's room, holding the room's lock; undefined when there is no such room. */
  function inRoom<T>(teamId: string, roomRef: string, work: (change: Change, room: RoomRow) => Promise<T>): Promise<T | undefined> {
    return changes.run(
      async function rosterChange(change) {
        const room = await findRoom(change.trx, teamId, roomRef);
        if (room === undefined || !(await lockRosterRoom(change, room.id))) return undefined;
        return work(change, room);
      },
      { lane: roomLane(teamId, roomRef) },
    );
  }

  /**
   * A bridge's `joined` and `left` reports for one room that wait for the room's lane together
   * are applied in one change, in the order they came (ChangeRunner.runTogether).
   */
  function report(teamId: string, roomRef: string, callReport: CallReport): Promise<boolean> {
    const callIds = callReport.kind === 'joined' ? callReport.calls.map((call) => call.call_id) : callReport.callIds;
    return changes.runTogether(callReport, {
      lane: roomLane(teamId, roomRef),
      weight: callIds.length,
      maxWeight: MAX_CALLS_PER_CHANGE,
      // A call reported again waits for a change of its own: each report of it keeps its own time.
      names: callIds,
      async apply(change, reports) {
        const room = await findRoom(change.trx, teamId, roomRef);
        if (room === undefined || !(await lockRosterRoom(change, room.id))) return reports.map(() => false);
        for (const run of reportRuns(reports)) {
          if (run.kind === 'joined') await applyCalls(change, room, run.reports);
          else await leaveCalls(change, room, run.callIds);
        }
        return reports.map(() => true);
      },
    });
  }

  /** inRoom for work that answers nothing: true when the room was there. */
  async function changeRoom(teamId: string, roomRef: string, work: (change: Change, room: RoomRow) => Promise<void>): Promise<boolean> {
    const done = await inRoom(teamId, roomRef, async function changeRoster(change, room) {
      await work(change, room);
      return true;
    });
    return done === true;
  }

  return {
    phoneCallsJoined: (teamId, roomRef, calls) => report(teamId, roomRef, { kind: 'joined', calls }),
    phoneCallsLeft: (teamId, roomRef, callIds) => report(teamId, roomRef, { kind: 'left', callIds }),

    reconcilePhoneCalls: (teamId, roomRef, calls) =>
      changeRoom(teamId, roomRef, async function reconcile(change, room) {
        // Joins first, so a room whose every call is replaced keeps its session.
        await applyCalls(change, room, [calls]);
        const listed = new Set(calls.map((call) => call.call_id));
        const unlisted = (await livePhoneParticipants(change.trx, room.id)).filter((participant) => !listed.has(participant.call_id ?? ''));
        await leaveParticipants(change, room, unlisted, 'reconciled');
      }),

    async changePhoneCall(teamId, roomRef, callId, callChange) {
      const changed = await inRoom(teamId, roomRef, async function changeCall(change, room) {
        const [participant] = await liveParticipantsByCallIds(change.trx, room.id, [callId]);
        if (participant === undefined) return false;
        await changeParticipants(change, [{ participant, changes: callChange }]);
        return true;
      });
      return changed === true;
    },

    async connectPhoneBridge(teamId, roomRef) {
      const result = await inRoom(teamId, roomRef, async function connect(change, room): Promise<ConnectResult> {
        if (room.telephony_enabled !== 1) return 'telephony_disabled';
        await setPhoneConnected(change.trx, room.id, true);
        return 'connected';
      });
      return result ?? 'room_not_found';
    },

    disconnectPhoneBridge: (teamId, roomRef) =>
      changeRoom(teamId, roomRef, async function disconnect(change, room) {
        await setPhoneConnected(change.trx, room.id, false);
        await leaveParticipants(change, room, await livePhoneParticipants(change.trx, room.id), 'bridge_disconnected');
      }),

    findRoom: (teamId, roomRef) => findRoom(store.db, teamId, roomRef),

    async liveRoom(teamId, roomRef) {
      const room = await roomEntry(teamId, roomRef);
      return room === undefined ? undefined : liveRoomCount(store.db, room, clock.now());
    },

    async liveRoomParticipants(teamId, roomRef) {
      const room = await roomEntry(teamId, roomRef);
      return room === undefined ? undefined : rosters.read(store.db, room, clock.now());
    },

    liveRooms: (teamId, query) => liveRooms.counts(teamId, query, clock.now()),
    liveRoomsParticipants: (teamId, query) => liveRooms.participants(teamId, query, clock.now()),
  };
}

/**
 * Applies `joined` reports, one after another, as one: within a report the last mention of a
 * call wins; a live call is updated (only the fields reported), a new one joins, and one that
 * already left this room is skipped. No call repeats across the reports of one change
 * (runTogether's `names`), so one look-up serves them all. A report's updates are announced
 * before its joins; where a report with updates follows one with joins, the joins so far are
 * written first, so the events come in the order the reports would give one by one.
 */
async function applyCalls(change: Change, room: RoomRow, reports: ReadonlyArray<readonly PhoneCall[]>): Promise<void> {
  const latestOfEach = reports.map((calls) => {
    const latest = new Map<string, PhoneCall>();
    for (const call of calls) latest.set(call.call_id, call);
    return latest;
  });
  const callIds = latestOfEach.flatMap((latest) => [...latest.keys()]);
  const { live, departed } = await callsInRoom(change, room, callIds);

  let updates: Array<{ participant: ParticipantRow; changes: ParticipantChange }> = [];
  let newcomers: Newcomer[] = [];
  async function write(): Promise<void> {
    await changeParticipants(change, updates);
    await joinParticipants(change, room, newcomers);
    updates = [];
    newcomers = [];
  }
  for (const latest of latestOfEach) {
    const updatesBefore = updates.length;
    const reportNewcomers: Newcomer[] = [];
    for (const [callId, call] of latest) {
      const participant = live.get(callId);
      if (participant !== undefined) updates.push({ participant, changes: reportedChanges(call) });
      else if (!departed.has(callId)) reportNewcomers.push(newcomerOf(call));
    }
    if (updates.length > updatesBefore && newcomers.length > 0) {
      const own = updates.splice(updatesBefore);
      await write();
      updates = own;
    }
    newcomers.push(...reportNewcomers);
  }
  await write();
}

/**
 * Calls left: live ones leave, announced in the order given. None can come back: a call that
 * joined has its participation row, now left, and one that never joined is tombstoned, so a
 * reordered `joined` cannot bring it back.
 */
async function leaveCalls(change: Change, room: RoomRow, callIds: readonly string[]): Promise<void> {
  const distinct = [...new Set(callIds)];
  const order = new Map(distinct.map((callId, index) => [callId, index]));
  const known = await participantsByCallIds(change.trx, room.id, distinct);
  const live = known.filter((participant) => participant.leave_time === null).sort((a, b) => order.get(a.call_id!)! - order.get(b.call_id!)!);
  await leaveParticipants(change, room, live, 'left');
  // Calls that never joined are tombstoned: a `left` that overtook its `joined` still wins.
  const joinedOnce = new Set(known.map((participant) => participant.call_id));
  await insertTombstones(change.trx, room.team_id, room.id, distinct.filter((callId) => !joinedOnce.has(callId)), change.now);
}

/**
 * Where these calls stand in the room: live (with their rows), or gone for good, because they
 * left (their row says so) or their `left` came before any `joined` (a tombstone).
 */
async function callsInRoom(change: Change, room: RoomRow, callIds: readonly string[]): Promise<{ live: Map<string, ParticipantRow>; departed: Set<string> }> {
  const live = new Map<string, ParticipantRow>();
  const departed = new Set<string>();
  for (const participant of await participantsByCallIds(change.trx, room.id, callIds)) {
    if (participant.leave_time === null) live.set(participant.call_id!, participant);
    else departed.add(participant.call_id!);
  }
  const unseen = callIds.filter((callId) => !live.has(callId) && !departed.has(callId));
  for (const callId of await tombstonedCallIds(change.trx, room.id, unseen)) departed.add(callId);
  return { live, departed };
}

/** A bridge's report of calls that joined or left, as one request brought it. */
type CallReport = { kind: 'joined'; calls: readonly PhoneCall[] } | { kind: 'left'; callIds: readonly string[] };

/** Consecutive reports of one kind, to apply as one. */
type ReportRun = { kind: 'joined'; reports: Array<readonly PhoneCall[]> } | { kind: 'left'; callIds: string[] };

/**
 * The most calls one change of many reports applies: a request's own limit, so such a change
 * is no larger than one report may be.
 */
const MAX_CALLS_PER_CHANGE = 1000;

/**
 * Consecutive reports of one kind, applied as one: no call repeats across the reports of one
 * change (runTogether's `names`), so this gives exactly what one after another would.
 */
function reportRuns(reports: readonly CallReport[]): ReportRun[] {
  const runs: ReportRun[] = [];
  for (const callReport of reports) {
    const last = runs.at(-1);
    if (callReport.kind === 'left') {
      if (last?.kind === 'left') last.callIds.push(...callReport.callIds);
      else runs.push({ kind: 'left', callIds: [...callReport.callIds] });
    } else if (last?.kind === 'joined') {
      last.reports.push(callReport.calls);
    } else {
      runs.push({ kind: 'joined', reports: [callReport.calls] });
    }
  }
  return runs;
}

/** Empty text counts as absent, as it does for a DS (Laravel) client. */
function givenText(value: string | null | undefined): string | null | undefined {
  return value === '' ? null : value;
}

function reportedChanges(call: PhoneCall): ParticipantChange {
  return {
    name: givenText(call.name),
    caller_number: givenText(call.caller_number),
    external_id: givenText(call.external_id),
    muted: call.muted ?? undefined,
  };
}

function newcomerOf(call: PhoneCall): Newcomer {
  return {
    type: 'phone',
    name: givenText(call.name) ?? null,
    external_id: givenText(call.external_id) ?? null,
    call_id: call.call_id,
    caller_number: givenText(call.caller_number) ?? null,
    device: 'phone',
    muted: call.muted === true,
  };
}
