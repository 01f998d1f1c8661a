import { Type, type Static, type TSchema } from 'typebox';
import { fieldError, type ApiError } from './errors.js';

/**
 * The DS list parameters, shared by every list: `limit` (default and maximum 100), `offset`,
 * `order` (asc|desc, default desc) and `after` (an id, or a room's friendly_url, after which
 * the page starts).
 */
export const ListQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 100, description: 'Maximum and default is 100.' })),
    offset: Type.Optional(Type.Integer({ minimum: 0, default: 0 })),
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

/** `{"total_count": N, "data": [...]}`, the DS list answer. */
export function ListOf<T extends TSchema>(item: T) {
  return Type.Object({ total_count: Type.Integer(), data: Type.Array(item) });
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
