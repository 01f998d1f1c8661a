import { ApiError, errorResponses, notFound } from './errors.js';
import { EmptyReply, RoomParams } from './phone-participants.js';
import type { Api, RouteOptions } from './types.js';

const TAGS = ['Phone participants'];

/** The room's SIP bridge: connected, or disconnected with every phone participant gone. */
export async function phoneBridgeRoutes(app: Api, { services }: RouteOptions): Promise<void> {
  const { roster } = services;

  app.post(
    '/rooms/:room/phone/connect',
    {
      schema: {
        summary: 'Connect to the phone bridge (SIP)',
        description: 'The room needs `telephony_enabled`.',
        tags: TAGS,
        params: RoomParams,
        response: { 200: EmptyReply, ...errorResponses(401, 404, 422) },
      },
    },
    async function connectPhoneBridge(request, reply) {
      const result = await roster.connectPhoneBridge(request.team.id, request.params.room);
      if (result === 'room_not_found') throw notFound();
      if (result === 'telephony_disabled') throw new ApiError('unprocessable', 'Telephony is not enabled for this room (telephony_enabled is false).');
      return reply.code(200).send();
    },
  );

  app.post(
    '/rooms/:room/phone/disconnect',
    {
      schema: {
        summary: 'Disconnect from the phone bridge (SIP)',
        description: 'Every live phone participant of the room leaves (reason `bridge_disconnected`), as one batch.',
        tags: TAGS,
        params: RoomParams,
        response: { 200: EmptyReply, ...errorResponses(401, 404) },
      },
    },
    async function disconnectPhoneBridge(request, reply) {
      if (!(await roster.disconnectPhoneBridge(request.team.id, request.params.room))) throw notFound();
      return reply.code(200).send();
    },
  );
}
