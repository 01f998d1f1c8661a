import type { FastifyInstance } from 'fastify';
import { validationError, type FieldErrors } from './errors.js';
import { collectTextProblems, mayHoldUnstorableText } from './validation.js';

/**
 * Bodies are JSON or nothing. Fastify's default parser is kept (it refuses prototype
 * poisoning), with three differences: an empty body sent with `Content-Type: application/json`
 * counts as no body — DS clients send that header on body-less actions such as
 * `phone/connect` and `raise-hand` —, text/plain is not accepted (415, not a 422), and text
 * holding a NUL or an unpaired surrogate is a 422 (refuseUnstorableText in validation.ts says why).
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
    parseJson(request, text, function refuseUnstorableText(error, value) {
      // JSON carries a NUL or a lone surrogate only as an escape: the walk runs only for a body that has one.
      if (error === null && mayHoldUnstorableText(text)) {
        const problems: FieldErrors = {};
        collectTextProblems(value, '', problems);
        if (Object.keys(problems).length > 0) {
          done(validationError(problems), undefined);
          return;
        }
      }
      done(error, value);
    });
  });
}
