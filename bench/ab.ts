// `npx tsx bench/ab.ts <other-checkout> [rounds] [--large | --listing]`: this checkout's build
// against another checkout's build, interleaved round by round (the build that goes first
// alternates), so that a change's cost is measured on the same machine in the same minutes. Both
// must be built (`npm run build` in each). Default: the small-object load (4 KiB PUT and GET,
// SigV4-signed, wrk, 16 and 64 connections, 10 s cells). --large: 1 GiB PUT and GET with curl,
// one stream, `sync` before each. --listing: the listing scenario's ListObjectsV2 pages at 10,000
// and 1,000,000 keys, each build on a bucket seeded by its own checkout's seeder (its own
// schema), a fresh server each round. `npx tsx bench/ab.ts --versioning [rounds]`: this build
// against itself, the small-object load with the bench bucket versioned against unversioned.
// `npx tsx bench/ab.ts --access [rounds]`: this build against itself, the small-object load on a
// bucket with a 10-statement policy and public-read objects (PUTs carry x-amz-acl) against one
// with neither, and a third arm whose GETs are anonymous reads of the public-read objects (the
// object-ACL lookup; its PUT cells repeat the policy arm's); see bench/scenarios/access.ts.
// `npx tsx bench/ab.ts --tls [rounds] [--large]`: this build against itself, over https (a
// self-signed ECDSA P-256 certificate, TLS 1.3) against plain HTTP, the small load or --large.
// `npx tsx bench/ab.ts --encryption [rounds] [--large]`: this build against itself, the small (or
// --large) load plain, with SSE-S3 (encryptAll), over https, and with SSE-C over https, with each
// server's peak RSS; see bench/scenarios/encryption.ts.
// Prints each cell's rounds and the medians; writes nothing.
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { ListObjectsV2Command, type ListObjectsV2CommandOutput } from '@aws-sdk/client-s3';
import { curlMover } from './scenarios/large-clients.js';
import { ROOT, startCairn, BENCH_KEY, BENCH_SECRET } from './lib.js';
import { createBucket, enableVersioning, stat, targetClient, type Target } from './harness.js';
import { requireWrk, rotatingGets, rotatingPuts, seedObjects, signedLoad } from './scenarios/signed-load.js';
import type { SeedRow } from './scenarios/listing-seed.js';
import { rowAt, s3Cases, type ListInput } from './scenarios/listing.js';
import { armAcl, setUpAccess, type AccessArm } from './scenarios/access.js';
// The tests' certificate recipe (openssl, its own CA, SAN 127.0.0.1): one place says how it is made.
import { makeSelfSignedCert } from '../test/helpers/tls.js';
import { encryptionArms, peakRssMiB, presigner, type EncryptionArm } from './scenarios/encryption.js';

const args = process.argv.slice(2);
const versioning = args.includes('--versioning');
const access = args.includes('--access');
const tls = args.includes('--tls');
const encryption = args.includes('--encryption');
const self = versioning || access || tls || encryption;
const other = self ? undefined : args[0];
if ((!self && (!other || other.startsWith('--'))) || args.includes('--help')) {
  process.stdout.write('Usage: npx tsx bench/ab.ts <other-checkout> [rounds, default 3] [--large | --listing]\n       npx tsx bench/ab.ts --versioning | --access [rounds, default 3]\n       npx tsx bench/ab.ts --tls | --encryption [rounds, default 3] [--large]\n');
  process.exit(args.includes('--help') ? 0 : 2);
}
const large = args.includes('--large');
const listing = args.includes('--listing');
if ([large && !(tls || encryption), listing, versioning, access, tls, encryption].filter(Boolean).length > 1) {
  process.stderr.write('--large (except with --tls or --encryption), --listing, --versioning, --access, --tls and --encryption are separate runs\n');
  process.exit(2);
}
const rounds = Number(args.slice(self ? 0 : 1).find((a) => /^\d+$/.test(a)) ?? 3);
const thisBuild = (name: string, arm: AccessArm) => ({ name, root: ROOT, cli: path.join(ROOT, 'dist/cli.js'), versioned: false, arm });
const thisArm = (enc: EncryptionArm) => ({ name: enc, root: ROOT, cli: path.join(ROOT, 'dist/cli.js'), versioned: false, enc });
const builds: Array<{ name: string; root: string; cli: string; versioned: boolean; arm?: AccessArm; tls?: boolean; enc?: EncryptionArm }> = tls
  ? [{ ...thisBuild('https', 'plain'), arm: undefined, tls: true }, { ...thisBuild('http', 'plain'), arm: undefined }]
  : encryption
  ? [thisArm('plain'), thisArm('sse-s3'), thisArm('https'), thisArm('sse-c')]
  : access
  ? [thisBuild('policy+acl', 'policy'), thisBuild('plain', 'plain'), thisBuild('anonymous', 'anonymous')]
  : versioning
  ? [
      { name: 'versioned', root: ROOT, cli: path.join(ROOT, 'dist/cli.js'), versioned: true },
      { name: 'unversioned', root: ROOT, cli: path.join(ROOT, 'dist/cli.js'), versioned: false },
    ]
  : [
      { name: 'this', root: ROOT, cli: path.join(ROOT, 'dist/cli.js'), versioned: false },
      { name: path.basename(path.resolve(other!)), root: path.resolve(other!), cli: path.join(path.resolve(other!), 'dist/cli.js'), versioned: false },
    ];
