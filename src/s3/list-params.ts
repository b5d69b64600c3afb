// ListObjects (v1) / ListObjectsV2 query parameters and the paging walk over an ordered key index.

import { S3Error } from './errors.js';

export interface ListParams {
  prefix: string;
  delimiter?: string;
  maxKeys: number;
  /** Exclusive lower bound for the scan, from marker / start-after / continuation-token. */
  startAfterKey?: string;
  encodingType?: 'url';
  fetchOwner: boolean;
  /** Echoed back as given (v1). */
  marker?: string;
  /** Echoed back as given (v2). */
  continuationToken?: string;
  /** Echoed back as given (v2). */
  startAfter?: string;
}

export const MAX_LIST_KEYS = 1000;
/** Rows fetched per query when listing with a delimiter. */
const DELIMITER_BATCH = 64;
/** Members of an emitted group walked in a batch before seeking past the group instead. */
const SKIP_SCAN = 8;

/**
 * Keys are ordered as SQLite orders TEXT: memcmp of UTF-8. JS '<' compares UTF-16
 * code units, which disagrees for astral characters (surrogates, 0xD800..) against
 * BMP characters from U+E000 up, so every comparison goes through the bytes.
 */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** Opaque to clients; base64url of the last key (or common prefix) of the page. */
export function encodeContinuationToken(lastKey: string): string {
  return Buffer.from(lastKey, 'utf8').toString('base64url');
}

function decodeContinuationToken(token: string): string {
  const bad = () =>
    new S3Error('InvalidArgument', { ArgumentName: 'continuation-token', ArgumentValue: token }, 'The continuation token provided is incorrect');
  if (!/^[A-Za-z0-9_-]+$/.test(token)) throw bad();
  const key = Buffer.from(token, 'base64url').toString('utf8');
  // Round-tripping rejects non-canonical base64 and bytes that are not UTF-8 (which decode to U+FFFD).
  if (key === '' || encodeContinuationToken(key) !== token) throw bad();
  return key;
}

function parseMaxKeys(raw: string | null): number {
  if (raw === null || raw === '') return MAX_LIST_KEYS;
  if (!/^\d+$/.test(raw.trim())) {
    throw new S3Error('InvalidArgument', { ArgumentName: 'max-keys', ArgumentValue: raw }, 'Provided max-keys not an integer or within integer range');
  }
  // S3 quietly caps rather than rejecting large values.
  return Math.min(Number(raw.trim()), MAX_LIST_KEYS);
}

/**
 * Parses list query params for v1 or v2. An empty delimiter means none (rclone sends
 * `delimiter=`). Parameters of the other version are ignored, as S3 does.
 */
export function parseListParams(query: URLSearchParams, version: 1 | 2): ListParams {
  const prefix = query.get('prefix') ?? '';
  const delimiter = query.get('delimiter') || undefined;
  const maxKeys = parseMaxKeys(query.get('max-keys'));

  const enc = query.get('encoding-type');
  if (enc !== null && enc !== 'url') {
    throw new S3Error('InvalidArgument', { ArgumentName: 'encoding-type', ArgumentValue: enc }, 'Invalid Encoding Method specified in Request');
  }
  const p: ListParams = { prefix, maxKeys, fetchOwner: false };
  if (delimiter !== undefined) p.delimiter = delimiter;
  if (enc === 'url') p.encodingType = 'url';

  if (version === 1) {
    const marker = query.get('marker');
    if (marker !== null) {
      p.marker = marker;
      if (marker !== '') p.startAfterKey = marker;
    }
    return p;
  }

  p.fetchOwner = (query.get('fetch-owner') ?? '').toLowerCase() === 'true';
  const startAfter = query.get('start-after');
  if (startAfter !== null) {
    p.startAfter = startAfter;
    if (startAfter !== '') p.startAfterKey = startAfter;
  }
  const token = query.get('continuation-token');
  if (token !== null) p.continuationToken = token;
  // An empty token means none (echoed as it came, as S3 does): some clients send `continuation-token=` on the first page.
  if (token !== null && token !== '') {
    const after = decodeContinuationToken(token);
    // The token always lies beyond start-after on a well-behaved client; take the
    // larger bound anyway so a stale start-after can never rewind the listing.
    if (p.startAfterKey === undefined || compareKeys(after, p.startAfterKey) > 0) p.startAfterKey = after;
  }
  return p;
}

/**
 * Seek key that skips a whole common prefix under the `next` contract (keys strictly
 * greater than afterKey, in UTF-8 byte order).
 *
 * The exact bound would be cp + 0xFF (no UTF-8 string has that byte), but it is not a
 * string we can bind as TEXT. cp + U+FFFF is wrong in byte order: every 4-byte
 * character (F0..F4 lead) sorts above EF BF BF, so 'a/😀' would leak past it.
 * cp + U+10FFFF (F4 8F BF BF) is the largest one-character extension, so only keys
 * beginning cp + U+10FFFF + more can still follow; paginate skips those by
 * comparing prefixes, so the seek is an optimisation and never decides correctness.
 */
export function skipPrefixKey(commonPrefix: string): string {
  return commonPrefix + '\u{10FFFF}';
}

function commonPrefixOf(key: string, prefix: string, delimiter: string | undefined): string | undefined {
  if (delimiter === undefined) return undefined;
  const i = key.indexOf(delimiter, prefix.length);
  return i === -1 ? undefined : key.slice(0, i + delimiter.length);
}

