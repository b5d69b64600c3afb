// The PostgreSQL metadata engine against SQLite, same machine, same run (#22): 4 KiB PUT and GET
// (wrk, SigV4), 1 GiB PUT and GET (curl), and ListObjectsV2 pages at 1,000,000 keys, against one
// gateway on SQLite, one on PostgreSQL, and (small objects) three gateways on one PostgreSQL and
// one shared chunk folder, each gateway its own process, the load spread over them by the client.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { ListObjectsV2Command, type ListObjectsV2CommandInput, type ListObjectsV2CommandOutput } from '@aws-sdk/client-s3';
import { GiB, MiB, fmtRatio, fmtStat, startTarget, stat, targetClient, type Scenario, type ScenarioContext, type Stat, type Target, type TargetCheck } from '../harness.js';
import { randomFile } from '../lib.js';
import { startCluster, type Cluster } from '../../src/db/pg/cluster.js';
import { requireWrk, rotatingGets, rotatingPuts, seedObjects, signedLoad, type LoadFigures } from './signed-load.js';
import { curlMover, deleteKeys, type Payload } from './large-clients.js';
import { seedObjects as seedSqlite } from './listing-seed.js';
import { seedPostgres } from './listing-seed-pg.js';
import { rowAt, s3Cases, timed } from './listing.js';

type Setup = 'sqlite' | 'postgres' | 'postgres x3';
const SETUPS: Setup[] = ['sqlite', 'postgres', 'postgres x3'];
// CAIRN_BENCH_PG_X3=0 (a diagnostic) leaves out the three-gateway small cells.
const SMALL_SETUPS = process.env.CAIRN_BENCH_PG_X3 === '0' ? SETUPS.slice(0, 2) : SETUPS;
const CONNECTIONS = [16, 64];
const SMALL = 4096;
const KEYS = 1000;
// CAIRN_BENCH_PG_PARTS (a diagnostic, never the committed figures): a comma list of the parts to
// run (small, large, listing; default all); CAIRN_BENCH_PG_OPS the small cells' ops (PUT, GET).
const PARTS = new Set((process.env.CAIRN_BENCH_PG_PARTS ?? 'small,large,listing').split(','));
const SMALL_OPS = (process.env.CAIRN_BENCH_PG_OPS ?? 'PUT,GET').split(',').filter((o): o is 'PUT' | 'GET' => o === 'PUT' || o === 'GET');
const QUIET = { CAIRN_GC_INTERVAL: '0', CAIRN_SCRUB_INTERVAL: '0', CAIRN_LIFECYCLE_INTERVAL: '0' };

/** A gateway set: one target per gateway process. */
interface Gateways {
  setup: Setup;
  targets: Target[];
  stop(): Promise<void>;
}

let dbCounter = 0;
async function freshDb(cluster: Cluster): Promise<string> {
  const name = `bench_${process.pid}_${++dbCounter}`;
  const c = new pg.Client(cluster.url);
  await c.connect();
  try {
    await c.query(`create database ${name}`);
  } finally {
    await c.end();
  }
  return cluster.urlFor(name);
}

async function startGateways(setup: Setup, cluster: Cluster, env: Record<string, string> = {}): Promise<Gateways> {
  if (setup === 'sqlite') {
    const t = await startTarget('cairn', { env: { ...QUIET, ...env } });
    return { setup, targets: [t], stop: () => t.stop() };
  }
  const url = await freshDb(cluster);
  const shared = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-bench-shared-'));
  const n = setup === 'postgres' ? 1 : 3;
  const targets: Target[] = [];
  try {
    // One after another: the first applies the migrations, the others find them applied.
    for (let i = 0; i < n; i++) {
      targets.push(await startTarget('cairn', { env: { ...QUIET, CAIRN_METADATA_URL: url, CAIRN_DATA_DIR: shared, CAIRN_GATEWAY_ID: `bench-${i + 1}`, ...env } }));
    }
  } catch (err) {
    await Promise.all(targets.map((t) => t.stop()));
    throw err;
  }
  return {
    setup,
    targets,
    stop: async () => {
      await Promise.all(targets.map((t) => t.stop()));
      fs.rmSync(shared, { recursive: true, force: true });
    },
  };
}

