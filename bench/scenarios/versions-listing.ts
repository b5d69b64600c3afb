// Does a ListObjectVersions page cost the same in a bucket of 1,000,000 versions as in one of
// 10,000 (issue 18)? And do ListObjectsV2 pages, which see current versions only, stay as fast
// when most rows are noncurrent versions? A versioned bucket of n keys × 10 versions each, the
// metadata seeded straight into SQLite (listing-seed.ts) before the server starts, as the
// listing scenario does, then pages of both operations through the AWS SDK.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import {
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  type ListObjectsV2CommandInput,
  type ListObjectsV2CommandOutput,
  type ListObjectVersionsCommandInput,
  type ListObjectVersionsCommandOutput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { startTarget, stat, targetClient, type Scenario, type Stat, type Target, type TargetCheck } from '../harness.js';
import { barChart } from '../svg.js';
import { seedObjects, type SeedRow } from './listing-seed.js';
import { fmtMs, MIN_RUNS, SLOW_BUDGET_MS } from './listing.js';

const GOAL = 1.5;
/** Versions per key: the newest is a delete marker on one key in ten, the oldest 'null' on one in four. */
const VERSIONS = 10;
const PAGE = 1000;
// Half the keys in narrow folders of 5 keys (more keys = more folders), half in 100 wide folders
// (more keys = bigger folders), as in the listing scenario but with 100 wide folders, so that the
// wide delimiter page answers 100 common prefixes at both sizes.
const NARROW_PER_FOLDER = 5;
const WIDE_FOLDERS = 100;
// ListObjectsV2 pages. The small bucket has 1,000 keys of which 900 are current: a page that
// answers the same number of keys at both sizes (the continued one too) holds 250 (a quarter of
// the small bucket's keys, in smoke runs too).
const v2Page = (smallKeys: number) => Math.min(250, smallKeys / 4);
// Delimiter pages over the narrow folders: the small bucket has 100 of them.
const NARROW_PAGE = 100;
const DAY = 86_400_000;
const START = Date.parse('2023-01-01T00:00:00Z');
const TYPES = ['application/octet-stream', 'image/jpeg', 'image/png', 'text/plain', 'application/json'];

const pad = (n: number, w: number) => String(n).padStart(w, '0');
const narrowKey = (j: number) => `narrow/folder-${pad(Math.floor(j / NARROW_PER_FOLDER), 6)}/file-${j % NARROW_PER_FOLDER}.dat`;
const wideKey = (j: number) => `wide/dir-${pad(j % WIDE_FOLDERS, 3)}/file-${pad(j, 7)}.dat`;
/** Key k: even k narrow, odd k wide; j is its index within its half. */
const keyOf = (k: number) => (k % 2 === 0 ? narrowKey(k >> 1) : wideKey(k >> 1));
const deleted = (k: number) => (k >> 1) % 10 === 9;
/** Version r (0 = oldest) of key k: 'null' for the oldest on one key in four (written before versioning was enabled). */
export const versionIdOf = (k: number, r: number) => (r === 0 && (k >> 1) % 4 === 0 ? 'null' : createHash('sha256').update(`version-${k}-${r}`).digest('base64url').slice(0, 32));

/**
 * Row i of a bucket of `keys` keys × VERSIONS: version r = floor(i / keys) of key k = i % keys,
 * so a key's versions are written in rounds across the whole bucket (ids follow time, as on a
 * real server, and one key's versions lie far apart in the table).
 */
export function versionRowAt(keys: number): (i: number) => SeedRow {
  const total = keys * VERSIONS;
  let seed = 12345;
  const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const gauss = () => Math.sqrt(-2 * Math.log(rand() || 1e-12)) * Math.cos(2 * Math.PI * rand());
  return (i) => {
    const k = i % keys;
    const r = Math.floor(i / keys);
    const marker = r === VERSIONS - 1 && deleted(k);
    const size = Math.min(5 * 2 ** 30, Math.max(0, Math.floor(Math.exp(9 + 2 * gauss()))));
    return {
      bucket: 0,
      key: keyOf(k),
      size: marker ? 0 : size,
      etag: marker ? '' : `"${createHash('md5').update(`version-${i}`).digest('hex')}"`,
      contentType: marker ? null : TYPES[i % TYPES.length]!,
      meta: marker || rand() < 0.5 ? '{}' : JSON.stringify({ owner: `u${pad(i % 100, 2)}` }),
      alg: !marker && i % 5 < 3 ? 'CRC32' : null,
      checksum: !marker && i % 5 < 3 ? 'AAAAAA==' : null,
      lastModified: START + Math.floor((i / total) * 730 * DAY),
      versionId: versionIdOf(k, r),
      isCurrent: r === VERSIONS - 1 && !marker,
      deleteMarker: marker,
    };
  };
}

