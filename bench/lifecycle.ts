// The lifecycle worker expiring 1,000,000 objects, and the 4 KiB GET rate the server keeps
// serving meanwhile (issue 21's goal: at least 0.7x the rate without it).
//
//   npx tsx bench/lifecycle.ts [objects=1000000] [cellSeconds=10] [rounds=1]
//
// Each round: a fresh built server (dist/, fsync durability, its worker off); 1,000 objects of
// 4 KiB PUT through S3 for the GETs; `objects` expired-to-be objects seeded straight through SQL
// into bucket `expire` (scenarios/listing-seed.ts: one transaction, each row 4 KiB sharing one
// chunk row, last modified in 2023) beside the running server; a rule Expiration Days 1 on it.
// Then three wrk cells of signed 4 KiB GETs (16 connections): before the pass, during it (the
// pass started over the admin API, POST /v1/lifecycle: the worker's engine in the server's
// process; the cell ends early if the pass does), and after it. The ratio is during over before
// (the adjacent cell; over the mean of before and after too). Needs wrk and `npm run build`. Writes bench/results/lifecycle.md.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { PutBucketLifecycleConfigurationCommand } from '@aws-sdk/client-s3';
import { ROOT, machine, median } from './lib.js';
import { startTarget, targetClient, type Target } from './harness.js';
import { requireWrk, rotatingGets, seedObjects as putObjects, signedLoad, type LoadFigures } from './scenarios/signed-load.js';
import { seedObjects } from './scenarios/listing-seed.js';

const N = Number(process.argv[2] ?? 1_000_000);
const CELL = Number(process.argv[3] ?? 10);
const ROUNDS = Number(process.argv[4] ?? 1);
const GET_KEYS = 1000;
const CONNECTIONS = 16;
const OLD = Date.parse('2023-01-01T00:00:00Z');

interface Round {
  seedSeconds: number;
  passSeconds: number;
  expired: number;
  before: LoadFigures;
  during: LoadFigures;
  after: LoadFigures;
}

/**
 * Runs a pass over the admin API and resolves with its result. node:http, not fetch: a pass can
 * outlast fetch's 300 s headers timeout. (Not polling /v1/stats: its totals scan every row.)
 */
function lifecyclePass(t: Target, bucket: string): Promise<Record<string, number>> {
  const body = JSON.stringify({ bucket });
  return new Promise((resolve, reject) => {
    const req = http.request(`${t.adminUrl}/v1/lifecycle`, { method: 'POST', headers: { authorization: `Bearer ${t.adminToken}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(Buffer.concat(parts).toString()) as Record<string, number>) : reject(new Error(`/v1/lifecycle: ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const gets = (t: Target, until?: Promise<unknown>) => signedLoad(t, { connections: CONNECTIONS, warmupSeconds: until ? 1 : 3, seconds: CELL, request: rotatingGets(GET_KEYS, 'get/'), until });

async function round(): Promise<Round> {
  const t = await startTarget('cairn', { env: { CAIRN_LIFECYCLE_INTERVAL: '0', CAIRN_LOG_LEVEL: 'error' } });
  try {
    await putObjects(t, GET_KEYS, 4096, (i) => `get/${i}`);
    const t0 = performance.now();
    const hash = createHash('sha256').update('lifecycle-bench').digest('hex');
    const opened = seedObjects(t.dataDir!, ['expire'], N, (i) => ({
      bucket: 0,
      key: `logs/${String(i).padStart(7, '0')}`,
      size: 4096,
      etag: `"${hash.slice(0, 32)}"`,
      contentType: 'text/plain',
      meta: '{}',
      alg: null,
      checksum: null,
      lastModified: OLD + i,
      chunk: { hash, size: 4096 },
    }));
    opened.close();
    const seedSeconds = (performance.now() - t0) / 1000;
    const s3 = targetClient(t);
    await s3.send(new PutBucketLifecycleConfigurationCommand({ Bucket: 'expire', LifecycleConfiguration: { Rules: [{ ID: 'old-logs', Status: 'Enabled', Filter: { Prefix: 'logs/' }, Expiration: { Days: 1 } }] } }));
    s3.destroy();

    await gets(t); // a fresh server warms up (JIT, caches): this cell is not counted
    const before = await gets(t);
    const p0 = performance.now();
    const pass = lifecyclePass(t, 'expire');
    const during = await gets(t, pass);
    const result = await pass;
    const passSeconds = (performance.now() - p0) / 1000;
    const after = await gets(t);
    return { seedSeconds, passSeconds, expired: Number(result.versionsExpired), before, during, after };
  } finally {
    await t.stop();
  }
}

function report(rounds: Round[]): string {
  const fmt = (x: number) => Math.round(x).toLocaleString('en-US');
  const ratio = (r: Round) => r.during.ops / r.before.ops;
  const ratioBoth = (r: Round) => r.during.ops / ((r.before.ops + r.after.ops) / 2);
  const rows = rounds.map(
    (r, i) =>
      `| ${i + 1} | ${fmt(r.expired)} | ${r.passSeconds.toFixed(1)} s | ${fmt(r.expired / r.passSeconds)} | ${fmt(r.before.ops)} | ${fmt(r.during.ops)} (${r.during.seconds.toFixed(1)} s, p99 ${r.during.p99.toFixed(1)} ms) | ${fmt(r.after.ops)} | ${ratio(r).toFixed(2)}x | ${ratioBoth(r).toFixed(2)}x |`,
  );
  const med = median(rounds.map(ratio));
  return [
    '# Lifecycle worker: 1,000,000 expirations and the 4 KiB GETs served meanwhile',
    '',
    `Machine: ${machine()}`,
    '',
    `Command: \`npx tsx bench/lifecycle.ts ${N} ${CELL} ${ROUNDS}\` (built server, fsync durability, commit thread on).`,
    '',
    `Each round seeds ${fmt(N)} objects of 4 KiB (metadata through SQL, one shared chunk row) in bucket \`expire\` with a rule`,
    '`Expiration Days 1` over `logs/`, then runs wrk cells of signed 4 KiB GETs (16 connections, 1,000 keys) before the',
    'pass, during it (the pass started over the admin API: the worker\'s engine, in the server), and after it.',
    '',
    '| Round | Expired | Pass | Objects/s | GET/s before | GET/s during | GET/s after | During / before | During / mean(before, after) |',
    '|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    `Median during / before: **${med.toFixed(2)}x** (goal: at least 0.7x); the before cell is the one adjacent in time to the during cell (the after cell comes once the pass ends, minutes later, on a shared machine whose load moves). Seeding took ${rounds.map((r) => `${r.seedSeconds.toFixed(0)} s`).join(', ')}.`,
    '',
  ].join('\n');
}

requireWrk();
const rounds: Round[] = [];
for (let i = 0; i < ROUNDS; i++) {
  const r = await round();
  process.stdout.write(`round ${i + 1}: expired ${r.expired} in ${r.passSeconds.toFixed(1)} s; GET/s before ${r.before.ops.toFixed(0)}, during ${r.during.ops.toFixed(0)}, after ${r.after.ops.toFixed(0)}\n`);
  rounds.push(r);
}
const text = report(rounds);
fs.writeFileSync(path.join(ROOT, 'bench/results/lifecycle.md'), text);
process.stdout.write(text);
