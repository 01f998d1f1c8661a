import { Ajv, type Options } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifyInstance, FastifySchema } from 'fastify';
import { notFound, validationError, type FieldErrors } from './errors.js';

/**
 * Two validators. Query strings, path parameters and headers arrive as text, so they are
 * coerced ("20" → 20). Bodies are JSON and are taken as sent: a number where a string
 * belongs is a 422, never silently turned into text. Unknown body fields are refused,
 * not dropped, so a typo is reported instead of ignored.
 */
export function installValidators(app: FastifyInstance): void {
  const common: Options = { allErrors: true, useDefaults: true, removeAdditional: false, strict: false, verbose: false };
  const forText = new Ajv({ ...common, coerceTypes: 'array' });
  const forBody = new Ajv({ ...common, coerceTypes: false });
  addFormats.default(forText);
  addFormats.default(forBody);

  app.setValidatorCompiler(function compileValidator({ schema, httpPart }: { schema: FastifySchema; httpPart?: string }) {
    return (httpPart === 'body' ? forBody : forText).compile(schema as object);
  });
}

/**
 * Text may not carry U+0000 (NUL), anywhere: PostgreSQL cannot store it in a text column, so in
 * cluster mode the write would fail, and no DS field has a use for it. It is refused as a 422
 * in both modes, so a client gets the same answer from either (in a path, a 404: the text
 * names nothing). Path parameters and the query string are checked here, before the route's
 * validation; bodies as they are parsed (body-parsing.ts), where a NUL can only come as the
 * escape `\u0000`.
 */
export function refuseNulCharacters(app: FastifyInstance): void {
  app.addHook('preValidation', async function refuseNulInUrl(request) {
    const problems: FieldErrors = {};
    // A path that names something by a text with a NUL names nothing: a 404, as for any odd reference.
    collectNulFields(request.params, '', problems);
    if (Object.keys(problems).length > 0) throw notFound();
    // Only the query fields the route reads: a page link's tracking parameters are not its business.
    const declared = (request.routeOptions.schema?.querystring as { properties?: Record<string, unknown> } | undefined)?.properties;
    if (declared !== undefined) {
      const query = request.query as Record<string, unknown>;
      for (const field of Object.keys(declared)) collectNulFields(query[field], field, problems);
    }
    if (Object.keys(problems).length > 0) throw validationError(problems);
  });
}

/** Adds a problem for each string in `value` holding a NUL, under its Laravel field path ("0.name"). */
export function collectNulFields(value: unknown, path: string, problems: FieldErrors): void {
  if (typeof value === 'string') {
    if (value.includes('\0')) addNulProblem(problems, path === '' ? 'body' : path);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  for (const [key, item] of Object.entries(value)) {
    const field = path === '' ? key : `${path}.${key}`;
    // A field's name may hold the NUL itself: it is reported with the NUL written out.
    if (key.includes('\0')) addNulProblem(problems, field.replaceAll('\0', '\\0'));
    else collectNulFields(item, field, problems);
  }
}

function addNulProblem(problems: FieldErrors, field: string): void {
  problems[field] = [`The ${field} field must not contain NUL characters.`];
}