type VersionsInput = Omit<ListObjectVersionsCommandInput, 'Bucket'>;
type V2Input = Omit<ListObjectsV2CommandInput, 'Bucket'>;

interface Case<I> {
  label: string;
  input: I;
  /** Sent first; its continuation token goes into `input` (ListObjectsV2 only). */
  prime?: I;
  /** Not the same answer at both sizes: shown, not a target. */
  noTarget?: boolean;
}

function versionCases(keys: number): Array<Case<VersionsInput>> {
  // A quarter of the way into the bucket: the middle of the narrow half, inside a key (after its
  // 5th newest version), so the page reads that key's older versions and then the next keys.
  const k = 2 * Math.floor(keys / 4);
  return [
    { label: 'first page', input: { MaxKeys: PAGE } },
    { label: 'deep page (key-marker + version-id-marker)', input: { MaxKeys: PAGE, KeyMarker: keyOf(k), VersionIdMarker: versionIdOf(k, VERSIONS / 2) } },
    { label: 'prefix page (10 narrow folders)', input: { MaxKeys: PAGE, Prefix: 'narrow/folder-00001' } },
    { label: `delimiter page, ${WIDE_FOLDERS} wide folders`, input: { MaxKeys: PAGE, Prefix: 'wide/', Delimiter: '/' } },
    { label: `delimiter page, narrow folders (max-keys ${NARROW_PAGE})`, input: { MaxKeys: NARROW_PAGE, Prefix: 'narrow/', Delimiter: '/' } },
    { label: 'delimiter page, narrow folders (max-keys 1000)', input: { MaxKeys: PAGE, Prefix: 'narrow/', Delimiter: '/' }, noTarget: true },
  ];
}

function v2Cases(keys: number, page: number): Array<Case<V2Input>> {
  return [
    { label: 'first page', input: { MaxKeys: page } },
    {
      label: 'middle page (continuation token)',
      prime: { MaxKeys: page, StartAfter: narrowKey(Math.floor(keys / 4)) },
      input: { MaxKeys: page },
    },
    { label: `delimiter page, ${WIDE_FOLDERS} wide folders`, input: { MaxKeys: PAGE, Prefix: 'wide/', Delimiter: '/' } },
    { label: `delimiter page, narrow folders (max-keys ${NARROW_PAGE})`, input: { MaxKeys: NARROW_PAGE, Prefix: 'narrow/', Delimiter: '/' } },
  ];
}

interface Timed {
  label: string;
  entries: number;
  ms: Stat;
  calls: number;
  noTarget?: boolean;
}

interface SizeResult {
  keys: number;
  versions: number;
  current: number;
  markers: number;
  seedSeconds: number;
  dbBytes: number;
  versionPages: Timed[];
  v2Pages: Timed[];
  plans: Array<{ what: string; plan: string }>;
}

// The shapes of the statements behind the pages (src/db/version-listing.ts, src/db/listing.ts),
// for EXPLAIN QUERY PLAN on the seeded file.
const PLANS: Array<{ what: string; sql: string; params: unknown[] }> = [
  {
    what: 'ListObjectVersions, keys after a bound within a prefix (version-listing.ts keysQuery)',
    sql: 'SELECT * FROM objects WHERE bucket_id = ? AND key > ? AND key < ? ORDER BY key ASC, id DESC LIMIT ?',
    params: [1, 'wide/dir-000/\u{10ffff}', 'wide0', 1000],
  },
  {
    what: "ListObjectVersions, a key's older versions (restOfKey)",
    sql: 'SELECT * FROM objects WHERE bucket_id = ? AND key = ? AND id < ? ORDER BY id DESC LIMIT ?',
    params: [1, 'narrow/folder-000000/file-0.dat', 1e9, 1000],
  },
  {
    what: 'ListObjectVersions, the version-id-marker (startCursor)',
    sql: 'SELECT id FROM objects WHERE bucket_id = ? AND key = ? AND version_id = ?',
    params: [1, 'narrow/folder-000000/file-0.dat', 'null'],
  },
  {
    what: 'ListObjectsV2, current keys after a bound (listing.ts listQuery)',
    sql: 'SELECT * FROM objects WHERE bucket_id = ? AND is_current = 1 AND key > ? ORDER BY key ASC LIMIT ?',
    params: [1, 'narrow/folder-000042/file-0.dat', 250],
  },
];