/** `total` connections spread over the gateways (16 over three: 6, 5, 5); figures summed. */
async function spreadLoad(gw: Gateways, total: number, request: Parameters<typeof signedLoad>[1]['request'], warmupSeconds: number, seconds: number): Promise<LoadFigures> {
  const n = gw.targets.length;
  const figs = await Promise.all(gw.targets.map((t, i) => signedLoad(t, { connections: Math.floor(total / n) + (i < total % n ? 1 : 0), warmupSeconds, seconds, request })));
  const sum = (pick: (f: LoadFigures) => number) => figs.reduce((a, f) => a + pick(f), 0);
  return {
    ops: sum((f) => f.ops),
    p50: stat(figs.map((f) => f.p50)).median,
    p99: Math.max(...figs.map((f) => f.p99)),
    responses: sum((f) => f.responses),
    seconds: Math.max(...figs.map((f) => f.seconds)),
    shortened: figs.some((f) => f.shortened),
    // Each wrk saw the whole window: their CPU adds up, as the gateways' does.
    generatorCpu: sum((f) => f.generatorCpu),
    serverCpu: sum((f) => f.serverCpu),
  };
}

async function small(ctx: ScenarioContext, cluster: Cluster) {
  requireWrk();
  const rounds = ctx.smoke ? 1 : 3;
  const [warmup, seconds, keys] = ctx.smoke ? [0.5, 1.5, 100] : [1, 10, KEYS];
  const cells = new Map<string, LoadFigures[]>();
  for (let r = 0; r < rounds; r++) {
    for (const setup of SMALL_SETUPS.map((_, i) => SMALL_SETUPS[(i + r) % SMALL_SETUPS.length]!)) {
      const gw = await startGateways(setup, cluster);
      try {
        await seedObjects(gw.targets[0]!, keys, SMALL, (i) => `seeded/${i}`);
        for (const conns of CONNECTIONS) {
          for (const op of SMALL_OPS) {
            const request = op === 'PUT' ? rotatingPuts(keys, SMALL, 'small/') : rotatingGets(keys, 'seeded/');
            const f = await spreadLoad(gw, conns, request, warmup, seconds);
            const k = `${setup}|${op}|${conns}`;
            cells.set(k, [...(cells.get(k) ?? []), f]);
            ctx.log(`small round ${r + 1}/${rounds} ${setup} ${op} x${conns}: ${f.ops.toFixed(0)} ops/s, p50 ${f.p50.toFixed(2)} ms, p99 ${f.p99.toFixed(2)} ms, gateways ${(f.serverCpu * 100).toFixed(0)}% / generators ${(f.generatorCpu * 100).toFixed(0)}% of a core`);
          }
        }
      } finally {
        await gw.stop();
      }
    }
  }
  return cells;
}

async function large(ctx: ScenarioContext, cluster: Cluster) {
  const size = ctx.smoke ? 8 * MiB : GiB;
  const rounds = ctx.smoke ? 1 : 3;
  const file = randomFile(size);
  const md5 = createHash('md5').update(fs.readFileSync(file)).digest('hex');
  const payload: Payload = { file, size, md5, timeoutMs: 60_000 + ((2 * size) / (16 * MiB)) * 1000 };
  const figures = new Map<string, number[]>();
  const gws: Gateways[] = [];
  try {
    for (const setup of ['sqlite', 'postgres'] as const) gws.push(await startGateways(setup, cluster));
    for (const op of ['PUT', 'GET'] as const) {
      for (let r = 0; r < rounds; r++) {
        for (const gw of gws.map((_, i) => gws[(i + r) % gws.length]!)) {
          const t = gw.targets[0]!;
          if (op === 'PUT') await deleteKeys(t, ['large-0']);
          const m = curlMover(t, payload);
          try {
            const run = await m.prepare(op, 'large-0');
            const t0 = performance.now();
            await run();
            const mibs = size / MiB / ((performance.now() - t0) / 1000);
            figures.set(`${gw.setup}|${op}`, [...(figures.get(`${gw.setup}|${op}`) ?? []), mibs]);
            ctx.log(`large ${op} round ${r + 1}/${rounds} ${gw.setup}: ${mibs.toFixed(0)} MiB/s`);
          } finally {
            m.close();
          }
        }
      }
    }
  } finally {
    await Promise.all(gws.map((g) => g.stop()));
    fs.rmSync(file, { force: true });
  }
  return figures;
}