/**
 * Walks an index-ordered key source and builds one page.
 *
 * `next(afterKey, limit)` returns up to `limit` items whose keys are strictly greater
 * than afterKey in UTF-8 byte order and start with the prefix (the caller does the
 * index seek). Keys grouped by the delimiter become common prefixes; once one is
 * emitted, the walk seeks past the group (see skipPrefixKey) rather than reading it.
 * Contents and common prefixes count together against maxKeys. `lastKey` is the last
 * item on the page, a key or a common prefix: it is the v1 NextMarker and the v2
 * token, and resuming from a common prefix skips that whole group again.
 *
 * maxKeys 0 answers an empty, untruncated page, as S3 does: a truncated page with
 * nothing in it would have no marker and send paging clients round forever.
 *
 * `groupHeads`: the source already returns only the first key of each group (and keys outside
 * any group), so batches are full pages, not the small ones that suit a source of every key.
 *
 * One long loop on purpose: its seek, skip and emit steps share the walk's state (after,
 * skipping, batch), which split-out helpers would each have to take and give back.
 */
export function paginate<T extends { key: string }>(
  p: ListParams,
  next: (afterKey: string | undefined, limit: number) => T[],
  opts: { groupHeads?: boolean } = {},
): ListResult<T> {
  return runWalk(paginateWalk<T>(p, opts), (q) => next(q.after, q.limit));
}

/** paginate over a source that answers asynchronously (an engine over the network). */
export function paginateAsync<T extends { key: string }>(
  p: ListParams,
  next: (afterKey: string | undefined, limit: number) => Promise<T[]>,
  opts: { groupHeads?: boolean } = {},
): Promise<ListResult<T>> {
  return runWalkAsync(paginateWalk<T>(p, opts), (q) => next(q.after, q.limit));
}

export type ListResult<T> = { contents: T[]; commonPrefixes: string[]; isTruncated: boolean; lastKey?: string };

/**
 * A paging walk written once for every engine: it yields each read it needs and is resumed with
 * the rows, by runWalk (a synchronous source) or runWalkAsync.
 */
export type Walk<Q, R, Row> = Generator<Q, R, Row[]>;

export function runWalk<Q, R, Row>(walk: Walk<Q, R, Row>, read: (q: Q) => Row[]): R {
  let step = walk.next();
  while (!step.done) step = walk.next(read(step.value));
  return step.value;
}

export async function runWalkAsync<Q, R, Row>(walk: Walk<Q, R, Row>, read: (q: Q) => Promise<Row[]>): Promise<R> {
  let step = walk.next();
  while (!step.done) step = walk.next(await read(step.value));
  return step.value;
}

function* paginateWalk<T extends { key: string }>(p: ListParams, opts: { groupHeads?: boolean }): Walk<{ after: string | undefined; limit: number }, ListResult<T>, T> {
  const contents: T[] = [];
  const commonPrefixes: string[] = [];
  let lastKey: string | undefined;
  let isTruncated = false;
  if (p.maxKeys <= 0) return { contents, commonPrefixes, isTruncated };

  let after = p.startAfterKey;
  // Group being skipped: the last one emitted, or the one a previous page ended on.
  let skipping: string | undefined;
  if (after !== undefined && after.startsWith(p.prefix) && commonPrefixOf(after, p.prefix, p.delimiter) === after) {
    skipping = after;
    after = skipPrefixKey(after);
  }

  let count = 0;
  // With a delimiter most rows of a batch may fall inside groups already emitted: batches are
  // small, and after seeking past a big group, smaller still (big groups tend to follow big
  // groups), growing back while groups are small; a page of 1,000 big folders reads ~10 rows each.
  // A source of group heads (Repository.listGroupHeads) returns one row per entry: full batches.
  const small = p.delimiter !== undefined && !opts.groupHeads;
  let batch = small ? DELIMITER_BATCH : MAX_LIST_KEYS;
  walk: for (;;) {
    // One more than still fits, so a full page also tells whether anything follows.
    const limit = Math.min(p.maxKeys - count, MAX_LIST_KEYS, batch) + 1;
    const rows: T[] = yield { after, limit };
    let prev = after;
    let skippedRun = 0;
    for (const item of rows) {
      const key = item.key;
      if (prev !== undefined && compareKeys(key, prev) <= 0) {
        throw new Error(`list source out of order or not after the seek key: ${JSON.stringify(key)}`);
      }
      prev = key;
      after = key;
      if (!key.startsWith(p.prefix)) {
        // Tolerate a source that seeks by key only: before the prefix range, skip; past it, done.
        if (compareKeys(key, p.prefix) < 0) continue;
        break walk;
      }
      // Members of a group already emitted are skipped in the batch at hand (many small
      // groups cost no extra queries); only a batch that ends inside one seeks past it.
      if (skipping !== undefined && key.startsWith(skipping)) {
        // A big group: stop walking its members and seek past it with a new query.
        if (++skippedRun > SKIP_SCAN) {
          const seek = skipPrefixKey(skipping);
          if (compareKeys(seek, key) > 0) after = seek;
          if (small) batch = SKIP_SCAN + 2;
          continue walk;
        }
        continue;
      }
      skipping = undefined;
      skippedRun = 0;

      if (count === p.maxKeys) {
        isTruncated = true;
        break walk;
      }
      count++;
      const cp = commonPrefixOf(key, p.prefix, p.delimiter);
      if (cp !== undefined) {
        commonPrefixes.push(cp);
        lastKey = cp;
        skipping = cp;
      } else {
        contents.push(item);
        lastKey = key;
      }
    }
    if (rows.length < limit) break;
    if (small) batch = Math.min(DELIMITER_BATCH, batch * 2);
    if (skipping !== undefined) {
      const seek = skipPrefixKey(skipping);
      if (after === undefined || compareKeys(seek, after) > 0) after = seek;
    }
  }
  return lastKey === undefined ? { contents, commonPrefixes, isTruncated } : { contents, commonPrefixes, isTruncated, lastKey };
}
