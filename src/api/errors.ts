import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import FindMyWay, { type HTTPMethod } from 'find-my-way';
import { Type, type Static } from 'typebox';

/**
 * The error catalogue: every error roomline answers, its status and its DS-shaped body.
 * Routes throw ApiError with a code from here; the one handler below writes the answer.
 */
export const ERROR_CATALOGUE = {
  malformed_json: { status: 400, message: 'The request body is not valid JSON.' },
  bad_request: { status: 400, message: 'The request could not be understood.' },
  unauthenticated: { status: 401, message: 'Unauthenticated.' },
  forbidden: { status: 403, message: 'This action is unauthorized.' },
  not_found: { status: 404, message: 'Not Found' },
  method_not_allowed: { status: 405, message: 'The method is not allowed for this resource.' },
  request_timeout: { status: 408, message: 'The request did not arrive in time.' },
  payload_too_large: { status: 413, message: 'The request body is too large.' },
  unsupported_media_type: { status: 415, message: 'The request body must be JSON (Content-Type: application/json).' },
  validation_failed: { status: 422, message: 'The given data was invalid.' },
  unprocessable: { status: 422, message: 'The request cannot be processed.' },
  too_many_requests: { status: 429, message: 'Too Many Attempts.' },
  headers_too_large: { status: 431, message: 'The request headers are too large.' },
  internal: { status: 500, message: 'Server Error' },
  not_supported: { status: 501, message: 'Not supported by roomline.' },
  unavailable: { status: 503, message: 'Service Unavailable' },
} as const;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

/** Field path → messages, as Laravel reports validation problems ("0.call_id"). */
export type FieldErrors = Record<string, string[]>;

export class ApiError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message?: string,
    readonly fieldErrors?: FieldErrors,
  ) {
    super(message ?? ERROR_CATALOGUE[code].message);
    this.name = 'ApiError';
    this.status = ERROR_CATALOGUE[code].status;
  }
}

export const notFound = (): ApiError => new ApiError('not_found');

/** The Retry-After of a 503. */
const RETRY_AFTER_SECONDS = 5;

/** A 422 in the Laravel shape: the first problem as the message, every problem under its field path. */
export function validationError(fieldErrors: FieldErrors): ApiError {
  const messages = Object.values(fieldErrors).flat();
  const first = messages[0] ?? ERROR_CATALOGUE.validation_failed.message;
  const more = messages.length - 1;
  const message = more > 0 ? `${first} (and ${more} more error${more === 1 ? '' : 's'})` : first;
  return new ApiError('validation_failed', message, fieldErrors);
}

/** One field's problem, as a 422. */
export const fieldError = (field: string, message: string): ApiError => validationError({ [field]: [message] });

/** The body of every error answer. `error` is set on 404s ("not-found"); `errors` on 422s. */
export const ErrorBody = Type.Object(
  {
    message: Type.String(),
    error: Type.Optional(Type.String()),
    errors: Type.Optional(Type.Record(Type.String(), Type.Array(Type.String()))),
  },
  { $id: 'ErrorBody', description: 'A DS-shaped error.' },
);
export type ErrorBody = Static<typeof ErrorBody>;

/** Response schemas for the errors a route can answer, keyed by status, for route declarations. */
export function errorResponses(...statuses: number[]): Record<number, typeof ErrorBody> {
  return Object.fromEntries(statuses.map((status) => [status, ErrorBody]));
}

function bodyFor(error: ApiError): ErrorBody {
  const body: ErrorBody = { message: error.message };
  if (error.code === 'not_found') body.error = 'not-found';
  if (error.code === 'not_supported') body.error = 'not-supported';
  if (error.fieldErrors !== undefined) body.errors = error.fieldErrors;
  return body;
}

/** The last request of a connection answered with an error before its body had come (answerClientError). */
const answeredBeforeBody = new WeakMap<Socket, FastifyRequest['raw']>();

export function sendError(reply: FastifyReply, error: ApiError): FastifyReply {
  const request = reply.request.raw;
  if (!request.complete) answeredBeforeBody.set(request.socket, request);
  // An outage is brief or it is not: a client that retries waits a few seconds first.
  if (error.status === 503) reply.header('retry-after', String(RETRY_AFTER_SECONDS));
  return reply.code(error.status).type('application/json; charset=utf-8').send(bodyFor(error));
}

/** Fastify's own 4xx errors (body parsing, limits), mapped onto the catalogue. */
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'bad_request',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'malformed_json',
  FST_ERR_CTP_INVALID_JSON_BODY: 'malformed_json',
  FST_ERR_BAD_URL: 'not_found',
  FST_ERR_ASYNC_CONSTRAINT: 'bad_request',
};

