import { describe, expect, it } from 'vitest';
import {
  compareKeys,
  encodeContinuationToken,
  paginate,
  parseListParams,
  skipPrefixKey,
  type ListParams,
} from '../../src/s3/list-params.js';
import { err } from '../helpers/errors.js';


const q = (s: string) => new URLSearchParams(s);

describe('parseListParams', () => {
  it('defaults', () => {
    expect(parseListParams(q(''), 1)).toEqual({ prefix: '', maxKeys: 1000, fetchOwner: false });
    expect(parseListParams(q('list-type=2'), 2)).toEqual({ prefix: '', maxKeys: 1000, fetchOwner: false });
  });

  it('rclone v1 defaults: empty delimiter means none', () => {
    expect(parseListParams(q('delimiter=&max-keys=1000&prefix=dir%2F'), 1)).toEqual({ prefix: 'dir/', maxKeys: 1000, fetchOwner: false });
  });

  it('max-keys: 0..1000, clamps above, rejects the rest', () => {
    expect(parseListParams(q('max-keys=0'), 2).maxKeys).toBe(0);
    expect(parseListParams(q('max-keys=7'), 2).maxKeys).toBe(7);
    expect(parseListParams(q('max-keys=1001'), 2).maxKeys).toBe(1000);
    expect(parseListParams(q('max-keys=99999999999999999999'), 2).maxKeys).toBe(1000);
    for (const bad of ['-1', 'abc', '1.5', '1e3', '0x10']) {
      const e = err(() => parseListParams(q(`max-keys=${bad}`), 1));
      expect(e?.code, bad).toBe('InvalidArgument');
      expect(e?.details.ArgumentName).toBe('max-keys');
    }
  });

  it('encoding-type', () => {
    expect(parseListParams(q('encoding-type=url'), 2).encodingType).toBe('url');
    expect(err(() => parseListParams(q('encoding-type=base64'), 2))?.code).toBe('InvalidArgument');
    expect(err(() => parseListParams(q('encoding-type='), 2))?.code).toBe('InvalidArgument');
  });

  it('v1 marker', () => {
    expect(parseListParams(q('marker=a%2Fb&delimiter=%2F'), 1)).toEqual({
      prefix: '', delimiter: '/', maxKeys: 1000, fetchOwner: false, marker: 'a/b', startAfterKey: 'a/b',
    });
    expect(parseListParams(q('marker='), 1)).toEqual({ prefix: '', maxKeys: 1000, fetchOwner: false, marker: '' });
    // v2 parameters mean nothing to v1
    expect(parseListParams(q('start-after=x&continuation-token=!!&fetch-owner=true'), 1).startAfterKey).toBeUndefined();
  });

  it('v2 start-after, fetch-owner and the continuation token', () => {
    const token = encodeContinuationToken('dir/😀 a+b');
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
    const p = parseListParams(q(`continuation-token=${token}&fetch-owner=true&start-after=a`), 2);
    expect(p).toEqual({
      prefix: '', maxKeys: 1000, fetchOwner: true, startAfter: 'a', continuationToken: token, startAfterKey: 'dir/😀 a+b',
    });
    // start-after beyond the token wins (never rewinds)
    expect(parseListParams(q(`continuation-token=${encodeContinuationToken('b')}&start-after=c`), 2).startAfterKey).toBe('c');
    expect(parseListParams(q('start-after=k'), 2)).toMatchObject({ startAfter: 'k', startAfterKey: 'k' });
    expect(parseListParams(q('marker=m'), 2).startAfterKey).toBeUndefined();
    expect(parseListParams(q('fetch-owner=false'), 2).fetchOwner).toBe(false);
  });

  it('an empty continuation token is none, kept to be echoed', () => {
    const p = parseListParams(new URLSearchParams({ 'continuation-token': '', 'start-after': 'b' }), 2);
    expect([p.continuationToken, p.startAfterKey]).toEqual(['', 'b']);
  });

  it('rejects invalid continuation tokens', () => {
    for (const bad of ['!!!', 'a b', 'YQ==', Buffer.from([0xff, 0xfe]).toString('base64url'), 'Y']) {
      const e = err(() => parseListParams(new URLSearchParams({ 'continuation-token': bad }), 2));
      expect(e?.code, bad).toBe('InvalidArgument');
    }
  });
});

