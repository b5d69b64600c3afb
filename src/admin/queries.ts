import { and, asc, desc, eq, gte, inArray, lt, lte, sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import type { Db } from '../db/client.js';
import { buckets, chunks, multipartUploads, objectChunks, objectParts, objects, partChunks } from '../db/schema.js';
import { prefixUpperBound } from '../db/repository.js';
import { parseSize } from '../config.js';
import type { ChecksumAlgorithm } from '../s3/checksums.js';

// Record queries for the admin API and the CLI: pure reads over the drizzle Db. A filter is
// validated once (zod) and compiled to SQL conditions; sorting and keyset paging use
// (sort column, id) indexes, so a page costs an index seek whatever its depth.

export class QueryError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'QueryError';
  }
}

export type SortField = 'key' | 'size' | 'modified';
export type SortOrder = 'asc' | 'desc';

export interface ObjectQuery {
  bucket?: string;
  prefix?: string;
  contains?: string;
  minSize?: number;
  maxSize?: number;
  /** Inclusive: last modified at or after this instant. */
  modifiedAfter?: Date;
  /** Exclusive: last modified strictly before this instant (after/before tile without overlap). */
  modifiedBefore?: Date;
  /** Exact media type, or `type/*` for every subtype. */
  contentType?: string;
  /** Normalized to the stored form: quoted, lower-case hex. */
  etag?: string;
  meta?: Record<string, string>;
  /** An S3 checksum algorithm, or NONE for objects stored without one. */
  checksumAlgorithm?: string;
  sort: SortField;
  order: SortOrder;
  cursor?: string;
  limit: number;
}

export interface ObjectSummary {
  bucket: string;
  key: string;
  size: number;
  etag: string;
  lastModified: string;
  contentType: string;
  storageClass: string;
  checksumAlgorithm: string | null;
  checksumValue: string | null;
  checksumType: string | null;
  partCount: number | null;
  metadata: Record<string, string>;
}

export interface ChunkEntry {
  seq: number;
  offset: number;
  size: number;
  sha256: string;
  crc32c: number;
  refcount: number;
  /** 'file' (chunks/ab/cd/<sha256>) or 'inline' (bytes in the chunk's SQLite row). */
  stored: 'file' | 'inline';
  /** Referenced by something other than this object (another object, copy or upload part). */
  shared: boolean;
}

export interface ObjectRecord extends ObjectSummary {
  contentEncoding: string | null;
  contentDisposition: string | null;
  contentLanguage: string | null;
  cacheControl: string | null;
  expires: string | null;
  chunks: ChunkEntry[];
  parts: Array<{ partNumber: number; offset: number; size: number; checksum: string | null }>;
}

export interface ChunkRecord {
  sha256: string;
  size: number;
  crc32c: number;
  refcount: number;
  /** 'file' (chunks/ab/cd/<sha256>) or 'inline' (the bytes are in the chunk's SQLite row). */
  stored: 'file' | 'inline';
  createdAt: string;
  objects: Array<{ bucket: string; key: string; seq: number; offset: number }>;
  uploads: Array<{ uploadId: string; bucket: string; key: string; partNumber: number }>;
  /** Present when more references exist than were listed (see CHUNK_REFERENCES_LISTED). */
  truncated?: true;
}

export interface BucketSummary {
  name: string;
  region: string;
  public: boolean;
  createdAt: string;
  objects: number;
  logicalBytes: number;
  /** Distinct chunk bytes this bucket's objects use; a chunk shared with another bucket counts in both. */
  physicalBytes: number;
}

export interface StoreStats {
  buckets: number;
  objects: number;
  logicalBytes: number;
  physicalBytes: number;
  chunks: number;
  dedupRatio: number;
  multipartUploads: number;
  multipartParts: number;
}

export const MAX_LIMIT = 1000;
export const DEFAULT_LIMIT = 100;
/** A chunk record lists at most this many objects and as many upload parts. */
export const CHUNK_REFERENCES_LISTED = 1000;

const CHECKSUM_FILTERS = ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'] as const satisfies readonly ChecksumAlgorithm[];
// Header field-name characters: metadata names are x-amz-meta-<name> headers, stored lower-case.
const META_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]+$/;

// ---- parsing ----

const sizeParam = z.string().transform((v, ctx) => {
  try {
    const n = parseSize(v);
    if (Number.isSafeInteger(n)) return n;
    ctx.addIssue({ code: 'custom', message: 'too large' });
  } catch {
    ctx.addIssue({ code: 'custom', message: `not a size: "${v}" (bytes, or a unit such as 10MiB)` });
  }
  return z.NEVER;
});