async function listing(ctx: ScenarioContext, cluster: Cluster) {
  const n = ctx.smoke ? 5_000 : 1_000_000;
  const runs = ctx.smoke ? 3 : 10;
  const out = new Map<string, { seedSeconds: number; cases: Array<{ label: string; ms: Stat; entries: number }> }>();
  for (const setup of ['sqlite', 'postgres'] as const) {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-bench-pglist-'));
    let target: Target | undefined;
    try {
      const t0 = performance.now();
      let env: Record<string, string> = { ...QUIET, CAIRN_DATA_DIR: dataDir };
      if (setup === 'sqlite') seedSqlite(dataDir, ['bench'], n, rowAt(n)).close();
      else {
        const url = await freshDb(cluster);
        await seedPostgres(url, ['bench'], n, rowAt(n));
        env = { ...env, CAIRN_METADATA_URL: url };
      }
      const seedSeconds = (performance.now() - t0) / 1000;
      ctx.log(`listing: ${setup}: ${n} keys seeded in ${seedSeconds.toFixed(1)} s`);
      target = await startTarget('cairn', { env });
      const s3 = targetClient(target);
      const list = (input: ListObjectsV2CommandInput) => s3.send(new ListObjectsV2Command({ ...input, Bucket: 'bench' })) as Promise<ListObjectsV2CommandOutput>;
      const cases = [];
      for (const c of s3Cases(n)) {
        let input = c.input as ListObjectsV2CommandInput;
        if (c.prime) input = { ...input, ContinuationToken: (await list(c.prime as ListObjectsV2CommandInput)).NextContinuationToken };
        const t = await timed(runs, () => list(input));
        const entries = (t.last.Contents?.length ?? 0) + (t.last.CommonPrefixes?.length ?? 0);
        cases.push({ label: c.label, ms: t.ms, entries });
        ctx.log(`listing ${setup} ${c.label}: ${t.ms.median.toFixed(1)} ms (${entries} entries)`);
      }
      s3.destroy();
      out.set(setup, { seedSeconds, cases });
    } finally {
      await target?.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  }
  return out;
}

async function run(ctx: ScenarioContext) {
  // Durable settings (fsync, synchronous_commit on): a PUT's 200 waits for PostgreSQL's WAL flush
  // as it waits for SQLite's synchronous=FULL commit.
  // CAIRN_BENCH_PG_UNSAFE=1 (a diagnostic, never the committed figures): fsync and
  // synchronous_commit off, to tell the cost of PostgreSQL's WAL flush from the rest.
  const cluster = await startCluster({ durable: process.env.CAIRN_BENCH_PG_UNSAFE !== '1' });
  try {
    const smallCells = PARTS.has('small') ? await small(ctx, cluster) : new Map<string, LoadFigures[]>();
    const largeFigs = PARTS.has('large') ? await large(ctx, cluster) : new Map<string, number[]>();
    const lists = PARTS.has('listing') ? await listing(ctx, cluster) : new Map([['sqlite', { seedSeconds: 0, cases: [] }], ['postgres', { seedSeconds: 0, cases: [] }]]);
    return report(ctx, smallCells, largeFigs, lists);
  } finally {
    await cluster.stop();
  }
}

function report(ctx: ScenarioContext, smallCells: Map<string, LoadFigures[]>, largeFigs: Map<string, number[]>, lists: Awaited<ReturnType<typeof listing>>) {
  const ops = (setup: Setup, op: string, conns: number) => stat((smallCells.get(`${setup}|${op}|${conns}`) ?? []).map((f) => f.ops));
  const med = (setup: Setup, op: string, conns: number, pick: (f: LoadFigures) => number) => stat((smallCells.get(`${setup}|${op}|${conns}`) ?? []).map(pick)).median;
  const checks: TargetCheck[] = [];
  const md: string[] = [
    '## Method',
    '',
    'Each gateway is `node dist/cli.js serve` in its own process with its defaults (fsync durability), GC, scrub and',
    'lifecycle workers off. **sqlite**: the embedded default. **postgres**: `CAIRN_METADATA_URL` on a throwaway',
    'PostgreSQL cluster on the same machine (src/db/pg/cluster.ts, durable settings: fsync and synchronous_commit on),',
    'a fresh database per run; chunk files in a data dir as on SQLite. **postgres x3**: three gateways on one database',
    'and one shared chunk folder; the client spreads its connections over the three (no proxy in between, so no fourth',
    'process takes CPU). Everything (gateways, PostgreSQL, wrk or curl) shares the two cores.',
    '',
    `## Small objects (4 KiB, wrk, SigV4; ${ctx.smoke ? 'smoke' : '3 rounds of 10 s, 1 s warm-up'})`,
    '',
    '| op | connections | setup | ops/s | p50 ms | p99 ms | gateways CPU | generator CPU |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const op of ['PUT', 'GET']) {
    for (const conns of CONNECTIONS) {
      for (const setup of SETUPS) {
        md.push(`| ${op} | ${conns} | ${setup} | ${fmtStat(ops(setup, op, conns))} | ${med(setup, op, conns, (f) => f.p50).toFixed(2)} | ${med(setup, op, conns, (f) => f.p99).toFixed(2)} | ${(med(setup, op, conns, (f) => f.serverCpu) * 100).toFixed(0)}% | ${(med(setup, op, conns, (f) => f.generatorCpu) * 100).toFixed(0)}% |`);
      }
      const ratio = ops('postgres', op, conns).median / ops('sqlite', op, conns).median;
      checks.push({ what: `4 KiB ${op} at ${conns} connections: postgres / sqlite`, ratio, goal: op === 'PUT' ? 0.5 : 0.8 });
    }
  }
  md.push('', '| ratio of ops/s | 16 connections | 64 connections |', '|---|---|---|');
  for (const op of ['PUT', 'GET']) {
    md.push(`| ${op}: postgres / sqlite | ${CONNECTIONS.map((c) => fmtRatio(ops('postgres', op, c).median / ops('sqlite', op, c).median)).join(' | ')} |`);
    md.push(`| ${op}: postgres x3 / postgres | ${CONNECTIONS.map((c) => fmtRatio(ops('postgres x3', op, c).median / ops('postgres', op, c).median)).join(' | ')} |`);
  }
  const lf = (setup: string, op: string) => stat(largeFigs.get(`${setup}|${op}`) ?? []);
  md.push('', `## Large objects (${ctx.smoke ? '8 MiB' : '1 GiB'}, curl, one stream, MiB/s)`, '', '| op | sqlite | postgres | postgres / sqlite |', '|---|---|---|---|');
  for (const op of ['PUT', 'GET']) {
    const ratio = lf('postgres', op).median / lf('sqlite', op).median;
    md.push(`| ${op} | ${fmtStat(lf('sqlite', op))} | ${fmtStat(lf('postgres', op))} | ${fmtRatio(ratio)} |`);
    checks.push({ what: `${ctx.smoke ? '8 MiB' : '1 GiB'} ${op}: postgres / sqlite`, ratio, goal: 0.8 });
  }
  const s = lists.get('sqlite')!;
  const p = lists.get('postgres')!;
  md.push('', `## Listing (ListObjectsV2, pages of 1,000, ${ctx.smoke ? '5,000' : '1,000,000'} keys; ms, median (min–max))`, '', `Seeding: sqlite ${s.seedSeconds.toFixed(0)} s, postgres ${p.seedSeconds.toFixed(0)} s (straight into the tables, not measured).`, '', '| page | sqlite | postgres | sqlite / postgres (time) |', '|---|---|---|---|');
  s.cases.forEach((c, i) => {
    const q = p.cases[i]!;
    if (q.entries !== c.entries) throw new Error(`listing ${c.label}: sqlite answered ${c.entries} entries, postgres ${q.entries}`);
    const ratio = c.ms.median / q.ms.median;
    md.push(`| ${c.label} | ${fmtStat(c.ms, 1)} | ${fmtStat(q.ms, 1)} | ${fmtRatio(ratio)} |`);
    checks.push({ what: `listing, ${c.label}: speed postgres / sqlite`, ratio, goal: 0.8 });
  });
  return { markdown: md.join('\n'), targets: checks };
}

const scenario: Scenario = { name: 'postgres', title: 'PostgreSQL metadata engine against SQLite', run };
export default scenario;
