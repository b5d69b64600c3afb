import { and, asc, eq, gt, gte, lt, lte, or, sql, type SQL } from 'drizzle-orm';
import type { MultipartStore } from '../../store/metadata-store.js';
import type { ChunkPlacement, CommitResult, CompletedPart, NewObject, PartRow, UploadRow, WriteOptions } from '../../store/types.js';
import { decodeTags } from '../../s3/tagging.js';
import { prefixUpperBound } from '../listing.js';
import { S3Error } from '../../s3/errors.js';
import { withTx, type PgDb, type PgTx } from './client.js';
import { isForeignKeyViolation } from './sqlstate.js';

import { changeRefs, dropRefs, hasNul, lockKey, placeVersion, refuseNul } from './commit.js';
import { completedUploads, multipartUploads, objectChunks, partChunks, uploadParts } from './schema.js';

// Multipart uploads on PostgreSQL (the SQLite reference: multipart-repository.ts). Parts are
// chunk lists holding chunk references, like objects; Complete moves the used parts' chunk rows
// into the object's list in one statement, so the counts of used chunks do not change.
//
// Gateways share uploads, so the upload row is the lock: UploadPart takes it FOR SHARE (parts of
// one upload commit side by side; a re-sent part number queues on its upload_parts row), Complete
// and Abort take it FOR UPDATE. Whichever of Complete and Abort comes second finds no row and
// answers undefined (a retried Complete then reads completed_uploads); a part committed after
// either finds no upload and adds no reference.

export function pgMultipartStore(db: PgDb): MultipartStore {
  return {
    create: async (row) => {
      refuseNul(row.key);
      try {
        await db.insert(multipartUploads).values(row);
      } catch (err) {
        // The bucket was deleted (on any gateway) since the caller looked it up.
        if (isForeignKeyViolation(err)) throw new S3Error('NoSuchBucket');
        throw err;
      }
    },

    // An upload id holding NUL (from a request) is no upload's; the server never sees it.
    get: async (id) => (hasNul(id) ? undefined : (await db.select().from(multipartUploads).where(eq(multipartUploads.id, id)))[0]) as UploadRow | undefined,

    commitPart: async (uploadId, part, placements) => hasNul(uploadId) ? undefined : withTx(db, (tx) => commitPartTx(tx, uploadId, part, placements)),

    listParts: async (uploadId, afterPart, limit) =>
      hasNul(uploadId)
        ? []
        : db
        .select()
        .from(uploadParts)
        .where(and(eq(uploadParts.uploadId, uploadId), gt(uploadParts.partNumber, afterPart)))
        .orderBy(asc(uploadParts.partNumber))
        .limit(limit) as Promise<PartRow[]>,

    allParts: async (uploadId) => hasNul(uploadId) ? [] : db.select().from(uploadParts).where(eq(uploadParts.uploadId, uploadId)).orderBy(asc(uploadParts.partNumber)) as Promise<PartRow[]>,

    list: (bucketId, prefix, after, limit) => listUploads(db, bucketId, prefix, after, limit),

    count: async (bucketId) => (await db.select({ n: sql<number>`count(*)`.mapWith(Number) }).from(multipartUploads).where(eq(multipartUploads.bucketId, bucketId)))[0]!.n,

    getCompleted: async (uploadId) => hasNul(uploadId) ? undefined : (await db.select().from(completedUploads).where(eq(completedUploads.uploadId, uploadId)))[0],

    complete: async (uploadId, decide, opts) => hasNul(uploadId) ? undefined : withTx(db, (tx) => completeUpload(tx, uploadId, decide, opts)),

    abort: async (uploadId) =>
      hasNul(uploadId)
        ? undefined
        : withTx(db, async (tx) => {
        const [upload] = await tx.select({ id: multipartUploads.id }).from(multipartUploads).where(eq(multipartUploads.id, uploadId)).for('update');
        if (!upload) return undefined;
        const freed = await dropPartChunks(tx, uploadId);
        await tx.delete(multipartUploads).where(eq(multipartUploads.id, uploadId));
        return { freed };
      }),

    expired: async (before, limit) =>
      (
        await db
          .select({ id: multipartUploads.id })
          .from(multipartUploads)
          .where(lte(multipartUploads.initiated, before))
          .orderBy(asc(multipartUploads.initiated), asc(multipartUploads.id))
          .limit(limit)
      ).map((r) => r.id),

    pruneCompleted: async (before) => {
      await db.delete(completedUploads).where(lte(completedUploads.completedAt, before));
    },
  };
}

/** Uploads of a bucket in (key, upload id) order after the given markers, within prefix. */
async function listUploads(db: PgDb, bucketId: number, prefix: string, after: { key: string; uploadId: string } | undefined, limit: number): Promise<UploadRow[]> {
  // No stored key holds NUL: none starts with such a prefix.
  if (hasNul(prefix)) return [];
  const conds: SQL[] = [eq(multipartUploads.bucketId, bucketId)];
  if (prefix) {
    conds.push(gte(multipartUploads.key, prefix));
    const upper = prefixUpperBound(prefix);
    if (upper !== undefined) conds.push(lt(multipartUploads.key, upper));
  }
  if (after && hasNul(after.key)) {
    // Keys after "a\0..." are exactly the keys after "a" (no key holds NUL).
    conds.push(gt(multipartUploads.key, after.key.slice(0, after.key.indexOf('\0'))));
  } else if (after) {
    conds.push(or(gt(multipartUploads.key, after.key), and(eq(multipartUploads.key, after.key), gt(multipartUploads.id, after.uploadId)))!);
  }
  return db
    .select()
    .from(multipartUploads)
    .where(and(...conds))
    .orderBy(asc(multipartUploads.key), asc(multipartUploads.id))
    .limit(limit) as Promise<UploadRow[]>;
}

