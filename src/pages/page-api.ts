import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { ApiError, errorResponses, fieldError, notFound } from '../api/errors.js';
import { EmptyReply } from '../api/phone-participants.js';
import type { Api, RouteOptions } from '../api/types.js';
import type { ParticipantAction } from '../domain/moderation.js';
import { liveParticipant } from '../domain/participant-view.js';
import type { ParticipantRow } from '../store/repos/roster.js';
import { findRoomById } from '../store/repos/room-page.js';
import { REFUSALS } from './page-html.js';
import { PARTICIPANT_ACTIONS, type JoinAnswer, type ParticipantActionPath } from './panel-protocol.js';
import { PanelStream } from './panel-stream.js';
import { panelParticipant } from './panel-view.js';
import { deviceFromUserAgent } from './user-agent.js';

/** Where the page's own calls live: outside /api/v1, and never a room page's path (one segment). */
export const PAGE_API_PREFIX = '/room-page/api';

const JoinBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'The name to show, when the invitation gives none.' })),
    token: Type.Optional(Type.String({ minLength: 1, maxLength: 8192, description: 'The room token of the page link.' })),
  },
  { additionalProperties: false },
);
const JoinResponse = Type.Object({ credential: Type.String(), participant_id: Type.String() });
const HandBody = Type.Object({ raised: Type.Boolean() }, { additionalProperties: false });
const ActionParams = Type.Object({
  participantId: Type.String({ minLength: 1, maxLength: 64 }),
  action: Type.Union(PARTICIPANT_ACTIONS.map((action) => Type.Literal(action))),
});
/** `alive=1`: the page will say it is there every `alive_ms` (POST /alive); only that keeps its participant. */
const StreamQuery = Type.Object({ alive: Type.Optional(Type.Boolean()) });
const LockParams = Type.Object({ action: Type.Union([Type.Literal('lock'), Type.Literal('unlock')]) });
const NoContent = { 204: EmptyReply };

const ACTIONS: Record<ParticipantActionPath, ParticipantAction> = {
  mute: 'mute',
  unmute: 'unmute',
  'ask-to-unmute': 'ask_to_unmute',
  'lower-hand': 'lower_hand',
  remove: 'remove',
};

/**
 * The room page's own API: joining, the panel's live connection, leaving, one's hand, and the
 * moderator actions. Everything after the join authenticates with the participant credential
 * the join answered (`Authorization: Bearer …`), never with a developer key.
 */