const cells = large
  ? ([{ op: 'PUT', conns: 1 }, { op: 'GET', conns: 1 }] as const)
  : ([
      { op: 'PUT', conns: 16 },
      { op: 'GET', conns: 16 },
      { op: 'PUT', conns: 64 },
      { op: 'GET', conns: 64 },
    ] as const);

/** One 1 GiB file of random bytes for the --large transfers, and its MD5. */
function largeFile() {
  const file = path.join(os.tmpdir(), 'cairn-ab-1gib');
  const size = 1024 ** 3;
  if (!fs.existsSync(file) || fs.statSync(file).size !== size) {
    const fd = fs.openSync(file, 'w');
    for (let at = 0; at < size; at += 16 * 2 ** 20) fs.writeSync(fd, crypto.randomBytes(16 * 2 ** 20));
    fs.closeSync(fd);
  }
  const md5 = crypto.createHash('md5').update(fs.readFileSync(file)).digest('hex');
  return { file, size, md5, timeoutMs: 600_000 };
}

/**
 * --listing: the listing scenario's four ListObjectsV2 pages (three warm-up calls, 20 timed, the
 * median per round), at 10,000 and 1,000,000 keys. Each build serves a data dir seeded once by
 * its own checkout's bench/scenarios/listing-seed.ts (its migrations, its indexes) with the same
 * rows; in every round both builds' servers start afresh on them, side by side, and their calls
 * alternate one by one. Background GC and scrub off.
 */