describe('compareKeys', () => {
  it('orders by UTF-8 bytes, not UTF-16 units', () => {
    expect('😀' < '\uE000').toBe(true); // what JS would say
    expect(compareKeys('😀', '\uE000')).toBeGreaterThan(0); // what SQLite says
    expect(compareKeys('a', 'a')).toBe(0);
    expect(compareKeys('a', 'ab')).toBeLessThan(0);
  });

  it('skipPrefixKey is above every one-character extension in byte order', () => {
    const cp = 'a/';
    for (const c of ['x', '\uFFFF', '\uE000', '😀', '\u{10FFFE}']) {
      expect(compareKeys(cp + c + 'zzz', skipPrefixKey(cp))).toBeLessThan(0);
    }
    expect(compareKeys('a0', skipPrefixKey(cp))).toBeGreaterThan(0);
    // Why not U+FFFF: astral characters sort above it in UTF-8.
    expect(compareKeys('a/😀', 'a/\uFFFF')).toBeGreaterThan(0);
  });
});

type Item = { key: string };

/** In-memory stand-in for the index seek: keys > after, with the prefix, in byte order. */
function source(keys: string[], prefix: string) {
  const sorted = [...new Set(keys)].sort(compareKeys).map((key) => ({ key }));
  const calls: Array<{ after: string | undefined; limit: number; returned: number }> = [];
  const next = (after: string | undefined, limit: number): Item[] => {
    const out = sorted
      .filter((i) => (after === undefined || compareKeys(i.key, after) > 0) && i.key.startsWith(prefix))
      .slice(0, limit);
    calls.push({ after, limit, returned: out.length });
    return out;
  };
  return { next, calls };
}

function params(p: Partial<ListParams>): ListParams {
  return { prefix: '', maxKeys: 1000, fetchOwner: false, ...p };
}

function page(keys: string[], p: Partial<ListParams>) {
  const lp = params(p);
  const r = paginate(lp, source(keys, lp.prefix).next);
  return { keys: r.contents.map((c) => c.key), prefixes: r.commonPrefixes, isTruncated: r.isTruncated, lastKey: r.lastKey };
}

/** Everything a full listing should contain, in order, computed the obvious way. */
function reference(keys: string[], prefix: string, delimiter?: string): string[] {
  const out: string[] = [];
  for (const k of [...new Set(keys)].sort(compareKeys)) {
    if (!k.startsWith(prefix)) continue;
    const i = delimiter ? k.indexOf(delimiter, prefix.length) : -1;
    const item = i === -1 ? k : k.slice(0, i + delimiter!.length);
    if (out.at(-1) !== item) out.push(item);
  }
  return out;
}

/** Pages through with lastKey as the next marker; returns items in page order. */
function listAll(keys: string[], p: Partial<ListParams>, maxKeys: number) {
  const all: string[] = [];
  let startAfterKey: string | undefined;
  for (let pages = 0; pages < 10_000; pages++) {
    const lp = params({ ...p, maxKeys, ...(startAfterKey !== undefined ? { startAfterKey } : {}) });
    const r = paginate(lp, source(keys, lp.prefix).next);
    const items = [...r.contents.map((c) => c.key), ...r.commonPrefixes].sort(compareKeys);
    expect(items.length).toBeLessThanOrEqual(maxKeys);
    all.push(...items);
    if (!r.isTruncated) return all;
    expect(r.lastKey).toBe(items.at(-1));
    startAfterKey = r.lastKey;
  }
  throw new Error('did not finish');
}

