// Delimiter listings walk Repository.listGroupHeads: one recursive SQL statement that skips each
// group inside SQLite. Every page, paged through to the end, must equal what S3's rules give
// for the same keys, computed here by brute force in JS, for awkward keys and delimiters too.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb, type OpenedDb } from '../../src/db/client.js';
import { Repository } from '../../src/db/repository.js';
import { compareKeys, paginate, type ListParams } from '../../src/s3/list-params.js';

let dir: string;
let db: OpenedDb;
let repo: Repository;
let bucketId: number;
let otherId: number;

// Keys that bend the walk: the prefix itself, empty groups ("a//"), astral and private-use
// characters (UTF-8 order differs from UTF-16), U+10FFFF inside a group (past the group's
// seek bound), multi-character delimiters.
const FIXED = [
  'a', 'a/', 'a/b', 'a/b/c', 'a//x', 'a/\u{10FFFF}', 'a/\u{10FFFF}x', 'a/\u{10FFFF}/y', 'a/\u{10FFFF}\u{10FFFF}/z',
  'b/é/1', 'b/😀/2', 'b/\uE000/3', 'b/\uFFFF/4', 'bab', 'babab', 'xaby', 'photos/2024/x.jpg', 'photos/2024/y.jpg', 'photos/2025/z.jpg',
  'photos/readme', '😀/a', '😀😀', '\u{10FFFF}', '\u{10FFFF}/q',
  // NUL: SQLite's length() and substr() stop at it where instr() does not.
  'n/\0a', 'n/\0b/c', 'n/\0b/d', 'n\0/x', 'n\0/y/z',
];

function randomKeys(n: number, seed: number): string[] {
  const alphabet = ['a', 'b', '/', 'é', '😀', '\u{10FFFF}', '-', '\uE000'];
  // mulberry32: small, seeded, and exact in 32-bit integer arithmetic.
  let x = seed >>> 0;
  const rnd = (m: number) => {
    x = (x + 0x6d2b79f5) >>> 0;
    let t = Math.imul(x ^ (x >>> 15), 1 | x);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) % m;
  };
  const out = new Set<string>();
  while (out.size < n) {
    let k = '';
    for (let i = 0, len = 1 + rnd(7); i < len; i++) k += alphabet[rnd(alphabet.length)];
    out.add(k);
  }
  return [...out];
}

const KEYS = [...new Set([...FIXED, ...randomKeys(400, 7)])];

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-list-heads-'));
  db = openDb(path.join(dir, 'cairn.db'), { durability: 'relaxed' });
  repo = new Repository(db.db);
  repo.createBucket({ name: 'b', region: 'us-east-1', ownerId: 'a'.repeat(64) });
  repo.createBucket({ name: 'other', region: 'us-east-1', ownerId: 'a'.repeat(64) });
  bucketId = repo.getBucket('b')!.id;
  otherId = repo.getBucket('other')!.id;
  const insert = db.sqlite.prepare('INSERT INTO objects (bucket_id, key, size, etag, last_modified) VALUES (?, ?, 0, ?, 0)');
  db.sqlite.transaction(() => {
    for (const k of KEYS) insert.run(bucketId, k, '"x"');
    // Another bucket's keys sort in between: the walk must never return them.
    for (const k of ['a/zz', 'b/zz/1', 'c', 'photos/2024/other']) insert.run(otherId, k, '"x"');
  })();
});
afterAll(() => {
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** S3's answer by brute force: keys in UTF-8 order, each as itself or its common prefix, once. */
function expected(prefix: string, delimiter: string): string[] {
  const out: string[] = [];
  for (const k of [...KEYS].sort(compareKeys)) {
    if (!k.startsWith(prefix)) continue;
    const i = k.indexOf(delimiter, prefix.length);
    const entry = i === -1 ? k : k.slice(0, i + delimiter.length);
    if (out.at(-1) !== entry) out.push(entry);
  }
  return out;
}

/** Every page, following each page's last entry as the next start (the continuation token). */
function walk(prefix: string, delimiter: string, maxKeys: number): { entries: string[]; pages: number } {
  const entries: string[] = [];
  let startAfterKey: string | undefined;
  for (let pages = 1; pages < 10_000; pages++) {
    const p: ListParams = { prefix, delimiter, maxKeys, fetchOwner: false, ...(startAfterKey === undefined ? {} : { startAfterKey }) };
    const page = paginate(p, (after, limit) => repo.listing.listGroupHeads(bucketId, prefix, delimiter, after, limit), { groupHeads: true });
    // A page lists contents and prefixes each in order; merged, they are the entries in order.
    entries.push(...[...page.contents.map((c) => c.key), ...page.commonPrefixes].sort(compareKeys));
    expect(page.contents.length + page.commonPrefixes.length).toBeLessThanOrEqual(maxKeys);
    if (!page.isTruncated) return { entries, pages };
    startAfterKey = page.lastKey;
  }
  throw new Error('paging did not end');
}

describe('delimiter listings from listGroupHeads', () => {
  const prefixes = ['', 'a', 'a/', 'b/', 'photos/', 'photos/2024/', '😀', '\u{10FFFF}', 'n/', 'n\0', 'nothing-here/'];
  const delimiters = ['/', 'ab', '😀', '\u{10FFFF}', '-', '\0'];
  for (const prefix of prefixes) {
    for (const delimiter of delimiters) {
      it(`prefix ${JSON.stringify(prefix)}, delimiter ${JSON.stringify(delimiter)}: every page size gives S3's entries`, () => {
        const want = expected(prefix, delimiter);
        for (const maxKeys of [1, 2, 3, 7, 1000]) {
          const { entries, pages } = walk(prefix, delimiter, maxKeys);
          expect(entries).toEqual(want);
          // No empty last page: a page knows whether anything follows it.
          expect(pages).toBe(Math.max(1, Math.ceil(want.length / maxKeys)));
        }
      });
    }
  }

  it('returns one row per entry and stops at the limit', () => {
    const heads = repo.listing.listGroupHeads(bucketId, 'photos/', '/', undefined, 10);
    expect(heads.map((h) => h.key)).toEqual(['photos/2024/x.jpg', 'photos/2025/z.jpg', 'photos/readme']);
    expect(repo.listing.listGroupHeads(bucketId, '', '/', undefined, 2)).toHaveLength(2);
    // After a group's prefix (a continuation token that is a common prefix) the group is skipped.
    expect(repo.listing.listGroupHeads(bucketId, 'photos/', '/', 'photos/2024/\u{10FFFF}', 10).map((h) => h.key)).toEqual(['photos/2025/z.jpg', 'photos/readme']);
  });

  it('refuses an empty delimiter (there is no group to skip)', () => {
    expect(() => repo.listing.listGroupHeads(bucketId, '', '', undefined, 10)).toThrow(RangeError);
  });
});
