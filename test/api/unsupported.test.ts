import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { notSupportedMessage, UNSUPPORTED_PATHS } from '../../src/api/unsupported.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** A concrete URL for a DS path: every `{param}` gets a plausible value. */
function concrete(dsPath: string): string {
  return '/api/v1' + dsPath.replace(/\{(\w+)\}/g, (_match, name: string) => (name === 'room' ? 'any-room' : '5f2b1c6e-6d7a-4c1e-9f0a-3b2d1e0f9a8c'));
}

/** The features the product brief names as the media plane. */
const FEATURES = [
  'Recordings',
  'Transcripts',
  'Captions/Transcription',
  'Restreamers',
  'Libraries',
  'Chat',
  'Q&A (questions)',
  'Polls',
  'Quizzes',
  'Summaries',
  'Resources',
];

/** A sample of the DS OpenAPI document's media-plane operations, as the document spells them. */
const SPEC_SAMPLE = [
  ['GET', '/recordings'],
  ['DELETE', '/recordings/{recording}'],
  ['POST', '/rooms/{room}/recordings/start'],
  ['DELETE', '/sessions/{session}/recordings'],
  ['GET', '/sessions/{session}/transcripts/export'],
  ['POST', '/rooms/{room}/transcription/stop'],
  ['POST', '/rooms/{room}/restreamers/start'],
  ['PATCH', '/libraries/{library}/folders/{libraryFolder}'],
  ['POST', '/libraries/{library}/whiteboards'],
  ['POST', '/rooms/{room}/chat'],
  ['GET', '/rooms/{room}/chat/export'],
  ['POST', '/rooms/{room}/questions/{question}/live-answers/cancel'],
  ['DELETE', '/rooms/{room}/questions/{question}/answers/{answer}'],
  ['POST', '/rooms/{room}/polls/import'],
  ['GET', '/rooms/{room}/quizzes/{quiz}/results'],
  ['GET', '/sessions/{session}/summary'],
  ['DELETE', '/rooms/{room}/summaries'],
  ['DELETE', '/rooms/{room}/resources'],
  ['DELETE', '/sessions/{session}/resources'],
] as const;

describe('media-plane DS operations', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => t.stop());

  it('answer 501 naming the feature, for every path and method of the table', async () => {
    for (const { path, methods, feature } of UNSUPPORTED_PATHS) {
      for (const method of methods) {
        const response = await t.api.request(method, concrete(path));
        expect(response.status, `${method} ${path}`).toBe(501);
        expect(response.headers.get('content-type')).toMatch(/^application\/json/);
        expect(response.body, `${method} ${path}`).toEqual({ message: notSupportedMessage(feature), error: 'not-supported' });
      }
    }
  });

  it('name each feature in a sentence that says what roomline is', () => {
    expect(notSupportedMessage('Polls')).toBe('Polls is not supported by roomline: it implements the room, live-roster and telephony control plane.');
    expect(new Set(UNSUPPORTED_PATHS.map((entry) => entry.feature))).toEqual(new Set(FEATURES));
  });

  it('cover the DS document: a sample of its media-plane operations is in the table and answers 501', async () => {
    for (const [method, path] of SPEC_SAMPLE) {
      const entry = UNSUPPORTED_PATHS.find((candidate) => candidate.path === path);
      expect(entry?.methods, `${method} ${path}`).toContain(method);
      expect((await t.api.request(method, concrete(path))).status, `${method} ${path}`).toBe(501);
    }
    // The DS document has 90 media-plane operations: none is missing, none is extra.
    const operations = UNSUPPORTED_PATHS.reduce((count, entry) => count + entry.methods.length, 0);
    expect(operations).toBe(90);
  });

  it('ask for credentials first, like every other DS route', async () => {
    for (const { path, methods } of UNSUPPORTED_PATHS) {
      for (const method of methods) {
        const response = await t.client().request(method, concrete(path));
        expect(response.status, `${method} ${path}`).toBe(401);
        expect(response.body).toEqual({ message: 'Unauthenticated.' });
      }
    }
  });

});
