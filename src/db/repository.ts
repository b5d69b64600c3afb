import { and, asc, desc, eq, getTableColumns, gt, gte, lt, lte, sql, inArray } from 'drizzle-orm';
import type Database from 'better-sqlite3';
import type { Db } from './client.js';
import { bucketCors, buckets, chunks, multipartUploads, objectChunks, objectParts, objects } from './schema.js';
import type { CorsRule } from '../s3/cors.js';
import { compareKeys, paginate, type ListParams } from '../s3/list-params.js';
import { addRefs, dropRefs, refStatements, type ChunkPlacement } from './chunk-refs.js';
import type { GroupCommit } from './group-commit.js';
import type { CommitThread } from './commit-thread.js';
import { MAX_CACHED_CHUNKS, OtherCommits, ReadCache } from './read-cache.js';

export type { ChunkPlacement } from './chunk-refs.js';

// Every query cairn runs lives here. Methods are synchronous (better-sqlite3); anything that
// must be atomic runs inside db.transaction so readers see the old state or the new, never a mix.

export type BucketRow = typeof buckets.$inferSelect;
export type ObjectRow = typeof objects.$inferSelect;
export type ObjectChunkRow = typeof objectChunks.$inferSelect;
/** A chunk-list row with what a read needs of the chunk: its CRC32C and, if inline, its bytes. */
export type ChunkReadRow = ObjectChunkRow & { crc32c: number; data: Buffer | null };
export type NewObject = Omit<typeof objects.$inferInsert, 'id' | 'bucketId' | 'key'>;

/** One part of a multipart object's layout (kept by CopyObject along with the -N ETag). */
export type ObjectPartInput = Omit<typeof objectParts.$inferInsert, 'objectId'>;

export interface DeleteResult {
  deleted: boolean;
  /** As in CommitResult. */
  freed: string[];
}

export interface CommitResult {
  object: ObjectRow;
  /** Chunk hashes whose refcount reached zero: their rows are gone; the caller removes the files. */
  freed: string[];
}

interface BucketCache {
  otherCommits: OtherCommits;
  rows: Map<string, BucketRow>;
}
const bucketCaches = new WeakMap<Database.Database, BucketCache>();

const CHUNK_READ_COLUMNS = {
  objectId: objectChunks.objectId,
  seq: objectChunks.seq,
  offset: objectChunks.offset,
  size: objectChunks.size,
  chunkHash: objectChunks.chunkHash,
  crc32c: chunks.crc32c,
  data: chunks.data,
};

/** Every column of an object row but its id (the insert binds them all, absent ones as NULL). */
const OBJECT_COLUMNS = Object.keys(getTableColumns(objects)).filter((c) => c !== 'id');
const OBJECT_DEFAULTS: Record<string, unknown> = Object.fromEntries(
  Object.entries(getTableColumns(objects)).map(([name, col]) => [name, (col as { default?: unknown }).default]),
);

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

export class Repository {
  /**
   * `group`: batches the commits of concurrent PUTs into one transaction (see group-commit.ts).
   * `thread`: runs those batches on the commit thread's connection instead (commit-thread.ts).
   */
  constructor(
    readonly db: Db,
    private readonly group?: GroupCommit,
    private readonly thread?: CommitThread,
  ) {}

