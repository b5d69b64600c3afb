import { and, asc, desc, eq, getTableColumns, gte, lte, sql, inArray } from 'drizzle-orm';
import type { Db } from './client.js';
import { BucketRepository } from './bucket-repository.js';
import { buckets, chunks, objectChunks, objectParts, objects } from './schema.js';
import type { ListParams } from '../s3/list-params.js';
import { Listing, type ListPage } from './listing.js';
import { VersionListing } from './version-listing.js';
import type { VersionListParams, VersionPage } from '../s3/version-list.js';
import { addRefs, dropRefs, refStatements, type ChunkPlacement } from './chunk-refs.js';
import type { GroupCommit } from './group-commit.js';
import type { CommitThread } from './commit-thread.js';
import { ReadPath } from './read-path.js';
import { checkAtCommit, placementFor, promoteNewest, versionStatements, type VersionStatements } from './versions.js';
import { checkRemovable } from '../s3/object-lock.js';
import { setRetention, setVersionColumns } from './version-attributes.js';
import { S3Error } from '../s3/errors.js';
import { insertTags, readTags, setVersionTags, tagStatements } from './object-tags.js';
import type { DeleteOptions, LockMode, TagSet, WriteOptions } from '../store/types.js';

export type { ChunkPlacement } from './chunk-refs.js';
export { prefixUpperBound } from './listing.js';

// Every query cairn runs lives here. Methods are synchronous (better-sqlite3); anything that
// must be atomic runs inside db.transaction so readers see the old state or the new, never a mix.

export type BucketRow = typeof buckets.$inferSelect;
export type ObjectRow = typeof objects.$inferSelect;
export type ObjectChunkRow = typeof objectChunks.$inferSelect;
/** A chunk-list row with what a read needs of the chunk: its CRC32C and, if inline, its bytes. */
export type { ChunkReadRow } from '../store/types.js';
import type { ChunkReadRow } from '../store/types.js';
export type { NewObject } from '../store/types.js';
import type { NewObject } from '../store/types.js';

/** One part of a multipart object's layout (kept by CopyObject along with the -N ETag). */
export type ObjectPartInput = Omit<typeof objectParts.$inferInsert, 'objectId'>;

export type { CommitResult, DeleteResult } from '../store/types.js';
import type { CommitResult, DeleteResult } from '../store/types.js';

const CHUNK_READ_COLUMNS = {
  objectId: objectChunks.objectId,
  seq: objectChunks.seq,
  offset: objectChunks.offset,
  size: objectChunks.size,
  chunkHash: objectChunks.chunkHash,
  storedSize: chunks.size,
  crc32c: chunks.crc32c,
  data: chunks.data,
};

/** Every column of an object row but its id (the insert binds them all, absent ones as NULL). */
const OBJECT_COLUMNS = Object.keys(getTableColumns(objects)).filter((c) => c !== 'id');
/**
 * What an overwrite in place rewrites: not the identity (bucket, key, version) nor the version
 * state, so the indexes on those are not touched (setState changes the state when it must).
 */
const REWRITTEN_COLUMNS = OBJECT_COLUMNS.filter((c) => !['bucketId', 'key', 'versionId', 'isCurrent', 'deleteMarker'].includes(c));
const OBJECT_DEFAULTS: Record<string, unknown> = Object.fromEntries(
  Object.entries(getTableColumns(objects)).map(([name, col]) => [name, (col as { default?: unknown }).default]),
);

