import { and, asc, eq, gt, inArray, lte, sql } from 'drizzle-orm';
import type { MaintenanceStore } from '../../store/metadata-store.js';
import { withTx, type PgDb } from './client.js';
import { buckets, chunks, multipartUploads, objectChunks, objects, partChunks } from './schema.js';

// The queries of GC and scrub on PostgreSQL (the SQLite reference: maintenance-repository.ts):
// keyset pages over chunk rows, who uses a chunk, and the refcount repair.

export function pgMaintenanceStore(db: PgDb): MaintenanceStore {
  return {
    countChunks: async () => (await db.select({ n: sql<number>`count(*)`.mapWith(Number) }).from(chunks))[0]!.n,

    chunkPage: async (after, limit) =>
      db.select({ hash: chunks.hash, size: chunks.size, crc32c: chunks.crc32c, data: chunks.data }).from(chunks).where(gt(chunks.hash, after)).orderBy(asc(chunks.hash)).limit(limit),

    objectsUsing: (hash, limit) =>
      // The count and the page: one snapshot.
      withTx(
        db,
        async (tx) => {
          const [{ n }] = (await tx
            .select({ n: sql<number>`count(distinct ${objectChunks.objectId})`.mapWith(Number) })
            .from(objectChunks)
            .where(eq(objectChunks.chunkHash, hash))) as [{ n: number }];
          const rows = await tx
            .selectDistinct({ bucket: buckets.name, key: objects.key })
            .from(objectChunks)
            .innerJoin(objects, eq(objects.id, objectChunks.objectId))
            .innerJoin(buckets, eq(buckets.id, objects.bucketId))
            .where(eq(objectChunks.chunkHash, hash))
            .orderBy(asc(buckets.name), asc(objects.key))
            .limit(limit);
          return { objects: rows, count: n };
        },
        { isolation: 'repeatable read', readOnly: true },
      ),

    uploadsUsing: async (hash) =>
      db
        .selectDistinct({ uploadId: partChunks.uploadId, bucket: buckets.name, key: multipartUploads.key, partNumber: partChunks.partNumber })
        .from(partChunks)
        .innerJoin(multipartUploads, eq(multipartUploads.id, partChunks.uploadId))
        .innerJoin(buckets, eq(buckets.id, multipartUploads.bucketId))
        .where(eq(partChunks.chunkHash, hash))
        .orderBy(asc(partChunks.uploadId), asc(partChunks.partNumber)),

    repairRefcounts: (opts) =>
      withTx(db, async (tx) => {
        // Rows with refcount <= 0 should not exist (dropRefs deletes a row at 0). Locked in hash
        // order, as every refcount change takes them: a commit adding a reference meanwhile
        // waits, then adds to the recounted value (or inserts a new row after the delete).
        const bad = await tx.select({ hash: chunks.hash }).from(chunks).where(lte(chunks.refcount, 0)).orderBy(asc(chunks.hash)).for('update');
        let fixed = 0;
        let removed = 0;
        for (const { hash } of bad) {
          const [{ n }] = (await tx.execute(sql`
            select (select count(*) from ${objectChunks} where chunk_hash = ${hash})
                 + (select count(*) from ${partChunks} where chunk_hash = ${hash}) as n`)).rows as [{ n: number }];
          const actual = Number(n);
          if (actual > 0) {
            fixed++;
            if (!opts.dryRun) await tx.update(chunks).set({ refcount: actual }).where(eq(chunks.hash, hash));
          } else {
            removed++;
            if (!opts.dryRun) await tx.delete(chunks).where(and(eq(chunks.hash, hash), lte(chunks.refcount, 0)));
          }
        }
        return { fixed, removed };
      }),

    countUploadsInitiatedBefore: async (before) =>
      (await db.select({ n: sql<number>`count(*)`.mapWith(Number) }).from(multipartUploads).where(lte(multipartUploads.initiated, before)))[0]!.n,

    knownChunks: async (hashes) => {
      const out = new Set<string>();
      for (let i = 0; i < hashes.length; i += 1000) {
        for (const r of await db.select({ hash: chunks.hash }).from(chunks).where(inArray(chunks.hash, hashes.slice(i, i + 1000)))) out.add(r.hash);
      }
      return out;
    },
  };
}
