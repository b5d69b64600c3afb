// Does a listing page cost the same in a big bucket as in a small one? ListObjectsV2 pages of
// 1,000 (with and without a delimiter) against cairn with 10,000 and with 1,000,000 keys in
// the bucket, and the admin API's /v1/objects filters on the same data. The metadata is seeded
// straight into SQLite (listing-seed.ts) before the server starts: a million PUTs would take
// hours and measure something else.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ListObjectsV2Command, type ListObjectsV2CommandInput, type ListObjectsV2CommandOutput } from '@aws-sdk/client-s3';
import { fmtStat, stat, startTarget, targetClient, type Scenario, type Stat, type Target, type TargetCheck } from '../harness.js';
import { barChart } from '../svg.js';
import { seedObjects, type SeedRow } from './listing-seed.js';

const GOAL = 1.5;
const PAGE = 1000;
// The bucket's layout. Half the keys sit in "narrow" folders of 5 keys (more keys = more
// folders); the other half in 1,000 "wide" folders (more keys = bigger folders). A delimiter page
// is 1,000 common prefixes in both halves at both sizes, so the same request gives the same
// answer shape; what changes is the bucket around it.
const NARROW_PER_FOLDER = 5;
const WIDE_FOLDERS = 1000;
const DAY = 86_400_000;
const START = Date.parse('2023-01-01T00:00:00Z');
const TYPES = ['application/octet-stream', 'image/jpeg', 'image/png', 'text/plain', 'application/json'];

const pad = (n: number, w: number) => String(n).padStart(w, '0');
const narrowKey = (rank: number) => `narrow/folder-${pad(Math.floor(rank / NARROW_PER_FOLDER), 6)}/file-${rank % NARROW_PER_FOLDER}.dat`;
const wideKey = (idx: number) => `wide/dir-${pad(idx % WIDE_FOLDERS, 4)}/file-${pad(idx, 7)}.dat`;

/** Even i are narrow keys, odd i wide ones; times rise with i (ids follow time, as on a real server). */
export function rowAt(n: number): (i: number) => SeedRow {
  // Deterministic, so both sizes and every run see the same kind of data.
  let seed = 12345;
  const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const gauss = () => Math.sqrt(-2 * Math.log(rand() || 1e-12)) * Math.cos(2 * Math.PI * rand());
  return (i) => {
    const idx = i >> 1;
    return {
      bucket: 0,
      key: i % 2 === 0 ? narrowKey(idx) : wideKey(idx),
      // Log-normal, median ~8 KiB, a few in the GiB range.
      size: Math.min(5 * 2 ** 30, Math.max(0, Math.floor(Math.exp(9 + 2 * gauss())))),
      etag: `"${createHash('md5').update(`object-${i}`).digest('hex')}"`,
      contentType: TYPES[i % TYPES.length]!,
      meta: rand() < 0.5 ? JSON.stringify({ owner: `u${pad(i % 100, 2)}` }) : '{}',
      alg: i % 5 < 3 ? 'CRC32' : null,
      checksum: i % 5 < 3 ? 'AAAAAA==' : null,
      lastModified: START + Math.floor((i / n) * 730 * DAY),
    };
  };
}

export type ListInput = Omit<ListObjectsV2CommandInput, 'Bucket'>;

export interface Case {
  label: string;
  /** The request timed; `prime`, if set, is sent first and its continuation token goes into it. */
  input: ListInput;
  prime?: ListInput;
}

export function s3Cases(n: number): Case[] {
  const narrow = Math.ceil(n / 2);
  return [
    { label: 'first page, no delimiter', input: { MaxKeys: PAGE } },
    {
      label: 'middle page, no delimiter (continuation token)',
      prime: { MaxKeys: PAGE, StartAfter: narrowKey(Math.floor(narrow / 2)) },
      input: { MaxKeys: PAGE },
    },
    { label: 'delimiter page, folders of 5 keys', input: { MaxKeys: PAGE, Prefix: 'narrow/', Delimiter: '/' } },
    { label: `delimiter page, ${WIDE_FOLDERS} folders of n/2000 keys`, input: { MaxKeys: PAGE, Prefix: 'wide/', Delimiter: '/' } },
  ];
}

function adminCases(sampleEtag: string): Array<[string, string]> {
  return [
    ['bucket, key order, limit 1000', 'bucket=bench&limit=1000'],
    ['prefix (one wide folder)', 'bucket=bench&prefix=wide/dir-0421/'],
    ['contains (one narrow folder)', 'bucket=bench&contains=folder-000421/'],
    ['minSize 100 MiB, sort=size desc', 'bucket=bench&minSize=100MiB&sort=size&order=desc'],
    ['one day, sort=modified', 'bucket=bench&modifiedAfter=2024-03-01&modifiedBefore=2024-03-02&sort=modified'],
    ['newest first', 'bucket=bench&sort=modified&order=desc'],
    ['contentType=image/png', 'bucket=bench&contentType=image/png'],
    ['meta.owner=u42', 'bucket=bench&meta.owner=u42'],
    ['etag (exact)', `etag=${encodeURIComponent(sampleEtag)}`],
  ];
}

