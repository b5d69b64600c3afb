import { eq, sql } from 'drizzle-orm';
import type { Db } from '../client.js';
import type { ChunkRecord } from './shapes.js';
import { buckets, chunks, objectChunks, objects } from '../schema.js';
import { MaintenanceRepository } from '../maintenance-repository.js';

// A chunk's record: its row and who references it (object versions, multipart upload parts).

/** A chunk record lists at most this many objects and as many upload parts. */
export const CHUNK_REFERENCES_LISTED = 1000;

export function isSha256(value: string): boolean {
  return /^[0-9a-f]{64}$/.test(value);
}

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
