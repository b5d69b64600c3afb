import { getTableColumns, sql, type SQL } from 'drizzle-orm';
import { S3Error } from '../../s3/errors.js';
import { objects } from './schema.js';
import type { PgTx } from './client.js';
import type { FinalTx } from './key-tx.js';
import { deleteUnused, refDeltas, refUpsert, ZEROS, type Zero } from './refs.js';
import { run, Statement } from './run.js';
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

const COLUMNS = Object.entries(getTableColumns(objects)) as Array<[keyof ObjectRow, { name: string; default?: unknown; getSQLType(): string }]>;
/** Each column's type, for the casts of an INSERT ... SELECT's values (keys' collation comes from the column). */
const CASTS = new Map(COLUMNS.map(([, c]) => [c.name, c.getSQLType().replace(/ COLLATE .*$/, '').replace('bigserial', 'int8')]));

/** The select list of an objects row as ObjectRow (`alias.` before each column when given). */
export function objectColumnList(alias = ''): string {
  const p = alias ? `${alias}.` : '';
  return COLUMNS.map(([prop, col]) => `${p}"${col.name}" as "${prop}"`).join(', ');
}

const OBJECT_COLUMNS = objectColumnList();

export function objectColumns(alias = ''): SQL {
  return sql.raw(objectColumnList(alias));
}

const REF = ['id', 'versionId', 'isCurrent', 'deleteMarker', 'etag', 'lockMode', 'lockUntil', 'legalHold', 'tagCount'] as const;
const REF_COLUMNS = sql.raw(COLUMNS.filter(([p]) => (REF as readonly string[]).includes(p)).map(([p, c]) => `"${c.name}" as "${p}"`).join(', '));

/** A key's versions as the rules read them, and the chunk-list hashes of the version asked for. */
export type KeyState = VersionLookup & { rows: VersionRef[]; chunksOf(v: VersionRef): string[] };

/**
 * The key's current version, newest row and version `versionId` (with its chunk-list hashes, the
 * references its removal drops), in one query made under the key's lock, so they stay what they
 * are until the commit.
 */
export async function keyState(tx: PgTx, bucketId: number, key: string, versionId = 'null'): Promise<KeyState> {
  return stateOf(await run<StateRow>(tx, keyStateQuery(bucketId, key, versionId)), versionId);
}

export type StateRow = VersionRef & { chunkHashes: string[] | null };

/** keyState's query. */
export function keyStateQuery(bucketId: number, key: string, versionId: string): SQL {
  return sql`select ${REF_COLUMNS},
      case when version_id = ${versionId} then array(select chunk_hash from object_chunks where object_id = objects.id) end as "chunkHashes"
    from objects
    where bucket_id = ${bucketId} and key = ${key}
      and (is_current or version_id = ${versionId} or id = (select max(id) from objects where bucket_id = ${bucketId} and key = ${key}))`;
}

