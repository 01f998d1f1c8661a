import type { HTTPMethods } from 'fastify';
import { Type, type TSchema } from 'typebox';
import { ApiError, errorResponses, sendError } from './errors.js';
import type { Api, RouteOptions } from './types.js';

/** The media-plane features of DS that roomline leaves out, as named in a 501 answer. */
export type UnsupportedFeature =
  | 'Recordings'
  | 'Transcripts'
  | 'Captions/Transcription'
  | 'Restreamers'
  | 'Libraries'
  | 'Chat'
  | 'Q&A (questions)'
  | 'Polls'
  | 'Quizzes'
  | 'Summaries'
  | 'Resources';

export interface UnsupportedPath {
  /** The DS path under /api/v1, spelled as in the DS OpenAPI document (`{room}`). */
  path: string;
  methods: readonly HTTPMethods[];
  feature: UnsupportedFeature;
}

/**
 * Every DS operation of the media plane. A DS client calling one gets a 501 that says what
 * is missing, never a 404 that would look like a typo or a missing room.
 */
export const UNSUPPORTED_PATHS: readonly UnsupportedPath[] = [
  { path: '/recordings', methods: ['GET'], feature: 'Recordings' },
  { path: '/recordings/archived', methods: ['GET'], feature: 'Recordings' },
  { path: '/recordings/{recording}', methods: ['GET', 'DELETE'], feature: 'Recordings' },
  { path: '/recordings/{recording}/download', methods: ['GET'], feature: 'Recordings' },
  { path: '/recordings/{recording}/bookmarks', methods: ['GET'], feature: 'Recordings' },
  { path: '/recordings/{recording}/archive', methods: ['POST'], feature: 'Recordings' },
  { path: '/recordings/{recording}/unarchive', methods: ['POST'], feature: 'Recordings' },
  { path: '/rooms/{room}/recordings', methods: ['DELETE'], feature: 'Recordings' },
  { path: '/rooms/{room}/recordings/start', methods: ['POST'], feature: 'Recordings' },
  { path: '/rooms/{room}/recordings/stop', methods: ['POST'], feature: 'Recordings' },
  { path: '/sessions/{session}/recordings', methods: ['DELETE'], feature: 'Recordings' },

  { path: '/rooms/{room}/transcripts', methods: ['GET', 'DELETE'], feature: 'Transcripts' },
  { path: '/rooms/{room}/transcripts/export', methods: ['GET'], feature: 'Transcripts' },
  { path: '/sessions/{session}/transcripts', methods: ['GET', 'DELETE'], feature: 'Transcripts' },
  { path: '/sessions/{session}/transcripts/export', methods: ['GET'], feature: 'Transcripts' },
  { path: '/rooms/{room}/transcription/start', methods: ['POST'], feature: 'Captions/Transcription' },
  { path: '/rooms/{room}/transcription/stop', methods: ['POST'], feature: 'Captions/Transcription' },

  { path: '/rooms/{room}/restreamers/start', methods: ['POST'], feature: 'Restreamers' },
  { path: '/rooms/{room}/restreamers/stop', methods: ['POST'], feature: 'Restreamers' },

  { path: '/libraries', methods: ['GET', 'POST'], feature: 'Libraries' },
  { path: '/libraries/{library}', methods: ['GET', 'PATCH', 'DELETE'], feature: 'Libraries' },
  { path: '/libraries/{library}/hierarchy', methods: ['GET'], feature: 'Libraries' },
  { path: '/libraries/{library}/folders', methods: ['GET', 'POST'], feature: 'Libraries' },
  { path: '/libraries/{library}/folders/{libraryFolder}', methods: ['GET', 'PATCH', 'DELETE'], feature: 'Libraries' },
  { path: '/libraries/{library}/files', methods: ['GET', 'POST'], feature: 'Libraries' },
  { path: '/libraries/{library}/files/{libraryFile}', methods: ['GET', 'PATCH', 'DELETE'], feature: 'Libraries' },
  { path: '/libraries/{library}/files/{libraryFile}/links', methods: ['GET'], feature: 'Libraries' },
  { path: '/libraries/{library}/webapps', methods: ['POST'], feature: 'Libraries' },
  { path: '/libraries/{library}/whiteboards', methods: ['POST'], feature: 'Libraries' },

  { path: '/rooms/{room}/chat', methods: ['GET', 'POST', 'DELETE'], feature: 'Chat' },
  { path: '/rooms/{room}/chat/export', methods: ['GET'], feature: 'Chat' },
  { path: '/sessions/{session}/chat', methods: ['DELETE'], feature: 'Chat' },

  { path: '/rooms/{room}/questions', methods: ['GET', 'POST', 'DELETE'], feature: 'Q&A (questions)' },
  { path: '/rooms/{room}/questions/export', methods: ['GET'], feature: 'Q&A (questions)' },
  { path: '/rooms/{room}/questions/{question}', methods: ['PATCH', 'DELETE'], feature: 'Q&A (questions)' },
  { path: '/rooms/{room}/questions/{question}/dismiss', methods: ['POST'], feature: 'Q&A (questions)' },
  { path: '/rooms/{room}/questions/{question}/reopen', methods: ['POST'], feature: 'Q&A (questions)' },
  { path: '/rooms/{room}/questions/{question}/vote', methods: ['POST', 'DELETE'], feature: 'Q&A (questions)' },
  { path: '/rooms/{room}/questions/{question}/answers', methods: ['POST'], feature: 'Q&A (questions)' },
  { path: '/rooms/{room}/questions/{question}/answers/{answer}', methods: ['PATCH', 'DELETE'], feature: 'Q&A (questions)' },
  { path: '/rooms/{room}/questions/{question}/live-answers/start', methods: ['POST'], feature: 'Q&A (questions)' },
  { path: '/rooms/{room}/questions/{question}/live-answers/stop', methods: ['POST'], feature: 'Q&A (questions)' },
  { path: '/rooms/{room}/questions/{question}/live-answers/cancel', methods: ['POST'], feature: 'Q&A (questions)' },
  { path: '/sessions/{session}/questions', methods: ['DELETE'], feature: 'Q&A (questions)' },

  { path: '/rooms/{room}/polls', methods: ['GET', 'POST', 'DELETE'], feature: 'Polls' },
  { path: '/rooms/{room}/polls/export', methods: ['GET'], feature: 'Polls' },
  { path: '/rooms/{room}/polls/template', methods: ['GET'], feature: 'Polls' },
  { path: '/rooms/{room}/polls/import', methods: ['POST'], feature: 'Polls' },
  { path: '/rooms/{room}/polls/{poll}', methods: ['GET', 'PATCH', 'DELETE'], feature: 'Polls' },
  { path: '/rooms/{room}/polls/{poll}/results', methods: ['GET'], feature: 'Polls' },
  { path: '/sessions/{session}/polls', methods: ['DELETE'], feature: 'Polls' },

  { path: '/rooms/{room}/quizzes', methods: ['GET', 'POST', 'DELETE'], feature: 'Quizzes' },
  { path: '/rooms/{room}/quizzes/export', methods: ['GET'], feature: 'Quizzes' },
  { path: '/rooms/{room}/quizzes/template', methods: ['GET'], feature: 'Quizzes' },
  { path: '/rooms/{room}/quizzes/import', methods: ['POST'], feature: 'Quizzes' },
  { path: '/rooms/{room}/quizzes/{quiz}', methods: ['GET', 'PATCH', 'DELETE'], feature: 'Quizzes' },
  { path: '/rooms/{room}/quizzes/{quiz}/results', methods: ['GET'], feature: 'Quizzes' },
  { path: '/sessions/{session}/quizzes', methods: ['DELETE'], feature: 'Quizzes' },

  { path: '/rooms/{room}/summaries', methods: ['DELETE'], feature: 'Summaries' },
  { path: '/sessions/{session}/summaries', methods: ['DELETE'], feature: 'Summaries' },
  { path: '/sessions/{session}/summary', methods: ['GET'], feature: 'Summaries' },

  { path: '/rooms/{room}/resources', methods: ['DELETE'], feature: 'Resources' },
  { path: '/sessions/{session}/resources', methods: ['DELETE'], feature: 'Resources' },
];

