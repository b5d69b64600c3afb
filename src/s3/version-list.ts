// ListObjectVersions: its query parameters and the paging walk over a (key, newest first)
// ordered source of versions. Every engine gives the walk its rows; the rules live here.

import { S3Error } from './errors.js';
import { compareKeys, MAX_LIST_KEYS, runWalk, runWalkAsync, skipPrefixKey, type Walk } from './list-params.js';
import { isVersionId } from './version-id.js';

/** Rows per statement with a delimiter, and right after seeking past a group (see the walk). */
const DELIMITER_BATCH = 32;
const AFTER_GROUP_BATCH = 2;

export interface VersionListParams {
  prefix: string;
  delimiter?: string;
  maxKeys: number;
  keyMarker?: string;
  versionIdMarker?: string;
  encodingType?: 'url';
}

/** Where a walk resumes: after one version of a key (older versions of it, then later keys), or after a key. */
export type VersionCursor = { key: string; id: number } | { afterKey: string } | undefined;

export interface VersionEntry<T> {
  row: T;
  /** The newest version of its key (object or delete marker). */
  isLatest: boolean;
}

export interface VersionPage<T> {
  entries: Array<VersionEntry<T>>;
  commonPrefixes: string[];
  isTruncated: boolean;
  nextKeyMarker?: string;
  nextVersionIdMarker?: string;
}

export function parseVersionListParams(query: URLSearchParams): VersionListParams {
  const p: VersionListParams = { prefix: query.get('prefix') ?? '', maxKeys: MAX_LIST_KEYS };
  const delimiter = query.get('delimiter');
  if (delimiter) p.delimiter = delimiter;
  const raw = query.get('max-keys');
  if (raw !== null && raw !== '') {
    if (!/^\d+$/.test(raw.trim())) {
      throw new S3Error('InvalidArgument', { ArgumentName: 'max-keys', ArgumentValue: raw }, 'Provided max-keys not an integer or within integer range');
    }
    p.maxKeys = Math.min(Number(raw.trim()), MAX_LIST_KEYS);
  }
  const enc = query.get('encoding-type');
  if (enc !== null && enc !== 'url') {
    throw new S3Error('InvalidArgument', { ArgumentName: 'encoding-type', ArgumentValue: enc }, 'Invalid Encoding Method specified in Request');
  }
  if (enc === 'url') p.encodingType = 'url';
  const keyMarker = query.get('key-marker');
  if (keyMarker) p.keyMarker = keyMarker;
  const vim = query.get('version-id-marker');
  if (vim !== null && vim !== '') {
    if (!p.keyMarker) {
      throw new S3Error('InvalidArgument', { ArgumentName: 'version-id-marker', ArgumentValue: vim }, 'A version-id marker cannot be specified without a key marker.');
    }
    if (!isVersionId(vim)) throw new S3Error('InvalidArgument', { ArgumentName: 'version-id-marker', ArgumentValue: vim }, 'Invalid version id specified');
    p.versionIdMarker = vim;
  }
  return p;
}

function commonPrefixOf(key: string, prefix: string, delimiter: string | undefined): string | undefined {
  if (delimiter === undefined) return undefined;
  const i = key.indexOf(delimiter, prefix.length);
  return i === -1 ? undefined : key.slice(0, i + delimiter.length);
}

/**
 * Builds one page. `start` is where the markers put the walk (the engine resolved the
 * version-id-marker to its row); `next(cursor, limit)` returns up to `limit` versions after the
 * cursor in (key ascending, newest first) order, from an index seek. Versions and common
 * prefixes count together against maxKeys; once a common prefix is emitted the walk seeks past
 * its group. One long loop, like paginate's: the seek, skip and emit steps share its state.
 */
export function paginateVersions<T extends { key: string; id: number; versionId: string }>(
  p: VersionListParams,
  start: VersionCursor,
  next: (cursor: VersionCursor, limit: number) => T[],
): VersionPage<T> {
  return runWalk(versionWalk<T>(p, start), (q) => next(q.cursor, q.limit));
}

/** paginateVersions over a source that answers asynchronously. */
export function paginateVersionsAsync<T extends { key: string; id: number; versionId: string }>(
  p: VersionListParams,
  start: VersionCursor,
  next: (cursor: VersionCursor, limit: number) => Promise<T[]>,
): Promise<VersionPage<T>> {
  return runWalkAsync(versionWalk<T>(p, start), (q) => next(q.cursor, q.limit));
}

function* versionWalk<T extends { key: string; id: number; versionId: string }>(p: VersionListParams, start: VersionCursor): Walk<{ cursor: VersionCursor; limit: number }, VersionPage<T>, T> {
  const page: VersionPage<T> = { entries: [], commonPrefixes: [], isTruncated: false };
  if (p.maxKeys <= 0) return page;
  let cursor = start;
  // Started inside a key (after one of its versions): none of its remaining versions is latest.
  const midKey = start && 'id' in start ? start.key : undefined;
  let skipping: string | undefined;
  // A key marker that is a common prefix (the previous page ended on it) skips that group.
  if (start && 'afterKey' in start && start.afterKey.startsWith(p.prefix) && commonPrefixOf(start.afterKey, p.prefix, p.delimiter) === start.afterKey) {
    skipping = start.afterKey;
    cursor = { afterKey: skipPrefixKey(start.afterKey) };
  }
  let count = 0;
  let prevKey: string | undefined;
  // With a delimiter the walk seeks past each group it emits, and a group (a folder's versions)
  // is often larger than a batch: right after a seek it reads a couple of rows, growing back
  // while no group turns up, so a page of folders reads about one row per folder.
  let batch = p.delimiter === undefined ? MAX_LIST_KEYS : DELIMITER_BATCH;
  walk: for (;;) {
    const limit = Math.min(p.maxKeys - count, batch) + 1;
    const rows: T[] = yield { cursor, limit };
    for (const row of rows) {
      cursor = { key: row.key, id: row.id };
      if (!row.key.startsWith(p.prefix)) {
        if (compareKeys(row.key, p.prefix) < 0) continue;
        break walk;
      }
      if (skipping !== undefined && row.key.startsWith(skipping)) {
        const seek = skipPrefixKey(skipping);
        if (compareKeys(seek, row.key) > 0) {
          cursor = { afterKey: seek };
          batch = AFTER_GROUP_BATCH;
          continue walk;
        }
        continue;
      }
      skipping = undefined;
      const first = row.key !== prevKey;
      prevKey = row.key;
      if (count === p.maxKeys) {
        page.isTruncated = true;
        break walk;
      }
      count++;
      const cp = commonPrefixOf(row.key, p.prefix, p.delimiter);
      if (cp !== undefined) {
        page.commonPrefixes.push(cp);
        page.nextKeyMarker = cp;
        page.nextVersionIdMarker = undefined;
        skipping = cp;
        cursor = { afterKey: skipPrefixKey(cp) };
        batch = AFTER_GROUP_BATCH;
        continue walk;
      }
      page.entries.push({ row, isLatest: first && row.key !== midKey });
      page.nextKeyMarker = row.key;
      page.nextVersionIdMarker = row.versionId;
    }
    if (rows.length < limit) break;
    batch = Math.min(p.delimiter === undefined ? MAX_LIST_KEYS : DELIMITER_BATCH, batch * 2);
  }
  if (!page.isTruncated) {
    page.nextKeyMarker = undefined;
    page.nextVersionIdMarker = undefined;
  }
  return page;
}
