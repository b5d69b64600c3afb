import { afterAll, beforeAll, expect } from 'vitest';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDb, type OpenedDb } from '../../src/db/client.js';
import { Repository, type ChunkPlacement } from '../../src/db/repository.js';
import { AccountsRepository } from '../../src/db/accounts-repository.js';
import { findObjects, parseObjectQuery, QueryError, type ObjectQuery } from '../../src/db/records/index.js';

// The records query tests' data (test/unit/admin-queries.test.ts, admin-records.test.ts): a real
// SQLite file seeded with a few thousand objects in three buckets, some with older versions, delete
// markers, retention and legal holds, some encrypted (SSE-S3, SSE-C), owned by two accounts (some versions by a writer that is not
// the bucket's owner), and a plain JS model of the same rows (one per version:
// filter + sort by (value, id)) to check every answer against. Chunk files are not needed: queries
// only read rows. The seed is fixed, so every test file gets the same rows.

/** One version (or delete marker) as the model keeps it. */
export interface Model {
  id: number;
  bucket: string;
  key: string;
  size: number;
  lastModified: number;
  contentType: string | null;
  etag: string;
  meta: Record<string, string>;
  checksumAlgorithm: string | null;
  hashes: string[];
  versionId: string;
  isCurrent: boolean;
  deleteMarker: boolean;
  lockMode: 'GOVERNANCE' | 'COMPLIANCE' | null;
  lockUntil: number | null;
  legalHold: boolean;
  /** The account that owns it: its writer when that is not the bucket's owner, else the bucket's. */
  owner: string;
  /** Encryption at rest: every fifth object SSE-S3, every eleventh (not SSE-S3) SSE-C; null in clear. */
  encryption: 'AES256' | 'SSE-C' | null;
  sseCustomerKeyMd5: string | null;
}

/** What a version is written with besides its data. */
export interface VersionOpts {
  /** Default 'null': replaces the key's null version. */
  versionId?: string;
  lockMode?: 'GOVERNANCE' | 'COMPLIANCE';
  lockUntil?: number;
  legalHold?: boolean;
}

export const BUCKETS = ['alpha', 'beta', 'gamma'];
export const TYPES = ['text/plain', 'image/png', 'image/jpeg', 'application/json', null];
export const ALGS = [null, 'CRC32', 'CRC32C', 'SHA256', 'CRC64NVME'];
export const COLORS = ['red', 'green', 'blue'];
export const BASE = Date.parse('2024-01-01T00:00:00Z');
export const N = 3000;

let dir: string;
export let opened: OpenedDb;
export let repo: Repository;
export const model: Model[] = [];
export const bucketIds = new Map<string, number>();
/** Account name -> canonical id: alice owns alpha, beta and empty; bob owns gamma. */
export const accountIds = new Map<string, string>();
export const bucketOwner = (bucket: string) => accountIds.get(bucket === 'gamma' ? 'bob' : 'alice')!;
/** Every seventh object is written by the account that does not own its bucket (ObjectWriter). */
const encryptionOf = (i: number): Pick<Model, 'encryption' | 'sseCustomerKeyMd5'> =>
  i % 5 === 1 ? { encryption: 'AES256', sseCustomerKeyMd5: null } : i % 11 === 2 ? { encryption: 'SSE-C', sseCustomerKeyMd5: `md5-${i % 3}==` } : { encryption: null, sseCustomerKeyMd5: null };
const writerOf = (i: number, bucket: string) => (i % 7 === 3 ? accountIds.get(bucketOwner(bucket) === accountIds.get('bob') ? 'alice' : 'bob')! : bucketOwner(bucket));
export const chunkSizes = new Map<string, number>();

function rng(seed: number) {
  return () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
}
const rand = rng(42);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
export const hashOf = (i: number) => createHash('sha256').update(`chunk-${i}`).digest('hex');

/** Keys shared across buckets (cross-bucket ties on key) and some non-ASCII ones (UTF-8 byte order). */
export function keyFor(i: number): string {
  const dirs = ['logs/', 'img/', 'data/2024/', 'data/2025/', 'é/', '日本/', '😀/', ''];
  return `${dirs[i % dirs.length]}file-${String(Math.floor(i / 3)).padStart(5, '0')}${i % 5 === 0 ? '.txt' : '.bin'}`;
}