const timeParam = z
  .union([z.iso.date(), z.iso.datetime({ offset: true })], {
    error: 'an ISO 8601 date or date-time with a time zone, e.g. 2024-05-01 or 2024-05-01T12:00:00Z',
  })
  .transform((v) => new Date(v));

const nonEmpty = z.string().min(1, 'must not be empty');

const querySchema = z.strictObject({
  bucket: nonEmpty.optional(),
  prefix: z.string().optional(),
  contains: z.string().optional(),
  minSize: sizeParam.optional(),
  maxSize: sizeParam.optional(),
  modifiedAfter: timeParam.optional(),
  modifiedBefore: timeParam.optional(),
  contentType: nonEmpty.optional(),
  etag: z
    .string()
    .regex(/^"?[0-9a-fA-F]{32}(-\d+)?"?$/, 'an ETag: 32 hex digits, optionally -<parts>, quotes optional')
    .transform((v) => `"${v.replace(/"/g, '').toLowerCase()}"`)
    .optional(),
  checksumAlgorithm: z
    .string()
    .transform((v) => v.toUpperCase())
    .pipe(z.enum([...CHECKSUM_FILTERS, 'NONE'], { error: `one of ${CHECKSUM_FILTERS.join(', ')}, NONE` }))
    .optional(),
  sort: z.enum(['key', 'size', 'modified'], { error: 'key, size or modified' }).default('key'),
  order: z.enum(['asc', 'desc'], { error: 'asc or desc' }).default('asc'),
  cursor: nonEmpty.optional(),
  limit: z
    .string()
    .regex(/^\d+$/, `a whole number from 1 to ${MAX_LIMIT}`)
    .transform(Number)
    .pipe(z.number().min(1, 'at least 1').max(MAX_LIMIT, `at most ${MAX_LIMIT}`))
    .default(DEFAULT_LIMIT),
});

/** From query-string style params (meta.<name>=<value> included). Throws QueryError naming the field. */
export function parseObjectQuery(params: Record<string, string | undefined>): ObjectQuery {
  const plain: Record<string, string> = {};
  const meta: Record<string, string> = {};
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined) continue;
    if (name.startsWith('meta.')) {
      const metaName = name.slice(5).toLowerCase();
      if (!META_NAME.test(metaName)) throw new QueryError(name, 'a metadata name (the part after x-amz-meta-)');
      meta[metaName] = value;
    } else {
      plain[name] = value;
    }
  }
  const parsed = querySchema.safeParse(plain);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    if (issue.code === 'unrecognized_keys') throw new QueryError(issue.keys[0]!, `unknown parameter "${issue.keys[0]}"`);
    throw new QueryError(String(issue.path[0] ?? 'query'), issue.message);
  }
  const q: ObjectQuery = { ...parsed.data };
  for (const k of Object.keys(q) as Array<keyof ObjectQuery>) if (q[k] === undefined) delete q[k];
  if (Object.keys(meta).length > 0) q.meta = meta;
  if (q.minSize !== undefined && q.maxSize !== undefined && q.minSize > q.maxSize) throw new QueryError('maxSize', 'smaller than minSize');
  if (q.modifiedAfter && q.modifiedBefore && q.modifiedAfter >= q.modifiedBefore) throw new QueryError('modifiedBefore', 'not after modifiedAfter');
  if (q.cursor !== undefined) decodeCursor(q.cursor, q);
  return q;
}

// ---- cursors ----

interface Cursor {
  /** Sort value of the last row returned. */
  v: string | number;
  /** Its id: the tie-breaker that makes (value, id) unique. */
  i: number;
}

const cursorSchema = z.object({ s: z.enum(['key', 'size', 'modified']), o: z.enum(['asc', 'desc']), v: z.union([z.string(), z.number()]), i: z.number().int() });

function encodeCursor(q: Pick<ObjectQuery, 'sort' | 'order'>, c: Cursor): string {
  return Buffer.from(JSON.stringify({ s: q.sort, o: q.order, v: c.v, i: c.i })).toString('base64url');
}

