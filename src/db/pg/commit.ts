import { getTableColumns, sql, type SQL } from 'drizzle-orm';
import { S3Error } from '../../s3/errors.js';
import { objects } from './schema.js';
import type { PgTx } from './client.js';
import { deleteUnused, refDeltas, refUpsert } from './refs.js';
import { run } from './run.js';
import { checkCondition, placementOf, type VersionLookup, type VersionRef } from '../version-rules.js';
import type { ChunkPlacement, CommitResult, NewObject, ObjectPartInput, ObjectRow, WriteOptions } from '../../store/types.js';

export { addRefs, dropRefs, changeRefs } from './refs.js';

// The commit path of the PostgreSQL engine: every write of a key runs inside a transaction
// (client.ts withTx, READ COMMITTED) that first takes the key's advisory lock (lockKey), so the
// version rules (src/db/version-rules.ts) are decided on a state no other writer of the key can
// change before the commit. placeVersion is one commit's body: PUT, CopyObject, a delete marker
// and CompleteMultipartUpload (multipart.ts) all go through it.

const NUL_MESSAGE = 'The PostgreSQL metadata engine cannot store a key containing the NUL character.';

/** PostgreSQL text cannot hold U+0000: such a key is refused by writes and never found by reads. */
export function hasNul(s: string): boolean {
  return s.includes('\0');
}

/**
 * A bound for "keys after s" that PostgreSQL can take: no stored key has a NUL, so the keys
 * after s are the keys after its part before the first NUL.
 */
export function beforeNul(s: string): string {
  const i = s.indexOf('\0');
  return i === -1 ? s : s.slice(0, i);
}

export function refuseNul(key: string): void {
  if (hasNul(key)) throw new S3Error('InvalidArgument', { ArgumentName: 'key' }, NUL_MESSAGE);
}

/** Takes (bucket, key)'s transaction-scoped advisory lock: writers of one key queue here. */
export async function lockKey(tx: PgTx, bucketId: number, key: string): Promise<void> {
  refuseNul(key);
  await run(tx, sql`select pg_advisory_xact_lock(hashtextextended(${key}, ${bucketId}))`);
}

const COLUMNS = Object.entries(getTableColumns(objects)) as Array<[keyof ObjectRow, { name: string; default?: unknown }]>;

/** The select list of an objects row as ObjectRow (`alias.` before each column when given). */
export function objectColumnList(alias = ''): string {
  const p = alias ? `${alias}.` : '';
  return COLUMNS.map(([prop, col]) => `${p}"${col.name}" as "${prop}"`).join(', ');
}

export function objectColumns(alias = ''): SQL {
  return sql.raw(objectColumnList(alias));
}

const REF = ['id', 'versionId', 'isCurrent', 'deleteMarker', 'etag', 'lockMode', 'lockUntil', 'legalHold', 'tagCount'] as const;
const REF_COLUMNS = sql.raw(COLUMNS.filter(([p]) => (REF as readonly string[]).includes(p)).map(([p, c]) => `"${c.name}" as "${p}"`).join(', '));

/**
 * The key's current version, newest row and version `versionId`, in one query (made under the
 * key's lock, so they stay what they are until the commit).
 */
export async function keyState(tx: PgTx, bucketId: number, key: string, versionId = 'null'): Promise<VersionLookup & { rows: VersionRef[] }> {
  const rows = await run<VersionRef>(tx, sql`select ${REF_COLUMNS} from objects
    where bucket_id = ${bucketId} and key = ${key}
      and (is_current or version_id = ${versionId} or id = (select max(id) from objects where bucket_id = ${bucketId} and key = ${key}))`);
  let newest: VersionRef | undefined;
  for (const x of rows) if (!newest || x.id > newest.id) newest = x;
  return {
    rows,
    current: () => rows.find((x) => x.isCurrent),
    version: (v) => {
      if (v !== versionId) throw new Error(`keyState read version ${versionId}, not ${v}`);
      return rows.find((x) => x.versionId === v);
    },
    newest: () => newest,
  };
}

/** The values of every objects column but id for `row` (absent ones as their default, else NULL). */
function rowValues(bucketId: number, key: string, row: NewObject): Map<string, unknown> {
  const marker = row.deleteMarker ?? false;
  const given: Record<string, unknown> = { ...row, bucketId, key, isCurrent: !marker, deleteMarker: marker, tagCount: row.tags?.length ?? 0 };
  const out = new Map<string, unknown>();
  for (const [prop, col] of COLUMNS) {
    if (prop === 'id') continue;
    out.set(col.name, given[prop] ?? col.default ?? null);
  }
  return out;
}

/** Removes a version's row (its chunk list, parts and tags go by cascade); one reference per chunk-list row. */
export async function removeVersion(tx: PgTx, objectId: number, demote?: number): Promise<string[]> {
  const r = await run<{ hash: string }>(tx, sql`with gone as (delete from objects where id = ${objectId}),
      demoted as (update objects set is_current = false where id = ${demote ?? null}::int8)
    select chunk_hash as hash from object_chunks where object_id = ${objectId}`);
  return r.map((x) => x.hash);
}