export function insert(i: number, overrides: Partial<Model> = {}, opts: VersionOpts = {}): Model {
  const bucket = overrides.bucket ?? BUCKETS[i % 3]!;
  const nChunks = Math.floor(rand() * 4);
  const hashes = Array.from({ length: nChunks }, () => hashOf(Math.floor(rand() * 400)));
  let offset = 0;
  const placements: ChunkPlacement[] = hashes.map((hash) => {
    if (!chunkSizes.has(hash)) chunkSizes.set(hash, 100 + Math.floor(rand() * 1000));
    const p = { hash, size: chunkSizes.get(hash)!, crc32c: 7, offset };
    offset += p.size;
    return p;
  });
  const m: Omit<Model, 'id'> = {
    bucket,
    key: keyFor(i),
    size: offset,
    // Few distinct times: lots of ties, so the id tie-breaker matters.
    lastModified: BASE + Math.floor(rand() * 500) * 3_600_000,
    contentType: pick(TYPES),
    etag: `"${createHash('md5').update(`etag-${i % 1000}`).digest('hex')}"`,
    meta: rand() < 0.7 ? { color: pick(COLORS), owner: `u${i % 4}` } : {},
    checksumAlgorithm: pick(ALGS),
    hashes,
    versionId: opts.versionId ?? 'null',
    isCurrent: true,
    deleteMarker: false,
    lockMode: opts.lockMode ?? null,
    lockUntil: opts.lockUntil ?? null,
    legalHold: opts.legalHold ?? false,
    owner: writerOf(i, bucket),
    ...encryptionOf(i),
    ...overrides,
  };
  const { object } = repo.commitObject(
    bucketIds.get(bucket)!,
    m.key,
    {
      size: m.size,
      etag: m.etag,
      lastModified: m.lastModified,
      contentType: m.contentType,
      userMetadata: JSON.stringify(m.meta),
      checksumAlgorithm: m.checksumAlgorithm,
      checksumValue: m.checksumAlgorithm ? 'AAAA' : null,
      checksumType: m.checksumAlgorithm ? 'FULL_OBJECT' : null,
      versionId: m.versionId,
      lockMode: m.lockMode,
      lockUntil: m.lockUntil,
      legalHold: m.legalHold,
      ownerId: m.owner === bucketOwner(bucket) ? null : m.owner,
      encryption: m.encryption,
      sseCustomerKeyMd5: m.sseCustomerKeyMd5,
    },
    placements,
  );
  return place({ ...m, id: object.id });
}

/** A delete marker on a key (versioned: the marker gets its own version id). */
export function insertMarker(bucket: string, key: string, versionId: string): Model {
  const bucketId = bucketIds.get(bucket)!;
  repo.deleteObject(bucketId, key, { markerVersionId: versionId });
  const row = repo.getVersion(bucketId, key, versionId)!;
  return place({
    id: row.id,
    bucket,
    key,
    size: 0,
    lastModified: row.lastModified,
    contentType: null,
    etag: '',
    meta: {},
    checksumAlgorithm: null,
    hashes: [],
    versionId,
    isCurrent: false,
    deleteMarker: true,
    lockMode: null,
    lockUntil: null,
    legalHold: false,
    owner: bucketOwner(bucket),
    encryption: null,
    sseCustomerKeyMd5: null,
  });
}

/** The model's side of a new newest version: a new null version replaces the old one, the rest stop being current. */
function place(row: Model): Model {
  for (let i = model.length - 1; i >= 0; i--) {
    const x = model[i]!;
    if (x.bucket !== row.bucket || x.key !== row.key) continue;
    if (row.versionId === 'null' && x.versionId === 'null') model.splice(i, 1);
    else x.isCurrent = false;
  }
  row.isCurrent = !row.deleteMarker;
  model.push(row);
  return row;
}

/** Whether a version is under retention (until ahead of `now`) or a legal hold. */
export const isLocked = (m: Model, now = Date.now()) => m.legalHold || (m.lockMode !== null && m.lockUntil !== null && m.lockUntil > now);

/**
 * Later versions of some keys, with and without locks, delete markers on some (a few written
 * over again), and the same key in two buckets.
 */
