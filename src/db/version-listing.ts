import { and, asc, desc, eq, gt, gte, lt, sql, type SQL } from 'drizzle-orm';
import type { Db } from './client.js';
import { objects } from './schema.js';
import { prefixUpperBound } from './listing.js';
import { S3Error } from '../s3/errors.js';
import { compareKeys } from '../s3/list-params.js';
import { paginateVersions, type VersionCursor, type VersionListParams, type VersionPage } from '../s3/version-list.js';
import type { ObjectRow } from '../store/types.js';

// ListObjectVersions on SQLite: index seeks on objects_versions (bucket_id, key, id DESC), one
// prepared statement per seek shape; the paging rules are paginateVersions's.

type Statement = { all(params: Record<string, unknown>): unknown[] };

export class VersionListing {
  private readonly statements = new Map<string, Statement>();

  constructor(
    private readonly db: Db,
    private readonly read: <T>(fn: () => T) => T,
  ) {}

  /** One page, read in one transaction (one snapshot). */
  page(bucketId: number, p: VersionListParams): VersionPage<ObjectRow> {
    return this.read(() => {
      const start = this.startCursor(bucketId, p);
      const upper = p.prefix ? prefixUpperBound(p.prefix) : undefined;
      return paginateVersions(p, start, (cursor, limit) => this.next(bucketId, p.prefix, upper, cursor, limit));
    });
  }

  private startCursor(bucketId: number, p: VersionListParams): VersionCursor {
    if (p.keyMarker === undefined) return undefined;
    if (p.versionIdMarker === undefined) return { afterKey: p.keyMarker };
    const row = this.db
      .select({ id: objects.id })
      .from(objects)
      .where(and(eq(objects.bucketId, bucketId), eq(objects.key, p.keyMarker), eq(objects.versionId, p.versionIdMarker)))
      .get();
    if (!row) throw new S3Error('InvalidArgument', { ArgumentName: 'version-id-marker', ArgumentValue: p.versionIdMarker }, 'Invalid version id specified');
    return { key: p.keyMarker, id: row.id };
  }

  /** Up to `limit` versions after the cursor within [prefix, upper), by key then newest first. */
  private next(bucketId: number, prefix: string, upper: string | undefined, cursor: VersionCursor, limit: number): ObjectRow[] {
    const out: ObjectRow[] = [];
    let from: { op: 'gt' | 'gte'; key: string } | undefined = prefix ? { op: 'gte', key: prefix } : undefined;
    if (cursor && 'id' in cursor) {
      out.push(...(this.statement('rest', () => this.restOfKey()).all({ bucketId, key: cursor.key, id: cursor.id, limit }) as ObjectRow[]));
      if (out.length >= limit) return out;
      from = { op: 'gt', key: cursor.key };
    } else if (cursor) {
      from = { op: 'gt', key: cursor.afterKey };
    }
    // One lower bound (the larger one), as listing.ts explains.
    if (from?.op === 'gt' && prefix && compareKeys(from.key, prefix) < 0) from = { op: 'gte', key: prefix };
    const shape = `${from?.op ?? ''}|${upper === undefined ? '' : 'upper'}`;
    const stmt = this.statement(shape, () => this.keysQuery(from?.op, upper !== undefined));
    out.push(...(stmt.all({ bucketId, lower: from?.key, upper, limit: limit - out.length }) as ObjectRow[]));
    return out;
  }

  private statement(shape: string, make: () => Statement): Statement {
    let s = this.statements.get(shape);
    if (!s) this.statements.set(shape, (s = make()));
    return s;
  }

  private restOfKey(): Statement {
    const p = sql.placeholder;
    return this.db
      .select()
      .from(objects)
      .where(and(eq(objects.bucketId, p('bucketId')), eq(objects.key, p('key')), lt(objects.id, p('id'))))
      .orderBy(desc(objects.id))
      .limit(p('limit'))
      .prepare();
  }

  private keysQuery(lower: 'gt' | 'gte' | undefined, hasUpper: boolean): Statement {
    const p = sql.placeholder;
    const conds: SQL[] = [eq(objects.bucketId, p('bucketId'))];
    if (lower === 'gt') conds.push(gt(objects.key, p('lower')));
    if (lower === 'gte') conds.push(gte(objects.key, p('lower')));
    if (hasUpper) conds.push(lt(objects.key, p('upper')));
    return this.db
      .select()
      .from(objects)
      .where(and(...conds))
      .orderBy(asc(objects.key), desc(objects.id))
      .limit(p('limit'))
      .prepare();
  }
}