function explain(dbFile: string): Array<{ what: string; plan: string }> {
  const db = new Database(dbFile, { readonly: true });
  try {
    return PLANS.map(({ what, sql, params }) => ({
      what,
      plan: (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as Array<{ detail: string }>).map((r) => r.detail).join('; '),
    }));
  } finally {
    db.close();
  }
}

interface Seeded {
  keys: number;
  versions: number;
  current: number;
  markers: number;
  seedSeconds: number;
  dbBytes: number;
  dataDir: string;
  plans: Array<{ what: string; plan: string }>;
}

function seed(keys: number, log: (msg: string) => void): Seeded {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-bench-versions-'));
  const total = keys * VERSIONS;
  const t0 = performance.now();
  const opened = seedObjects(dataDir, ['bench'], total, versionRowAt(keys), { versioned: true });
  const counts = opened.sqlite.prepare('SELECT count(*) AS versions, sum(is_current) AS current, sum(delete_marker) AS markers FROM objects').get() as {
    versions: number;
    current: number;
    markers: number;
  };
  opened.close();
  const seedSeconds = (performance.now() - t0) / 1000;
  const dbFile = path.join(dataDir, 'cairn.db');
  const dbBytes = fs.statSync(dbFile).size;
  log(`${total.toLocaleString('en-US')} versions of ${keys.toLocaleString('en-US')} keys seeded in ${seedSeconds.toFixed(1)} s (cairn.db ${(dbBytes / 2 ** 20).toFixed(0)} MiB)`);
  return { keys, ...counts, seedSeconds, dbBytes, dataDir, plans: explain(dbFile) };
}

/**
 * The same page on both buckets, the calls alternating one by one (which goes first alternates
 * too), so that a burst of other work on the machine hits both sizes alike. Warm-up as in the
 * listing scenario: three calls each (one if the first took over a second), then `runs` timed
 * calls each, or as many as fit in SLOW_BUDGET_MS (at least MIN_RUNS).
 */
async function timedPair<T>(runs: number, calls: Array<() => Promise<T>>): Promise<Array<{ last: T; ms: Stat; calls: number }>> {
  const lasts: T[] = [];
  let t0 = performance.now();
  for (const [i, call] of calls.entries()) lasts[i] = await call();
  const first = performance.now() - t0;
  if (first < 1000) for (let w = 0; w < 2; w++) for (const [i, call] of calls.entries()) lasts[i] = await call();
  const n = first < 1000 ? runs : Math.min(runs, Math.max(MIN_RUNS, Math.floor(SLOW_BUDGET_MS / first)));
  const xs: number[][] = calls.map(() => []);
  for (let r = 0; r < n; r++) {
    for (const i of r % 2 === 0 ? [0, 1] : [1, 0]) {
      t0 = performance.now();
      lasts[i] = await calls[i]!();
      xs[i]!.push(performance.now() - t0);
    }
  }
  return calls.map((_, i) => ({ last: lasts[i]!, ms: stat(xs[i]!), calls: n }));
}

