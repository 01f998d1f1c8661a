import { Ajv, type Options } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifyInstance, FastifySchema } from 'fastify';
import { notFound, validationError, type FieldErrors } from './errors.js';

/**
 * Two validators. Query strings, path parameters and headers arrive as text, so they are
 * coerced ("20" → 20). Bodies are JSON and are taken as sent: a number where a string
 * belongs is a 422, never silently turned into text.
 *
 * DS is a Laravel application, and where its clients count on Laravel's ways, roomline
 * follows them, so a client works by changing only its base URL:
 * - fields a route does not know are ignored (dropped before the route sees them), in bodies
 *   and query strings alike, not refused;
 * - a boolean also takes 1, 0, "1" and "0" (what PHP's http_build_query makes of true and
 *   false), and an integer also takes its digits as a string ("50"); see laravelScalars.
 */
export function installValidators(app: FastifyInstance): void {
  const common: Options = { allErrors: true, useDefaults: true, removeAdditional: true, strict: false, verbose: false };
  const forText = new Ajv({ ...common, coerceTypes: 'array' });
  const forBody = new Ajv({ ...common, coerceTypes: false });
  addFormats.default(forText);
  addFormats.default(forBody);

  app.setValidatorCompiler(function compileValidator({ schema, httpPart }: { schema: FastifySchema; httpPart?: string }) {
    const validate = (httpPart === 'body' ? forBody : forText).compile(schema as object);
    const scalars = laravelScalars(schema);
    if (scalars === undefined) return validate;
    const validateLikeLaravel = (data: unknown) => {
      scalars(data);
      const valid = validate(data);
      validateLikeLaravel.errors = validate.errors;
      return valid;
    };
    validateLikeLaravel.errors = validate.errors;
    return validateLikeLaravel;
  });
}

/** Where a schema has booleans or integers, and how to reach them: by property, or every item. */
type ScalarPlan = 'boolean' | 'integer' | { properties: Map<string, ScalarPlan> } | { items: ScalarPlan };

const INTEGER_TEXT = /^[+-]?\d{1,15}$/;

/**
 * A function that turns, in place, Laravel's other spellings of booleans (1, 0, "1", "0") and
 * integers ("50") into true, false and 50 wherever the schema asks for a boolean or an
 * integer; undefined when the schema has neither. Values that are neither spelling are left
 * as they are for the schema to refuse ("yes", "5.5", "0x10").
 */
function laravelScalars(schema: unknown): ((data: unknown) => void) | undefined {
  const plan = scalarPlan(schema);
  if (plan === undefined || typeof plan === 'string') return undefined;
  return (data) => applyPlan(plan, data);
}

function scalarPlan(schema: unknown): ScalarPlan | undefined {
  if (schema === null || typeof schema !== 'object') return undefined;
  const node = schema as { type?: unknown; anyOf?: unknown[]; properties?: Record<string, unknown>; items?: unknown };
  const types = new Set<unknown>(Array.isArray(node.type) ? node.type : [node.type]);
  for (const branch of node.anyOf ?? []) {
    const branchType = (branch as { type?: unknown } | null)?.type;
    for (const type of Array.isArray(branchType) ? branchType : [branchType]) types.add(type);
  }
  const alsoText = types.has('string') || types.has('number');
  if (types.has('boolean') && !alsoText && !types.has('integer')) return 'boolean';
  if (types.has('integer') && !alsoText) return 'integer';
  if (node.properties !== undefined) {
    const properties = new Map<string, ScalarPlan>();
    for (const [name, property] of Object.entries(node.properties)) {
      const plan = scalarPlan(property);
      if (plan !== undefined) properties.set(name, plan);
    }
    return properties.size > 0 ? { properties } : undefined;
  }
  if (node.items !== undefined && !Array.isArray(node.items)) {
    const items = scalarPlan(node.items);
    return items === undefined ? undefined : { items };
  }
  return undefined;
}

function applyPlan(plan: ScalarPlan, data: unknown): void {
  if (typeof plan === 'string' || data === null || typeof data !== 'object') return;
  const container = data as Record<string, unknown>;
  if ('items' in plan) {
    if (!Array.isArray(data)) return;
    for (let index = 0; index < data.length; index++) setScalar(plan.items, container, String(index));
    return;
  }
  if (Array.isArray(data)) return;
  for (const [name, property] of plan.properties) if (Object.hasOwn(container, name)) setScalar(property, container, name);
}