/** The most panel streams one participant's credential holds open on a node at once. */
const MAX_PANELS_PER_PARTICIPANT = 10;
export async function pageApiRoutes(app: Api, { services }: RouteOptions): Promise<void> {
  const { presence, moderation } = services;
  /** The open panels, each with its participant's room. */
  const open = new Map<PanelStream, string>();
  /** Panels past the limit's check and not yet held, per participant: they count against it meanwhile. */
  const opening = new Map<string, number>();

  // A room deleted says so to its panels (room_deleted), but one that goes with its team
  // (`roomline team delete`) says nothing: at every heartbeat, the panels of a room that is no
  // longer there are told so and end. One read per room, however many panels it has.
  const recheck = setInterval(function recheckPanelRooms() {
    const byRoom = new Map<string, PanelStream[]>();
    for (const [stream, roomId] of open) {
      const streams = byRoom.get(roomId);
      if (streams === undefined) byRoom.set(roomId, [stream]);
      else streams.push(stream);
    }
    for (const [roomId, streams] of byRoom) {
      findRoomById(services.store.db, roomId).then(
        (room) => {
          if (room === undefined) for (const stream of streams) stream.roomGone();
        },
        // The store out of reach: the panels stay, as they would have had the check not run.
        () => {},
      );
    }
  }, services.config.streamHeartbeatMs);
  recheck.unref();

  /** The live web participant whose credential the request carries; 401 otherwise. */
  async function participantOf(request: FastifyRequest): Promise<ParticipantRow> {
    const match = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '');
    const participant = match === null ? undefined : await presence.authenticate(match[1]!);
    if (participant === undefined) throw new ApiError('unauthenticated');
    return participant;
  }

  app.addHook('preClose', async function endPanelStreams() {
    clearInterval(recheck);
    for (const stream of open.keys()) stream.end();
  });

  app.post(
    '/rooms/:roomId/join',
    {
      schema: {
        hide: true,
        params: Type.Object({ roomId: Type.String({ minLength: 1, maxLength: 64 }) }),
        body: JoinBody,
        response: { 200: JoinResponse, ...errorResponses(403, 404, 422) },
      },
    },
    async function joinRoom(request): Promise<JoinAnswer> {
      const entry = await services.tokens.enter(request.params.roomId, request.body.token);
      if (entry.kind === 'no_room') throw notFound();
      if (entry.kind === 'invitation_needed') throw new ApiError('forbidden', REFUSALS.invitation_needed);
      if (entry.kind === 'refused') throw new ApiError('forbidden', REFUSALS[entry.refusal]);
      const name = entry.invitation.name ?? request.body.name?.trim();
      if (name === undefined || name === '') throw fieldError('name', 'The name field is required.');
      const { participant, credential } = await presence.join(entry.room, {
        name,
        externalId: entry.invitation.externalId,
        roleId: entry.invitation.roleId,
        device: deviceFromUserAgent(request.headers['user-agent']),
      });
      return { credential, participant_id: participant.id };
    },
  );

  app.get(
    '/stream',
    {
      schema: {
        hide: true,
        querystring: StreamQuery,
        response: { 200: Type.String({ description: 'application/x-ndjson' }), ...errorResponses(401, 422, 429) },
      },
    },
    async function streamPanel(request, reply) {
      const participant = await participantOf(request);
      // A person has a panel open in a tab or two; a credential cannot hold a node's sockets and
      // fan-out for itself (a room's visitors need no developer key, and streams are not counted
      // by any request limit).
      // Checked and reserved in one step: requests that arrive together would otherwise all pass
      // the check before the first of them is held.
      if (presence.connectionCount(participant.id) + (opening.get(participant.id) ?? 0) >= MAX_PANELS_PER_PARTICIPANT) {
        throw new ApiError('too_many_requests', `A participant may have at most ${MAX_PANELS_PER_PARTICIPANT} panels open at once.`);
      }
      opening.set(participant.id, (opening.get(participant.id) ?? 0) + 1);
      let capabilities: Awaited<ReturnType<typeof moderation.capabilities>>;
      let release: () => void;
      try {
        capabilities = await moderation.capabilities(participant);
        release = await presence.hold(participant.id, { heard: request.query.alive === true });
      } finally {
        const left = (opening.get(participant.id) ?? 1) - 1;
        if (left > 0) opening.set(participant.id, left);
        else opening.delete(participant.id);
      }

      reply.hijack();
      const readLocked = async () => (await findRoomById(services.store.db, participant.room_id))?.is_locked === 1;
      const stream = new PanelStream(reply.raw, participant.id, services.config.streamHeartbeatMs, readLocked);
      open.set(stream, participant.room_id);
      stream.whenClosed(() => {
        open.delete(stream);
        release();
      });
      stream.greet({
        type: 'hello',
        self: panelParticipant(liveParticipant(participant)),
        capabilities,
        heartbeat_ms: services.config.streamHeartbeatMs,
        alive_ms: presence.heardEveryMs,
      });
      try {
        stream.whenClosed(await services.feed.watch(participant.room_id, stream));
      } catch (error) {
        request.log.error({ err: error, reqId: request.id }, 'panel stream failed to start');
        stream.end();
      }
    },
  );

  // The page says it is there, every `alive_ms` (see PresenceService.hold): its participant's
  // lease is renewed by these, so a page whose network went silent leaves after the grace period
  // even while its stream's socket still looks open here.
  app.post('/alive', { schema: { hide: true, response: { ...NoContent, ...errorResponses(401) } } }, async function sayAlive(request, reply) {
    presence.heard((await participantOf(request)).id);
    return reply.code(204).send();
  });

  app.post('/leave', { schema: { hide: true, response: { ...NoContent, ...errorResponses(401) } } }, async function leaveRoom(request, reply) {
    await presence.leave((await participantOf(request)).id, 'left');
    return reply.code(204).send();
  });

  app.post(
    '/hand',
    { schema: { hide: true, body: HandBody, response: { ...NoContent, ...errorResponses(401, 403, 422) } } },
    async function changeOwnHand(request, reply) {
      await moderation.setOwnHand(await participantOf(request), request.body.raised);
      return reply.code(204).send();
    },
  );

  app.post(
    '/participants/:participantId/:action',
    { schema: { hide: true, params: ActionParams, response: { ...NoContent, ...errorResponses(401, 403, 404, 422) } } },
    async function moderateParticipant(request, reply) {
      await moderation.act(await participantOf(request), ACTIONS[request.params.action], request.params.participantId);
      return reply.code(204).send();
    },
  );

  app.post(
    '/room/:action',
    { schema: { hide: true, params: LockParams, response: { ...NoContent, ...errorResponses(401, 403, 404) } } },
    async function lockRoom(request, reply) {
      await moderation.setRoomLocked(await participantOf(request), request.params.action === 'lock');
      return reply.code(204).send();
    },
  );
}
