import { Ajv, type Options } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifyInstance, FastifySchema } from 'fastify';

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
