import { and, asc, eq, gt, gte, lt, sql } from 'drizzle-orm';
import type Database from 'better-sqlite3';
import type { Db } from './client.js';
import { objects } from './schema.js';
import { compareKeys, paginate, type ListParams } from '../s3/list-params.js';
import type { ObjectRow } from '../store/types.js';

// ListObjects on SQLite: index seeks on (bucket_id, key), one statement per page shape.

export type ListPage = Omit<ReturnType<typeof paginate<ObjectRow>>, 'contents'> & { contents: ObjectRow[] };

/** Smallest string greater than every string that starts with `prefix` (UTF-8 byte order). */
export function prefixUpperBound(prefix: string): string | undefined {
  const cps = Array.from(prefix);
  while (cps.length > 0) {
    const last = cps.pop()!.codePointAt(0)!;
    if (last < 0x10ffff) {
      // Skip the surrogate block: a lone surrogate cannot be stored as UTF-8.
      const next = last + 1 === 0xd800 ? 0xe000 : last + 1;
      return cps.join('') + String.fromCodePoint(next);
    }
  }
  return undefined;
}

export interface ListBounds {
  lower: '' | 'gt' | 'gte';
  lowerValue?: string;
  upperValue?: string;
  /** Which bounds the query has: statements are prepared once per shape, not once per page. */
  shape: string;
}

/**
 * The bounds of a seek for keys > afterKey within prefix: ONE lower bound (the larger of the
 * prefix and afterKey, which implies the other) and the prefix's upper bound. See Listing.
 */
export function listBounds(prefix: string, afterKey: string | undefined): ListBounds {
  const upperValue = prefix ? prefixUpperBound(prefix) : undefined;
  const bounds = (lower: '' | 'gt' | 'gte', lowerValue?: string) => ({ lower, lowerValue, upperValue, shape: `${lower}|${upperValue === undefined ? '' : 'upper'}` });
  if (afterKey !== undefined && (!prefix || compareKeys(afterKey, prefix) >= 0)) return bounds('gt', afterKey);
  if (prefix) return bounds('gte', prefix);
  return bounds('');
}

export class Listing {
  constructor(
    private readonly db: Db,
    private readonly read: <T>(fn: () => T) => T,
    private readonly getObject: (bucketId: number, key: string) => ObjectRow | undefined,
  ) {}

  /**
   * One ListObjects page (S3's rules in paginate). With a delimiter the walk reads keys only,
   * one per entry (the first key of each group, SQLite having skipped the group's other keys),
   * and the rows of the page's contents are looked up after, all in one read transaction so the
   * page is one snapshot; without one, the walk reads the rows themselves.
   */
  page(bucketId: number, p: ListParams): ListPage {
    const delimiter = p.delimiter;
    if (delimiter === undefined) return paginate(p, (after, limit) => this.keys(bucketId, p.prefix, after, limit));
    return this.read(() => {
      const page = paginate(p, (after, limit) => this.listGroupHeads(bucketId, p.prefix, delimiter, after, limit), { groupHeads: true });
      const contents: ObjectRow[] = [];
      for (const { key } of page.contents) {
        const row = this.getObject(bucketId, key);
        if (row) contents.push(row);
      }
      return { ...page, contents };
    });
  }

  /** Keys > afterKey within prefix, in S3 order, from the (bucket_id, key) index. */
  keys(bucketId: number, prefix: string, afterKey: string | undefined, limit: number): ObjectRow[] {
    return this.listStatement(prefix, afterKey).all(this.listValues(bucketId, prefix, afterKey, limit)) as ObjectRow[];
  }