  // The queries every GET/HEAD/PUT runs, built and prepared once: building a drizzle query and
  // preparing its SQLite statement cost more than running it (a third of a small GET's CPU).
  private hotQueries?: ReturnType<Repository['prepareHot']>;
  private get hot() {
    return (this.hotQueries ??= this.prepareHot());
  }
  private prepareHot() {
    const p = sql.placeholder;
    // A chunk-list row joined with what a read needs of its chunk (chunksForRange, chunksForRead).
    const chunkRead = () => this.db.select(CHUNK_READ_COLUMNS).from(objectChunks).innerJoin(chunks, eq(chunks.hash, objectChunks.chunkHash));
    return {
      bucketByName: this.db.select().from(buckets).where(eq(buckets.name, p('name'))).prepare(),
      objectByKey: this.db.select().from(objects).where(and(eq(objects.bucketId, p('bucketId')), eq(objects.key, p('key')))).prepare(),
      firstChunkAt: this.db
        .select({ offset: objectChunks.offset })
        .from(objectChunks)
        .where(and(eq(objectChunks.objectId, p('objectId')), lte(objectChunks.offset, p('start'))))
        .orderBy(desc(objectChunks.offset))
        .limit(1)
        .prepare(),
      chunksFrom: chunkRead()
        .where(and(eq(objectChunks.objectId, p('objectId')), gte(objectChunks.offset, p('from')), lte(objectChunks.offset, p('end'))))
        .orderBy(asc(objectChunks.offset))
        .prepare(),
      chunksHead: chunkRead().where(eq(objectChunks.objectId, p('objectId'))).orderBy(asc(objectChunks.offset)).limit(p('limit')).prepare(),
      chunkExists: this.db.select({ hash: chunks.hash }).from(chunks).where(eq(chunks.hash, p('hash'))).prepare(),
      // The commit path (see commitObject/retire).
      refs: refStatements(this.db),
      objectIdByKey: this.db.select({ id: objects.id }).from(objects).where(and(eq(objects.bucketId, p('bucketId')), eq(objects.key, p('key')))).prepare(),
      chunkCounts: this.db
        .select({ hash: objectChunks.chunkHash, n: sql<number>`count(*)` })
        .from(objectChunks)
        .where(eq(objectChunks.objectId, p('objectId')))
        .groupBy(objectChunks.chunkHash)
        .prepare(),
      deleteChunkList: this.db.delete(objectChunks).where(eq(objectChunks.objectId, p('objectId'))).prepare(),
      deleteObject: this.db.delete(objects).where(eq(objects.id, p('objectId'))).prepare(),
      insertObject: this.db
        .insert(objects)
        .values(Object.fromEntries(OBJECT_COLUMNS.map((c) => [c, p(c)])) as unknown as typeof objects.$inferInsert)
        .returning()
        .prepare(),
      // An overwrite rewrites the row in place: bucket and key stay, so their indexes are not
      // touched (a delete and an insert rewrote all nine).
      updateObject: this.db
        .update(objects)
        .set(Object.fromEntries(OBJECT_COLUMNS.filter((c) => c !== 'bucketId' && c !== 'key').map((c) => [c, p(c)])))
        .where(eq(objects.id, p('id')))
        .returning()
        .prepare(),
      deletePartList: this.db.delete(objectParts).where(eq(objectParts.objectId, p('objectId'))).prepare(),
      insertChunkRef: this.db
        .insert(objectChunks)
        .values({ objectId: p('objectId'), seq: p('seq'), offset: p('offset'), size: p('size'), chunkHash: p('chunkHash') })
        .prepare(),
    };
  }

  /**
   * Runs `fn` in a transaction of its own, or as part of the caller's when one is open: then that
   * transaction is the unit, and a throw from here reaches the caller, which rolls back (group
   * commit runs a batch again with one savepoint per commit when one of them threw). No savepoint
   * of our own: it would keep a copy of every page it changes for nothing. better-sqlite3's
   * wrapper, not drizzle's db.transaction, which builds a transaction object per call (query
   * builders for every table). Queries inside use this.db: same connection, same transaction.
   * A write begins IMMEDIATE (see openDb in client.ts); `read` begins DEFERRED.
   */
  private atomic<T>(fn: () => T, behavior: 'deferred' | 'immediate' = 'immediate'): T {
    const client = this.db.$client;
    if (client.inTransaction) return fn();
    return client.transaction(fn)[behavior]();
  }

  /** Runs `fn` (lookups) in one read transaction: what it reads is one snapshot. */
  read<T>(fn: () => T): T {
    return this.atomic(fn, 'deferred');
  }

  /** Runs `fn` (reads, then writes) in one write transaction; a throw rolls it back. */
  write<T>(fn: () => T): T {
    return this.atomic(fn, 'immediate');
  }

