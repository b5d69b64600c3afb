import { asc, eq, sql } from 'drizzle-orm';
import type { PgDb, PgTx } from '../client.js';
import { withTx } from '../client.js';
import { buckets, chunks, multipartUploads, objectChunks, objects, partChunks } from '../schema.js';
import type { ChunkRecord } from '../../records/shapes.js';
import { CHUNK_REFERENCES_LISTED, chunkRecordOf } from '../../records/assemble.js';

// A chunk's record on PostgreSQL: its row and who references it (object versions, multipart
// upload parts), read in one snapshot.

/** The upload parts that reference a chunk, by upload and part (at most `limit` when given). */
export function uploadsUsing(db: Pick<PgDb | PgTx, 'selectDistinct'>, hash: string, limit?: number) {
  const q = db
    .selectDistinct({ uploadId: partChunks.uploadId, bucket: buckets.name, key: multipartUploads.key, partNumber: partChunks.partNumber })
    .from(partChunks)
    .innerJoin(multipartUploads, eq(multipartUploads.id, partChunks.uploadId))
    .innerJoin(buckets, eq(buckets.id, multipartUploads.bucketId))
    .where(eq(partChunks.chunkHash, hash))
    .orderBy(asc(partChunks.uploadId), asc(partChunks.partNumber));
  return limit === undefined ? q : q.limit(limit);
}

export async function chunkRecord(db: PgDb, sha256: string): Promise<ChunkRecord | undefined> {
  // Hashes are hex: anything else (NUL included) names no chunk, and needs no round trip.
  if (!/^[0-9a-f]+$/.test(sha256)) return undefined;
  return withTx(
    db,
    async (tx) => {
      const [c] = await tx
        .select({ hash: chunks.hash, size: chunks.size, crc32c: chunks.crc32c, refcount: chunks.refcount, createdAt: chunks.createdAt, inline: sql<boolean>`${chunks.data} is not null` })
        .from(chunks)
        .where(eq(chunks.hash, sha256));
      if (!c) return undefined;
      const refs = await tx
        .select({ bucket: buckets.name, key: objects.key, versionId: objects.versionId, seq: objectChunks.seq, offset: objectChunks.offset })
        .from(objectChunks)
        .innerJoin(objects, eq(objects.id, objectChunks.objectId))
        .innerJoin(buckets, eq(buckets.id, objects.bucketId))
        // Index order (no sort): a chunk shared by a million objects still answers at once.
        .where(eq(objectChunks.chunkHash, sha256))
        .limit(CHUNK_REFERENCES_LISTED + 1);
      const uploads = await uploadsUsing(tx, sha256, CHUNK_REFERENCES_LISTED + 1);
      return chunkRecordOf(c, refs, uploads);
    },
    { isolation: 'repeatable read', readOnly: true },
  );
}
