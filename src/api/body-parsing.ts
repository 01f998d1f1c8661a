import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError, validationError, type FieldErrors } from './errors.js';
import { collectTextProblems, mayHoldUnstorableText } from './validation.js';

/**
 * Bodies are JSON or nothing. Fastify's default parser is kept (it refuses prototype
 * poisoning), with three differences: an empty body sent with `Content-Type: application/json`
 * counts as no body — DS clients send that header on body-less actions such as
 * `phone/connect` and `raise-hand` —, text/plain is not accepted (415, not a 422), and text
 * holding a NUL or an unpaired surrogate is a 422 (refuseUnstorableText in validation.ts says why).
 * A compressed body (Content-Encoding) is a 415.
 */
export function installBodyParsing(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('application/json', { parseAs: 'string' }, function parseJsonOrNothing(request, body, done) {
    // A compressed body is not JSON to the parser: say what is wrong instead of "not valid JSON".
    const encoding = request.headers['content-encoding'];
    if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') {
      done(new ApiError('unsupported_media_type', `The request body must be sent uncompressed (Content-Encoding: ${encoding} is not supported).`), undefined);
      return;
    }
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

  // A request without a body (curl -X POST, no data) to a route whose body is an object means
  // no fields, like `{}`, on every such route alike: a token with no claims of its own, a
  // change of nothing. A JSON null stays invalid. Added to those routes only, so others pay nothing.
  app.addHook('onRoute', function missingBodyIsEmptyOn(route) {
    if ((route.schema?.body as { type?: unknown } | undefined)?.type !== 'object') return;
    const existing = route.preValidation === undefined ? [] : Array.isArray(route.preValidation) ? route.preValidation : [route.preValidation];
    route.preValidation = [missingBodyIsEmpty, ...existing];
  });
}

async function missingBodyIsEmpty(request: FastifyRequest): Promise<void> {
  if (request.body === undefined) request.body = {};
}