async function measure(sizes: [number, number], v2PageKeys: number, runs: number, log: (msg: string) => void): Promise<[SizeResult, SizeResult]> {
  const seeded: Seeded[] = [];
  const targets: Target[] = [];
  const clients: S3Client[] = [];
  try {
    for (const keys of sizes) seeded.push(seed(keys, log));
    // Background GC and scrub off: a pass over a million rows must not land in the timings.
    for (const sd of seeded) targets.push(await startTarget('cairn', { env: { CAIRN_DATA_DIR: sd.dataDir, CAIRN_GC_INTERVAL: '0', CAIRN_SCRUB_INTERVAL: '0' } }));
    for (const t of targets) clients.push(targetClient(t));
    const results: SizeResult[] = seeded.map(({ dataDir: _d, ...sd }) => ({ ...sd, versionPages: [], v2Pages: [] }));
    const versions = (i: number, input: VersionsInput) => clients[i]!.send(new ListObjectVersionsCommand({ Bucket: 'bench', ...input })) as Promise<ListObjectVersionsCommandOutput>;
    const list = (i: number, input: V2Input) => clients[i]!.send(new ListObjectsV2Command({ Bucket: 'bench', ...input })) as Promise<ListObjectsV2CommandOutput>;
    const perSize = seeded.map((sd) => ({ versions: versionCases(sd.keys), v2: v2Cases(sd.keys, v2PageKeys) }));
    for (let j = 0; j < perSize[0]!.versions.length; j++) {
      const cases = perSize.map((c) => c.versions[j]!);
      const timings = await timedPair(runs, cases.map((c, i) => () => versions(i, c.input)));
      timings.forEach(({ last, ms, calls }, i) => {
        const entries = (last.Versions?.length ?? 0) + (last.DeleteMarkers?.length ?? 0) + (last.CommonPrefixes?.length ?? 0);
        results[i]!.versionPages.push({ label: cases[i]!.label, entries, ms, calls, noTarget: cases[i]!.noTarget });
        log(`${results[i]!.versions}: ListObjectVersions ${cases[i]!.label}: ${ms.median.toFixed(1)} ms (${entries} entries)`);
      });
    }
    for (let j = 0; j < perSize[0]!.v2.length; j++) {
      const cases = perSize.map((c) => c.v2[j]!);
      const inputs: V2Input[] = [];
      for (const [i, c] of cases.entries()) {
        if (!c.prime) {
          inputs.push(c.input);
          continue;
        }
        const token = (await list(i, c.prime)).NextContinuationToken;
        if (!token) throw new Error(`${c.label}: the priming page has no continuation token`);
        inputs.push({ ...c.input, ContinuationToken: token });
      }
      const timings = await timedPair(runs, inputs.map((input, i) => () => list(i, input)));
      timings.forEach(({ last, ms, calls }, i) => {
        const entries = (last.Contents?.length ?? 0) + (last.CommonPrefixes?.length ?? 0);
        results[i]!.v2Pages.push({ label: cases[i]!.label, entries, ms, calls });
        log(`${results[i]!.versions}: ListObjectsV2 ${cases[i]!.label}: ${ms.median.toFixed(1)} ms (${entries} entries)`);
      });
    }
    return [results[0]!, results[1]!];
  } finally {
    for (const c of clients) c.destroy();
    for (const t of targets) await t.stop();
    for (const sd of seeded) fs.rmSync(sd.dataDir, { recursive: true, force: true });
  }
}

