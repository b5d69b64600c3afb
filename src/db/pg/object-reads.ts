import { sql, type SQL } from 'drizzle-orm';
import type { ListPage, ObjectStore } from '../../store/metadata-store.js';
import { VersionChangedError, chunksInRange, type ChunkReadRow, type ObjectChunkRow, type ObjectPartRow, type ObjectRow, type TagSet } from '../../store/types.js';
import { withTx, type PgDb, type PgTx } from './client.js';
import { run } from './run.js';
import { beforeNul, hasNul, objectColumnList } from './commit.js';
import { listBounds } from '../listing.js';
import { paginateAsync, type ListParams } from '../../s3/list-params.js';
import { pgVersionPage } from './version-listing.js';
import { chunksOfRow, objectForRead } from './read-path.js';

// Object reads on PostgreSQL. No cache (every gateway reads what any other wrote): the reads of
// GET and HEAD are one round trip each, as named (server-side prepared) statements (read-path.ts). A key
// containing NUL cannot be stored, so it is not found without asking the server.

type Reads = Pick<ObjectStore, 'get' | 'getForRead' | 'getVersion' | 'latest' | 'listVersions' | 'chunksForRead' | 'chunksForRange' | 'chunkList' | 'parts' | 'part' | 'listPage' | 'listKeys' | 'getTags' | 'isChunkReferenced'>;

const OBJ = objectColumnList();
const CHUNK_READ = `oc.object_id as "objectId", oc.seq, oc."offset", oc.size, oc.chunk_hash as "chunkHash", c.size as "storedSize", c.crc32c, c.data
  from object_chunks oc join chunks c on c.hash = oc.chunk_hash`;

/** Object $1's chunks from the one holding byte $2 (an index seek to it) to the one holding byte $3. */
const CHUNK_RANGE = `oc.object_id = $1 and oc."offset" <= $3
      and oc."offset" >= coalesce((select max("offset") from object_chunks where object_id = $1 and "offset" <= $2), 0)`;

const Q = {
  // One row as one json column (read-path.ts says why).
  current: `select to_json(r) as o from (select ${OBJ} from objects where bucket_id = $1 and key = $2 and is_current) r`,
  version: `select to_json(r) as o from (select ${OBJ} from objects where bucket_id = $1 and key = $2 and version_id = $3) r`,
  newest: `select to_json(r) as o from (select ${OBJ} from objects where bucket_id = $1 and key = $2 order by id desc limit 1) r`,
  chunksRange: `select ${CHUNK_READ} where ${CHUNK_RANGE} order by oc."offset"`,
  // chunksForRead of a row read earlier: nothing when the row no longer holds that version (an
  // overwrite of a null version keeps the row id); the check and the list are one snapshot.
  chunksOfVersion: `select ${CHUNK_READ} where ${CHUNK_RANGE}
      and exists (select 1 from objects o where o.id = $1 and o.last_modified = $4 and o.size = $5 and o.etag = $6)
      order by oc."offset"`,
  chunkList: `select object_id as "objectId", seq, "offset", size, chunk_hash as "chunkHash" from object_chunks where object_id = $1 order by seq`,
  parts: `select object_id as "objectId", part_number as "partNumber", "offset", size, checksum_value as "checksumValue" from object_parts where object_id = $1 order by part_number`,
  part: `select object_id as "objectId", part_number as "partNumber", "offset", size, checksum_value as "checksumValue" from object_parts where object_id = $1 and part_number = $2`,
  tags: `select key, value from object_tags where object_id = $1 order by key`,
  chunkExists: `select 1 as x from chunks where hash = $1`,
};