/** Objects and their chunk lists, over the buckets (bucket-repository.ts) of the same connection. */
export class Repository extends BucketRepository {
  /**
   * `group`: batches the commits of concurrent PUTs into one transaction (see group-commit.ts).
   * `thread`: runs those batches on the commit thread's connection instead (commit-thread.ts).
   */
  constructor(
    db: Db,
    private readonly group?: GroupCommit,
    private readonly thread?: CommitThread,
  ) {
    super(db);
  }

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
      versions: versionStatements(this.db),
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
        .set(Object.fromEntries(REWRITTEN_COLUMNS.map((c) => [c, p(c)])))
        .where(eq(objects.id, p('id')))
        .returning()
        .prepare(),
      deletePartList: this.db.delete(objectParts).where(eq(objectParts.objectId, p('objectId'))).prepare(),
      tags: tagStatements(this.db.$client),
      insertChunkRef: this.db
        .insert(objectChunks)
        .values({ objectId: p('objectId'), seq: p('seq'), offset: p('offset'), size: p('size'), chunkHash: p('chunkHash') })
        .prepare(),
    };
  }

  // ---- objects ----

  /** The current version of a key (not a delete marker). */
  getObject(bucketId: number, key: string): ObjectRow | undefined {
    return this.hot.versions.current.get({ bucketId, key });
  }

  /** One version of a key, delete markers included. */
  getVersion(bucketId: number, key: string, versionId: string): ObjectRow | undefined {
    return this.hot.versions.version.get({ bucketId, key, versionId });
  }

  /** The newest version of a key, which may be a delete marker. */
  latestVersion(bucketId: number, key: string): ObjectRow | undefined {
    return this.hot.versions.newest.get({ bucketId, key });
  }

  /** A write's precondition, checked inside the caller's transaction (409 when it fails). */
  checkCondition(bucketId: number, key: string, condition: WriteOptions['condition']): void {
    checkAtCommit(this.versions, bucketId, key, condition);
  }

  private get versions(): VersionStatements {
    return this.hot.versions;
  }

  /** getObject for GET and HEAD (read-path.ts): the row may be shared with other requests, never modify it. */
  getObjectForRead(bucketId: number, key: string): ObjectRow | undefined {
    return this.reads.object(bucketId, key);
  }

  /** chunksForRange for GET, of the version `obj` is (read-path.ts): shared rows, read only. */
  chunksForRead(obj: ObjectRow, start: number, end: number): ChunkReadRow[] {
    return this.reads.chunks(obj, start, end);
  }

  private readPath?: ReadPath;
  private get reads(): ReadPath {
    return (this.readPath ??= new ReadPath(this.db.$client, {
      current: (bucketId, key) => this.getObject(bucketId, key),
      chunksHead: (objectId, limit) => this.hot.chunksHead.all({ objectId, limit }),
      chunksForRange: (objectId, start, end) => this.chunksForRange(objectId, start, end),
    }));
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

  /** One ListObjects page (S3's rules in paginate): see listing.ts. */
  listPage(bucketId: number, p: ListParams): ListPage {
    return this.listing.page(bucketId, p);
  }

  /** Keys > afterKey within prefix, in S3 order, from the (bucket_id, key) index. */
  listKeys(bucketId: number, prefix: string, afterKey: string | undefined, limit: number): ObjectRow[] {
    return this.listing.keys(bucketId, prefix, afterKey, limit);
  }

  /** The query behind listKeys, with its values inline (its plan is checked by the tests). */
  listKeysQuery(bucketId: number, prefix: string, afterKey: string | undefined, limit: number) {
    return this.listing.keysQuery(bucketId, prefix, afterKey, limit);
  }

  private versionQueries?: VersionListing;
  /** One ListObjectVersions page (version-listing.ts). */
  listVersions(bucketId: number, p: VersionListParams): VersionPage<ObjectRow> {
    return (this.versionQueries ??= new VersionListing(this.db, (fn) => this.read(fn))).page(bucketId, p);
  }

  private listingQueries?: Listing;
  /** The listing queries (listing.ts). */
  get listing(): Listing {
    return (this.listingQueries ??= new Listing(this.db, (fn) => this.read(fn), (bucketId, key) => this.getObject(bucketId, key)));
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
  commitObject(bucketId: number, key: string, row: NewObject, placements: ChunkPlacement[], parts: ObjectPartInput[] = [], opts: WriteOptions = {}): CommitResult {
    return this.atomic(() => {
      const tx = this.db;
      checkAtCommit(this.versions, bucketId, key, opts.condition);
      addRefs(this.hot.refs, placements);
      const { object, freed } = this.placeVersion(bucketId, key, row, opts.bypassGovernance ?? false);
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
  commitObjectGrouped(bucketId: number, key: string, row: NewObject, placements: ChunkPlacement[], opts: WriteOptions = {}): Promise<CommitResult> {
    return this.grouped(
      (thread) => thread.commit(bucketId, key, row, placements, opts),
      () => this.commitObject(bucketId, key, row, placements, [], opts),
    );
  }

  /** On the commit thread when there is one, else in this connection's group commit, else alone. */
  private grouped<T>(onThread: (thread: CommitThread) => Promise<T>, here: () => T): Promise<T> {
    if (this.thread) {
      // A commit on the other connection: total_changes() on this one does not see it, and
      // data_version is only asked once a millisecond, so the read cache is emptied here, before
      // the request is answered and a GET can follow it.
      return onThread(this.thread).then((result) => {
        this.readPath?.cache.clear();
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

  /**
   * DeleteObject: removes a version for good (opts.versionId, or the null version of an
   * unversioned bucket) or adds a delete marker (opts.markerVersionId), under object lock's rules.
   */
  deleteObject(bucketId: number, key: string, opts: DeleteOptions = {}): DeleteResult {
    // atomic, not db.transaction: inside a group-commit batch that would be a savepoint each.
    return this.atomic(() => {
      checkAtCommit(this.versions, bucketId, key, opts.condition);
      const bypass = opts.bypassGovernance ?? false;
      if (opts.versionId !== undefined || opts.markerVersionId === undefined) {
        const row = this.versions.versionRef.get({ bucketId, key, versionId: opts.versionId ?? 'null' });
        if (!row) return { deleted: false, freed: [] };
        checkRemovable(row, Date.now(), bypass);
        const freed = this.removeRow(row);
        promoteNewest(this.versions, bucketId, key);
        return { deleted: true, freed, versionId: row.versionId, deleteMarker: row.deleteMarker };
      }
      const marker: NewObject = {
        size: 0, etag: '', checksumAlgorithm: null, checksumValue: null, checksumType: null, partCount: null,
        lastModified: Date.now(), versionId: opts.markerVersionId, deleteMarker: true,
      };
      const { object, freed } = this.placeVersion(bucketId, key, marker, bypass);
      return { deleted: true, freed, versionId: object.versionId, deleteMarker: true };
    });
  }

  /** deleteObject, batched like commitObjectGrouped (on the commit thread when there is one). */
  deleteObjectGrouped(bucketId: number, key: string, opts: DeleteOptions = {}): Promise<DeleteResult> {
    return this.grouped(
      (thread) => thread.delete(bucketId, key, opts),
      () => this.deleteObject(bucketId, key, opts),
    );
  }

  /**
   * Makes `row` the newest version of (bucket, key): rewritten in place over the null version
   * when that is the newest (same id, after its chunk list and part layout went), else a new row
   * (see placementFor in versions.ts). The caller adds the new chunk list. Returns the chunks the
   * replaced version no longer holds. Call it inside the caller's transaction: the prepared
   * statements run on the same connection.
   */
  placeVersion(bucketId: number, key: string, row: NewObject, bypassGovernance: boolean): CommitResult {
    const marker = row.deleteMarker ?? false;
    // Every column bound (absent ones as their schema default, else NULL): the statements are
    // prepared once for all rows.
    const values: Record<string, unknown> = { ...row, bucketId, key, isCurrent: !marker, deleteMarker: marker, tagCount: row.tags?.length ?? 0 };
    for (const c of OBJECT_COLUMNS) values[c] ??= OBJECT_DEFAULTS[c] ?? null;
    const place = placementFor(this.versions, bucketId, key, row.versionId ?? 'null', bypassGovernance, Date.now());
    if (place.kind === 'in-place') {
      const old = place.old;
      const counts = this.hot.chunkCounts.all({ objectId: old.id });
      this.hot.deleteChunkList.run({ objectId: old.id });
      this.hot.deletePartList.run({ objectId: old.id });
      // The row keeps its id, so the cascade does not remove the old version's tags.
      if (old.tagCount > 0) this.hot.tags.clear.run(old.id);
      let object = this.hot.updateObject.get({ ...values, id: old.id }) as ObjectRow;
      if (old.isCurrent === marker || old.deleteMarker !== marker) {
        this.versions.setState.run(marker ? 0 : 1, marker ? 1 : 0, old.id);
        object = { ...object, isCurrent: !marker, deleteMarker: marker };
      }
      if (row.tags?.length) insertTags(this.hot.tags, object.id, row.tags);
      return { object, freed: dropRefs(this.hot.refs, counts) };
    }
    const freed = place.retire ? this.removeRow(place.retire) : [];
    if (place.demote) this.versions.clearCurrent.run(place.demote.id);
    const object = this.hot.insertObject.get(values) as ObjectRow;
    if (row.tags?.length) insertTags(this.hot.tags, object.id, row.tags);
    return { object, freed };
  }

  /** PutObjectRetention, PutObjectLegalHold, PutObjectAcl: src/db/version-attributes.ts. */
  setRetention(bucketId: number, key: string, versionId: string | undefined, next: { mode: LockMode; until: number } | null, bypass: boolean): ObjectRow | undefined {
    return setRetention(this, bucketId, key, versionId, next, bypass);
  }

  setLegalHold(bucketId: number, key: string, versionId: string | undefined, on: boolean): ObjectRow | undefined {
    return setVersionColumns(this, bucketId, key, versionId, { legalHold: on });
  }

  setObjectAcl(bucketId: number, key: string, versionId: string | undefined, acl: string | null): ObjectRow | undefined {
    return setVersionColumns(this, bucketId, key, versionId, { acl });
  }

  /** A version's tags, in key order; Put/DeleteObjectTagging (src/db/object-tags.ts). */
  getTags(objectId: number): TagSet {
    return readTags(this.hot.tags, objectId);
  }
  setObjectTags(bucketId: number, key: string, versionId: string | undefined, tags: TagSet | null): ObjectRow | undefined {
    return setVersionTags(this, this.hot.tags, bucketId, key, versionId, tags);
  }

  /** Drops a version's row, chunk list and part layout; returns hashes now unreferenced. */
  private removeRow(row: { id: number }): string[] {
    const counts = this.hot.chunkCounts.all({ objectId: row.id });
    this.hot.deleteChunkList.run({ objectId: row.id });
    this.hot.deletePartList.run({ objectId: row.id });
    this.hot.deleteObject.run({ objectId: row.id });
    return dropRefs(this.hot.refs, counts);
  }
}
