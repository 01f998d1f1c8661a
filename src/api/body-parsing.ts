import type { FastifyInstance } from 'fastify';

/**
 * Bodies are JSON or nothing. Fastify's default parser is kept (it refuses prototype
 * poisoning), with two differences: an empty body sent with `Content-Type: application/json`
 * counts as no body — DS clients send that header on body-less actions such as
 * `phone/connect` and `raise-hand` — and text/plain is not accepted (415, not a 422).
 */
export function installBodyParsing(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('application/json', { parseAs: 'string' }, function parseJsonOrNothing(request, body, done) {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') {
      done(null, undefined);
      return;
    }
    parseJson(request, text, done);
  });
}
