import type { ServerResponse } from 'node:http';
import type { RoomEvent } from '../bus/events.js';
import type { RosterSnapshot } from '../domain/live-rooms.js';
import type { RoomWatcher } from '../domain/room-feed.js';
import type { ParticipantEventData } from '../domain/participant-view.js';
import type { PanelMessage } from './panel-protocol.js';
import { endReasonOf, panelMessageOf, panelParticipant } from './panel-view.js';
import { StreamingResponse } from '../api/streaming-response.js';

/** A page this far behind is cut off rather than buffered for (it reconnects and starts over from a snapshot). */
const MAX_BUFFERED_BYTES = 256 * 1024;

/**
 * One room page's live connection: the panel's messages as newline-delimited JSON, fed by the
 * room feed like the API's event stream. It ends when its own participant leaves the room
 * (after saying why), when the room is deleted, and when the page goes away.
 */
export class PanelStream extends StreamingResponse implements RoomWatcher {
  /** Messages held back while the room's lock state is read for a snapshot. */
  private held: PanelMessage[] | undefined;
  private snapshots = 0;

  constructor(
    response: ServerResponse,
    private readonly participantId: string,
    heartbeatMs: number,
    /** Whether the room is locked now: read after each snapshot, as the roster snapshot does not carry it. */
    private readonly readLocked: () => Promise<boolean>,
  ) {
    super(response, {
      headers: { 'content-type': 'application/x-ndjson; charset=utf-8', 'x-content-type-options': 'nosniff' },
      heartbeat: { text: line({ type: 'ping' }), everyMs: heartbeatMs },
      maxBufferedBytes: MAX_BUFFERED_BYTES,
    });
  }

  /** Sends a message ahead of everything else (the page's own participant and what it may do). */
  greet(message: PanelMessage): void {
    this.write(line(message));
  }

  snapshot(snapshot: RosterSnapshot): void {
    const generation = ++this.snapshots;
    this.held = [];
    const participants = snapshot.data.participants;
    // Events after the snapshot wait behind it; a later lock change still arrives after the state read here.
    this.readLocked().then(
      (locked) => {
        if (generation !== this.snapshots) return;
        const held = this.held ?? [];
        this.held = undefined;
        this.send({ type: 'snapshot', participants: participants.map(panelParticipant), locked });
        if (!participants.some((participant) => participant.id === this.participantId)) return this.send({ type: 'ended', reason: 'other' });
        for (const message of held) this.send(message);
      },
      () => this.end(),
    );
  }

  event(event: RoomEvent): void {
    const message = panelMessageOf(event);
    if (message === undefined) return;
    this.send(message);
    const ownLeave = event.name === 'participant_left' && (event.data as unknown as ParticipantEventData).participant_id === this.participantId;
    if (ownLeave) this.send({ type: 'ended', reason: endReasonOf(event) });
  }

  /** The room is no longer there, though no event said so (its team was deleted): the panel ends as for a deleted room. */
  roomGone(): void {
    this.send({ type: 'ended', reason: 'room_deleted' });
  }

  private send(message: PanelMessage): void {
    if (this.held !== undefined) return void this.held.push(message);
    this.write(line(message));
    if (message.type === 'ended') this.end();
  }
}

/** One panel message: a line of JSON. */
function line(message: PanelMessage): string {
  return `${JSON.stringify(message)}\n`;
}
