import { describe, expect, it } from 'vitest';
import { compareKeys } from '../../src/s3/list-params.js';
import { paginateVersions, parseVersionListParams, type VersionCursor } from '../../src/s3/version-list.js';

// ListObjectVersions' paging walk against an in-memory source ordered as the index is (key
// ascending, newest first): the same entries as a naive walk, and, with a delimiter, about one
// row read per folder however many versions a folder holds.

interface Row {
  key: string;
  id: number;
  versionId: string;
}

function source(rows: Row[]) {
  const sorted = [...rows].sort((a, b) => compareKeys(a.key, b.key) || b.id - a.id);
  let read = 0;
  const next = (cursor: VersionCursor, limit: number): Row[] => {
    const from = sorted.findIndex((r) =>
      cursor === undefined ? true : 'id' in cursor ? compareKeys(r.key, cursor.key) > 0 || (r.key === cursor.key && r.id < cursor.id) : compareKeys(r.key, cursor.afterKey) > 0,
    );
    const out = from === -1 ? [] : sorted.slice(from, from + limit);
    read += out.length;
    return out;
  };
  return { sorted, next, read: () => read };
}

function naive(sorted: Row[], prefix: string, delimiter?: string) {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const r of sorted) {
    if (!r.key.startsWith(prefix)) continue;
    const i = delimiter ? r.key.indexOf(delimiter, prefix.length) : -1;
    if (i >= 0) {
      const cp = r.key.slice(0, i + delimiter!.length);
      if (!seen.has(cp)) out.push(`cp:${cp}`);
      seen.add(cp);
    } else out.push(`${r.key}@${r.versionId}`);
  }
  return out;
}

function walkAll(src: ReturnType<typeof source>, q: string) {
  const got: string[] = [];
  let extra = '';
  for (let i = 0; i < 10_000; i++) {
    const p = parseVersionListParams(new URLSearchParams(q + extra));
    const start: VersionCursor =
      p.keyMarker === undefined ? undefined : p.versionIdMarker === undefined ? { afterKey: p.keyMarker } : { key: p.keyMarker, id: src.sorted.find((r) => r.key === p.keyMarker && r.versionId === p.versionIdMarker)!.id };
    const page = paginateVersions(p, start, src.next);
    // Common prefixes come after the page's versions in the answer; their order among themselves is kept.
    got.push(...page.entries.map((e) => `${e.row.key}@${e.row.versionId}`), ...page.commonPrefixes.map((c) => `cp:${c}`));
    if (!page.isTruncated) return got;
    extra = `&key-marker=${encodeURIComponent(page.nextKeyMarker!)}` + (page.nextVersionIdMarker ? `&version-id-marker=${page.nextVersionIdMarker}` : '');
  }
  throw new Error('paging did not end');
}

const vid = (n: number) => `v${String(n).padStart(31, '0')}`;

describe('paginateVersions', () => {
  let n = 0;
  const rows: Row[] = [];
  for (let f = 0; f < 60; f++) for (let k = 0; k < 3; k++) for (let v = 0; v < (f % 7) + 1; v++) rows.push({ key: `d/f${String(f).padStart(3, '0')}/k${k}`, id: ++n, versionId: vid(n) });
  for (let k = 0; k < 20; k++) for (let v = 0; v < 3; v++) rows.push({ key: `d/top${k}`, id: ++n, versionId: vid(n) });

  it.each(['', 'max-keys=7', 'max-keys=1', 'prefix=d/f01&max-keys=4'])('pages like a naive walk without a delimiter (%s)', (q) => {
    const src = source(rows);
    const prefix = new URLSearchParams(q).get('prefix') ?? '';
    expect(walkAll(src, q)).toEqual(naive(src.sorted, prefix));
  });

  it.each(['delimiter=/&prefix=d/', 'delimiter=/&prefix=d/&max-keys=5', 'delimiter=/&prefix=d/&max-keys=1'])('the same entries with a delimiter (%s)', (q) => {
    const src = source(rows);
    const sort = (xs: string[]) => [...xs].sort();
    expect(sort(walkAll(src, q))).toEqual(sort(naive(src.sorted, 'd/', '/')));
  });

  it('reads about one row per folder under a delimiter, however many versions a folder holds', () => {
    const big: Row[] = [];
    let m = 0;
    for (let f = 0; f < 100; f++) for (let v = 0; v < 500; v++) big.push({ key: `w/dir-${String(f).padStart(3, '0')}/file`, id: ++m, versionId: vid(m) });
    const src = source(big);
    const page = paginateVersions(parseVersionListParams(new URLSearchParams('delimiter=/&prefix=w/')), undefined, src.next);
    expect(page.commonPrefixes).toHaveLength(100);
    expect(src.read()).toBeLessThan(100 * 4);
  });
});
