import type pg from 'pg';
import type { BucketRow, ChunkReadRow, ObjectRow } from '../../store/types.js';
import { hasNul, objectColumnList } from './commit.js';

// The statements of the GET/HEAD path, shaped for node's side: node-postgres spends more CPU on
// a result's columns (a description and a parser per column, rows built property by property)
// than on one JSON value, which V8 parses fast. So a row comes back as one json column, and a
// GET's bucket row, object row and short chunk list come back in one statement: one round trip.

/** Chunk lists up to this long come with the row of a GET or HEAD (one round trip for both). */
export const CHUNKS_WITH_ROW = 8;

export const BUCKET_COLUMNS = `id, name, region, created_at as "createdAt", owner_id as "ownerId", acl, ownership, policy, versioning,
    object_lock as "objectLock", lock_default_mode as "lockDefaultMode", lock_default_days as "lockDefaultDays",
    lock_default_years as "lockDefaultYears", default_encryption as "defaultEncryption", tags, lifecycle`;

/**
 * The start of object `r.id`'s chunk list (one more than CHUNKS_WITH_ROW tells a longer one), as
 * json. Each chunk row by its key (the lateral with a limit is not flattened into a join): on a
 * small chunks table the planner's generic plan hashed the whole table on every GET.
 */
const CHUNKS_JSON = `(select json_agg(x order by x."offset") from (select oc.seq, oc."offset", oc.size, oc.chunk_hash as "chunkHash",
      c.size as "storedSize", c.crc32c, encode(c.data, 'base64') as data
    from object_chunks oc
    join lateral (select size, crc32c, data from chunks where hash = oc.chunk_hash limit 1) c on true
    where oc.object_id = r.id order by oc."offset" limit ${CHUNKS_WITH_ROW + 1}) x)`;

/** The current version of key $2 in bucket `bucketId` (an expression) with its chunk list's start: columns o, c. */
const objectJson = (bucketId: string, key: string) =>
  `select to_json(r) as o, ${CHUNKS_JSON} as c from (select ${objectColumnList('o')} from objects o where o.bucket_id = ${bucketId} and o.key = ${key} and o.is_current) r`;

export const READ_STATEMENTS = {
  bucket: { name: 'cairn_bucket_by_name_json', text: `select to_json(b) as b from (select ${BUCKET_COLUMNS} from buckets where name = $1) b` },
  object: { name: 'cairn_obj_for_read_json', text: objectJson('$1', '$2') },
  // The bucket and, if it exists, the current version of the key: one statement, one snapshot.
  both: {
    name: 'cairn_bucket_object_json',
    text: `select to_json(b) as b, ob.o, ob.c from (select ${BUCKET_COLUMNS} from buckets where name = $1) b
      left join lateral (${objectJson('b.id', '$2')}) ob on true`,
  },
};

type ChunkJson = Omit<ChunkReadRow, 'objectId' | 'data'> & { data: string | null };

/**
 * The chunk list read with a GET's row (getForRead), for its chunksForRead: it belongs to that
 * row object, the same snapshot, and goes with it (not a cache shared between requests).
 */
export const chunksOfRow = new WeakMap<ObjectRow, ChunkReadRow[]>();

/** An object row from its json, its chunk list attached when it came whole. */
export function objectFrom(o: ObjectRow | null | undefined, c: ChunkJson[] | null | undefined): ObjectRow | undefined {
  if (!o) return undefined;
  const list = c ?? [];
  if (list.length <= CHUNKS_WITH_ROW) {
    chunksOfRow.set(
      o,
      list.map((r) => ({ objectId: o.id, seq: r.seq, offset: r.offset, size: r.size, chunkHash: r.chunkHash, storedSize: r.storedSize, crc32c: r.crc32c, data: r.data === null ? null : Buffer.from(r.data, 'base64') })),
    );
  }
  return o;
}

export async function bucketByName(pool: pg.Pool, name: string): Promise<BucketRow | undefined> {
  // A name holding NUL (PostgreSQL text cannot) is no bucket's; the server never sees it.
  if (hasNul(name)) return undefined;
  return ((await pool.query({ ...READ_STATEMENTS.bucket, values: [name] })).rows[0]?.b ?? undefined) as BucketRow | undefined;
}

export async function objectForRead(pool: pg.Pool, bucketId: number, key: string): Promise<ObjectRow | undefined> {
  if (hasNul(key)) return undefined;
  const row = (await pool.query({ ...READ_STATEMENTS.object, values: [bucketId, key] })).rows[0];
  return row ? objectFrom(row.o, row.c) : undefined;
}

/** A GET or HEAD's bucket and the key's current version, in one round trip. */
export async function bucketAndObject(pool: pg.Pool, name: string, key: string): Promise<{ bucket?: BucketRow; object?: ObjectRow }> {
  if (hasNul(name)) return {};
  if (hasNul(key)) return { bucket: await bucketByName(pool, name) };
  const row = (await pool.query({ ...READ_STATEMENTS.both, values: [name, key] })).rows[0];
  if (!row) return {};
  return { bucket: row.b as BucketRow, object: objectFrom(row.o, row.c) };
}