  // ---- buckets ----

  getBucket(name: string): BucketRow | undefined {
    const cache = this.bucketCache();
    let row = cache.rows.get(name);
    if (!row) {
      row = this.hot.bucketByName.get({ name });
      if (row) {
        if (cache.rows.size >= 10_000) cache.rows.clear();
        cache.rows.set(name, row);
      }
    }
    return row;
  }

  /**
   * Bucket rows by name, for the lookups every request makes (up to three: access, handler,
   * commit). Per connection, shared by every Repository on it. Emptied when this connection
   * writes a bucket (the methods below) and when PRAGMA data_version says another connection
   * committed something (the CLI beside the server), which is seen within 1 ms (OtherCommits).
   */
  private bucketCache(): BucketCache {
    const client = this.db.$client;
    let cache = bucketCaches.get(client);
    if (!cache) {
      cache = { otherCommits: new OtherCommits(client), rows: new Map() };
      bucketCaches.set(client, cache);
    }
    if (cache.otherCommits.seen()) cache.rows.clear();
    return cache;
  }

  private forgetBuckets(): void {
    bucketCaches.get(this.db.$client)?.rows.clear();
  }

  listBuckets(): BucketRow[] {
    return this.db.select().from(buckets).orderBy(asc(buckets.name)).all();
  }

  /** Returns false when the bucket already exists (no change made). */
  createBucket(b: { name: string; region: string; publicRead: boolean }): boolean {
    this.forgetBuckets();
    const res = this.db
      .insert(buckets)
      .values({ ...b, createdAt: Date.now() })
      .onConflictDoNothing()
      .run();
    return res.changes === 1;
  }

  /** Deletes an empty bucket; returns 'not-empty' without change when objects remain. */
  deleteBucket(id: number): 'deleted' | 'not-empty' {
    this.forgetBuckets();
    return this.db.transaction((tx) => {
      const any = tx.select({ id: objects.id }).from(objects).where(eq(objects.bucketId, id)).limit(1).get();
      // An upload started since the caller looked also keeps the bucket.
      const upload = tx.select({ id: multipartUploads.id }).from(multipartUploads).where(eq(multipartUploads.bucketId, id)).limit(1).get();
      if (any || upload) return 'not-empty';
      // Also an ON DELETE CASCADE; said here too so no connection's foreign_keys setting matters.
      tx.delete(bucketCors).where(eq(bucketCors.bucketId, id)).run();
      tx.delete(buckets).where(eq(buckets.id, id)).run();
      return 'deleted';
    }, { behavior: 'immediate' });
  }

  setBucketPublic(id: number, publicRead: boolean): void {
    this.forgetBuckets();
    this.db.update(buckets).set({ publicRead }).where(eq(buckets.id, id)).run();
  }

  // ---- bucket CORS ----

  /** The bucket's CORS rules, or undefined when it has no configuration. */
  getBucketCors(bucketId: number): CorsRule[] | undefined {
    const row = this.db.select({ rules: bucketCors.rules }).from(bucketCors).where(eq(bucketCors.bucketId, bucketId)).get();
    return row ? (JSON.parse(row.rules) as CorsRule[]) : undefined;
  }

  /** The CORS rules of the bucket named `name` (one indexed join: every request with an Origin asks). */
  getBucketCorsByName(name: string): CorsRule[] | undefined {
    const row = this.db
      .select({ rules: bucketCors.rules })
      .from(bucketCors)
      .innerJoin(buckets, eq(buckets.id, bucketCors.bucketId))
      .where(eq(buckets.name, name))
      .get();
    return row ? (JSON.parse(row.rules) as CorsRule[]) : undefined;
  }