/** UploadPart's commit in the caller's transaction; undefined when the upload is gone. */
async function commitPartTx(tx: PgTx, uploadId: string, part: Omit<PartRow, 'uploadId'>, placements: ChunkPlacement[]): Promise<{ freed: string[] } | undefined> {
  const [upload] = await tx.select({ id: multipartUploads.id }).from(multipartUploads).where(eq(multipartUploads.id, uploadId)).for('share');
  if (!upload) return undefined;
  // The part's row first: a second commit of the same part number waits here, before
  // either touches a chunk row.
  await tx
    .insert(uploadParts)
    .values({ ...part, uploadId })
    .onConflictDoUpdate({
      target: [uploadParts.uploadId, uploadParts.partNumber],
      set: { size: part.size, etag: part.etag, checksumValue: part.checksumValue, lastModified: part.lastModified },
    });
  // The new part's references and the replaced one's in one hash-ordered pass (a chunk in
  // both keeps its row).
  const old = await deletePartChunks(tx, uploadId, part.partNumber);
  const freed = await changeRefs(tx, placements, old);
  await insertPartChunks(tx, uploadId, part.partNumber, placements);
  return { freed };
}

/**
 * Complete in the caller's transaction: the key's lock, then the upload's (FOR UPDATE: an Abort or
 * a part commit on another gateway waits, or this finds the upload gone); `decide` checks the
 * parts; the version is placed and the used parts' chunk rows become its chunk list.
 */
async function completeUpload(
  tx: PgTx,
  uploadId: string,
  decide: (upload: UploadRow, parts: PartRow[]) => { row: NewObject; used: CompletedPart[] },
  opts: WriteOptions = {},
): Promise<CommitResult | undefined> {
  const [peek] = await tx.select({ bucketId: multipartUploads.bucketId, key: multipartUploads.key }).from(multipartUploads).where(eq(multipartUploads.id, uploadId));
  if (!peek) return undefined;
  // The key's lock before the upload's, as every commit of the key takes it first.
  await lockKey(tx, peek.bucketId, peek.key);
  const [upload] = (await tx.select().from(multipartUploads).where(eq(multipartUploads.id, uploadId)).for('update')) as UploadRow[];
  if (!upload) return undefined;
  const parts = (await tx.select().from(uploadParts).where(eq(uploadParts.uploadId, uploadId)).orderBy(asc(uploadParts.partNumber))) as PartRow[];
  const decided = decide(upload, parts);
  // CreateMultipartUpload's x-amz-tagging becomes the version's tags.
  const row = upload.tags === null || decided.row.tags ? decided.row : { ...decided.row, tags: decodeTags(upload.tags) };
  const used = decided.used;
  // No placements: the used parts' chunk rows move below, keeping their references.
  const result = await placeVersion(tx, upload.bucketId, upload.key, row, [], used, opts);
  const numbers = used.map((p) => p.partNumber);
  if (numbers.length > 0) {
    const inUsed = sql`part_number = any(${`{${numbers.join(',')}}`}::bigint[])`;
    // Offsets are running sums over (part, seq): one statement links any number of parts.
    await tx.execute(sql`
      insert into ${objectChunks} (object_id, seq, "offset", size, chunk_hash)
      select ${result.object.id}, row_number() over w - 1,
             coalesce(sum(size) over (w rows between unbounded preceding and 1 preceding), 0)::bigint,
             size, chunk_hash
      from ${partChunks}
      where upload_id = ${uploadId} and ${inUsed}
      window w as (order by part_number, seq)`);
    await tx.execute(sql`delete from ${partChunks} where upload_id = ${uploadId} and ${inUsed}`);
  }
  const freed = [...result.freed, ...(await dropPartChunks(tx, uploadId))];
  await tx.delete(multipartUploads).where(eq(multipartUploads.id, uploadId));
  await tx
    .insert(completedUploads)
    .values({ uploadId, bucketId: upload.bucketId, key: upload.key, etag: row.etag, completedAt: Date.now(), versionId: result.object.versionId });
  return { object: result.object, freed };
}

async function insertPartChunks(tx: PgTx, uploadId: string, partNumber: number, placements: ChunkPlacement[]): Promise<void> {
  for (let i = 0; i < placements.length; i += 1000) {
    await tx.insert(partChunks).values(placements.slice(i, i + 1000).map((c, j) => ({ uploadId, partNumber, seq: i + j, offset: c.offset, size: c.size, chunkHash: c.hash })));
  }
}

/** Deletes the chunk rows of one part, or of every part when partNumber is omitted; one hash per row. */
async function deletePartChunks(tx: PgTx, uploadId: string, partNumber?: number): Promise<string[]> {
  const where = partNumber === undefined ? eq(partChunks.uploadId, uploadId) : and(eq(partChunks.uploadId, uploadId), eq(partChunks.partNumber, partNumber));
  return (await tx.delete(partChunks).where(where).returning({ hash: partChunks.chunkHash })).map((r) => r.hash);
}

/** Drops the chunk rows (and references) of every part of the upload; the freed hashes. */
async function dropPartChunks(tx: PgTx, uploadId: string): Promise<string[]> {
  return dropRefs(tx, await deletePartChunks(tx, uploadId));
}