/** Empties a version rewritten in place: its chunk list, parts and tags; the chunk-list hashes. */
async function clearVersion(tx: PgTx, objectId: number): Promise<string[]> {
  const r = await run<{ hash: string }>(tx, sql`with c as (delete from object_chunks where object_id = ${objectId} returning chunk_hash),
      p as (delete from object_parts where object_id = ${objectId}),
      t as (delete from object_tags where object_id = ${objectId})
    select chunk_hash as hash from c`);
  return r.map((x) => x.hash);
}

/**
 * One commit's body, in the caller's transaction after lockKey(tx, bucketId, key): checks the
 * condition, replaces what `row.versionId` replaces (object lock permitting), writes the row, its
 * chunk list (`placements`, one reference each), part layout and tags, and keeps is_current on
 * the newest non-marker version. A caller that writes the chunk list itself (multipart
 * completion) passes no placements. Returns the row and the chunk files freed.
 */
export async function placeVersion(tx: PgTx, bucketId: number, key: string, row: NewObject, placements: ChunkPlacement[], parts: ObjectPartInput[] = [], opts: WriteOptions = {}): Promise<CommitResult> {
  const state = await keyState(tx, bucketId, key);
  checkCondition(state.current(), opts.condition);
  const place = placementOf(state, row.versionId ?? 'null', opts.bypassGovernance ?? false, Date.now());
  let dropped: string[] = [];
  let inPlace: number | undefined;
  if (place.kind === 'in-place') {
    inPlace = place.old.id;
    dropped = await clearVersion(tx, inPlace);
  } else if (place.retire) {
    dropped = await removeVersion(tx, place.retire.id, place.demote?.id);
  } else if (place.demote) {
    await run(tx, sql`update objects set is_current = false where id = ${place.demote.id}`);
  }
  return writeVersion(tx, rowValues(bucketId, key, row), inPlace, placements, dropped, parts, row.tags ?? []);
}

/**
 * One statement: the net reference changes, the row (inserted, or rewritten in place over `inPlace`),
 * its chunk list, parts and tags; then the rows of chunks no longer referenced are deleted.
 */
async function writeVersion(tx: PgTx, values: Map<string, unknown>, inPlace: number | undefined, placements: ChunkPlacement[], dropped: string[], parts: ObjectPartInput[], tags: [string, string][]): Promise<CommitResult> {
  const cols = [...values.keys()];
  const vals = sql.join([...values.values()].map((v) => sql`${v}`), sql`, `);
  const write =
    inPlace === undefined
      ? sql`insert into objects (${sql.raw(cols.map((c) => `"${c}"`).join(', '))}) values (${vals}) returning ${objectColumns()}`
      : sql`update objects set (${sql.raw(cols.map((c) => `"${c}"`).join(', '))}) = row(${vals}) where id = ${inPlace} returning ${objectColumns()}`;
  const d = refDeltas(placements, dropped);
  const refs = d.hashes.length > 0 ? refUpsert(d, Date.now()) : sql`select null::text as hash, 1::int8 as refcount where false`;
  const list = placements.length > 0 ? sql`, c as (insert into object_chunks (object_id, seq, "offset", size, chunk_hash)
      select o.id, t.ord - 1, t.off, t.size, t.hash from o, unnest(${sql.param(placements.map((p) => p.offset))}::int8[], ${sql.param(placements.map((p) => p.size))}::int8[], ${sql.param(placements.map((p) => p.hash))}::text[]) with ordinality as t(off, size, hash, ord))` : sql``;
  const partRows = parts.length > 0 ? sql`, p as (insert into object_parts (object_id, part_number, "offset", size, checksum_value)
      select o.id, t.n, t.off, t.size, t.cv from o, unnest(${sql.param(parts.map((p) => p.partNumber))}::int8[], ${sql.param(parts.map((p) => p.offset))}::int8[], ${sql.param(parts.map((p) => p.size))}::int8[], ${sql.param(parts.map((p) => p.checksumValue))}::text[]) as t(n, off, size, cv))` : sql``;
  const tagRows = tags.length > 0 ? sql`, g as (insert into object_tags (object_id, key, value)
      select o.id, t.k, t.v from o, unnest(${sql.param(tags.map((t) => t[0]))}::text[], ${sql.param(tags.map((t) => t[1]))}::text[]) as t(k, v))` : sql``;
  const r = await run<ObjectRow & { zeros: string[] | null }>(tx, sql`with r as (${refs}), o as (${write})${list}${partRows}${tagRows}
    select o.*, (select array_agg(hash) from r where refcount <= 0) as zeros from o`);
  const { zeros, ...object } = r[0]!;
  const freed = await deleteUnused(tx, zeros ?? []);
  return { object, freed };
}
