import { and, asc, eq, gt, gte, lt, lte, or, sql } from 'drizzle-orm';
import type { Db } from './client.js';
import { decodeTags } from '../s3/tagging.js';
import { completedUploads, multipartUploads, objectChunks, objectParts, partChunks, uploadParts } from './schema.js';
import { addRefs, dropRefs, refStatements, type ChunkPlacement, type RefStatements } from './chunk-refs.js';
import { prefixUpperBound } from './listing.js';
import type { NewObject, ObjectRow, Repository } from './repository.js';
import type { WriteOptions } from '../store/types.js';

// Multipart uploads: parts are chunk lists holding chunk references, exactly like objects.
// Completing moves the listed parts' chunk rows into the object's chunk list in one
// transaction (INSERT ... SELECT), so no byte is copied and refcounts of used chunks stay put.

export type UploadRow = typeof multipartUploads.$inferSelect;
export type PartRow = typeof uploadParts.$inferSelect;
export type ObjectPartRow = typeof objectParts.$inferSelect;

export interface CompletedPart {
  partNumber: number;
  size: number;
  offset: number;
  checksumValue: string | null;
}

export class MultipartRepository {
  constructor(
    readonly db: Db,
    private readonly objectsRepo: Repository,
  ) {}

  private refsCache?: RefStatements;
  private get refs(): RefStatements {
    return (this.refsCache ??= refStatements(this.db));
  }

  createUpload(row: typeof multipartUploads.$inferInsert): void {
    this.db.insert(multipartUploads).values(row).run();
  }

  getUpload(id: string): UploadRow | undefined {
    return this.db.select().from(multipartUploads).where(eq(multipartUploads.id, id)).get();
  }

  /**
   * Records a part whose chunks are durable. Replaces an earlier part with the same number.
   * Returns undefined when the upload is gone (aborted or completed meanwhile): the caller
   * then discards the chunks it wrote.
   */
  commitPart(uploadId: string, part: Omit<PartRow, 'uploadId'>, placements: ChunkPlacement[]): { freed: string[] } | undefined {
    return this.db.transaction((tx) => {
      const t = tx as unknown as Db;
      if (!t.select({ id: multipartUploads.id }).from(multipartUploads).where(eq(multipartUploads.id, uploadId)).get()) return undefined;
      addRefs(this.refs, placements);
      const freed = this.dropPartChunks(t, uploadId, part.partNumber);
      t.insert(uploadParts)
        .values({ ...part, uploadId })
        .onConflictDoUpdate({
          target: [uploadParts.uploadId, uploadParts.partNumber],
          set: { size: part.size, etag: part.etag, checksumValue: part.checksumValue, lastModified: part.lastModified },
        })
        .run();
      for (let i = 0; i < placements.length; i += 200) {
        t.insert(partChunks)
          .values(placements.slice(i, i + 200).map((c, j) => ({ uploadId, partNumber: part.partNumber, seq: i + j, offset: c.offset, size: c.size, chunkHash: c.hash })))
          .run();
      }
      return { freed };
    }, { behavior: 'immediate' });
  }

  listParts(uploadId: string, afterPart: number, limit: number): PartRow[] {
    return this.db
      .select()
      .from(uploadParts)
      .where(and(eq(uploadParts.uploadId, uploadId), gt(uploadParts.partNumber, afterPart)))
      .orderBy(asc(uploadParts.partNumber))
      .limit(limit)
      .all();
  }

  allParts(uploadId: string): PartRow[] {
    return this.db.select().from(uploadParts).where(eq(uploadParts.uploadId, uploadId)).orderBy(asc(uploadParts.partNumber)).all();
  }

  /** Uploads of a bucket in (key, upload id) order after the given markers, within prefix. */
  listUploads(bucketId: number, prefix: string, after: { key: string; uploadId: string } | undefined, limit: number): UploadRow[] {
    const conds = [eq(multipartUploads.bucketId, bucketId)];
    if (prefix) {
      conds.push(gte(multipartUploads.key, prefix));
      const upper = prefixUpperBound(prefix);
      if (upper !== undefined) conds.push(lt(multipartUploads.key, upper));
    }
    if (after) {
      conds.push(or(gt(multipartUploads.key, after.key), and(eq(multipartUploads.key, after.key), gt(multipartUploads.id, after.uploadId)))!);
    }
    return this.db.select().from(multipartUploads).where(and(...conds)).orderBy(asc(multipartUploads.key), asc(multipartUploads.id)).limit(limit).all();
  }

  countUploads(bucketId: number): number {
    return this.db.select({ n: sql<number>`count(*)` }).from(multipartUploads).where(eq(multipartUploads.bucketId, bucketId)).get()!.n;
  }

  /** A completed upload's record, for answering a retried Complete. */
  getCompleted(uploadId: string): typeof completedUploads.$inferSelect | undefined {
    return this.db.select().from(completedUploads).where(eq(completedUploads.uploadId, uploadId)).get();
  }

