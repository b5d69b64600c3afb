import { sql, type SQL } from 'drizzle-orm';
import type { ObjectStore } from '../../store/metadata-store.js';
import type { ChunkPlacement, CommitResult, DeleteOptions, DeleteResult, NewObject, ObjectPartInput, ObjectRow, TagSet, WriteOptions } from '../../store/types.js';
import { withTx, type PgDb, type PgTx } from './client.js';
import { run } from './run.js';
import { withKeyTx } from './key-tx.js';
import { keyStateQuery, lockKey, stateOf, type KeyState, type StateRow, objectColumnList, placeVersion, removeVersion } from './commit.js';
import { checkCondition } from '../version-rules.js';
import { checkRemovable, checkRetentionChange } from '../../s3/object-lock.js';
import { S3Error } from '../../s3/errors.js';

// Object writes on PostgreSQL: each one transaction (withTx) that first takes the key's advisory
// lock (commit.ts), so conditions, version order and object lock are decided against a state
// no other gateway can change meanwhile.

type Writes = Pick<ObjectStore, 'commit' | 'copy' | 'delete' | 'setRetention' | 'setLegalHold' | 'setAcl' | 'setTags'>;

const OBJ = objectColumnList();

export function pgObjectWrites(db: PgDb): Writes {
  return {
    commit: (bucketId, key, row, placements, parts, opts) =>
      withKeyTx<StateRow, CommitResult>(db, bucketId, key, keyStateQuery(bucketId, key, 'null'), (tx, rows) =>
        placeVersion(tx, bucketId, key, row, placements, parts ?? [], opts, stateOf(rows, 'null')),
      ),
    copy: (src, dst, build, opts) => withTx(db, (tx) => copyObject(tx, src, dst, build, opts)),
    delete: (bucketId, key, given) => {
      const opts = given ?? {};
      // A delete marker replaces the null version (if any); otherwise the version named goes.
      const versionId = opts.versionId === undefined && opts.markerVersionId !== undefined ? 'null' : (opts.versionId ?? 'null');
      return withKeyTx<StateRow, DeleteResult>(db, bucketId, key, keyStateQuery(bucketId, key, versionId), (tx, rows) => deleteObject(tx, bucketId, key, opts, stateOf(rows, versionId)));
    },
    setRetention: (bucketId, key, versionId, next, bypass) =>
      onVersion(db, bucketId, key, versionId, async (tx, row) => {
        checkRetentionChange(row, next, Date.now(), bypass);
        const set = { lockMode: next?.mode ?? null, lockUntil: next?.until ?? null };
        await run(tx, sql`update objects set lock_mode = ${set.lockMode}, lock_until = ${set.lockUntil} where id = ${row.id}`);
        return { ...row, ...set };
      }),
    setLegalHold: (bucketId, key, versionId, on) =>
      onVersion(db, bucketId, key, versionId, async (tx, row) => {
        await run(tx, sql`update objects set legal_hold = ${on} where id = ${row.id}`);
        return { ...row, legalHold: on };
      }),
    setAcl: (bucketId, key, versionId, acl) =>
      onVersion(db, bucketId, key, versionId, async (tx, row) => {
        await run(tx, sql`update objects set acl = ${acl} where id = ${row.id}`);
        return { ...row, acl };
      }),
    // Put/DeleteObjectTagging: allowed on locked versions (no data changes). The old tags go
    // before the new ones are written (the gate, as in commit.ts writeVersion).
    setTags: (bucketId, key, versionId, tags) =>
      onVersion(db, bucketId, key, versionId, async (tx, row) => {
        const next = tags ?? [];
        await run(tx, sql`with d as (delete from object_tags where object_id = ${row.id} returning 1),
            t as (insert into object_tags (object_id, key, value)
              select ${row.id}::int8, t.k, t.v from unnest(${sql.param(next.map((t) => t[0]))}::text[], ${sql.param(next.map((t) => t[1]))}::text[]) as t(k, v)
              where (select count(*) from d) >= 0)
          update objects set tag_count = ${next.length} where id = ${row.id}`);
        return { ...row, tagCount: next.length };
      }),
  };
}

/**
 * Changes the version a request names (the current one without a version id) under the key's
 * lock; undefined when there is none. A delete marker has no lock, ACL or tags to set (405, as
 * GET of one).
 */
function onVersion(db: PgDb, bucketId: number, key: string, versionId: string | undefined, fn: (tx: PgTx, row: ObjectRow) => Promise<ObjectRow>): Promise<ObjectRow | undefined> {
  return withKeyTx<ObjectRow, ObjectRow | undefined>(db, bucketId, key, rowQuery(bucketId, key, versionId), async (tx, rows) => {
    const row = rows[0];
    if (!row) return undefined;
    if (row.deleteMarker) throw new S3Error('MethodNotAllowed', {}, undefined, { 'x-amz-delete-marker': 'true', 'x-amz-version-id': row.versionId });
    return fn(tx, row);
  });
}