  /**
   * A delimiter listing's entries in one statement: keys > afterKey within prefix, each either a
   * key with no delimiter after the prefix or the FIRST key of its group (the keys sharing one
   * common prefix), up to `limit` of them. A recursive query seeks the index once per entry, past
   * the whole group, inside SQLite, instead of one query from JS per entry (several times slower
   * for a page of big folders: bench/results/listing.md). The common prefix is cut in SQL
   * (substr/instr/length count code points), the bound past a group is the one skipPrefixKey
   * gives, and `max(k, ...)` keeps the walk strictly increasing. Where SQL's cut disagrees with
   * JS's (a key with U+10FFFF after the delimiter sorts past the bound; length() and substr()
   * stop at a NUL, instr() does not), the walk only returns more keys of a group than its first,
   * never skips one: paginate, which groups in JS, passes over the extra ones.
   */
  listGroupHeads(bucketId: number, prefix: string, delimiter: string, afterKey: string | undefined, limit: number): Array<{ key: string }> {
    if (!delimiter) throw new RangeError('listGroupHeads needs a non-empty delimiter');
    const { lower, lowerValue, upperValue, shape } = this.listBounds(prefix, afterKey);
    let stmt = this.groupHeadStatements.get(shape);
    if (!stmt) {
      const upper = upperValue === undefined ? '' : ' AND key < :upper';
      const first = lower === 'gt' ? ' AND key > :lower' : lower === 'gte' ? ' AND key >= :lower' : '';
      const cut = `instr(substr(k, length(:prefix) + 1), :delim)`;
      stmt = this.db.$client.prepare(`
        WITH RECURSIVE walk(k, n) AS (
          SELECT (SELECT key FROM objects WHERE bucket_id = :bucketId AND is_current = 1${first}${upper} ORDER BY key LIMIT 1), 1
          UNION ALL
          SELECT (SELECT key FROM objects WHERE bucket_id = :bucketId AND is_current = 1 AND key > max(k, CASE WHEN ${cut} > 0
                    THEN substr(k, 1, length(:prefix) + ${cut} + length(:delim) - 1) || char(1114111) ELSE '' END)${upper}
                  ORDER BY key LIMIT 1), n + 1
          FROM walk WHERE k IS NOT NULL AND n < :limit
        )
        SELECT k AS key FROM walk WHERE k IS NOT NULL`);
      this.groupHeadStatements.set(shape, stmt);
    }
    const params: Record<string, unknown> = { bucketId, prefix, delim: delimiter, limit };
    if (lower) params.lower = lowerValue;
    if (upperValue !== undefined) params.upper = upperValue;
    return stmt.all(params) as Array<{ key: string }>;
  }

  private readonly groupHeadStatements = new Map<string, Database.Statement>();

  private listValues(bucketId: number, prefix: string, afterKey: string | undefined, limit: number) {
    const { lowerValue, upperValue } = this.listBounds(prefix, afterKey);
    return { bucketId, lower: lowerValue, upper: upperValue, limit };
  }

  private listStatement(prefix: string, afterKey: string | undefined): { all(params: Record<string, unknown>): unknown[] } {
    const { lower, upperValue, shape } = this.listBounds(prefix, afterKey);
    const cached = this.listStatements.get(shape);
    if (cached) return cached;
    const p = sql.placeholder;
    const q = this.listQuery(lower, lower ? p('lower') : undefined, upperValue === undefined ? undefined : p('upper'), p('bucketId'), p('limit')).prepare();
    this.listStatements.set(shape, q);
    return q;
  }

  private readonly listStatements = new Map<string, { all(params: Record<string, unknown>): unknown[] }>();

  /**
   * ONE lower bound: given both `key >= prefix` and `key > after`, SQLite seeks the index by one
   * and filters by the other, so each page of a deep walk re-read everything from the prefix on
   * (20 s for a delimiter page at 1,000,000 keys). The larger bound implies the other.
   */
  private listBounds(prefix: string, afterKey: string | undefined): ListBounds {
    return listBounds(prefix, afterKey);
  }

  private listQuery(lower: '' | 'gt' | 'gte', lowerValue: unknown, upperValue: unknown, bucketId: unknown, limit: unknown) {
    // Current versions only; `is_current = 1` written out so SQLite uses objects_current.
    const conds = [eq(objects.bucketId, bucketId as number), sql`is_current = 1`];
    if (lower === 'gt') conds.push(gt(objects.key, lowerValue as string));
    if (lower === 'gte') conds.push(gte(objects.key, lowerValue as string));
    if (upperValue !== undefined) conds.push(lt(objects.key, upperValue as string));
    return this.db.select().from(objects).where(and(...conds)).orderBy(asc(objects.key)).limit(limit as number);
  }

  /** The query behind listKeys, with its values inline (its plan is checked by the tests). */
  keysQuery(bucketId: number, prefix: string, afterKey: string | undefined, limit: number) {
    const { lower, lowerValue, upperValue } = this.listBounds(prefix, afterKey);
    return this.listQuery(lower, lowerValue, upperValue, bucketId, limit);
  }
}