const scenario: Scenario = {
  name: 'versions',
  title: 'Version listing pages at 10,000 vs 1,000,000 versions',
  async run(ctx) {
    const [small, big] = ctx.smoke ? [200, 2_000] : [1_000, 100_000];
    const runs = ctx.smoke ? 3 : 20;
    const page = v2Page(small);
    const [a, b] = await measure([small, big], page, runs, ctx.log);
    const fmtN = (n: number) => n.toLocaleString('en-US');
    const [nSmall, nBig] = [a.versions, b.versions].map(fmtN);

    const targets: TargetCheck[] = [];
    const rows = (op: string, xs: Timed[], ys: Timed[]) =>
      xs.map((x, i) => {
        const y = ys[i]!;
        const ratio = y.ms.median / x.ms.median;
        if (!x.noTarget) targets.push({ what: `${op} ${x.label}: ${nBig} / ${nSmall} versions`, ratio, goal: GOAL, atMost: true });
        return `| ${x.label}${x.noTarget ? ' *' : ''} | ${x.entries} / ${y.entries} | ${fmtMs(x, runs)} | ${fmtMs(y, runs)} | ${ratio.toFixed(2)} |`;
      });
    const versionRows = rows('ListObjectVersions', a.versionPages, b.versionPages);
    const v2Rows = rows('ListObjectsV2', a.v2Pages, b.v2Pages);
    const header = `| page | entries | ${nSmall} versions ms | ${nBig} versions ms | ratio |\n|---|---:|---:|---:|---:|`;

    const markdown = `A versioned bucket of ${fmtN(small)} keys × ${VERSIONS} versions (${nSmall} rows) and one of ${fmtN(big)} keys ×
${VERSIONS} (${nBig} rows). On one key in ten the newest version is a delete marker
(so that key has no current version: ${fmtN(a.markers)} and ${fmtN(b.markers)} markers, ${fmtN(a.current)} and ${fmtN(b.current)}
current keys); on one key in four the oldest version is the \`null\` version (written before
versioning was enabled). The versions are written in rounds (every key's first version, then every
key's second, ...), so ids follow time and one key's versions lie far apart in the table, as on a
server. The metadata is seeded straight into SQLite (one transaction, schema and indexes from the
migrations, bucket versioning Enabled; no chunk files, which listings never read) before cairn
(\`dist/cli.js serve\`) starts on it, with background GC and scrub off: two servers, one per
bucket, side by side, and the calls of each page alternate between them one by one (which goes
first alternates too), so that other work on the machine hits both sizes alike. Seeding took
${a.seedSeconds.toFixed(1)} s and ${b.seedSeconds.toFixed(1)} s; cairn.db is ${(a.dbBytes / 2 ** 20).toFixed(0)} and ${(b.dbBytes / 2 ** 20).toFixed(0)} MiB.

Keys: half in *narrow* folders of ${NARROW_PER_FOLDER} keys (\`narrow/folder-000042/file-3.dat\`: the number of
folders grows with the bucket), half in ${WIDE_FOLDERS} *wide* folders (\`wide/dir-042/file-0001234.dat\`:
the folders grow). Through the AWS SDK v3 (loopback, one client per server): three warm-up calls,
then ${runs} timed calls per page and size, milliseconds median (min–max), the whole request including XML parsing. A
page whose first two calls (one per size) take over a second gets one warm-up and only as many calls as fit in
${SLOW_BUDGET_MS / 1000} s (at least ${MIN_RUNS}; shown in brackets). *entries* are versions + delete markers + common
prefixes (ListObjectVersions) or contents + common prefixes (ListObjectsV2) returned, at each size.

## ListObjectVersions

The deep page starts with \`key-marker\` a key a quarter of the way into the bucket (the middle of
the narrow half) and \`version-id-marker\` its 5th newest version: it returns that key's 5 older
versions and then the next keys'. The prefix page is \`narrow/folder-00001\` (10 folders, 500
versions at both sizes). The delimiter pages use \`/\` under \`wide/\` (${WIDE_FOLDERS} common prefixes at both
sizes) and under \`narrow/\` with max-keys ${NARROW_PAGE} (the small bucket has ${NARROW_PAGE} narrow folders).

${header}
${versionRows.join('\n')}

\\* Not a target: not the same answer at both sizes. max-keys 1000 under \`narrow/\` answers every one
of the ${NARROW_PAGE} folders of the small bucket and 1,000 of the big one's ${fmtN(big / 2 / NARROW_PER_FOLDER)}.

How a delimiter page is built (\`VersionListing\` in src/db/version-listing.ts, \`paginateVersions\` in
src/s3/version-list.ts): each common prefix ends the current statement and the next one seeks past
the group; right after such a seek the walk asks for a couple of rows, and asks for more (up to 32)
while no group turns up, so a page of folders reads about one row per folder whatever the folders
hold. The statements seek the right index (plans below). ListObjectsV2's delimiter page reads one
key per entry too (one recursive statement, \`Listing.listGroupHeads\`).

## ListObjectsV2 on the same buckets (current versions only)

Pages of ${page} keys without a delimiter (the small bucket has ${fmtN(a.current)} current keys; the middle page
continues, with the token a previous page returned, from a quarter of the way in), and the same
delimiter pages as above.

${header}
${v2Rows.join('\n')}

Goal: each page at ${nBig} versions ≤ ${GOAL} × the same page at ${nSmall}.

## Query plans

EXPLAIN QUERY PLAN of the statements' shapes on the ${nBig}-version file:

${b.plans.map((p) => `- ${p.what}: \`${p.plan}\``).join('\n')}
`;
    // Chart labels fit in its 230 px label column.
    const short = (label: string) => label.replace(/ \(.*\)$/, '').replace('delimiter page, ', 'delimiter, ').replace(`${WIDE_FOLDERS} wide folders`, 'wide').replace('narrow folders', 'narrow');
    const svg = barChart({
      title: 'Version listing pages (ms, median)',
      unit: 'ms',
      digits: 1,
      groups: [
        ...a.versionPages.map((x, i) => ({ label: `versions: ${short(x.label)}${x.noTarget ? ' (1000)' : ''}`, x, y: b.versionPages[i]! })),
        ...a.v2Pages.map((x, i) => ({ label: `V2: ${short(x.label)}`, x, y: b.v2Pages[i]! })),
      ].map(({ label, x, y }) => ({
        label,
        bars: [
          { series: `${nSmall} versions`, value: x.ms.median },
          { series: `${nBig} versions`, value: y.ms.median },
        ],
      })),
    });
    return { markdown, svg, targets };
  },
};

export default scenario;