interface SizeResult {
  n: number;
  seedSeconds: number;
  dbBytes: number;
  s3: Array<{ label: string; entries: number; ms: Stat; calls: number }>;
  admin: Array<{ label: string; query: string; rows: number; ms: Stat; calls: number }>;
}

// A page that takes seconds (a delimiter walk over big folders at 1M keys) gets fewer calls:
// at least MIN_RUNS, and no more than fit in SLOW_BUDGET_MS; the tables say how many there were.
export const MIN_RUNS = 3;
export const SLOW_BUDGET_MS = 60_000;

export async function timed<T>(runs: number, call: () => Promise<T>): Promise<{ last: T; ms: Stat; calls: number }> {
  // Warm-up: statement cache, page cache, sockets, and the JIT on both sides.
  let t0 = performance.now();
  let last = await call();
  const first = performance.now() - t0;
  if (first < 1000) for (let w = 0; w < 2; w++) last = await call();
  const calls = first < 1000 ? runs : Math.min(runs, Math.max(MIN_RUNS, Math.floor(SLOW_BUDGET_MS / first)));
  const xs: number[] = [];
  for (let r = 0; r < calls; r++) {
    t0 = performance.now();
    last = await call();
    xs.push(performance.now() - t0);
  }
  return { last, ms: stat(xs), calls };
}

