import { Type, type Static } from 'typebox';
import type { CallChange } from '../domain/roster.js';
import { errorResponses, notFound, validationError, type FieldErrors } from './errors.js';
import type { Api, RouteOptions } from './types.js';

/** The most calls one request may report. */
export const MAX_CALLS_PER_BATCH = 1000;

export const RoomParams = Type.Object({
  room: Type.String({ minLength: 1, maxLength: 255, description: 'The UUID or friendly_url of the room.' }),
});

/** DS answers these with `HTTP/1.1 200 OK` and no body at all (not even `{}`): handlers send nothing. */
export const EmptyReply = Type.Unsafe<undefined>({ description: 'An empty body.' });

const CallId = Type.String({ minLength: 1, maxLength: 255, description: 'Unique call ID' });

/** Text a DS client may also send as null (or empty), meaning "not given". */
function optionalText(maxLength: number, description: string) {
  return Type.Optional(Type.Unsafe<string | null>({ type: ['string', 'null'], maxLength, description }));
}

const PhoneCall = Type.Object(
  {
    call_id: CallId,
    name: optionalText(255, 'Caller name (required when `caller_number` is not provided)'),
    caller_number: optionalText(64, 'Caller phone number (required when `name` is not provided)'),
    external_id: optionalText(255, 'Caller external ID'),
    muted: Type.Optional(Type.Unsafe<boolean | null>({ type: ['boolean', 'null'], description: 'Mute caller' })),
  },
  { additionalProperties: false },
);
type PhoneCall = Static<typeof PhoneCall>;

const JoinedBody = Type.Array(PhoneCall, { minItems: 1, maxItems: MAX_CALLS_PER_BATCH, description: 'The calls that joined.' });
const LeftBody = Type.Array(CallId, { minItems: 1, maxItems: MAX_CALLS_PER_BATCH, description: 'The call IDs that disconnected.' });
const ReconcileBody = Type.Array(PhoneCall, { maxItems: MAX_CALLS_PER_BATCH, description: 'Every call live in the room, according to the bridge.' });

const CallParams = Type.Object({ ...RoomParams.properties, callId: Type.String({ minLength: 1, maxLength: 255, description: 'The call ID.' }) });

/** What each call action does to the call. */
const CALL_ACTIONS: ReadonlyArray<{ path: string; summary: string; change: CallChange }> = [
  { path: 'raise-hand', summary: 'Raises the hand of the phone participant', change: { hand_raised: true } },
  { path: 'lower-hand', summary: 'Lowers the hand of the phone participant', change: { hand_raised: false } },
  { path: 'mute', summary: 'Mute phone participant', change: { muted: true } },
  { path: 'unmute', summary: 'Unmute phone participant', change: { muted: false } },
];

const TAGS = ['Phone participants'];

/**
 * The telephony bridge's side of a room: which calls joined and left, their hands and mute
 * state, and (a roomline extension) the bridge's full list of live calls after a restart.
 * Every batch is atomic: one bad item and nothing is applied.
 */
export async function phoneParticipantsRoutes(app: Api, { services }: RouteOptions): Promise<void> {
  const { roster } = services;

  app.post(
    '/rooms/:room/phone-participants/joined',
    {
      schema: {
        summary: 'Phone participants joined.',
        description: 'A call already live in the room is updated, never duplicated; a call that already left the room stays gone.',
        tags: TAGS,
        params: RoomParams,
        body: JoinedBody,
        response: { 200: EmptyReply, ...errorResponses(401, 404, 422) },
      },
    },
    async function phoneParticipantsJoined(request, reply) {
      requireNameOrNumber(request.body);
      if (!(await roster.phoneCallsJoined(request.team.id, request.params.room, request.body))) throw notFound();
      return reply.code(200).send();
    },
  );

  app.post(
    '/rooms/:room/phone-participants/left',
    {
      schema: {
        summary: 'Phone participants left.',
        description: 'Unknown or already-left call IDs are ignored; every call ID given can no longer join the room.',
        tags: TAGS,
        params: RoomParams,
        body: LeftBody,
        response: { 200: EmptyReply, ...errorResponses(401, 404, 422) },
      },
    },
    async function phoneParticipantsLeft(request, reply) {
      if (!(await roster.phoneCallsLeft(request.team.id, request.params.room, request.body))) throw notFound();
      return reply.code(200).send();
    },
  );

  app.put(
    '/rooms/:room/phone-participants',
    {
      schema: {
        summary: 'Reconcile phone participants (roomline extension).',
        description:
          'For a bridge recovering from a restart: the complete list of its live calls in the room. Missing calls join, changed ones are updated, and every other live phone participant leaves (reason `reconciled`), in one step. An empty list empties the room of phone participants.',
        tags: TAGS,
        params: RoomParams,
        body: ReconcileBody,
        response: { 200: EmptyReply, ...errorResponses(401, 404, 422) },
      },
    },
    async function reconcilePhoneParticipants(request, reply) {
      requireNameOrNumber(request.body);
      if (!(await roster.reconcilePhoneCalls(request.team.id, request.params.room, request.body))) throw notFound();
      return reply.code(200).send();
    },
  );

  for (const action of CALL_ACTIONS) {
    app.post(
      `/rooms/:room/phone-participants/:callId/${action.path}`,
      {
        schema: {
          summary: action.summary,
          description: 'The call must be live in the room. Repeating an action changes nothing and announces nothing.',
          tags: TAGS,
          params: CallParams,
          response: { 200: EmptyReply, ...errorResponses(401, 404) },
        },
      },
      async function changePhoneCall(request, reply) {
        const { room, callId } = request.params;
        if (!(await roster.changePhoneCall(request.team.id, room, callId, action.change))) throw notFound();
        return reply.code(200).send();
      },
    );
  }
}

function isBlank(value: string | null | undefined): boolean {
  return value === undefined || value === null || value === '';
}

/** Each call needs a name or a number to be shown by (Laravel's required_without, both ways). */
function requireNameOrNumber(calls: readonly PhoneCall[]): void {
  const problems: FieldErrors = {};
  calls.forEach((call, index) => {
    if (!isBlank(call.name) || !isBlank(call.caller_number)) return;
    problems[`${index}.name`] = [`The ${index}.name field is required when ${index}.caller_number is not present.`];
    problems[`${index}.caller_number`] = [`The ${index}.caller_number field is required when ${index}.name is not present.`];
  });
  if (Object.keys(problems).length > 0) throw validationError(problems);
}