describe('paginate', () => {
  const keys = ['a', 'a/', 'a/1', 'a/2', 'a/b/c', 'a0', 'b', 'c/x', 'c/y/z', 'd'];

  it('without a delimiter lists every key in byte order', () => {
    expect(page(keys, {})).toEqual({ keys: [...keys].sort(compareKeys), prefixes: [], isTruncated: false, lastKey: 'd' });
  });

  it('groups by delimiter', () => {
    expect(page(keys, { delimiter: '/' })).toEqual({
      keys: ['a', 'a0', 'b', 'd'], prefixes: ['a/', 'c/'], isTruncated: false, lastKey: 'd',
    });
  });

  it('respects the prefix boundary', () => {
    expect(page(keys, { prefix: 'a/', delimiter: '/' })).toEqual({
      keys: ['a/', 'a/1', 'a/2'], prefixes: ['a/b/'], isTruncated: false, lastKey: 'a/b/',
    });
    expect(page(keys, { prefix: 'a' })).toEqual({
      keys: ['a', 'a/', 'a/1', 'a/2', 'a/b/c', 'a0'], prefixes: [], isTruncated: false, lastKey: 'a0',
    });
    expect(page(keys, { prefix: 'a', delimiter: '/' })).toEqual({
      keys: ['a', 'a0'], prefixes: ['a/'], isTruncated: false, lastKey: 'a0',
    });
    expect(page(keys, { prefix: 'zzz' })).toEqual({ keys: [], prefixes: [], isTruncated: false, lastKey: undefined });
  });

  it('maxKeys 0 is an empty, untruncated page', () => {
    expect(page(keys, { maxKeys: 0 })).toEqual({ keys: [], prefixes: [], isTruncated: false, lastKey: undefined });
  });

  it('truncates exactly at a common prefix and resumes past it', () => {
    const ks = ['a/1', 'a/2', 'b/1', 'b/2', 'b/3', 'c'];
    const p1 = page(ks, { delimiter: '/', maxKeys: 2 });
    expect(p1).toEqual({ keys: [], prefixes: ['a/', 'b/'], isTruncated: true, lastKey: 'b/' });
    const p2 = page(ks, { delimiter: '/', maxKeys: 2, startAfterKey: 'b/' });
    expect(p2).toEqual({ keys: ['c'], prefixes: [], isTruncated: false, lastKey: 'c' });
  });

  it('is not truncated when the page ends on the last group or key', () => {
    expect(page(['a/1', 'b/1', 'b/2'], { delimiter: '/', maxKeys: 2 })).toMatchObject({ prefixes: ['a/', 'b/'], isTruncated: false });
    expect(page(['a', 'b'], { maxKeys: 2 })).toMatchObject({ keys: ['a', 'b'], isTruncated: false });
    expect(page(['a', 'b', 'c'], { maxKeys: 2 })).toMatchObject({ keys: ['a', 'b'], isTruncated: true, lastKey: 'b' });
  });

  it('a marker inside a group does not skip the rest of the group', () => {
    expect(page(['a/1', 'a/2', 'b'], { delimiter: '/', startAfterKey: 'a/1' })).toMatchObject({ keys: ['b'], prefixes: ['a/'] });
  });

  it('skips astral, U+FFFF and U+10FFFF members of a group', () => {
    const ks = ['a/x', 'a/\uFFFF', 'a/😀', 'a/\u{10FFFF}', 'a/\u{10FFFF}\u{10FFFF}z', 'a0', 'b'];
    expect(page(ks, { delimiter: '/' })).toMatchObject({ keys: ['a0', 'b'], prefixes: ['a/'], isTruncated: false });
    expect(listAll(ks, { delimiter: '/' }, 1)).toEqual(['a/', 'a0', 'b']);
  });

  it('pages across keys that JS and SQLite order differently', () => {
    const ks = ['\uE000', '😀', '\uFFFF', 'z', '\u{10000}'];
    expect(listAll(ks, {}, 1)).toEqual(['z', '\uE000', '\uFFFF', '\u{10000}', '😀']);
  });

  it('seeks past a large group instead of reading it', () => {
    const big = Array.from({ length: 5000 }, (_, i) => `logs/${String(i).padStart(5, '0')}`);
    const ks = [...big, 'm', 'n/1', 'z'];
    const s = source(ks, '');
    const r = paginate(params({ delimiter: '/', maxKeys: 1000 }), s.next);
    expect(r.commonPrefixes).toEqual(['logs/', 'n/']);
    expect(r.contents.map((c) => c.key)).toEqual(['m', 'z']);
    const read = s.calls.reduce((n, c) => n + c.returned, 0);
    expect(read).toBeLessThan(1100);
  });

  it('many small groups cost few queries', () => {
    const ks = Array.from({ length: 300 }, (_, i) => `d${String(i).padStart(3, '0')}/f`);
    const s = source(ks, '');
    const r = paginate(params({ delimiter: '/' }), s.next);
    expect(r.commonPrefixes).toHaveLength(300);
    // Batches of 64 rows with a delimiter: a handful of queries, not one per group.
    expect(s.calls.length).toBeLessThanOrEqual(Math.ceil(300 / 64) + 1);
  });

  it('a page of many big groups reads a few rows per group, not the groups', () => {
    // At 1,000,000 keys in 1,000 folders, reading them all took 24 s; here 100 x 300.
    const ks = Array.from({ length: 100 * 300 }, (_, i) => `f${String(Math.floor(i / 300)).padStart(4, '0')}/${String(i % 300).padStart(3, '0')}`);
    const s = source(ks, '');
    const r = paginate(params({ delimiter: '/', maxKeys: 1000 }), s.next);
    expect(r.commonPrefixes).toHaveLength(100);
    expect(r.isTruncated).toBe(false);
    const read = s.calls.reduce((n, c) => n + c.returned, 0);
    expect(read).toBeLessThan(100 * 25);
  });

  it('matches the obvious listing for random keys, prefixes, delimiters and page sizes', () => {
    const alphabet = ['a', 'b', '/', '-', '😀', '\uE000', '\uFFFF', '\u{10FFFF}'];
    let seed = 12345;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const word = (max: number) => Array.from({ length: rnd(max) }, () => alphabet[rnd(alphabet.length)]).join('');
    for (let round = 0; round < 150; round++) {
      const ks = Array.from({ length: 1 + rnd(40) }, () => word(6) || 'a');
      const prefix = rnd(3) === 0 ? word(2) : '';
      const delimiter = [undefined, '/', '-', 'ab', '😀'][rnd(5)];
      const maxKeys = 1 + rnd(7);
      const p = { prefix, ...(delimiter ? { delimiter } : {}) };
      expect(listAll(ks, p, maxKeys), JSON.stringify({ ks, p, maxKeys })).toEqual(reference(ks, prefix, delimiter));
    }
  });

  it('v2 token round-trip: lastKey -> token -> startAfterKey', () => {
    const ks = ['a/1', 'a/2', 'b/1', 'c'];
    const r1 = paginate(params({ delimiter: '/', maxKeys: 1 }), source(ks, '').next);
    const token = encodeContinuationToken(r1.lastKey!);
    const p2 = parseListParams(new URLSearchParams({ 'continuation-token': token, delimiter: '/', 'max-keys': '5' }), 2);
    const r2 = paginate(p2, source(ks, '').next);
    expect(r2.commonPrefixes).toEqual(['b/']);
    expect(r2.contents.map((c) => c.key)).toEqual(['c']);
  });

  it('rejects a source that goes backwards', () => {
    expect(() => paginate(params({}), () => [{ key: 'b' }, { key: 'a' }])).toThrow(/out of order/);
  });
});