/** The tag the OpenAPI document lists these operations under. */
export const NOT_SUPPORTED_TAG = 'Not supported';

export function notSupportedMessage(feature: UnsupportedFeature): string {
  return `${feature} is not supported by roomline: it implements the room, live-roster and telephony control plane.`;
}

/** `/rooms/{room}/chat` → `/rooms/:room/chat`, the router's spelling. */
function routerPath(dsPath: string): string {
  return dsPath.replace(/\{(\w+)\}/g, ':$1');
}

/** The path parameters of a DS path, each a string, so the document lists them. */
function paramsSchema(dsPath: string) {
  const names = [...dsPath.matchAll(/\{(\w+)\}/g)].map((match) => match[1]!);
  return Type.Object(Object.fromEntries(names.map((name): [string, TSchema] => [name, Type.String()])));
}

/** The media-plane DS operations, each answering 501 with the feature it belongs to. */
export async function unsupportedRoutes(app: Api, _options: RouteOptions): Promise<void> {
  for (const { path, methods, feature } of UNSUPPORTED_PATHS) {
    const message = notSupportedMessage(feature);
    app.route({
      method: [...methods],
      url: routerPath(path),
      schema: {
        tags: [NOT_SUPPORTED_TAG],
        summary: `${feature}: not supported`,
        description: message,
        params: paramsSchema(path),
        response: errorResponses(401, 501),
      },
      // Sent rather than thrown: a 501 here is the expected answer, not a failure to log.
      handler: async function answerNotSupported(_request, reply) {
        return sendError(reply, new ApiError('not_supported', message));
      },
    });
  }
}