export async function measureSize(n: number, runs: number, log: (msg: string) => void): Promise<SizeResult> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-bench-listing-'));
  let target: Target | undefined;
  try {
    const t0 = performance.now();
    seedObjects(dataDir, ['bench'], n, rowAt(n)).close();
    const seedSeconds = (performance.now() - t0) / 1000;
    const dbBytes = fs.statSync(path.join(dataDir, 'cairn.db')).size;
    log(`${n.toLocaleString('en-US')} keys seeded in ${seedSeconds.toFixed(1)} s (cairn.db ${(dbBytes / 2 ** 20).toFixed(0)} MiB)`);
    // Background GC and scrub off: a pass over a million rows must not land in the timings.
    target = await startTarget('cairn', { env: { CAIRN_DATA_DIR: dataDir, CAIRN_GC_INTERVAL: '0', CAIRN_SCRUB_INTERVAL: '0' } });
    const s3 = targetClient(target);
    const list = (input: ListInput) => s3.send(new ListObjectsV2Command({ Bucket: 'bench', ...input })) as Promise<ListObjectsV2CommandOutput>;
    const result: SizeResult = { n, seedSeconds, dbBytes, s3: [], admin: [] };
    try {
      for (const c of s3Cases(n)) {
        let input = c.input;
        if (c.prime) {
          const token = (await list(c.prime)).NextContinuationToken;
          if (!token) throw new Error(`${c.label}: the priming page has no continuation token`);
          input = { ...input, ContinuationToken: token };
        }
        const { last, ms, calls } = await timed(runs, () => list(input));
        const entries = (last.Contents?.length ?? 0) + (last.CommonPrefixes?.length ?? 0);
        result.s3.push({ label: c.label, entries, ms, calls });
        log(`${n}: ${c.label}: ${ms.median.toFixed(1)} ms (${entries} entries)`);
      }
    } finally {
      s3.destroy();
    }
    const admin = async (query: string) => {
      const res = await fetch(`${target!.adminUrl}/v1/objects?${query}`, { headers: { authorization: `Bearer ${target!.adminToken}` } });
      if (res.status !== 200) throw new Error(`/v1/objects?${query}: ${res.status} ${await res.text()}`);
      return (await res.json()) as { objects: unknown[] };
    };
    // Row i's ETag is the MD5 of "object-<i>" (rowAt): pick one a third of the way in.
    const sampleEtag = `"${createHash('md5').update(`object-${Math.floor(n * 0.37)}`).digest('hex')}"`;
    for (const [label, query] of adminCases(sampleEtag)) {
      const { last, ms, calls } = await timed(runs, () => admin(query));
      result.admin.push({ label, query, rows: last.objects.length, ms, calls });
      log(`${n}: /v1/objects ${label}: ${ms.median.toFixed(1)} ms (${last.objects.length} rows)`);
    }
    return result;
  } finally {
    await target?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

export const fmtMs = (r: { ms: Stat; calls: number }, runs: number) => `${fmtStat(r.ms, r.ms.median < 10 ? 2 : r.ms.median < 1000 ? 1 : 0)}${r.calls < runs ? ` [${r.calls} calls]` : ''}`;

const scenario: Scenario = {
  name: 'listing',
  title: 'Listing pages at 10,000 vs 1,000,000 keys',
  async run(ctx) {
    const [small, big] = ctx.smoke ? [2_000, 20_000] : [10_000, 1_000_000];
    const runs = ctx.smoke ? 3 : 20;
    const a = await measureSize(small, runs, ctx.log);
    const b = await measureSize(big, runs, ctx.log);
    const fmtN = (n: number) => n.toLocaleString('en-US');

    const targets: TargetCheck[] = a.s3.map((x, i) => ({
      what: `ListObjectsV2 ${x.label}: ${fmtN(big)} / ${fmtN(small)} keys`,
      ratio: b.s3[i]!.ms.median / x.ms.median,
      goal: GOAL,
      atMost: true,
    }));
    const s3Rows = a.s3.map((x, i) => {
      const y = b.s3[i]!;
      return `| ${x.label} | ${x.entries} / ${y.entries} | ${fmtMs(x, runs)} | ${fmtMs(y, runs)} | ${(y.ms.median / x.ms.median).toFixed(2)} |`;
    });
    const adminRows = a.admin.map((x, i) => {
      const y = b.admin[i]!;
      return `| ${x.label} | \`${x.query}\` | ${x.rows} / ${y.rows} | ${fmtMs(x, runs)} | ${fmtMs(y, runs)} |`;
    });
    const markdown = `One bucket with ${fmtN(small)} keys, then a fresh server on one with ${fmtN(big)}. The metadata is seeded
straight into SQLite (one transaction, schema and indexes from the migrations; no chunk files, which
listings never read) before cairn (\`dist/cli.js serve\`) starts on it, with background GC and scrub
off. Seeding took ${a.seedSeconds.toFixed(1)} s and ${b.seedSeconds.toFixed(1)} s; cairn.db is ${(a.dbBytes / 2 ** 20).toFixed(0)} and ${(b.dbBytes / 2 ** 20).toFixed(0)} MiB.

Keys: half in *narrow* folders of ${NARROW_PER_FOLDER} keys (\`narrow/folder-000042/file-3.dat\`: the number of folders grows
with the bucket), half in ${fmtN(WIDE_FOLDERS)} *wide* folders (\`wide/dir-0042/file-0001234.dat\`: the folders grow). Each
delimiter page answers ${PAGE} common prefixes at both sizes. The middle page continues, with the
token a previous page returned, from the middle of the narrow half.

ListObjectsV2 through the AWS SDK v3 (loopback, one client): three warm-up calls, then ${runs} timed
calls per page, milliseconds median (min–max), the whole request including XML parsing. A page
whose first call takes over a second gets one warm-up and only as many calls as fit in
${SLOW_BUDGET_MS / 1000} s (at least ${MIN_RUNS}; shown in brackets). *entries* are contents + common prefixes returned, at each size.

| page (max-keys ${PAGE}) | entries | ${fmtN(small)} keys ms | ${fmtN(big)} keys ms | ratio |
|---|---:|---:|---:|---:|
${s3Rows.join('\n')}

Goal: each page at ${fmtN(big)} keys ≤ ${GOAL} × the same page at ${fmtN(small)}.

How a delimiter page is built (\`Repository.listGroupHeads\` in src/db/repository.ts): one recursive
SQL query returns the page's entries, each the first key of its folder (or a key in no folder),
seeking the (bucket, key) index past the whole folder before the next, so the keys inside a folder
are never read; \`paginate\` (src/s3/list-params.ts) applies S3's rules to those rows. The query
runs on the server's event loop (better-sqlite3 is synchronous).

Admin API \`GET /v1/objects\` (bearer token, JSON; default limit 100 unless given), same data,
same method (three warm-up calls, ${runs} timed):

| filter | query | rows | ${fmtN(small)} keys ms | ${fmtN(big)} keys ms |
|---|---|---:|---:|---:|
${adminRows.join('\n')}
`;
    const svg = barChart({
      title: 'ListObjectsV2, one page of 1,000 (ms, median)',
      unit: 'ms',
      digits: 1,
      groups: a.s3.map((x, i) => ({
        label: x.label.replace(/ \(.*\)$/, '').replace(`${WIDE_FOLDERS} folders of n/2000 keys`, 'wide folders').replace('folders of 5 keys', 'narrow folders'),
        bars: [
          { series: `${fmtN(small)} keys`, value: x.ms.median },
          { series: `${fmtN(big)} keys`, value: b.s3[i]!.ms.median },
        ],
      })),
    });
    return { markdown, svg, targets };
  },
};

export default scenario;