export function stateOf(rows: StateRow[], versionId: string): KeyState {
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
    chunksOf: (v) => {
      const hashes = rows.find((x) => x.id === v.id)?.chunkHashes;
      if (!hashes) throw new Error(`keyState has no chunk list for version ${v.versionId}`);
      return hashes;
    },
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

/**
 * Removes version `v` of a key (its chunk list, parts and tags go by cascade), makes the newest
 * remaining version current unless it is a delete marker, and drops the references `v` held: one
 * statement, then the rows of chunks no longer referenced. Returns the chunk files freed.
 */
export async function removeVersion(tx: PgTx, bucketId: number, key: string, state: KeyState, v: VersionRef): Promise<string[]> {
  const d = refDeltas([], state.chunksOf(v));
  const q = new Statement();
  q.text = `with gone as (delete from objects where id = ${q.p(v.id)} returning 1),
      r as (${refStatement(q, d)}),
      promoted as (update objects set is_current = true
        where id = (select id from objects where bucket_id = ${q.p(bucketId)} and key = ${q.p(key)} and id <> ${q.p(v.id)} order by id desc limit 1)
          and not delete_marker and not is_current and (select count(*) from gone) >= 0)
    select ${ZEROS}`;
  const r = await run<{ zeros: Zero[] }>(tx, q);
  return deleteUnused(tx, r[0]?.zeros ?? []);
}

/** The reference upsert of `d` as a CTE body (an empty one when nothing changes). */
function refStatement(q: Statement, d: ReturnType<typeof refDeltas>): string {
  return d.hashes.length > 0 ? refUpsert(q, d, Date.now()) : `select null::text as hash, 1::int8 as refcount, false as file where false`;
}

/**
 * One commit's body, in the caller's transaction after lockKey(tx, bucketId, key): checks the
 * condition, replaces what `row.versionId` replaces (object lock permitting), writes the row, its
 * chunk list (`placements`, one reference each), part layout and tags, and keeps is_current on
 * the newest non-marker version. A caller that writes the chunk list itself (multipart
 * completion) passes no placements. Returns the row and the chunk files freed.
 */
export async function placeVersion(
  tx: PgTx,
  bucketId: number,
  key: string,
  row: NewObject,
  placements: ChunkPlacement[],
  parts: ObjectPartInput[] = [],
  opts: WriteOptions = {},
  /** keyState(tx, bucketId, key) when the caller read it already (key-tx.ts). */
  known?: KeyState,
): Promise<CommitResult> {
  const state = known ?? (await keyState(tx, bucketId, key));
  checkCondition(state.current(), opts.condition);
  const place = placementOf(state, row.versionId ?? 'null', opts.bypassGovernance ?? false, Date.now());
  const old = place.kind === 'in-place' ? place.old : place.retire;
  const dropped = old ? state.chunksOf(old) : [];
  const write: Write = { values: rowValues(bucketId, key, row), placements, parts, tags: row.tags ?? [], dropped };
  if (place.kind === 'in-place') write.inPlace = place.old.id;
  else {
    write.retire = place.retire?.id;
    write.demote = place.demote?.id;
  }
  return writeVersion(tx, write);
}

interface Write {
  values: Map<string, unknown>;
  placements: ChunkPlacement[];
  parts: ObjectPartInput[];
  tags: [string, string][];
  /** One entry per chunk-list row of the version replaced. */
  dropped: string[];
  /** The row rewritten in place (its chunk list, parts and tags replaced). */
  inPlace?: number;
  /** The row removed first (a null version replaced by a new null). */
  retire?: number;
  /** The row that stops being current. */
  demote?: number;
}

/**
 * One statement: what goes first (the replaced version's chunk list, parts and tags, or its row;
 * the current flag of the version demoted), then the row, its chunk list, parts and tags, and the
 * net reference changes. The row waits for the first part through `gate` (its count(*) reads them
 * to the end), so the unique indexes never see the old and the new rows at once. Then the rows of
 * chunks no longer referenced are deleted.
 */
async function writeVersion(tx: PgTx, w: Write): Promise<CommitResult> {
  const q = new Statement();
  const d = refDeltas(w.placements, w.dropped);
  const first: string[] = [];
  if (w.inPlace !== undefined) {
    const id = q.p(w.inPlace);
    first.push(`delete from object_chunks where object_id = ${id} returning 1`, `delete from object_parts where object_id = ${id} returning 1`, `delete from object_tags where object_id = ${id} returning 1`);
  }
  if (w.retire !== undefined) first.push(`delete from objects where id = ${q.p(w.retire)} returning 1`);
  if (w.demote !== undefined) first.push(`update objects set is_current = false where id = ${q.p(w.demote)} returning 1`);
  const ctes = first.map((f, i) => `, f${i} as (${f})`).join('');
  const gate = first.length === 0 ? 'true' : first.map((_, i) => `(select count(*) from f${i})`).join(' + ') + ' >= 0';
  const cols = [...w.values.keys()].map((c) => `"${c}"`).join(', ');
  const vals = [...w.values.entries()].map(([c, v]) => `${q.p(v)}::${CASTS.get(c)!}`).join(', ');
  const ref = refStatement(q, d);
  const write =
    w.inPlace === undefined
      ? `insert into objects (${cols}) select ${vals} where ${gate} returning ${OBJECT_COLUMNS}`
      : `update objects set (${cols}) = row(${vals}) where id = ${q.p(w.inPlace)} and ${gate} returning ${OBJECT_COLUMNS}`;
  const { placements: pl, parts, tags } = w;
  const list = pl.length > 0 ? `, c as (insert into object_chunks (object_id, seq, "offset", size, chunk_hash)
      select o.id, t.ord - 1, t.off, t.size, t.hash from o, unnest(${q.p(pl.map((p) => p.offset))}::int8[], ${q.p(pl.map((p) => p.size))}::int8[], ${q.p(pl.map((p) => p.hash))}::text[]) with ordinality as t(off, size, hash, ord))` : '';
  const partRows = parts.length > 0 ? `, p as (insert into object_parts (object_id, part_number, "offset", size, checksum_value)
      select o.id, t.n, t.off, t.size, t.cv from o, unnest(${q.p(parts.map((p) => p.partNumber))}::int8[], ${q.p(parts.map((p) => p.offset))}::int8[], ${q.p(parts.map((p) => p.size))}::int8[], ${q.p(parts.map((p) => p.checksumValue))}::text[]) as t(n, off, size, cv))` : '';
  const tagRows = tags.length > 0 ? `, g as (insert into object_tags (object_id, key, value)
      select o.id, t.k, t.v from o, unnest(${q.p(tags.map((t) => t[0]))}::text[], ${q.p(tags.map((t) => t[1]))}::text[]) as t(k, v))` : '';
  q.text = `with r as (${ref})${ctes}, o as (${write})${list}${partRows}${tagRows}
    select o.*, ${ZEROS} from o`;
  const final = (tx as unknown as Partial<FinalTx>).finalStatement;
  if (final) {
    // Sent with the COMMIT (key-tx.ts): only the counts this write lowered can be at zero.
    const { rows, freed } = await final(q, d.hashes.filter((_, i) => d.deltas[i]! < 0));
    const { zeros: _zeros, ...object } = rows[0] as ObjectRow & { zeros: Zero[] };
    return { object, freed };
  }
  const r = await run<ObjectRow & { zeros: Zero[] }>(tx, q);
  const { zeros, ...object } = r[0]!;
  const freed = await deleteUnused(tx, zeros);
  return { object, freed };
}