  /** Sets (replaces) the bucket's CORS rules; false when the bucket is gone. */
  putBucketCors(bucketId: number, rules: CorsRule[]): boolean {
    return this.db.transaction((tx) => {
      if (!tx.select({ id: buckets.id }).from(buckets).where(eq(buckets.id, bucketId)).get()) return false;
      const values = { bucketId, rules: JSON.stringify(rules), updatedAt: Date.now() };
      tx.insert(bucketCors).values(values).onConflictDoUpdate({ target: bucketCors.bucketId, set: { rules: values.rules, updatedAt: values.updatedAt } }).run();
      return true;
    }, { behavior: 'immediate' });
  }

  deleteBucketCors(bucketId: number): void {
    this.db.delete(bucketCors).where(eq(bucketCors.bucketId, bucketId)).run();
  }

  // ---- objects ----

  getObject(bucketId: number, key: string): ObjectRow | undefined {
    return this.hot.objectByKey.get({ bucketId, key });
  }

  /**
   * getObject for GET and HEAD, through the read cache (read-cache.ts). The row may be shared
   * with other requests: never modify it.
   */
  getObjectForRead(bucketId: number, key: string): ObjectRow | undefined {
    return this.readCache.object(bucketId, key, () => this.getObject(bucketId, key));
  }

  /** chunksForRange for GET: a short chunk list comes from the read cache (shared rows, read only). */
  chunksForRead(obj: ObjectRow, start: number, end: number): ChunkReadRow[] {
    const all = this.readCache.chunks(obj.id, () => this.hot.chunksHead.all({ objectId: obj.id, limit: MAX_CACHED_CHUNKS + 1 }));
    if (all === null) return this.chunksForRange(obj.id, start, end);
    if (start === 0 && end === obj.size - 1) return all;
    return all.filter((r) => r.offset <= end && r.offset + r.size > start);
  }

  private cache?: ReadCache<ObjectRow, ChunkReadRow>;
  private get readCache(): ReadCache<ObjectRow, ChunkReadRow> {
    return (this.cache ??= new ReadCache(this.db.$client));
  }

  chunkList(objectId: number): ObjectChunkRow[] {
    return this.db.select().from(objectChunks).where(eq(objectChunks.objectId, objectId)).orderBy(asc(objectChunks.seq)).all();
  }

  /** The chunks holding bytes [start, end], found with an index seek to the first one. */
  chunksForRange(objectId: number, start: number, end: number): ChunkReadRow[] {
    // A read from byte 0 (every whole-object GET) starts at the first chunk: no seek needed.
    const first = start === 0 ? undefined : this.hot.firstChunkAt.get({ objectId, start });
    return this.hot.chunksFrom.all({ objectId, from: first?.offset ?? 0, end });
  }