async function listingAb(): Promise<void> {
  const sizes = [10_000, 1_000_000];
  const runs = 20;
  const dirs = new Map<string, string>();
  const results = new Map<string, number[]>();
  try {
    for (const b of builds) {
      const seeder = (await import(pathToFileURL(path.join(b.root, 'bench/scenarios/listing-seed.ts')).href)) as {
        seedObjects(dataDir: string, buckets: string[], count: number, rowAt: (i: number) => SeedRow): { close(): void };
      };
      for (const n of sizes) {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-ab-listing-'));
        dirs.set(`${b.name} ${n}`, dir);
        const t0 = performance.now();
        seeder.seedObjects(dir, ['bench'], n, rowAt(n)).close();
        process.stdout.write(`${b.name}: ${n} keys seeded in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
      }
    }
    for (let round = 0; round < rounds; round++) {
      for (const n of sizes) {
        // Both servers up at once, their calls alternating one by one (which goes first
        // alternates too), so a burst of other work on the machine hits both alike.
        const order = round % 2 === 0 ? builds : [...builds].reverse();
        const servers: Array<{ name: string; list: (input: ListInput) => Promise<ListObjectsV2CommandOutput>; close(): Promise<void> }> = [];
        try {
          for (const b of order) {
            const cairn = await startCairn({ CAIRN_DATA_DIR: dirs.get(`${b.name} ${n}`)!, CAIRN_GC_INTERVAL: '0', CAIRN_SCRUB_INTERVAL: '0' }, b.cli);
            const target: Target = { kind: 'cairn', url: cairn.url, pid: cairn.child.pid!, credentials: { accessKeyId: BENCH_KEY, secretAccessKey: BENCH_SECRET }, stop: () => cairn.stop() };
            const s3 = targetClient(target);
            servers.push({
              name: b.name,
              list: (input) => s3.send(new ListObjectsV2Command({ Bucket: 'bench', ...input })) as Promise<ListObjectsV2CommandOutput>,
              close: async () => {
                s3.destroy();
                await target.stop();
              },
            });
          }
          for (const c of s3Cases(n)) {
            const inputs: ListInput[] = [];
            for (const sv of servers) inputs.push(c.prime ? { ...c.input, ContinuationToken: (await sv.list(c.prime)).NextContinuationToken } : c.input);
            const xs: number[][] = servers.map(() => []);
            for (let call = -3; call < runs; call++) {
              for (const i of call % 2 === 0 ? [0, 1] : [1, 0]) {
                const t0 = performance.now();
                await servers[i]!.list(inputs[i]!);
                if (call >= 0) xs[i]!.push(performance.now() - t0);
              }
            }
            servers.forEach((sv, i) => {
              const key = `${n} ${c.label} ${sv.name}`;
              const median = stat(xs[i]!).median;
              results.set(key, [...(results.get(key) ?? []), median]);
              process.stdout.write(`round ${round + 1}/${rounds} ${key}: ${median.toFixed(2)} ms\n`);
            });
          }
        } finally {
          for (const sv of servers) await sv.close();
        }
      }
    }
  } finally {
    for (const dir of dirs.values()) fs.rmSync(dir, { recursive: true, force: true });
  }
  for (const n of sizes) {
    for (const c of s3Cases(n)) {
      const [a, b] = builds.map((x) => stat(results.get(`${n} ${c.label} ${x.name}`)!));
      process.stdout.write(
        `${n} keys, ${c.label}: ${builds[0]!.name} ${a!.median.toFixed(2)} ms (${a!.min.toFixed(2)}-${a!.max.toFixed(2)}), ${builds[1]!.name} ${b!.median.toFixed(2)} ms (${b!.min.toFixed(2)}-${b!.max.toFixed(2)}), ratio ${(a!.median / b!.median).toFixed(3)}, per-round ratio median ${pairedRatio(results.get(`${n} ${c.label} ${builds[0]!.name}`)!, results.get(`${n} ${c.label} ${builds[1]!.name}`)!).toFixed(3)}\n`,
      );
    }
  }
}

if (listing) {
  await listingAb();
  process.exit(0);
}

/** The median over rounds of this round's ratio a / b (rounds pair up: same minutes). */
function pairedRatio(a: number[], b: number[]): number {
  return stat(a.map((x, i) => x / b[i]!)).median;
}

/** Rows (versions and delete markers) of the bench bucket, and how many are current. */
function versionCounts(dataDir: string): { rows: number; current: number } {
  const db = new Database(path.join(dataDir, 'cairn.db'), { readonly: true });
  try {
    return db.prepare("SELECT count(*) AS rows, coalesce(sum(o.is_current), 0) AS current FROM objects o JOIN buckets b ON b.id = o.bucket_id WHERE b.name = 'bench'").get() as {
      rows: number;
      current: number;
    };
  } finally {
    db.close();
  }
}

/**
 * The order of the builds (arms) in a round. Two: alternating. Three (--access): the six orders
 * in turn, so that over six rounds each arm runs first, second and third twice and each runs
 * before each other in three rounds (reversing every other round kept one arm in the middle).
 */
function roundOrder(round: number): typeof builds {
  // --encryption: the four arms rotate (each runs first, second... in turn) and reverse every other cycle.
  if (builds.length === 4) {
    const rotated = [...builds.slice(round % 4), ...builds.slice(0, round % 4)];
    return Math.floor(round / 4) % 2 === 0 ? rotated : rotated.reverse();
  }
  if (builds.length !== 3) return round % 2 === 0 ? builds : [...builds].reverse();
  const orders = [[0, 1, 2], [2, 1, 0], [1, 2, 0], [0, 2, 1], [2, 0, 1], [1, 0, 2]];
  return orders[round % orders.length]!.map((i) => builds[i]!);
}

const payload = large ? largeFile() : undefined;
const certDir = tls ? fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-ab-tls-')) : undefined;
const cert = certDir && makeSelfSignedCert(certDir);
process.on('exit', () => certDir && fs.rmSync(certDir, { recursive: true, force: true }));
const arms = encryption ? encryptionArms(fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-ab-enc-'))) : undefined;
// The bench's own self-signed certificate: its SDK calls (bucket, seeding) trust it this way.
if (encryption) process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
const peakRss = new Map<string, number[]>();

requireWrk();
const results = new Map<string, number[]>();
// Small loads: the server's CPU (all its threads) per request, in µs: less moved than ops/s when
// other work takes the cores, though not immune to it.
const cpuPerOp = new Map<string, number[]>();
for (let round = 0; round < rounds; round++) {
  for (const b of roundOrder(round)) {
    const setup = b.enc && arms ? arms[b.enc] : undefined;
    const cairn = await startCairn(b.tls && cert ? { CAIRN_TLS_CERT: cert.cert, CAIRN_TLS_KEY: cert.key } : setup?.env ?? {}, b.cli);
    const target: Target = { kind: 'cairn', url: cairn.url, pid: cairn.child.pid!, ca: cairn.ca, credentials: { accessKeyId: BENCH_KEY, secretAccessKey: BENCH_SECRET }, stop: () => cairn.stop() };
    try {
      await createBucket(target, 'bench');
      if (b.versioned) await enableVersioning(target, 'bench');
      if (b.arm) await setUpAccess(target, 'bench', b.arm);
      if (payload) {
        const mover = curlMover(target, payload, { ...setup?.curl, presign: setup?.curl.presigned ? presigner(target, setup.sdkParams) : undefined });
        try {
          for (const c of cells) {
            const run = await mover.prepare(c.op, 'big');
            spawnSync('sync');
            const started = performance.now();
            await run();
            const mibs = payload.size / 2 ** 20 / ((performance.now() - started) / 1000);
            const key = `${c.op} x${c.conns} ${b.name}`;
            results.set(key, [...(results.get(key) ?? []), mibs]);
            process.stdout.write(`round ${round + 1}/${rounds} ${key}: ${mibs.toFixed(0)} MiB/s\n`);
          }
        } finally {
          mover.close();
        }
        peakRss.set(b.name, [...(peakRss.get(b.name) ?? []), peakRssMiB(target.pid)]);
        continue;
      }
      const acl = b.arm && armAcl(b.arm);
      await seedObjects(target, 1000, 4096, (i) => `seeded/${i}`, 16, acl, setup?.sdkParams);
      for (const c of cells) {
        // The anonymous arm's PUTs are the policy arm's (signed, ACL'd): a GET cell runs after a
        // PUT cell's writes in every arm.
        const request = c.op === 'PUT' ? { ...rotatingPuts(1000, 4096, 'small/'), acl } : { ...rotatingGets(1000, 'seeded/'), anonymous: b.arm === 'anonymous' };
        if (setup) request.headers = setup.headers;
        const f = await signedLoad(target, { connections: c.conns, warmupSeconds: 1, seconds: 10, request });
        const key = `${c.op} x${c.conns} ${b.name}`;
        results.set(key, [...(results.get(key) ?? []), f.ops]);
        cpuPerOp.set(key, [...(cpuPerOp.get(key) ?? []), (f.serverCpu / f.ops) * 1e6]);
        process.stdout.write(`round ${round + 1}/${rounds} ${key}: ${f.ops.toFixed(0)} ops/s, server ${(f.serverCpu * 100).toFixed(0)}% of a core\n`);
      }
      if (encryption) peakRss.set(b.name, [...(peakRss.get(b.name) ?? []), peakRssMiB(target.pid)]);
      if (versioning) {
        const v = versionCounts(cairn.dataDir);
        process.stdout.write(`round ${round + 1}/${rounds} ${b.name}: the bench bucket holds ${v.rows} rows (versions and delete markers), ${v.current} current\n`);
      }
    } finally {
      await target.stop();
    }
  }
}
/** One cell's figures of builds[i] against builds[j], when both ran it. */
function compare(c: (typeof cells)[number], i: number, j: number): void {
  const [p, q] = [builds[i]!.name, builds[j]!.name];
  const [xs, ys] = [results.get(`${c.op} x${c.conns} ${p}`), results.get(`${c.op} x${c.conns} ${q}`)];
  if (!xs || !ys) return;
  const [a, b] = [stat(xs), stat(ys)];
  process.stdout.write(`${c.op} x${c.conns}: ${p} ${a.median.toFixed(0)} (${a.min.toFixed(0)}-${a.max.toFixed(0)}), ${q} ${b.median.toFixed(0)} (${b.min.toFixed(0)}-${b.max.toFixed(0)}), ratio ${(a.median / b.median).toFixed(3)}, per-round ratio median ${pairedRatio(xs, ys).toFixed(3)}\n`);
  if (!payload) {
    const [x, y] = [p, q].map((v) => stat(cpuPerOp.get(`${c.op} x${c.conns} ${v}`)!));
    process.stdout.write(`${c.op} x${c.conns} server CPU µs/op: ${p} ${x!.median.toFixed(0)} (${x!.min.toFixed(0)}-${x!.max.toFixed(0)}), ${q} ${y!.median.toFixed(0)} (${y!.min.toFixed(0)}-${y!.max.toFixed(0)}), ratio ${(x!.median / y!.median).toFixed(3)}\n`);
  }
}
// --encryption: SSE-S3 against plain, SSE-C against https (both need TLS), https against plain.
if (encryption) for (const [i, j] of [[1, 0], [3, 2], [2, 0]] as const) for (const c of cells) compare(c, i, j);
else for (const c of cells) compare(c, 0, 1);
for (const [name, xs] of peakRss) {
  const s = stat(xs);
  process.stdout.write(`peak RSS ${name}: ${s.median.toFixed(0)} MiB (${s.min.toFixed(0)}-${s.max.toFixed(0)})\n`);
}
// --access: the anonymous GETs against the plain arm's signed GETs and against the policy arm's.
if (access) for (const c of cells.filter((x) => x.op === 'GET')) for (const j of [1, 0]) compare(c, 2, j);