/** Turns anything thrown into a catalogue error; unknown errors become a generic 500. */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  const fastifyError = (error ?? {}) as Partial<FastifyError> & { type?: string };
  if (fastifyError.validation !== undefined) return validationFromAjv(fastifyError);
  const mapped = fastifyError.code !== undefined ? FASTIFY_CODES[fastifyError.code] : undefined;
  if (mapped !== undefined) return new ApiError(mapped);
  if (error instanceof SyntaxError || fastifyError.type === 'entity.parse.failed') return new ApiError('malformed_json');
  // Two requests racing to create the same unique thing (a friendly_url, a role name): the
  // database's unique index decides, and the loser gets a clear 4xx, as if it had come second.
  if (UNIQUE_VIOLATIONS.has(String(fastifyError.code))) {
    return new ApiError('unprocessable', 'The request conflicts with a change made at the same moment (a name already taken); try again.');
  }
  if (storeUnavailable(error)) {
    return new ApiError('unavailable', 'The database could not be reached or did not answer in time. Try again.');
  }
  const status = fastifyError.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    if (status === 413) return new ApiError('payload_too_large');
    if (status === 415) return new ApiError('unsupported_media_type');
    if (status === 404) return new ApiError('not_found');
    if (status === 429) return new ApiError('too_many_requests');
    return new ApiError('bad_request');
  }
  return new ApiError('internal');
}

/** Unique-constraint errors: PostgreSQL's SQLSTATE 23505, and better-sqlite3's code. */
const UNIQUE_VIOLATIONS = new Set(['23505', 'SQLITE_CONSTRAINT_UNIQUE', 'SQLITE_CONSTRAINT_PRIMARYKEY']);

/**
 * The database was out of reach, or did not answer in time: a 503 the client may retry (the
 * bridge's reports are safe to repeat). PostgreSQL's SQLSTATEs for a lost or refused
 * connection (class 08), a shutdown or restart (57P01–57P03), too many connections (53300), a
 * statement cancelled by its timeout (57014) and a transaction broken off to end a deadlock
 * (40P01, 40001); the operating system's codes for a connection
 * that failed; SQLite's lock held by another process past the wait (SQLITE_BUSY).
 */
const UNAVAILABLE_CODES = new Set([
  // A transaction PostgreSQL broke off to end a deadlock or a serialization conflict: none of
  // it was applied, and the same request again succeeds.
  '40P01',
  '40001',
  '57014',
  '57P01',
  '57P02',
  '57P03',
  '53300',
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'SQLITE_BUSY',
]);

/** pg's own errors for a connection that failed or timed out: they carry no code. */
const UNAVAILABLE_MESSAGES = /^(Connection terminated|timeout exceeded when trying to connect|Query read timeout|Client has encountered a connection error|the PostgreSQL connection failed)/;

function storeUnavailable(error: unknown): boolean {
  for (let cause = error, depth = 0; cause instanceof Error && depth < 4; cause = cause.cause, depth++) {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === 'string' && (UNAVAILABLE_CODES.has(code) || code.startsWith('08') || code.startsWith('SQLITE_BUSY'))) return true;
    if (code === undefined && UNAVAILABLE_MESSAGES.test(cause.message)) return true;
    // Node's connection errors from several addresses at once (localhost as ::1 and 127.0.0.1).
    if (cause instanceof AggregateError && cause.errors.some((inner) => storeUnavailable(inner))) return true;
  }
  return false;
}

interface AjvIssue {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
  message?: string;
}

/** Turns schema-validation issues into Laravel field paths and sentences. */
function validationFromAjv(error: Partial<FastifyError>): ApiError {
  const issues = (error.validation ?? []) as unknown as AjvIssue[];
  const context = (error as { validationContext?: string }).validationContext;
  const fieldErrors: FieldErrors = {};
  for (const issue of issues) {
    // Combinators report their branches' issues too; the branch issues say more.
    if (issue.keyword === 'anyOf' || issue.keyword === 'oneOf' || issue.keyword === 'if') continue;
    const segments = issue.instancePath.split('/').slice(1).map(unescapePointer);
    if (issue.keyword === 'required') segments.push(String(issue.params.missingProperty));
    if (issue.keyword === 'additionalProperties') segments.push(String(issue.params.additionalProperty));
    let field = segments.join('.');
    if (field === '') field = context === 'body' || context === undefined ? 'body' : context;
    const sentence = describeIssue(field, issue);
    const list = (fieldErrors[field] ??= []);
    if (!list.includes(sentence)) list.push(sentence);
  }
  if (Object.keys(fieldErrors).length === 0) fieldErrors.body = ['The given data was invalid.'];
  return validationError(fieldErrors);
}

function unescapePointer(segment: string): string {
  return segment.replace(/~1/g, '/').replace(/~0/g, '~');
}

