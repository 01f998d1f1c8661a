import { sql, type SelectQueryBuilder } from 'kysely';

/** Where a list page starts and how long it is. */
export interface PageWindow {
  limit: number;
  offset: number;
  order: 'asc' | 'desc';
}

/** The position of the record a page starts after (`after`): its creation time and its key. */
export interface PageCursor {
  createdAt: number;
  key: string;
}

/**
 * Orders a list by creation time, then by `keyColumn` (unique in the list, so the order is
 * total), and cuts one page of it, starting after `cursor` when given. Shared by every list.
 */
export function pageByCreation<DB, TB extends keyof DB, O>(
  query: SelectQueryBuilder<DB, TB, O>,
  window: PageWindow,
  keyColumn: string,
  cursor: PageCursor | undefined,
): SelectQueryBuilder<DB, TB, O> {
  const created = sql.ref('created_at');
  const key = sql.ref(keyColumn);
  const beyond = window.order === 'asc' ? sql.raw('>') : sql.raw('<');
  const paged =
    cursor === undefined
      ? query
      : query.where(sql<boolean>`(${created} ${beyond} ${cursor.createdAt} or (${created} = ${cursor.createdAt} and ${key} ${beyond} ${cursor.key}))`);
  return paged.orderBy(created, window.order).orderBy(key, window.order).limit(window.limit).offset(window.offset);
}