function seedVersions(): void {
  const DAY = 86_400_000;
  const locks: VersionOpts[] = [{ lockMode: 'GOVERNANCE', lockUntil: Date.now() + DAY }, { lockMode: 'COMPLIANCE', lockUntil: Date.now() - DAY }, { legalHold: true }, {}];
  for (let i = 0; i < N; i += 4) {
    insert(i, {}, { versionId: `v${i}-a`, ...locks[(i / 4 + 1) % locks.length] });
    if (i % 8 === 0) insert(i, {}, { versionId: `v${i}-b` });
    if (i % 12 === 0) insertMarker(BUCKETS[i % 3]!, keyFor(i), `m${i}`);
    if (i % 48 === 0) insert(i, {}, { versionId: `v${i}-c`, legalHold: true });
    if (i % 40 === 0) insert(i, { bucket: BUCKETS[(i + 1) % 3]! }, { versionId: `x${i}` });
  }
}

/** Seeds a fresh SQLite file before the calling test file's tests, and removes it after. */
export function useSeededRecords(): void {
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-admin-q-'));
    opened = openDb(path.join(dir, 'cairn.db'), { durability: 'relaxed' });
    repo = new Repository(opened.db);
    const accounts = new AccountsRepository(opened.db);
    for (const name of ['alice', 'bob']) accountIds.set(name, accounts.create({ name }).id);
    for (const name of BUCKETS) {
      // beta is public: anyone may list it (the public-read ACL's AllUsers READ).
      const acl = name === 'beta' ? JSON.stringify([{ id: bucketOwner(name), perm: 'FULL_CONTROL' }, { uri: 'http://acs.amazonaws.com/groups/global/AllUsers', perm: 'READ' }]) : null;
      repo.createBucket({ name, region: 'us-east-1', ownerId: bucketOwner(name), acl });
      bucketIds.set(name, repo.getBucket(name)!.id);
    }
    // gamma encrypts new writes by default (PutBucketEncryption): its summary says so.
    repo.setBucketAccess(bucketIds.get('gamma')!, { defaultEncryption: 'AES256' });
    repo.createBucket({ name: 'empty', region: 'us-east-1', ownerId: bucketOwner('empty') });
    opened.sqlite.transaction(() => {
      for (let i = 0; i < N; i++) insert(i);
      seedVersions();
    })();
  });

  afterAll(() => {
    opened.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
}

const utf8 = (s: string) => Buffer.from(s, 'utf8');
const sortValue = (m: Model, sort: ObjectQuery['sort']) => (sort === 'key' ? m.key : sort === 'size' ? m.size : m.lastModified);

/** By key, ties (versions of a key, the same key in other buckets) newest first; by size or date, oldest first. */
function compare(a: Model, b: Model, sort: ObjectQuery['sort']): number {
  const va = sortValue(a, sort);
  const vb = sortValue(b, sort);
  const c = typeof va === 'string' ? Buffer.compare(utf8(va), utf8(vb as string)) : va - (vb as number);
  return c !== 0 ? c : sort === 'key' ? b.id - a.id : a.id - b.id;
}

/** A version as collect() and expected() name it. */
export const label = (o: { bucket: string; key: string; versionId: string }) => `${o.bucket}/${o.key}@${o.versionId}`;

/** The model's answer: current objects matching `pred`, or every version with `versions`. */
export function expected(pred: (m: Model) => boolean, sort: ObjectQuery['sort'] = 'key', order: ObjectQuery['order'] = 'asc', versions: 'current' | 'all' = 'current'): string[] {
  const rows = model.filter((m) => (versions === 'all' || m.isCurrent) && pred(m)).sort((a, b) => compare(a, b, sort) * (order === 'asc' ? 1 : -1));
  return rows.map(label);
}

/** The newest version of each key, markers included: what isLatest says. */
export function isLatest(m: Model): boolean {
  return !model.some((x) => x.bucket === m.bucket && x.key === m.key && x.id > m.id);
}

/** Every page of a query, checking each page's size and that nothing repeats. */
export function collect(params: Record<string, string>, limit = 250): string[] {
  const out: string[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 10_000; pages++) {
    const page = findObjects(opened.db, parseObjectQuery({ ...params, limit: String(limit), ...(cursor ? { cursor } : {}) }));
    expect(page.objects.length).toBeLessThanOrEqual(limit);
    if (page.nextCursor) expect(page.objects.length).toBe(limit);
    out.push(...page.objects.map(label));
    if (!page.nextCursor) break;
    cursor = page.nextCursor;
  }
  expect(new Set(out).size).toBe(out.length);
  return out;
}

export const fieldOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    if (e instanceof QueryError) return e.field;
    throw e;
  }
  throw new Error('expected a QueryError');
};