function decodeCursor(cursor: string, q: Pick<ObjectQuery, 'sort' | 'order'>): Cursor {
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

// ---- objects ----

const SORT_COLUMNS = { key: objects.key, size: objects.size, modified: objects.lastModified } as const;

/**
 * The compiled query (exported for tests that check its plan). Undefined when nothing can
 * match (the bucket does not exist).
 */
export function objectsQuery(db: Db, q: ObjectQuery) {
  const conds: SQL[] = [];
  if (q.bucket !== undefined) {
    const b = db.select({ id: buckets.id }).from(buckets).where(eq(buckets.name, q.bucket)).get();
    if (!b) return undefined;
    conds.push(eq(objects.bucketId, b.id));
  }
  if (q.prefix) {
    conds.push(gte(objects.key, q.prefix));
    const upper = prefixUpperBound(q.prefix);
    if (upper !== undefined) conds.push(lt(objects.key, upper));
  }
  // Substrings cannot use an index; instr() is exact and case-sensitive, like keys (LIKE is neither).
  if (q.contains) conds.push(sql`instr(${objects.key}, ${q.contains}) > 0`);
  if (q.minSize !== undefined) conds.push(gte(objects.size, q.minSize));
  if (q.maxSize !== undefined) conds.push(lte(objects.size, q.maxSize));
  if (q.modifiedAfter) conds.push(gte(objects.lastModified, q.modifiedAfter.getTime()));
  if (q.modifiedBefore) conds.push(lt(objects.lastModified, q.modifiedBefore.getTime()));
  if (q.contentType !== undefined) {
    if (q.contentType.endsWith('/*')) {
      const base = q.contentType.slice(0, -1);
      conds.push(gte(objects.contentType, base), lt(objects.contentType, prefixUpperBound(base)!));
    } else {
      conds.push(eq(objects.contentType, q.contentType));
    }
  }
  if (q.etag !== undefined) conds.push(eq(objects.etag, q.etag));
  for (const [name, value] of Object.entries(q.meta ?? {})) {
    // The name is a header token (no quotes or backslashes), so the JSON path cannot be escaped out of.
    conds.push(sql`json_extract(${objects.userMetadata}, ${`$."${name}"`}) = ${value}`);
  }
  if (q.checksumAlgorithm === 'NONE') conds.push(sql`${objects.checksumAlgorithm} is null`);
  else if (q.checksumAlgorithm !== undefined) conds.push(eq(objects.checksumAlgorithm, q.checksumAlgorithm));

  const col = SORT_COLUMNS[q.sort];
  if (q.cursor !== undefined) {
    const c = decodeCursor(q.cursor, q);
    // A row value comparison is a single index range on (column, rowid): the page seeks, never skips.
    conds.push(q.order === 'asc' ? sql`(${col}, ${objects.id}) > (${c.v}, ${c.i})` : sql`(${col}, ${objects.id}) < (${c.v}, ${c.i})`);
  }
  const dir = q.order === 'asc' ? asc : desc;
  return db
    .select()
    .from(objects)
    .where(conds.length > 0 ? and(...conds) : undefined)
    .orderBy(dir(col), dir(objects.id))
    .limit(q.limit + 1);
}

export function findObjects(db: Db, q: ObjectQuery): { objects: ObjectSummary[]; nextCursor?: string } {
  const query = objectsQuery(db, q);
  if (!query) return { objects: [] };
  const rows = query.all();
  const more = rows.length > q.limit;
  if (more) rows.length = q.limit;
  const names = bucketNames(db, rows.map((r) => r.bucketId));
  const out: { objects: ObjectSummary[]; nextCursor?: string } = { objects: rows.map((r) => summary(r, names.get(r.bucketId)!)) };
  if (more) {
    const last = rows[rows.length - 1]!;
    const v = q.sort === 'key' ? last.key : q.sort === 'size' ? last.size : last.lastModified;
    out.nextCursor = encodeCursor(q, { v, i: last.id });
  }
  return out;
}

type ObjectRow = typeof objects.$inferSelect;

function bucketNames(db: Db, ids: number[]): Map<number, string> {
  const unique = [...new Set(ids)];
  if (unique.length === 0) return new Map();
  return new Map(db.select({ id: buckets.id, name: buckets.name }).from(buckets).where(inArray(buckets.id, unique)).all().map((b) => [b.id, b.name]));
}

function summary(r: ObjectRow, bucket: string): ObjectSummary {
  return {
    bucket,
    key: r.key,
    size: r.size,
    etag: r.etag,
    lastModified: new Date(r.lastModified).toISOString(),
    // What a GET answers for an object stored without a type (http/attributes.ts).
    contentType: r.contentType ?? 'binary/octet-stream',
    storageClass: r.storageClass,
    checksumAlgorithm: r.checksumAlgorithm,
    checksumValue: r.checksumValue,
    checksumType: r.checksumType,
    partCount: r.partCount,
    metadata: JSON.parse(r.userMetadata) as Record<string, string>,
  };
}

/** Where a chunk's bytes are, without reading them. */
const storedAs = sql<'file' | 'inline'>`CASE WHEN ${chunks.data} IS NULL THEN 'file' ELSE 'inline' END`;

export function objectRecord(db: Db, bucket: string, key: string): ObjectRecord | undefined {
  const b = db.select({ id: buckets.id }).from(buckets).where(eq(buckets.name, bucket)).get();
  if (!b) return undefined;
  const r = db.select().from(objects).where(and(eq(objects.bucketId, b.id), eq(objects.key, key))).get();
  if (!r) return undefined;
  const list = db
    .select({ seq: objectChunks.seq, offset: objectChunks.offset, size: objectChunks.size, sha256: objectChunks.chunkHash, crc32c: chunks.crc32c, refcount: chunks.refcount, stored: storedAs })
    .from(objectChunks)
    .innerJoin(chunks, eq(chunks.hash, objectChunks.chunkHash))
    .where(eq(objectChunks.objectId, r.id))
    .orderBy(asc(objectChunks.seq))
    .all();
  // A chunk repeated inside this object holds one reference per use: shared only beyond those.
  const own = new Map<string, number>();
  for (const c of list) own.set(c.sha256, (own.get(c.sha256) ?? 0) + 1);
  const parts = db
    .select({ partNumber: objectParts.partNumber, offset: objectParts.offset, size: objectParts.size, checksum: objectParts.checksumValue })
    .from(objectParts)
    .where(eq(objectParts.objectId, r.id))
    .orderBy(asc(objectParts.partNumber))
    .all();
  return {
    ...summary(r, bucket),
    contentEncoding: r.contentEncoding,
    contentDisposition: r.contentDisposition,
    contentLanguage: r.contentLanguage,
    cacheControl: r.cacheControl,
    expires: r.expires,
    chunks: list.map((c) => ({ ...c, shared: c.refcount > own.get(c.sha256)! })),
    parts,
  };
}

// ---- chunks ----

export function isSha256(value: string): boolean {
  return /^[0-9a-f]{64}$/.test(value);
}

export function chunkRecord(db: Db, sha256: string): ChunkRecord | undefined {
  const c = db.select({ hash: chunks.hash, size: chunks.size, crc32c: chunks.crc32c, refcount: chunks.refcount, createdAt: chunks.createdAt, data: sql<number | null>`length(${chunks.data})` }).from(chunks).where(eq(chunks.hash, sha256)).get();
  if (!c) return undefined;
  const refs = db
    .select({ bucket: buckets.name, key: objects.key, seq: objectChunks.seq, offset: objectChunks.offset })
    .from(objectChunks)
    .innerJoin(objects, eq(objects.id, objectChunks.objectId))
    .innerJoin(buckets, eq(buckets.id, objects.bucketId))
    // Index order (no sort): a chunk shared by a million objects still answers at once.
    .where(eq(objectChunks.chunkHash, sha256))
    .limit(CHUNK_REFERENCES_LISTED + 1)
    .all();
  const uploads = db
    .selectDistinct({ uploadId: partChunks.uploadId, bucket: buckets.name, key: multipartUploads.key, partNumber: partChunks.partNumber })
    .from(partChunks)
    .innerJoin(multipartUploads, eq(multipartUploads.id, partChunks.uploadId))
    .innerJoin(buckets, eq(buckets.id, multipartUploads.bucketId))
    .where(eq(partChunks.chunkHash, sha256))
    .orderBy(asc(partChunks.uploadId), asc(partChunks.partNumber))
    .limit(CHUNK_REFERENCES_LISTED + 1)
    .all();
  const record: ChunkRecord = {
    sha256: c.hash,
    size: c.size,
    crc32c: c.crc32c,
    refcount: c.refcount,
    stored: c.data === null ? 'file' : 'inline',
    createdAt: new Date(c.createdAt).toISOString(),
    objects: refs.slice(0, CHUNK_REFERENCES_LISTED),
    uploads: uploads.slice(0, CHUNK_REFERENCES_LISTED),
  };
  if (refs.length > CHUNK_REFERENCES_LISTED || uploads.length > CHUNK_REFERENCES_LISTED) record.truncated = true;
  return record;
}

// ---- totals ----

// Aggregates are full passes over the rows (no index can shortcut a sum), ~0.1-1.5 s per million
// objects. They are plain SQL so the admin server can run them on a worker thread with its own
// read-only connection (aggregates.ts) instead of stalling S3 requests on the event loop.
export const AGGREGATE_SQL = {
  logicalByBucket: 'select bucket_id as bucketId, count(*) as n, coalesce(sum(size), 0) as bytes from objects group by bucket_id',
  // Distinct (bucket, chunk) pairs. A placement always covers its whole chunk (a partial range is
  // written as a new chunk), so object_chunks.size is the chunk's size: no lookup into chunks.
  physicalByBucket:
    'select bucket_id as bucketId, sum(size) as bytes from (select o.bucket_id, oc.chunk_hash, max(oc.size) as size ' +
    'from object_chunks oc join objects o on o.id = oc.object_id group by o.bucket_id, oc.chunk_hash) group by bucket_id',
  totals:
    'select (select count(*) from buckets) as buckets, (select count(*) from objects) as objects, ' +
    '(select coalesce(sum(size), 0) from objects) as logicalBytes, (select count(*) from chunks) as chunks, ' +
    '(select coalesce(sum(size), 0) from chunks) as physicalBytes, (select count(*) from multipart_uploads) as multipartUploads, ' +
    '(select count(*) from upload_parts) as multipartParts',
} as const;

/** Runs read-only SQL statements (no parameters) and returns each one's rows. */
export type AggregateRunner = (statements: string[]) => Promise<unknown[][]>;

const runHere = (db: Db, statements: string[]): unknown[][] => statements.map((q) => db.all(q));

export function bucketSummaries(db: Db): BucketSummary[] {
  return summarizeBuckets(db, runHere(db, [AGGREGATE_SQL.logicalByBucket, AGGREGATE_SQL.physicalByBucket]));
}

/** bucketSummaries with the aggregate passes run elsewhere (a worker thread). */
export async function bucketSummariesVia(db: Db, run: AggregateRunner): Promise<BucketSummary[]> {
  return summarizeBuckets(db, await run([AGGREGATE_SQL.logicalByBucket, AGGREGATE_SQL.physicalByBucket]));
}

function summarizeBuckets(db: Db, [logicalRows, physicalRows]: unknown[][]): BucketSummary[] {
  const logical = new Map((logicalRows as Array<{ bucketId: number; n: number; bytes: number }>).map((r) => [r.bucketId, r]));
  const physical = new Map((physicalRows as Array<{ bucketId: number; bytes: number }>).map((r) => [r.bucketId, r.bytes]));
  return db
    .select()
    .from(buckets)
    .orderBy(asc(buckets.name))
    .all()
    .map((b) => ({
      name: b.name,
      region: b.region,
      public: b.publicRead,
      createdAt: new Date(b.createdAt).toISOString(),
      objects: logical.get(b.id)?.n ?? 0,
      logicalBytes: logical.get(b.id)?.bytes ?? 0,
      physicalBytes: physical.get(b.id) ?? 0,
    }));
}

/** One bucket (after a change): the same numbers as bucketSummaries, over that bucket's rows only. */
export function bucketSummary(db: Db, name: string): BucketSummary | undefined {
  const b = db.select().from(buckets).where(eq(buckets.name, name)).get();
  if (!b) return undefined;
  const logical = db
    .select({ n: sql<number>`count(*)`, bytes: sql<number>`coalesce(sum(${objects.size}), 0)` })
    .from(objects)
    .where(eq(objects.bucketId, b.id))
    .get()!;
  const physical = db.get<{ bytes: number | null }>(
    sql`select sum(size) as bytes from (select oc.chunk_hash, max(oc.size) as size from ${objects} o
        join ${objectChunks} oc on oc.object_id = o.id where o.bucket_id = ${b.id} group by oc.chunk_hash)`,
  );
  return {
    name: b.name,
    region: b.region,
    public: b.publicRead,
    createdAt: new Date(b.createdAt).toISOString(),
    objects: logical.n,
    logicalBytes: logical.bytes,
    physicalBytes: physical?.bytes ?? 0,
  };
}

export function storeStats(db: Db): StoreStats {
  return summarizeStats(runHere(db, [AGGREGATE_SQL.totals]));
}

export async function storeStatsVia(run: AggregateRunner): Promise<StoreStats> {
  return summarizeStats(await run([AGGREGATE_SQL.totals]));
}

function summarizeStats([rows]: unknown[][]): StoreStats {
  const t = (rows as Array<Omit<StoreStats, 'dedupRatio'>>)[0]!;
  return {
    buckets: t.buckets,
    objects: t.objects,
    logicalBytes: t.logicalBytes,
    physicalBytes: t.physicalBytes,
    chunks: t.chunks,
    dedupRatio: t.physicalBytes === 0 ? 1 : Math.round((t.logicalBytes / t.physicalBytes) * 1000) / 1000,
    multipartUploads: t.multipartUploads,
    multipartParts: t.multipartParts,
  };
}