  /**
   * Completes an upload in one transaction: `decide` validates the listed parts against the
   * stored ones and returns the object row plus the parts used (in order); then the parts'
   * chunk rows become the object's, unused parts are dropped, and the upload row goes.
   * Concurrent Complete/Abort of one upload: SQLite serializes them, the loser finds no upload.
   */
  complete(
    uploadId: string,
    decide: (upload: UploadRow, parts: PartRow[]) => { row: NewObject; used: CompletedPart[] },
    opts: WriteOptions = {},
  ): { object: ObjectRow; freed: string[] } | undefined {
    return this.db.transaction((tx) => {
      const t = tx as unknown as Db;
      const upload = t.select().from(multipartUploads).where(eq(multipartUploads.id, uploadId)).get();
      if (!upload) return undefined;
      const parts = t.select().from(uploadParts).where(eq(uploadParts.uploadId, uploadId)).orderBy(asc(uploadParts.partNumber)).all();
      const decided = decide(upload, parts);
      const used = decided.used;
      // CreateMultipartUpload's x-amz-tagging becomes the version's tags.
      const row = upload.tags === null || decided.row.tags ? decided.row : { ...decided.row, tags: decodeTags(upload.tags) };
      this.objectsRepo.checkCondition(upload.bucketId, upload.key, opts.condition);
      const { object, freed } = this.objectsRepo.placeVersion(upload.bucketId, upload.key, row, opts.bypassGovernance ?? false);
      const usedNumbers = JSON.stringify(used.map((p) => p.partNumber));
      // Offsets are running sums over (part, seq): one statement links any number of parts.
      t.run(sql`
        INSERT INTO ${objectChunks} (object_id, seq, "offset", size, chunk_hash)
        SELECT ${object.id},
               ROW_NUMBER() OVER w - 1,
               COALESCE(SUM(size) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0),
               size, chunk_hash
        FROM ${partChunks}
        WHERE upload_id = ${uploadId} AND part_number IN (SELECT value FROM json_each(${usedNumbers}))
        WINDOW w AS (ORDER BY part_number, seq)`);
      for (let i = 0; i < used.length; i += 500) {
        t.insert(objectParts)
          .values(used.slice(i, i + 500).map((p) => ({ objectId: object.id, partNumber: p.partNumber, offset: p.offset, size: p.size, checksumValue: p.checksumValue })))
          .run();
      }
      // Chunks of the used parts moved to the object (their counts are unchanged); the rest drop.
      t.run(sql`DELETE FROM ${partChunks} WHERE upload_id = ${uploadId} AND part_number IN (SELECT value FROM json_each(${usedNumbers}))`);
      freed.push(...this.dropPartChunks(t, uploadId));
      t.delete(multipartUploads).where(eq(multipartUploads.id, uploadId)).run();
      t.insert(completedUploads).values({ uploadId, bucketId: upload.bucketId, key: upload.key, etag: row.etag, completedAt: Date.now(), versionId: object.versionId }).run();
      return { object, freed };
    }, { behavior: 'immediate' });
  }

  /** Removes an upload and its parts; undefined when there is no such upload. */
  abort(uploadId: string): { freed: string[] } | undefined {
    return this.db.transaction((tx) => {
      const t = tx as unknown as Db;
      if (!t.select({ id: multipartUploads.id }).from(multipartUploads).where(eq(multipartUploads.id, uploadId)).get()) return undefined;
      const freed = this.dropPartChunks(t, uploadId);
      t.delete(multipartUploads).where(eq(multipartUploads.id, uploadId)).run();
      return { freed };
    }, { behavior: 'immediate' });
  }

  /** Upload ids initiated before `before` (ms), oldest first. */
  expiredUploads(before: number, limit: number): string[] {
    return this.db
      .select({ id: multipartUploads.id })
      .from(multipartUploads)
      .where(lte(multipartUploads.initiated, before))
      .orderBy(asc(multipartUploads.initiated))
      .limit(limit)
      .all()
      .map((r) => r.id);
  }

  pruneCompleted(before: number): void {
    this.db.delete(completedUploads).where(lte(completedUploads.completedAt, before)).run();
  }

  objectParts(objectId: number): ObjectPartRow[] {
    return this.db.select().from(objectParts).where(eq(objectParts.objectId, objectId)).orderBy(asc(objectParts.partNumber)).all();
  }

  objectPart(objectId: number, partNumber: number): ObjectPartRow | undefined {
    return this.db
      .select()
      .from(objectParts)
      .where(and(eq(objectParts.objectId, objectId), eq(objectParts.partNumber, partNumber)))
      .get();
  }

  /** Drops the chunk rows (and references) of one part, or of every part when partNumber is omitted. */
  private dropPartChunks(t: Db, uploadId: string, partNumber?: number): string[] {
    const where = partNumber === undefined ? eq(partChunks.uploadId, uploadId) : and(eq(partChunks.uploadId, uploadId), eq(partChunks.partNumber, partNumber));
    const counts = t
      .select({ hash: partChunks.chunkHash, n: sql<number>`count(*)` })
      .from(partChunks)
      .where(where)
      .groupBy(partChunks.chunkHash)
      .all();
    if (counts.length === 0) return [];
    t.delete(partChunks).where(where).run();
    return dropRefs(this.refs, counts);
  }
}