export function pgObjectReads(db: PgDb): Reads {
  const pool = db.$client;
  // Named statements: parsed and planned once per connection.
  const named = async <T>(name: keyof typeof Q, values: unknown[]): Promise<T[]> => (await pool.query({ name: `cairn_obj_${name}`, text: Q[name], values })).rows as T[];
  const first = async <T>(name: keyof typeof Q, values: unknown[]): Promise<T | undefined> => (await named<T>(name, values))[0];
  const row = async (name: 'current' | 'version' | 'newest', values: unknown[]): Promise<ObjectRow | undefined> => (await first<{ o: ObjectRow }>(name, values))?.o;
  const get = async (bucketId: number, key: string) => (hasNul(key) ? undefined : row('current', [bucketId, key]));
  const chunksForRange = (objectId: number, start: number, end: number) => named<ChunkReadRow>('chunksRange', [objectId, start, end]);

  const getForRead = (bucketId: number, key: string) => objectForRead(pool, bucketId, key);

  return {
    get,
    getForRead,
    getVersion: async (bucketId, key, versionId) => (hasNul(key) ? undefined : row('version', [bucketId, key, versionId])),
    latest: async (bucketId, key) => (hasNul(key) ? undefined : row('newest', [bucketId, key])),
    chunksForRead: async (obj, start, end) => {
      const all = chunksOfRow.get(obj);
      if (all) return chunksInRange(all, obj.size, start, end);
      const rows = await named<ChunkReadRow>('chunksOfVersion', [obj.id, start, end, obj.lastModified, obj.size, obj.etag]);
      // An object of some bytes has a chunk holding byte `start`: none means another version.
      if (rows.length === 0) throw new VersionChangedError(obj.key);
      return rows;
    },
    chunksForRange,
    chunkList: (objectId) => named<ObjectChunkRow>('chunkList', [objectId]),
    parts: (objectId) => named<ObjectPartRow>('parts', [objectId]),
    part: (objectId, partNumber) => first<ObjectPartRow>('part', [objectId, partNumber]),
    getTags: async (objectId) => (await named<{ key: string; value: string }>('tags', [objectId])).map((r): [string, string] => [r.key, r.value]) as TagSet,
    isChunkReferenced: async (hash) => (await named('chunkExists', [hash])).length > 0,
    listKeys: async (bucketId, prefix, after, limit) => (hasNul(prefix) ? [] : rows<ObjectRow>(db, keysQuery(bucketId, prefix, after === undefined ? undefined : beforeNul(after), limit))),
    listPage: (bucketId, p) => listPage(db, bucketId, p),
    listVersions: (bucketId, p) => pgVersionPage(db, bucketId, p),
  };
}

async function rows<T>(on: PgDb | PgTx, query: SQL): Promise<T[]> {
  return run<T>(on, query);
}

/** Current versions with keys > afterKey within prefix, by key (the objects_current index). */
function keysQuery(bucketId: number, prefix: string, afterKey: string | undefined, limit: number): SQL {
  const b = listBounds(prefix, afterKey);
  const lower = b.lower === 'gt' ? sql` and key > ${b.lowerValue}` : b.lower === 'gte' ? sql` and key >= ${b.lowerValue}` : sql``;
  const upper = b.upperValue === undefined ? sql`` : sql` and key < ${b.upperValue}`;
  return sql`select ${sql.raw(OBJ)} from objects where bucket_id = ${bucketId} and is_current${lower}${upper} order by key limit ${limit}`;
}

/**
 * A delimiter listing's entries in one statement (listing.ts listGroupHeads explains the walk):
 * a recursive query seeks past each group inside the server, and the rows of the entries come
 * with it, so the page is one snapshot.
 */
function groupHeadsQuery(bucketId: number, prefix: string, delimiter: string, afterKey: string | undefined, limit: number): SQL {
  const b = listBounds(prefix, afterKey);
  const upper = b.upperValue === undefined ? sql`` : sql` and key < ${b.upperValue}::text`;
  const lower = b.lower === 'gt' ? sql` and key > ${b.lowerValue}::text` : b.lower === 'gte' ? sql` and key >= ${b.lowerValue}::text` : sql``;
  const pre = sql`length(${prefix}::text)`;
  const cut = sql`strpos(substr(k, ${pre} + 1), ${delimiter}::text)`;
  return sql`with recursive walk(k, n) as (
      select (select key from objects where bucket_id = ${bucketId} and is_current${lower}${upper} order by key limit 1), 1
      union all
      select (select key from objects where bucket_id = ${bucketId} and is_current and key > greatest(k, case when ${cut} > 0
                then substr(k, 1, ${pre} + ${cut} + length(${delimiter}::text) - 1) || chr(1114111) else '' end)${upper}
              order by key limit 1), n + 1
      from walk where k is not null and n < ${limit}
    )
    select ${sql.raw(objectColumnList('o'))} from walk join objects o on o.bucket_id = ${bucketId} and o.key = walk.k and o.is_current order by walk.n`;
}

/** One ListObjects page: without a delimiter one statement; with one, the walk in one read-only snapshot. */
async function listPage(db: PgDb, bucketId: number, given: ListParams): Promise<ListPage> {
  if (hasNul(given.prefix)) return { contents: [], commonPrefixes: [], isTruncated: false };
  const p = { ...given, startAfterKey: given.startAfterKey === undefined ? undefined : beforeNul(given.startAfterKey), delimiter: given.delimiter && !hasNul(given.delimiter) ? given.delimiter : undefined };
  const delimiter = p.delimiter;
  if (delimiter === undefined) return paginateAsync(p, (after, limit) => rows<ObjectRow>(db, keysQuery(bucketId, p.prefix, after, limit)));
  return withTx(db, (tx) => paginateAsync(p, (after, limit) => rows<ObjectRow>(tx, groupHeadsQuery(bucketId, p.prefix, delimiter, after, limit)), { groupHeads: true }), {
    isolation: 'repeatable read',
    readOnly: true,
  });
}
