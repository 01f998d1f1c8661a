import { Type, type Static, type TSchema } from 'typebox';
import { fieldError, type ApiError } from './errors.js';

/**
 * A list's `offset`. Bounded, because the databases take a 64-bit one: a larger number (or
 * 1e300) would pass an unbounded integer schema and fail in the query instead of as a 422.
 */
export function Offset() {
  return Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, default: 0 }));
}

/**
 * The DS list parameters, shared by every list: `limit` (default and maximum 100), `offset`,
 * `order` (asc|desc, default desc) and `after` (an id, or a room's friendly_url, after which
 * the page starts).
 */
export const ListQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 100, description: 'Maximum and default is 100.' })),
    offset: Offset(),
    order: Type.Optional(Type.Union([Type.Literal('asc'), Type.Literal('desc')], { default: 'desc' })),
    after: Type.Optional(Type.String({ minLength: 1, maxLength: 255, description: 'The id (or friendly_url) after which records are returned.' })),
  },
  { additionalProperties: false },
);
export type ListQuery = Static<typeof ListQuery>;

/** ListQuery plus a list's own filters. */
export function listQueryWith<P extends Record<string, TSchema>>(filters: P) {
  return Type.Object({ ...ListQuery.properties, ...filters }, { additionalProperties: false });
}

/**
 * `{"total_count": N, "data": [...]}`, the DS list answer. DS sends the count of its rooms,
 * sessions and participants lists as text (`"total_count": "2"`) and of the others as a
 * number; `countAsText` gives a list the first form, so a client typed from DS's document
 * decodes it. The count stays a number in the code: the serializer writes it as text.
 */
export function ListOf<T extends TSchema>(item: T, options: { countAsText?: boolean } = {}) {
  const count = options.countAsText === true ? Type.Unsafe<number>({ type: 'string', example: '2', description: 'The count, as text (as DS sends it).' }) : Type.Integer();
  return Type.Object({ total_count: count, data: Type.Array(item) });
}

export interface Page {
  limit: number;
  offset: number;
  order: 'asc' | 'desc';
  after: string | undefined;
}

export function pageFrom(query: ListQuery): Page {
  return { limit: query.limit ?? 100, offset: query.offset ?? 0, order: query.order ?? 'desc', after: query.after };
}

/** The 422 for an `after` that names nothing in the list. */
export function invalidAfter(): ApiError {
  return fieldError('after', 'The selected after is invalid.');
}