function describeIssue(field: string, issue: AjvIssue): string {
  const p = issue.params;
  switch (issue.keyword) {
    case 'required':
      return `The ${field} field is required.`;
    case 'additionalProperties':
      return `The ${field} field is not allowed.`;
    case 'type':
      return `The ${field} field must be ${article(String(p.type))}.`;
    case 'minLength':
      return `The ${field} field must be at least ${String(p.limit)} characters.`;
    case 'maxLength':
      return `The ${field} field must not be greater than ${String(p.limit)} characters.`;
    case 'minimum':
      return `The ${field} field must be at least ${String(p.limit)}.`;
    case 'maximum':
      return `The ${field} field must not be greater than ${String(p.limit)}.`;
    case 'minItems':
      return `The ${field} field must have at least ${String(p.limit)} item${p.limit === 1 ? '' : 's'}.`;
    case 'maxItems':
      return `The ${field} field must not have more than ${String(p.limit)} items.`;
    case 'enum':
    case 'const':
      return `The selected ${field} is invalid.`;
    case 'pattern':
    case 'format':
      return `The ${field} field format is invalid.`;
    case 'minProperties':
      return `The ${field} field must not be empty.`;
    default:
      return `The ${field} field is invalid${issue.message !== undefined ? ` (${issue.message})` : ''}.`;
  }
}

function article(type: string): string {
  const names: Record<string, string> = {
    string: 'a string',
    integer: 'an integer',
    number: 'a number',
    boolean: 'true or false',
    array: 'an array',
    object: 'an object',
    null: 'null',
  };
  return type
    .split(',')
    .map((t) => names[t] ?? t)
    .join(' or ');
}

/**
 * Fastify answers two errors itself, before any route or error handler: a path that does not
 * decode (`/rooms/%ff`) and a failed route constraint. Given to Fastify as `frameworkErrors`, so
 * they get the catalogue's answer too (a path that does not decode names nothing: a 404).
 */
export function answerFrameworkError(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return sendError(reply, toApiError(error));
}

/**
 * What node:http finds wrong with a connection's bytes before any request exists: a request
 * not wholly received in time (408), headers too large (431), bytes that are not HTTP (400).
 * Given to Fastify as `clientErrorHandler`, so they get the catalogue's answer too. Nothing is
 * written where the request has had its answer already: one refused as it arrived (a 401 before
 * its body came) whose body then never came would otherwise get a second answer, which a client
 * reads as the answer to its next request. The connection closes either way.
 */
export function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const code: ErrorCode = error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'request_timeout' : error.code === 'HPE_HEADER_OVERFLOW' ? 'headers_too_large' : 'bad_request';
  const refused = answeredBeforeBody.get(socket);
  // node:http keeps the connection's current response here, and checks it the same way.
  const answering = (socket as Socket & { _httpMessage?: { headersSent: boolean } })._httpMessage;
  if (socket.writable && answering?.headersSent !== true && (refused === undefined || refused.complete)) {
    const { status, message } = ERROR_CATALOGUE[code];
    const body = JSON.stringify({ message });
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  }
  socket.destroy(error);
}

/** Installs the one error handler and the 404 handler. */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler(function handleError(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
    const apiError = toApiError(error);
    if (apiError.status >= 500) {
      // The cause goes to the log with the request id; the answer stays generic.
      request.log.error({ err: error, reqId: request.id }, 'request failed');
    } else if (!(error instanceof ApiError)) {
      request.log.info({ code: error.code, status: apiError.status }, apiError.message);
    }
    return sendError(reply, apiError);
  });
  const methods = apiMethodsByPath(app);
  app.setNotFoundHandler(function handleUnknownRoute(request, reply) {
    // A DS path asked with a method it does not take: Laravel's 405, naming the ones it takes.
    const path = request.url.split('?', 1)[0]!;
    const allowed = path.startsWith('/api/') ? methods(path).filter((method) => method !== request.method) : [];
    if (allowed.length === 0) return sendError(reply, notFound());
    reply.header('allow', allowed.join(', '));
    return sendError(reply, new ApiError('method_not_allowed', `The ${request.method} method is not supported for route ${path.slice(1)}. Supported methods: ${allowed.join(', ')}.`));
  });
}

/**
 * The methods the API's routes take on a concrete path, for the 405. Fastify's router answers
 * one method at a time, so a second router holds every /api route of every method (added as
 * they are registered: this must run before the routes are).
 */
function apiMethodsByPath(app: FastifyInstance): (path: string) => string[] {
  const routes = FindMyWay({ ignoreTrailingSlash: true, maxParamLength: 512 });
  const none = () => {};
  app.addHook('onRoute', function rememberApiRoute(route) {
    if (!route.url.startsWith('/api/')) return;
    for (const method of Array.isArray(route.method) ? route.method : [route.method]) {
      if (!routes.hasRoute(method as HTTPMethod, route.url)) routes.on(method as HTTPMethod, route.url, none);
    }
  });
  return function methodsOf(path) {
    try {
      return METHODS.filter((method) => routes.find(method, path) !== null);
    } catch {
      // A path the router cannot decode names nothing, whatever the method: the 404 stands.
      return [];
    }
  };
}

const METHODS: readonly HTTPMethod[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];
