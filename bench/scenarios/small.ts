// Small objects: 4 KiB PUT and GET, SigV4-signed, at 16 and 64 connections, cairn (durable
// defaults) against s3rver, with wrk as the one load generator for both.
import { enableVersioning, fmtRatio, fmtStat, startTarget, stat, type Scenario, type Target, type TargetKind, type TargetCheck } from '../harness.js';
import { barChart } from '../svg.js';
import { requireWrk, rotatingGets, rotatingPuts, seedObjects, signedLoad, type LoadFigures } from './signed-load.js';

const SIZE = 4096;
const KEYS = 1000;
// http-floor is bench/servers/ceiling.ts floor: Node's HTTP server answering from memory, with
// no auth, lookup or storage. Not a competitor: the most any one Node process serves here.
const TARGETS: TargetKind[] = ['cairn', 's3rver', 'http-floor'];
const OPS = ['PUT', 'GET'] as const;
const CONNECTIONS = [16, 64];
const GOALS: Record<(typeof OPS)[number], number> = { PUT: 2.5, GET: 5 };
// CAIRN_BENCH_VERSIONED=1: cairn's bench bucket has versioning Enabled (s3rver's stays as it is),
// so every PUT adds a version and keeps the one it replaces. bench/ab.ts --versioning compares
// the two on one build, interleaved.
const VERSIONED = process.env.CAIRN_BENCH_VERSIONED === '1';

type Op = (typeof OPS)[number];
const cellKey = (kind: TargetKind, op: Op, conns: number) => `${kind} ${op} ${conns}`;