function setScalar(plan: ScalarPlan, container: Record<string, unknown>, key: string): void {
  const value = container[key];
  if (plan === 'boolean') {
    if (value === 1 || value === '1') container[key] = true;
    else if (value === 0 || value === '0') container[key] = false;
  } else if (plan === 'integer') {
    if (typeof value === 'string' && INTEGER_TEXT.test(value)) container[key] = Number(value);
  } else {
    applyPlan(plan, value);
  }
}

/**
 * Text must be storable and mean the same everywhere. Two kinds are refused as a 422 in both
 * modes, so a client gets the same answer from either (in a path, a 404: the text names
 * nothing):
 * - U+0000 (NUL): PostgreSQL cannot store it in a text column, so in cluster mode the write
 *   would fail, and no DS field has a use for it;
 * - an unpaired UTF-16 surrogate (JSON's `"\ud800"` alone): it has no UTF-8 form, so it would
 *   be stored as U+FFFD, and two different call ids would come back as the same one.
 * Path parameters and the query string are checked here, before the route's validation;
 * bodies as they are parsed (body-parsing.ts), where either can only come as an escape.
 */
export function refuseUnstorableText(app: FastifyInstance): void {
  app.addHook('preValidation', async function refuseUnstorableTextInUrl(request) {
    const problems: FieldErrors = {};
    // A path that names something by such a text names nothing: a 404, as for any odd reference.
    collectTextProblems(request.params, '', problems);
    if (Object.keys(problems).length > 0) throw notFound();
    // Only the query fields the route reads: a page link's tracking parameters are not its business.
    const declared = (request.routeOptions.schema?.querystring as { properties?: Record<string, unknown> } | undefined)?.properties;
    if (declared !== undefined) {
      const query = request.query as Record<string, unknown>;
      for (const field of Object.keys(declared)) collectTextProblems(query[field], field, problems);
      collectListForms(query, declared, problems);
    }
    if (Object.keys(problems).length > 0) throw validationError(problems);
  });
}

/**
 * PHP reads `date_start[]=…` (or `date_start[x]=…`) as a list named `date_start`, which Laravel
 * then refuses where one value belongs. The query parser here keeps such a name as written, so the
 * route would drop it as unknown and answer as if no filter had been given: a list form of a
 * field the route declares (but not in that form, as the rooms list declares `tag[]`) is refused
 * on the field instead.
 */
function collectListForms(query: Record<string, unknown>, declared: Record<string, unknown>, problems: FieldErrors): void {
  for (const name of Object.keys(query)) {
    const bracket = name.indexOf('[');
    if (bracket <= 0 || Object.hasOwn(declared, name)) continue;
    const field = name.slice(0, bracket);
    if (Object.hasOwn(declared, field)) problems[field] = [`The ${field} field must be a single value, not a list.`];
  }
}

/** Whether JSON text has an escape refuseUnstorableText may refuse: only then is the parsed body walked. */
export function mayHoldUnstorableText(json: string): boolean {
  return json.includes('\\u') && /\\u(?:0000|[dD][89a-fA-F])/.test(json);
}

/** Adds a problem for each string in `value` (or field name) that refuseUnstorableText refuses, under its Laravel field path ("0.name"). */
export function collectTextProblems(value: unknown, path: string, problems: FieldErrors): void {
  if (typeof value === 'string') {
    const problem = textProblem(value);
    if (problem !== undefined) addProblem(problems, path === '' ? 'body' : path, problem);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  for (const [key, item] of Object.entries(value)) {
    const field = path === '' ? key : `${path}.${key}`;
    // A field's name may hold the text itself: it is reported with a NUL written out.
    const problem = textProblem(key);
    if (problem !== undefined) addProblem(problems, field.replaceAll('\0', '\\0'), problem);
    else collectTextProblems(item, field, problems);
  }
}

function textProblem(text: string): string | undefined {
  if (text.includes('\0')) return 'must not contain NUL characters';
  if (!(text as string & { isWellFormed(): boolean }).isWellFormed()) return 'must not contain unpaired UTF-16 surrogates';
  return undefined;
}

function addProblem(problems: FieldErrors, field: string, problem: string): void {
  problems[field] = [`The ${field} field ${problem}.`];
}
