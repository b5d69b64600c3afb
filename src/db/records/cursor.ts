import { z } from 'zod';
import { QueryError } from './errors.js';
import { SORT_FIELDS, SORT_ORDERS } from './filters.js';
import type { ObjectQuery } from './query.js';

// Keyset paging: a cursor is the last row's (sort value, id), opaque to clients (base64url JSON),
// and only valid with the sort and order it was made for.

export interface Cursor {
  /** Sort value of the last row returned. */
  v: string | number;
  /** Its id: the tie-breaker that makes (value, id) unique. */
  i: number;
}

const cursorSchema = z.object({ s: z.enum(SORT_FIELDS), o: z.enum(SORT_ORDERS), v: z.union([z.string(), z.number()]), i: z.number().int() });

export function encodeCursor(q: Pick<ObjectQuery, 'sort' | 'order'>, c: Cursor): string {
  return Buffer.from(JSON.stringify({ s: q.sort, o: q.order, v: c.v, i: c.i })).toString('base64url');
}

export function decodeCursor(cursor: string, q: Pick<ObjectQuery, 'sort' | 'order'>): Cursor {
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new QueryError('cursor', 'not a cursor returned by this API');
  }
  const c = cursorSchema.safeParse(raw);
  if (!c.success || typeof c.data.v !== (c.data.s === 'key' ? 'string' : 'number')) throw new QueryError('cursor', 'not a cursor returned by this API');
  if (c.data.s !== q.sort || c.data.o !== q.order) throw new QueryError('cursor', `the cursor was made for sort=${c.data.s}&order=${c.data.o}`);
  return { v: c.data.v, i: c.data.i };
}