/** A version's row (the current one without a version id). */
function rowQuery(bucketId: number, key: string, versionId: string | undefined): SQL {
  const where = versionId === undefined ? sql`is_current` : sql`version_id = ${versionId}`;
  return sql`select ${sql.raw(OBJ)} from objects where bucket_id = ${bucketId} and key = ${key} and ${where}`;
}

async function readRow(tx: PgTx, bucketId: number, key: string, versionId: string | undefined): Promise<ObjectRow | undefined> {
  return (await run<ObjectRow>(tx, rowQuery(bucketId, key, versionId)))[0];
}

/** CopyObject: both keys locked (in one order, so two copies crossing each other cannot deadlock). */
async function copyObject(
  tx: PgTx,
  src: { bucketId: number; key: string; versionId?: string },
  dst: { bucketId: number; key: string },
  build: (source: ObjectRow) => NewObject,
  opts?: WriteOptions,
) {
  const keys = [src, dst].sort((a, b) => a.bucketId - b.bucketId || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  await lockKey(tx, keys[0]!.bucketId, keys[0]!.key);
  if (keys[1]!.bucketId !== keys[0]!.bucketId || keys[1]!.key !== keys[0]!.key) await lockKey(tx, keys[1]!.bucketId, keys[1]!.key);
  const source = await readRow(tx, src.bucketId, src.key, src.versionId);
  if (!source) return undefined;
  if (source.deleteMarker) throw new S3Error('InvalidRequest', {}, 'The source of a copy request may not specifically refer to a delete marker by version id.');
  const built = build(source);
  // The source's layout, read before the commit: a copy onto itself rewrites the source row.
  const r = await run<Record<string, unknown>>(tx, sql`select
      (select coalesce(json_agg(json_build_array(oc.chunk_hash, oc.size, oc."offset", c.crc32c) order by oc.seq), '[]') from object_chunks oc join chunks c on c.hash = oc.chunk_hash where oc.object_id = ${source.id}) as chunks,
      (select coalesce(json_agg(json_build_array(part_number, "offset", size, checksum_value) order by part_number), '[]') from object_parts where object_id = ${source.id}) as parts,
      (select coalesce(json_agg(json_build_array(key, value) order by key), '[]') from object_tags where object_id = ${source.id}) as tags`);
  const got = r[0] as { chunks: [string, number, number, number][]; parts: [number, number, number, string | null][]; tags: TagSet };
  const placements: ChunkPlacement[] = got.chunks.map(([hash, size, offset, crc32c]) => ({ hash, size, offset, crc32c }));
  // The copy keeps the source's "-N" ETag and parts count, so it keeps the part layout too.
  const parts: ObjectPartInput[] = source.partCount ? got.parts.map(([partNumber, offset, size, checksumValue]) => ({ partNumber, offset, size, checksumValue })) : [];
  // No tags from `build` (x-amz-tagging-directive COPY): the source version's; REPLACE gives its own.
  const row = built.tags === undefined && source.tagCount > 0 ? { ...built, tags: got.tags } : built;
  return { ...(await placeVersion(tx, dst.bucketId, dst.key, row, placements, parts, opts)), source };
}

/**
 * DeleteObject: removes a version for good (opts.versionId, or the null version of an
 * unversioned bucket) or adds a delete marker (opts.markerVersionId), under object lock's rules.
 */
async function deleteObject(tx: PgTx, bucketId: number, key: string, opts: DeleteOptions, state: KeyState): Promise<DeleteResult> {
  const bypass = opts.bypassGovernance ?? false;
  if (opts.versionId === undefined && opts.markerVersionId !== undefined) {
    const marker: NewObject = {
      size: 0, etag: '', checksumAlgorithm: null, checksumValue: null, checksumType: null, partCount: null,
      lastModified: Date.now(), versionId: opts.markerVersionId, deleteMarker: true,
    };
    const { object, freed } = await placeVersion(tx, bucketId, key, marker, [], [], { condition: opts.condition, bypassGovernance: bypass }, state);
    return { deleted: true, freed, versionId: object.versionId, deleteMarker: true };
  }
  const versionId = opts.versionId ?? 'null';
  checkCondition(state.current(), opts.condition);
  const row = state.version(versionId);
  if (!row) return { deleted: false, freed: [] };
  checkRemovable(row, Date.now(), bypass);
  const freed = await removeVersion(tx, bucketId, key, state, row);
  return { deleted: true, freed, versionId: row.versionId, deleteMarker: row.deleteMarker };
}
