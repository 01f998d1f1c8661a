import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { ApiError, notFound } from '../api/errors.js';
import { deletePresences, expiredPresences, findParticipant, findPresence, findRoomById, insertPresence, setLeases } from '../store/repos/room-page.js';
import type { RoomRow } from '../store/repos/rooms.js';
import { findLiveSession, type ParticipantRow } from '../store/repos/roster.js';
import { roomLane, type Change } from './changes.js';
import type { CoreDeps } from './deps.js';
import { joinParticipants, leaveParticipants, lockRosterRoom, type LeaveReason } from './roster-changes.js';

/** The room a web participant joins, by id and team. */
type RoomKey = Pick<RoomRow, 'id' | 'team_id'>;

/**
 * Web participants' presence. A person on the room page joins as a web participant and gets a
 * credential its page acts with. While one of its live connections is open, the node holding
 * it keeps renewing the participant's lease in the database; once the last one closes, the
 * lease runs for a grace period more (a reload reconnects within it and stays the same
 * participant). Every node sweeps: a participant whose lease ran out leaves, `disconnected`, as
 * of the last moment it was known connected.
 * The lease lives in the database, not in one process, so this holds on one node or many and
 * across a node's crash.
 */
export interface PresenceService {
  /** Joins a web participant to the room (403 while the room is locked or full); answers it with its credential. */
  join(room: RoomKey, newcomer: WebNewcomer): Promise<{ participant: ParticipantRow; credential: string }>;
  /** The live web participant a credential belongs to; undefined when it is not valid (any more). */
  authenticate(credential: string): Promise<ParticipantRow | undefined>;
  /**
   * Counts a live connection of the participant on this node, until the returned release is
   * called. Its lease is renewed meanwhile, for as long as the socket is open; or, for a page
   * that says it is there (`heard`), only while it does.
   */
  hold(participantId: string, options?: { heard: boolean }): Promise<() => void>;
  /** The participant's page says it is there: its lease is renewed at this node's next renewal. */
  heard(participantId: string): void;
  /** How often a page that says it is there should say it: well within the grace period, so one lost word costs nothing. */
  readonly heardEveryMs: number;
  /** How many live connections of the participant this node holds. */
  connectionCount(participantId: string): number;
  /** The participant leaves now; false when it was not live. */
  leave(participantId: string, reason: LeaveReason): Promise<boolean>;
  /** Renews this node's leases when due, then makes every participant whose lease ran out leave; answers how many left. */
  sweep(): Promise<number>;
  /** Starts sweeping periodically. */
  start(): void;
  /** Stops sweeping, waiting for a sweep in progress. */
  stop(): Promise<void>;
}

export interface WebNewcomer {
  name: string;
  externalId: string | null;
  roleId: string;
  /** desktop, mobile, tablet or smarttv. */
  device: string;
}

export interface PresenceOptions {
  /** How long a participant stays after its last connection closed (or its node stopped renewing). */
  graceMs: number;
  /** How often a node renews the leases of the connections it holds; well below graceMs. */
  renewEveryMs: number;
  /** How often a node looks for leases that ran out. */
  sweepEveryMs: number;
}

export const DEFAULT_PRESENCE_OPTIONS: PresenceOptions = { graceMs: 5000, renewEveryMs: 1500, sweepEveryMs: 1000 };

/** Leases swept per room change, so one sweep never holds a long transaction. */
const SWEEP_BATCH = 200;
/** A participant credential: the participant's id and a secret of 32 random bytes (base64url). */
const CREDENTIAL = /^(?<participantId>[0-9a-f-]{36})\.(?<secret>[A-Za-z0-9_-]{43})$/;

