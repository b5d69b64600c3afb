import { eq, sql } from 'drizzle-orm';
import type { Db } from '../client.js';
import type { ChunkRecord } from './shapes.js';
import { buckets, chunks, objectChunks, objects } from '../schema.js';
import { MaintenanceRepository } from '../maintenance-repository.js';
import { CHUNK_REFERENCES_LISTED, chunkRecordOf } from './assemble.js';

// A chunk's record on SQLite: its row and who references it (object versions, multipart upload parts).

export { CHUNK_REFERENCES_LISTED, isSha256 } from './assemble.js';

export function chunkRecord(db: Db, sha256: string): ChunkRecord | undefined {
  const c = db.select({ hash: chunks.hash, size: chunks.size, crc32c: chunks.crc32c, refcount: chunks.refcount, createdAt: chunks.createdAt, data: sql<number | null>`length(${chunks.data})` }).from(chunks).where(eq(chunks.hash, sha256)).get();
  if (!c) return undefined;
  const refs = db
    .select({ bucket: buckets.name, key: objects.key, versionId: objects.versionId, seq: objectChunks.seq, offset: objectChunks.offset })
    .from(objectChunks)
    .innerJoin(objects, eq(objects.id, objectChunks.objectId))
    .innerJoin(buckets, eq(buckets.id, objects.bucketId))
    // Index order (no sort): a chunk shared by a million objects still answers at once.
    .where(eq(objectChunks.chunkHash, sha256))
    .limit(CHUNK_REFERENCES_LISTED + 1)
    .all();
  const uploads = new MaintenanceRepository(db).uploadsUsing(sha256, CHUNK_REFERENCES_LISTED + 1);
  return chunkRecordOf({ ...c, inline: c.data !== null }, refs, uploads);
}
