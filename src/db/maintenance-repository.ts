import { and, asc, eq, gt, lte, sql } from 'drizzle-orm';
import type { Db } from './client.js';
import { buckets, chunks, multipartUploads, objectChunks, objects, partChunks } from './schema.js';

// The queries of GC and scrub (src/storage/gc.ts, scrub.ts): whole-table walks in pages,
// "who uses this chunk", and the refcount repair. Nothing here touches files.

export interface ChunkRow {
  hash: string;
  size: number;
  crc32c: number;
  /** Bytes of an inline chunk (no file). */
  data: Buffer | null;
}

export class MaintenanceRepository {
  constructor(readonly db: Db) {}

  countChunks(): number {
    return this.db.select({ n: sql<number>`count(*)` }).from(chunks).get()!.n;
  }

  /** Chunk rows with hash > after, in hash order: a keyset page (the primary key), never an OFFSET scan. */
  chunkPage(after: string, limit: number): ChunkRow[] {
    return this.db
      .select({ hash: chunks.hash, size: chunks.size, crc32c: chunks.crc32c, data: chunks.data })
      .from(chunks)
      .where(gt(chunks.hash, after))
      .orderBy(asc(chunks.hash))
      .limit(limit)
      .all();
  }

  /** Objects whose chunk list uses the chunk (object_chunks_hash index), at most `limit`, and how many in all. */
  objectsUsing(hash: string, limit: number): { objects: Array<{ bucket: string; key: string }>; count: number } {
    const count = this.db
      .select({ n: sql<number>`count(distinct ${objectChunks.objectId})` })
      .from(objectChunks)
      .where(eq(objectChunks.chunkHash, hash))
      .get()!.n;
    const rows = this.db
      .selectDistinct({ bucket: buckets.name, key: objects.key })
      .from(objectChunks)
      .innerJoin(objects, eq(objects.id, objectChunks.objectId))
      .innerJoin(buckets, eq(buckets.id, objects.bucketId))
      .where(eq(objectChunks.chunkHash, hash))
      .orderBy(asc(buckets.name), asc(objects.key))
      .limit(limit)
      .all();
    return { objects: rows, count };
  }

  /**
   * Parts of uploads in progress that use the chunk, at most `limit` (scrub, and a chunk's record).
   * part_chunks has no hash index: a scan, run only for one chunk at a time.
   */
  uploadsUsing(hash: string, limit = -1): Array<{ uploadId: string; bucket: string; key: string; partNumber: number }> {
    return this.db
      .selectDistinct({ uploadId: partChunks.uploadId, bucket: buckets.name, key: multipartUploads.key, partNumber: partChunks.partNumber })
      .from(partChunks)
      .innerJoin(multipartUploads, eq(multipartUploads.id, partChunks.uploadId))
      .innerJoin(buckets, eq(buckets.id, multipartUploads.bucketId))
      .where(eq(partChunks.chunkHash, hash))
      .orderBy(asc(partChunks.uploadId), asc(partChunks.partNumber))
      .limit(limit)
      .all();
  }

  /**
   * Rows with refcount <= 0 should not exist (dropRefs deletes a row when its count reaches 0).
   * For each one found: the references that really exist (object_chunks + part_chunks) decide:
   * some -> the count is set to them; none -> the row goes and its file becomes an orphan for GC.
   * In one transaction, so a concurrent commit adding a reference is either counted or later.
   */
  repairRefcounts(opts: { dryRun: boolean }): { fixed: number; removed: number } {
    return this.db.transaction((tx) => {
      const bad = tx.select({ hash: chunks.hash }).from(chunks).where(lte(chunks.refcount, 0)).all();
      let fixed = 0;
      let removed = 0;
      for (const { hash } of bad) {
        const inObjects = tx.select({ n: sql<number>`count(*)` }).from(objectChunks).where(eq(objectChunks.chunkHash, hash)).get()!.n;
        const inParts = tx.select({ n: sql<number>`count(*)` }).from(partChunks).where(eq(partChunks.chunkHash, hash)).get()!.n;
        const actual = inObjects + inParts;
        if (actual > 0) {
          fixed++;
          if (!opts.dryRun) tx.update(chunks).set({ refcount: actual }).where(eq(chunks.hash, hash)).run();
        } else {
          removed++;
          if (!opts.dryRun) tx.delete(chunks).where(and(eq(chunks.hash, hash), lte(chunks.refcount, 0))).run();
        }
      }
      return { fixed, removed };
    }, { behavior: 'immediate' });
  }

  countUploadsInitiatedBefore(before: number): number {
    return this.db.select({ n: sql<number>`count(*)` }).from(multipartUploads).where(lte(multipartUploads.initiated, before)).get()!.n;
  }
}