const scenario: Scenario = {
  name: 'small',
  title: 'Small objects',
  async run(ctx) {
    requireWrk();
    const rounds = ctx.smoke ? 1 : 3;
    const warmupSeconds = ctx.smoke ? 0.5 : 1;
    const seconds = ctx.smoke ? 1.5 : 10;
    const keys = ctx.smoke ? 200 : KEYS;
    const cells = new Map<string, LoadFigures[]>();

    for (let round = 0; round < rounds; round++) {
      // Fresh servers each round, so every round starts from the same state (no garbage from
      // the previous round's overwrites), and the order of targets alternates between rounds.
      const order = TARGETS.map((_, i) => TARGETS[(i + round) % TARGETS.length]!);
      for (const kind of order) {
        const target: Target = await startTarget(kind);
        try {
          if (VERSIONED && kind === 'cairn') await enableVersioning(target, 'bench');
          await seedObjects(target, keys, SIZE, (i) => `seeded/${i}`);
          for (const conns of CONNECTIONS) {
            for (const op of OPS) {
              const request = op === 'PUT' ? rotatingPuts(keys, SIZE, 'small/') : rotatingGets(keys, 'seeded/');
              const f = await signedLoad(target, { connections: conns, warmupSeconds, seconds, request });
              const k = cellKey(kind, op, conns);
              cells.set(k, [...(cells.get(k) ?? []), f]);
              ctx.log(
                `round ${round + 1}/${rounds} ${kind} ${op} x${conns}: ${f.ops.toFixed(0)} ops/s, p50 ${f.p50.toFixed(2)} ms, p99 ${f.p99.toFixed(2)} ms, ` +
                  `generator ${(f.generatorCpu * 100).toFixed(0)}% / server ${(f.serverCpu * 100).toFixed(0)}% of a core`,
              );
            }
          }
        } finally {
          await target.stop();
        }
      }
    }

    const opsOf = (kind: TargetKind, op: Op, conns: number) => stat((cells.get(cellKey(kind, op, conns)) ?? []).map((f) => f.ops));
    const field = (kind: TargetKind, op: Op, conns: number, pick: (f: LoadFigures) => number) => stat((cells.get(cellKey(kind, op, conns)) ?? []).map(pick)).median;
    const rows: string[] = [];
    const targets: TargetCheck[] = [];
    for (const op of OPS) {
      for (const conns of CONNECTIONS) {
        for (const kind of TARGETS) {
          rows.push(
            `| ${op} | ${conns} | ${kind} | ${fmtStat(opsOf(kind, op, conns))} | ${field(kind, op, conns, (f) => f.p50).toFixed(2)} | ` +
              `${field(kind, op, conns, (f) => f.p99).toFixed(2)} | ${(field(kind, op, conns, (f) => f.generatorCpu) * 100).toFixed(0)}% | ` +
              `${(field(kind, op, conns, (f) => f.serverCpu) * 100).toFixed(0)}% |`,
          );
        }
        const ratio = opsOf('cairn', op, conns).median / opsOf('s3rver', op, conns).median;
        targets.push({ what: `4 KiB ${op} at ${conns} connections, ops/s cairn / s3rver`, ratio, goal: GOALS[op] });
      }
    }

    const markdown = `## Method
${VERSIONED ? '\n**Versioned:** cairn\'s bucket has versioning Enabled (CAIRN_BENCH_VERSIONED=1): every PUT adds a version and keeps the\none it replaces. s3rver\'s and http-floor\'s runs are as without it.\n' : ''}
4 KiB objects, PUT and GET, at 16 and 64 concurrent keep-alive connections, against cairn
(default durability: a body this small is stored in the database row, and every PUT is
acknowledged after its commit with SQLite synchronous=FULL, commits of concurrent PUTs grouped),
s3rver and http-floor (below), each in its own process on 127.0.0.1. Each cell is a ${warmupSeconds} s
warm-up that is not counted followed by ${seconds} s that are; ${rounds} round(s), every target
restarted for each round and the target that goes first rotated from round to round. Figures are the median
(min–max) over rounds of ops/s; latencies are the median over rounds of each round's p50/p99.

The load generator is wrk (one thread, in its own process), the same for every target; its
CPU use is in the table. Every request is SigV4 header-signed (host, x-amz-content-sha256,
x-amz-date) as it is sent, the way an SDK signs: a fresh date and signature per request, the
signing key derived once (bench/scenarios/wrk-sigv4.lua, hashing with OpenSSL through LuaJIT's
FFI). Until 2026-11-26 the generator was autocannon in the benchmark process, with the GETs
signed once per cell and replayed; it spent ~90 µs of CPU per request, so on these two cores
the faster server lost the most CPU to it (64% of a core at cairn's GET rate, 15% at s3rver's).
cairn checks every signature and every PUT body's SHA-256; s3rver checks neither (it only looks
the access key up: its V4 verification is unimplemented), so it is spared that work.
PUTs rotate over ${keys} keys (\`small/<n>\`) with a body that differs in every request (a random
4 KiB with a counter in it, hashed per request for x-amz-content-sha256): cairn stores chunks by
content and would otherwise skip writing a body it already has. GETs rotate over ${keys} objects
seeded beforehand with the SDK. A cell with any connection error, timeout or non-2xx answer
fails the run, so every figure here comes from error-free runs.

"generator" and "server" are the CPU each process used during the counted window, in percent
of one core. The machine has two cores and generator, server and kernel share them: a generator
near 100% means the figure is bounded by the load generator, not by the server.

| op | connections | target | ops/s | p50 ms | p99 ms | generator | server |
|---|---|---|---|---|---|---|---|
${rows.join('\n')}

| ratio of ops/s | 16 connections | 64 connections |
|---|---|---|
${OPS.flatMap((op) =>
  (
    [
      ['cairn', 's3rver'],
      ['http-floor', 's3rver'],
      ['cairn', 'http-floor'],
    ] as const
  ).map(([a, b]) => `| ${op}: ${a} / ${b} | ${CONNECTIONS.map((c) => fmtRatio(opsOf(a, op, c).median / opsOf(b, op, c).median)).join(' | ')} |`),
).join('\n')}

**http-floor** is not a competitor: it is Node's own HTTP server answering every GET with 4 KiB
held in memory and every PUT with the body's MD5, with no signature check, no lookup and no
storage (bench/servers/ceiling.ts \`floor\`), driven by the same generator. No server written
for Node that runs in one process answers faster on this machine, so *http-floor / s3rver* is
the most any of them could show against s3rver here.
`;

    const svg = barChart({
      title: '4 KiB objects, SigV4-signed, ops/s (median over rounds)',
      unit: 'ops/s',
      groups: OPS.flatMap((op) =>
        CONNECTIONS.map((conns) => ({
          label: `${op}, ${conns} connections`,
          bars: TARGETS.map((kind) => ({ series: kind, value: opsOf(kind, op, conns).median })),
        })),
      ),
    });
    return { markdown, svg, targets };
  },
};

export default scenario;
