import type { ServerResponse } from 'node:http';
import { Type } from 'typebox';
import type { RoomEvent } from '../bus/events.js';
import type { RosterSnapshot } from '../domain/live-rooms.js';
import type { RoomWatcher } from '../domain/room-feed.js';
import { eventMessage, snapshotMessage, type StreamMessage } from '../domain/stream-messages.js';
import { resolveTeam } from './auth.js';
import { ApiError, errorResponses, notFound } from './errors.js';
import { RoomParams } from './phone-participants.js';
import { StreamingResponse } from './streaming-response.js';
import type { Api, RouteOptions } from './types.js';

/** A consumer this far behind is cut off rather than buffered for: a slow reader never slows the API. */
const MAX_BUFFERED_BYTES = 1024 * 1024;

const StreamQuery = Type.Object(
  { last_event_id: Type.Optional(Type.String({ maxLength: 20, description: 'Resume after this event (the `Last-Event-ID` header wins).' })) },
  { additionalProperties: false },
);

const DESCRIPTION = [
  '**roomline extension** (not part of Digital Samba): the room\'s events as Server-Sent Events.',
  'First a `snapshot` event, `{"room_id","session_id","participants":[…]}` (entries shaped as in `/live/participants`);',
  'then `participant_joined`, `participant_left`, `participant_updated` (mute, hand or details: the whole participant and `changed`),',
  '`session_started`, `session_ended` and the room\'s other events, each with `id:` = the room\'s event number.',
  'Reconnect with `Last-Event-ID` (or `?last_event_id=`) to resume without gaps; when the events since are no longer',
  'buffered, the stream starts over with a fresh snapshot. A `: heartbeat` comment keeps idle connections open.',
  'When the room is deleted, `room_deleted` is sent and the stream ends.',
].join(' ');

/** GET /rooms/{room}/live/events: a room's roster and events as they happen. */
export async function liveEventsRoutes(app: Api, { services }: RouteOptions): Promise<void> {
  /** The open streams, each with the credential it was opened with and its team. */
  const open = new Map<EventStream, { authorization: string | undefined; teamId: string }>();
  /** Open streams per team on this node, against ROOMLINE_MAX_STREAMS_PER_TEAM. */
  const perTeam = new Map<string, number>();

  // A stream is authenticated when it opens, and then again at every heartbeat: one opened with
  // a key since rotated (`roomline team rotate-key`) ends then, as every other request with that
  // key fails at once. One check per credential, however many streams share it.
  const recheck = setInterval(function recheckStreamCredentials() {
    const byCredential = new Map<string | undefined, Array<[EventStream, string]>>();
    for (const [stream, { authorization, teamId }] of open) {
      const streams = byCredential.get(authorization);
      if (streams === undefined) byCredential.set(authorization, [[stream, teamId]]);
      else streams.push([stream, teamId]);
    }
    for (const [authorization, streams] of byCredential) {
      resolveTeam(services.teams, authorization).then(
        (team) => {
          for (const [stream, teamId] of streams) if (team?.id !== teamId) stream.end();
        },
        // The store out of reach: the streams stay, as they would have had the check not run.
        () => {},
      );
    }
  }, services.config.streamHeartbeatMs);
  recheck.unref();

  // Open streams would hold a graceful shutdown for its whole grace period: end them first.
  app.addHook('preClose', async function endEventStreams() {
    clearInterval(recheck);
    for (const stream of open.keys()) stream.end();
  });
  app.addHook('onClose', async function closeRoomFeed() {
    services.feed.close();
  });

  app.get(
    '/rooms/:room/live/events',
    {
      schema: {
        summary: 'Stream room events (roomline extension).',
        description: DESCRIPTION,
        tags: ['Live'],
        params: RoomParams,
        querystring: StreamQuery,
        response: { 200: Type.String({ description: 'text/event-stream' }), ...errorResponses(401, 404, 422, 429) },
      },
    },
    async function streamRoomEvents(request, reply) {
      const room = await services.roster.findRoom(request.team.id, request.params.room);
      if (room === undefined) throw notFound();
      const lastEventId = parseEventId(request.headers['last-event-id'] ?? request.query.last_event_id);

      const teamId = request.team.id;
      const streams = perTeam.get(teamId) ?? 0;
      if (streams >= services.config.maxStreamsPerTeam) {
        throw new ApiError('too_many_requests', `A team may hold at most ${services.config.maxStreamsPerTeam} event streams at once on one server.`);
      }
      perTeam.set(teamId, streams + 1);

      reply.hijack();
      const stream = new EventStream(reply.raw, services.config.streamHeartbeatMs, function forgetStream() {
        open.delete(stream);
        const left = (perTeam.get(teamId) ?? 1) - 1;
        if (left > 0) perTeam.set(teamId, left);
        else perTeam.delete(teamId);
      });
      open.set(stream, { authorization: request.headers.authorization, teamId });
      try {
        stream.whenClosed(await services.feed.watch(room.id, stream, lastEventId));
      } catch (error) {
        request.log.error({ err: error, reqId: request.id }, 'room stream failed to start');
        stream.end();
      }
    },
  );
}

function parseEventId(value: string | string[] | undefined): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  return text !== undefined && /^\d{1,15}$/.test(text.trim()) ? Number(text.trim()) : undefined;
}

/** One client's event stream: SSE framing on a streaming response (heartbeat, cut-off, end). */
class EventStream extends StreamingResponse implements RoomWatcher {
  constructor(response: ServerResponse, heartbeatMs: number, forget: () => void) {
    super(response, {
      headers: {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        // Proxies (nginx) would otherwise hold events back in their buffers.
        'x-accel-buffering': 'no',
      },
      heartbeat: { text: ': heartbeat\n\n', everyMs: heartbeatMs },
      maxBufferedBytes: MAX_BUFFERED_BYTES,
    });
    this.whenClosed(forget);
  }

  snapshot(snapshot: RosterSnapshot): void {
    this.send(snapshotMessage(snapshot));
  }

  event(event: RoomEvent): void {
    let frame = frames.get(event);
    if (frame === undefined) {
      frame = sseFrame(eventMessage(event));
      frames.set(event, frame);
    }
    this.write(frame);
  }

  private send(message: StreamMessage): void {
    this.write(sseFrame(message));
  }
}

/** Each event's frame, built once for all of its room's streams. */
const frames = new WeakMap<RoomEvent, string>();

function sseFrame(message: StreamMessage): string {
  const id = message.id === undefined ? '' : `id: ${message.id}\n`;
  return `${id}event: ${message.event}\ndata: ${JSON.stringify(message.data)}\n\n`;
}