export function createPresenceService(deps: CoreDeps, options: Partial<PresenceOptions> = {}): PresenceService {
  const { store, changes, clock, logger } = deps;
  const graceMs = options.graceMs ?? DEFAULT_PRESENCE_OPTIONS.graceMs;
  // Renewals come well within the grace period however short it is set, or leases would run out between them.
  const settings = { ...DEFAULT_PRESENCE_OPTIONS, renewEveryMs: Math.min(DEFAULT_PRESENCE_OPTIONS.renewEveryMs, Math.floor(graceMs * 0.3)), ...options };
  /** Live connections held on this node, per participant. */
  const held = new Map<string, number>();
  /**
   * The participants whose leases this node renews because a socket is open, per participant.
   * An open socket alone proves little: a page whose network went silent (a closed lid, a lost
   * network, a proxy between) keeps its socket open on the server for many minutes. The room
   * page's client says it is there every few seconds instead (`heard`), and only those words
   * renew its lease; a connection that does not (an older client) is renewed while it is open.
   */
  const socketLeased = new Map<string, number>();
  /** Participants heard from since this node's last renewal. */
  let heardFrom = new Set<string>();
  let lastRenewal = Number.NEGATIVE_INFINITY;
  let timer: NodeJS.Timeout | undefined;
  let sweeping: Promise<number> | undefined;
  /**
   * Leases are swept only from one grace period after start. Those of pages connected before a
   * restart ran out while no server was there to renew them; their pages reconnect as soon as
   * the server is back (a deploy takes longer than the grace period) and keep their participant.
   * One whose page does not come back leaves as of when it was last seen, as ever.
   */
  let sweepFrom = Number.NEGATIVE_INFINITY;
  /** Lease writes of closed connections still in flight: a stopping node finishes them before its store closes. */
  const releasing = new Set<Promise<void>>();

  /** Leases run for the grace period from `from` (the change's time unless given). */
  function renewLeases(participantIds: readonly string[], from?: number): Promise<void> {
    return changes.run((change) => setLeases(change.trx, participantIds, (from ?? change.now) + settings.graceMs));
  }

  async function join(key: RoomKey, newcomer: WebNewcomer): Promise<{ participant: ParticipantRow; credential: string }> {
    return changes.run(async function joinWebParticipant(change) {
      const room = (await lockRosterRoom(change, key.id)) ? await findRoomById(change.trx, key.id) : undefined;
      if (room === undefined) throw notFound();
      if (room.is_locked === 1) throw new ApiError('forbidden', 'The room is locked: nobody new can join it now.');
      const session = await findLiveSession(change.trx, room.id);
      if ((session?.live_participants ?? 0) >= room.max_participants) throw new ApiError('forbidden', 'The room is full.');
      const joined = await joinParticipants(change, room, [
        { type: 'web', name: newcomer.name, external_id: newcomer.externalId, call_id: null, caller_number: null, device: newcomer.device, muted: false, role_id: newcomer.roleId },
      ]);
      const participant = joined[0]!;
      const secret = randomBytes(32).toString('base64url');
      await insertPresence(change.trx, {
        participant_id: participant.id,
        team_id: room.team_id,
        room_id: room.id,
        credential_hash: digest(secret),
        lease_expires_at: change.now + settings.graceMs,
      });
      return { participant, credential: `${participant.id}.${secret}` };
    }, { lane: roomLane(key.team_id, key.id) });
  }

  async function authenticate(credential: string): Promise<ParticipantRow | undefined> {
    const { participantId, secret } = CREDENTIAL.exec(credential)?.groups ?? {};
    if (participantId === undefined || secret === undefined) return undefined;
    const presence = await findPresence(store.db, participantId);
    if (presence === undefined || !sameDigest(presence.credential_hash, digest(secret))) return undefined;
    const participant = await findParticipant(store.db, participantId);
    return participant?.leave_time === null ? participant : undefined;
  }

  async function hold(participantId: string, options: { heard: boolean } = { heard: false }): Promise<() => void> {
    await renewLeases([participantId]);
    held.set(participantId, (held.get(participantId) ?? 0) + 1);
    if (!options.heard) socketLeased.set(participantId, (socketLeased.get(participantId) ?? 0) + 1);
    let released = false;
    return function release() {
      if (released) return;
      released = true;
      if (!options.heard) countDown(socketLeased, participantId);
      if (countDown(held, participantId) > 0) return;
      // The grace period counts from the moment the last connection closed, however late the write
      // lands; a word heard before the close says nothing after it.
      heardFrom.delete(participantId);
      const write = renewLeases([participantId], clock.now())
        .catch((error: unknown) => logger.error({ err: error, participantId }, 'presence lease not renewed'))
        .finally(() => releasing.delete(write));
      releasing.add(write);
    };
  }

  async function leave(participantId: string, reason: LeaveReason): Promise<boolean> {
    return changes.run(async function leaveRoom(change) {
      const known = await findParticipant(change.trx, participantId);
      if (known === undefined || !(await lockRosterRoom(change, known.room_id))) return false;
      // Read again under the room's lock: a sweep or a moderator may have been first.
      const room = await findRoomById(change.trx, known.room_id);
      const current = await findParticipant(change.trx, participantId);
      if (room === undefined || current?.leave_time !== null) return false;
      await leaveWebParticipants(change, room, [current], reason);
      return true;
    });
  }

  /** Makes the participants of one room whose lease (read again under the room's lock) ran out leave. */
  function sweepRoom(roomId: string, participantIds: readonly string[]): Promise<number> {
    return changes.run(async function sweepExpiredLeases(change) {
      const room = (await lockRosterRoom(change, roomId)) ? await findRoomById(change.trx, roomId) : undefined;
      const expired: Array<{ participant: ParticipantRow; lastSeen: number }> = [];
      const gone: string[] = [];
      for (const participantId of participantIds) {
        const presence = await findPresence(change.trx, participantId);
        if (presence === undefined || presence.lease_expires_at >= change.now) continue;
        const participant = await findParticipant(change.trx, participantId);
        // The lease was last set at the last moment the participant was known connected: when its
        // last connection closed, or the last renewal before its node stopped. It leaves then, not
        // a grace period (or a whole outage) later, so usage counts only the time it was there.
        if (room !== undefined && participant?.leave_time === null) expired.push({ participant, lastSeen: presence.lease_expires_at - settings.graceMs });
        else gone.push(participantId);
      }
      // Participants who left another way (session end, room deletion) only leave their presence behind.
      await deletePresences(change.trx, gone);
      if (room === undefined) return 0;
      expired.sort((a, b) => a.lastSeen - b.lastSeen);
      for (const { participant, lastSeen } of expired) await leaveWebParticipants(change, room, [participant], 'disconnected', lastSeen);
      return expired.length;
    });
  }

  async function sweepOnce(): Promise<number> {
    if ((socketLeased.size > 0 || heardFrom.size > 0) && clock.now() - lastRenewal >= settings.renewEveryMs) {
      lastRenewal = clock.now();
      const renewed = new Set([...socketLeased.keys(), ...heardFrom]);
      heardFrom = new Set();
      // From when the renewal was decided, not when its write lands: one that lands after a
      // connection closed must not outlast the close's own lease (closedAt + grace).
      await renewLeases([...renewed], lastRenewal);
    }
    if (clock.now() < sweepFrom) return 0;
    const expired = await expiredPresences(store.db, clock.now(), SWEEP_BATCH);
    const byRoom = new Map<string, string[]>();
    for (const presence of expired) byRoom.set(presence.room_id, [...(byRoom.get(presence.room_id) ?? []), presence.participant_id]);
    let left = 0;
    for (const [roomId, participantIds] of byRoom) left += await sweepRoom(roomId, participantIds);
    return left;
  }

  function sweep(): Promise<number> {
    // One sweep at a time on a node: a timer tick during a slow sweep joins it.
    sweeping ??= sweepOnce().finally(() => (sweeping = undefined));
    return sweeping;
  }

  return {
    join,
    authenticate,
    hold,
    heard: (participantId) => void heardFrom.add(participantId),
    heardEveryMs: Math.floor(settings.graceMs / 2.5),
    connectionCount: (participantId) => held.get(participantId) ?? 0,
    leave,
    sweep,
    start() {
      if (timer === undefined) sweepFrom = clock.now() + settings.graceMs;
      timer ??= setInterval(() => {
        sweep().catch((error: unknown) => logger.error({ err: error }, 'presence sweep failed'));
      }, settings.sweepEveryMs);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      timer = undefined;
      await sweeping?.catch(() => undefined);
      await Promise.all(releasing);
    },
  };
}

/** Counts one down; answers what remains (the entry goes at zero). */
function countDown(counts: Map<string, number>, key: string): number {
  const remaining = (counts.get(key) ?? 1) - 1;
  if (remaining > 0) counts.set(key, remaining);
  else counts.delete(key);
  return remaining;
}

/** Web participants leave the room, their presence with them (at `at` if that was earlier); for every way a web participant is made to leave. */
export async function leaveWebParticipants(change: Change, room: RoomRow, participants: readonly ParticipantRow[], reason: LeaveReason, at?: number): Promise<void> {
  await leaveParticipants(change, room, participants, reason, { at });
  await deletePresences(
    change.trx,
    participants.map((participant) => participant.id),
  );
}

function digest(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

function sameDigest(a: string, b: string): boolean {
  const left = Buffer.from(a, 'hex');
  const right = Buffer.from(b, 'hex');
  return left.length === right.length && timingSafeEqual(left, right);
}
