// `npx tsx bench/ab.ts <other-checkout> [rounds] [--large]`: this checkout's build against another
// checkout's build, interleaved round by round (the build that goes first alternates), so that a
// change's cost is measured on the same machine in the same minutes. Both must be built
// (`npm run build` in each). Default: the small-object load (4 KiB PUT and GET, SigV4-signed,
// wrk, 16 and 64 connections, 10 s cells). --large: 1 GiB PUT and GET with curl, one stream,
// `sync` before each. Prints each cell's rounds and the medians; writes nothing.
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { curlMover } from './scenarios/large-clients.js';
import { ROOT, startCairn, BENCH_KEY, BENCH_SECRET } from './lib.js';
import { createBucket, stat, type Target } from './harness.js';
import { requireWrk, rotatingGets, rotatingPuts, seedObjects, signedLoad } from './scenarios/signed-load.js';

const other = process.argv[2];
if (!other || other === '--help') {
  process.stdout.write('Usage: npx tsx bench/ab.ts <other-checkout> [rounds, default 3] [--large]\n');
  process.exit(other ? 0 : 2);
}
const large = process.argv.includes('--large');
const rounds = Number(process.argv.slice(3).find((a) => /^\d+$/.test(a)) ?? 3);
const builds = [
  { name: 'this', cli: path.join(ROOT, 'dist/cli.js') },
  { name: path.basename(path.resolve(other)), cli: path.join(path.resolve(other), 'dist/cli.js') },
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
const payload = large ? largeFile() : undefined;

requireWrk();
const results = new Map<string, number[]>();
for (let round = 0; round < rounds; round++) {
  for (const b of round % 2 === 0 ? builds : [...builds].reverse()) {
    const cairn = await startCairn({}, b.cli);
    const target: Target = { kind: 'cairn', url: cairn.url, pid: cairn.child.pid!, credentials: { accessKeyId: BENCH_KEY, secretAccessKey: BENCH_SECRET }, stop: () => cairn.stop() };
    try {
      await createBucket(target, 'bench');
      if (payload) {
        const mover = curlMover(target, payload);
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
        continue;
      }
      await seedObjects(target, 1000, 4096, (i) => `seeded/${i}`);
      for (const c of cells) {
        const request = c.op === 'PUT' ? rotatingPuts(1000, 4096, 'small/') : rotatingGets(1000, 'seeded/');
        const f = await signedLoad(target, { connections: c.conns, warmupSeconds: 1, seconds: 10, request });
        const key = `${c.op} x${c.conns} ${b.name}`;
        results.set(key, [...(results.get(key) ?? []), f.ops]);
        process.stdout.write(`round ${round + 1}/${rounds} ${key}: ${f.ops.toFixed(0)} ops/s, server ${(f.serverCpu * 100).toFixed(0)}% of a core\n`);
      }
    } finally {
      await target.stop();
    }
  }
}
for (const c of cells) {
  const [a, b] = builds.map((x) => stat(results.get(`${c.op} x${c.conns} ${x.name}`)!));
  process.stdout.write(`${c.op} x${c.conns}: ${builds[0]!.name} ${a!.median.toFixed(0)} (${a!.min.toFixed(0)}-${a!.max.toFixed(0)}), ${builds[1]!.name} ${b!.median.toFixed(0)} (${b!.min.toFixed(0)}-${b!.max.toFixed(0)}), ratio ${(a!.median / b!.median).toFixed(3)}\n`);
}