  /**
   * One ListObjects page (S3's rules in paginate). With a delimiter the walk reads keys only,
   * one per entry (the first key of each group, SQLite having skipped the group's other keys),
   * and the rows of the page's contents are looked up after, all in one read transaction so the
   * page is one snapshot; without one, the walk reads the rows themselves.
   */
  listPage(bucketId: number, p: ListParams): Omit<ReturnType<typeof paginate<ObjectRow>>, 'contents'> & { contents: ObjectRow[] } {
    const delimiter = p.delimiter;
    if (delimiter === undefined) return paginate(p, (after, limit) => this.listKeys(bucketId, p.prefix, after, limit));
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
  listKeys(bucketId: number, prefix: string, afterKey: string | undefined, limit: number): ObjectRow[] {
    return this.listStatement(prefix, afterKey).all(this.listValues(bucketId, prefix, afterKey, limit)) as ObjectRow[];
  }

  /**
   * A delimiter listing's entries in one statement: keys > afterKey within prefix, each either a
   * key with no delimiter after the prefix or the FIRST key of its group (the keys sharing one
   * common prefix), up to `limit` of them. A recursive query seeks the index once per entry, past
   * the whole group, inside SQLite: a page of 1,000 folders of 500 keys each took 23 ms as 1,000
   * queries from JS and 3 ms so (in-process, 1,000,000 keys). The common prefix is cut in SQL
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
          SELECT (SELECT key FROM objects WHERE bucket_id = :bucketId${first}${upper} ORDER BY key LIMIT 1), 1
          UNION ALL
          SELECT (SELECT key FROM objects WHERE bucket_id = :bucketId AND key > max(k, CASE WHEN ${cut} > 0
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
  private listBounds(prefix: string, afterKey: string | undefined): { lower: '' | 'gt' | 'gte'; lowerValue?: string; upperValue?: string; shape: string } {
    const upperValue = prefix ? prefixUpperBound(prefix) : undefined;
    // Which bounds the query has: statements are prepared once per shape, not once per page.
    const bounds = (lower: '' | 'gt' | 'gte', lowerValue?: string) => ({ lower, lowerValue, upperValue, shape: `${lower}|${upperValue === undefined ? '' : 'upper'}` });
    if (afterKey !== undefined && (!prefix || compareKeys(afterKey, prefix) >= 0)) return bounds('gt', afterKey);
    if (prefix) return bounds('gte', prefix);
    return bounds('');
  }

  private listQuery(lower: '' | 'gt' | 'gte', lowerValue: unknown, upperValue: unknown, bucketId: unknown, limit: unknown) {
    const conds = [eq(objects.bucketId, bucketId as number)];
    if (lower === 'gt') conds.push(gt(objects.key, lowerValue as string));
    if (lower === 'gte') conds.push(gte(objects.key, lowerValue as string));
    if (upperValue !== undefined) conds.push(lt(objects.key, upperValue as string));
    return this.db.select().from(objects).where(and(...conds)).orderBy(asc(objects.key)).limit(limit as number);
  }

  /** The query behind listKeys, with its values inline (its plan is checked by the tests). */
  listKeysQuery(bucketId: number, prefix: string, afterKey: string | undefined, limit: number) {
    const { lower, lowerValue, upperValue } = this.listBounds(prefix, afterKey);
    return this.listQuery(lower, lowerValue, upperValue, bucketId, limit);
  }

  chunkCrcs(hashes: string[]): Map<string, number> {
    const out = new Map<string, number>();
    for (let i = 0; i < hashes.length; i += 500) {
      for (const r of this.db.select({ hash: chunks.hash, crc32c: chunks.crc32c }).from(chunks).where(inArray(chunks.hash, hashes.slice(i, i + 500))).all()) {
        out.set(r.hash, r.crc32c);
      }
    }
    return out;
  }

  isChunkReferenced(hash: string): boolean {
    return this.hot.chunkExists.get({ hash }) !== undefined;
  }

  /**
   * Makes an object visible: one transaction adds references to its chunks, writes its row and
   * chunk list, and retires the object it replaces. The chunks' files must already be durable.
   */
  commitObject(bucketId: number, key: string, row: NewObject, placements: ChunkPlacement[], parts: ObjectPartInput[] = []): CommitResult {
    return this.atomic(() => {
      const tx = this.db;
      addRefs(this.hot.refs, placements);
      const { object, freed } = this.replaceObject(bucketId, key, row);
      // One chunk (every small object): the prepared insert. Longer lists in batches of 200, so
      // a large chunk list is a handful of statements, not one per chunk.
      if (placements.length === 1) {
        const c = placements[0]!;
        this.hot.insertChunkRef.run({ objectId: object.id, seq: 0, offset: c.offset, size: c.size, chunkHash: c.hash });
      } else for (let i = 0; i < placements.length; i += 200) {
        const batch = placements.slice(i, i + 200).map((c, j) => ({
          objectId: object.id,
          seq: i + j,
          offset: c.offset,
          size: c.size,
          chunkHash: c.hash,
        }));
        tx.insert(objectChunks).values(batch).run();
      }
      for (let i = 0; i < parts.length; i += 500) {
        tx.insert(objectParts).values(parts.slice(i, i + 500).map((p) => ({ ...p, objectId: object.id }))).run();
      }
      return { object, freed };
    });
  }

  /**
   * commitObject, batched with the other commits of this moment when group commit is on: the
   * promise settles once the batch's COMMIT returned (durable with synchronous=FULL).
   */
  commitObjectGrouped(bucketId: number, key: string, row: NewObject, placements: ChunkPlacement[]): Promise<CommitResult> {
    return this.grouped(
      (thread) => thread.commit(bucketId, key, row, placements),
      () => this.commitObject(bucketId, key, row, placements),
    );
  }

  /** On the commit thread when there is one, else in this connection's group commit, else alone. */
  private grouped<T>(onThread: (thread: CommitThread) => Promise<T>, here: () => T): Promise<T> {
    if (this.thread) {
      // A commit on the other connection: total_changes() on this one does not see it, and
      // data_version is only asked once a millisecond, so the read cache is emptied here, before
      // the request is answered and a GET can follow it.
      return onThread(this.thread).then((result) => {
        this.cache?.clear();
        return result;
      });
    }
    if (!this.group) return Promise.resolve(here());
    return this.group.run(here);
  }

  /** Part boundaries of a multipart object (empty for a single PUT). */
  objectPartList(objectId: number): ObjectPartInput[] {
    return this.db
      .select({ partNumber: objectParts.partNumber, offset: objectParts.offset, size: objectParts.size, checksumValue: objectParts.checksumValue })
      .from(objectParts)
      .where(eq(objectParts.objectId, objectId))
      .orderBy(asc(objectParts.partNumber))
      .all();
  }

  /** Removes an object; returns whether it existed and the chunks freed. */
  deleteObject(bucketId: number, key: string): DeleteResult {
    // atomic, not db.transaction: inside a group-commit batch that would be a savepoint each.
    return this.atomic(() => {
      if (!this.hot.objectIdByKey.get({ bucketId, key })) return { deleted: false, freed: [] };
      return { deleted: true, freed: this.retire(bucketId, key) };
    });
  }

  /** deleteObject, batched like commitObjectGrouped (on the commit thread when there is one). */
  deleteObjectGrouped(bucketId: number, key: string): Promise<DeleteResult> {
    return this.grouped(
      (thread) => thread.delete(bucketId, key),
      () => this.deleteObject(bucketId, key),
    );
  }

  /**
   * Makes `row` the object at (bucket, key): a new row, or the old one rewritten in place (same
   * id) after its chunk list and part layout went; the caller adds the new chunk list. Returns
   * the chunks the old version no longer holds (in place: 23 WAL pages for a small overwrite
   * instead of 33, as the bucket and key indexes stay untouched).
   * Call it inside the caller's transaction: the prepared statements run on the same connection.
   */
  replaceObject(bucketId: number, key: string, row: NewObject): CommitResult {
    // Every column bound (absent ones as their schema default, else NULL): the statements are
    // prepared once for all rows.
    const values: Record<string, unknown> = { ...row, bucketId, key };
    for (const c of OBJECT_COLUMNS) values[c] ??= OBJECT_DEFAULTS[c] ?? null;
    const old = this.hot.objectIdByKey.get({ bucketId, key });
    if (!old) return { object: this.hot.insertObject.get(values) as ObjectRow, freed: [] };
    // The old version's chunk list and part layout go; the row becomes the new version.
    const counts = this.hot.chunkCounts.all({ objectId: old.id });
    this.hot.deleteChunkList.run({ objectId: old.id });
    this.hot.deletePartList.run({ objectId: old.id });
    const object = this.hot.updateObject.get({ ...values, id: old.id }) as ObjectRow;
    return { object, freed: dropRefs(this.hot.refs, counts) };
  }

  /** Drops the object at (bucket, key) if any, decrementing its chunks; returns hashes now unreferenced. */
  private retire(bucketId: number, key: string): string[] {
    const old = this.hot.objectIdByKey.get({ bucketId, key });
    if (!old) return [];
    const counts = this.hot.chunkCounts.all({ objectId: old.id });
    this.hot.deleteChunkList.run({ objectId: old.id });
    this.hot.deleteObject.run({ objectId: old.id });
    return dropRefs(this.hot.refs, counts);
  }
}
