// Times `cairn find --data-dir` (the built CLI, a fresh process per run) over a seeded SQLite
// file with 1,000,000 objects in three buckets. Only rows are seeded (one chunk row per object,
// every tenth shared with the object before; no chunk files): find reads nothing else. No
// ANALYZE, like a fresh server.
//
//   npm run build && npx tsx bench/cli-find.ts [--objects 1000000] [--dir /tmp/cairn-find-bench] [--runs 3]
//
// The data dir is kept between runs (seeding takes a while); delete it to reseed.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { openDb } from '../src/db/client.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(ROOT, 'dist/cli.js');

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : fallback;
}
const N = Number(arg('objects', '1000000'));
const DIR = arg('dir', path.join(os.tmpdir(), `cairn-find-bench-${N}`));
const RUNS = Number(arg('runs', '3'));

const BUCKETS = [
  { name: 'photos', share: 0.6, types: ['image/jpeg', 'image/png', 'image/heic'] },
  { name: 'logs', share: 0.3, types: ['text/plain', 'application/gzip'] },
  { name: 'backups', share: 0.1, types: ['application/octet-stream', 'application/x-tar'] },
];
const WORDS = ['report', 'invoice', 'holiday', 'scan', 'draft', 'final', 'thumb', 'raw', 'export', 'data'];
const OWNERS = ['alice', 'bob', 'carol', 'dave', 'erin'];
const T0 = Date.parse('2023-01-01T00:00:00Z');
const SPAN = 2 * 365 * 86_400_000;

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    // xorshift32
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 0x100000000;
  };
}

function seed(): void {
  fs.mkdirSync(DIR, { recursive: true });
  const started = Date.now();
  const { sqlite, close } = openDb(path.join(DIR, 'cairn.db'), { durability: 'relaxed' });
  sqlite.pragma('synchronous = OFF');
  const rand = rng(42);
  const insBucket = sqlite.prepare('insert into buckets (name, region, owner_id, created_at) values (?, ?, (select id from accounts order by rowid limit 1), ?)');
  const ids = BUCKETS.map((b) => Number(insBucket.run(b.name, 'us-east-1', T0).lastInsertRowid));
  const insChunk = sqlite.prepare('insert into chunks (hash, size, crc32c, refcount, created_at) values (?, ?, 0, 1, ?) on conflict(hash) do update set refcount = refcount + 1');
  const insRef = sqlite.prepare('insert into object_chunks (object_id, seq, offset, size, chunk_hash) values (?, 0, 0, ?, ?)');
  let lastHash = '';
  const ins = sqlite.prepare(
    `insert into objects (bucket_id, key, size, etag, content_type, storage_class, user_metadata, checksum_algorithm, checksum_value, checksum_type, part_count, last_modified)
     values (?, ?, ?, ?, ?, 'STANDARD', ?, ?, ?, ?, ?, ?)`,
  );
  let i = 0;
  const batch = sqlite.transaction((count: number) => {
    for (let j = 0; j < count; j++, i++) {
      const r = rand();
      const b = r < BUCKETS[0]!.share ? 0 : r < BUCKETS[0]!.share + BUCKETS[1]!.share ? 1 : 2;
      const bucket = BUCKETS[b]!;
      const t = T0 + Math.floor(rand() * SPAN);
      const d = new Date(t).toISOString();
      const word = WORDS[Math.floor(rand() * WORDS.length)]!;
      const key = `${d.slice(0, 4)}/${d.slice(5, 7)}/${d.slice(8, 10)}/${word}-${i.toString(36)}.${bucket.name === 'photos' ? 'jpg' : bucket.name === 'logs' ? 'log' : 'tar'}`;
      // Log-uniform sizes from 100 B to ~1 GiB.
      const size = Math.floor(100 * Math.pow(10, rand() * 7));
      const etag = `"${(i * 2654435761 >>> 0).toString(16).padStart(8, '0').repeat(4)}"`;
      const type = bucket.types[Math.floor(rand() * bucket.types.length)]!;
      const meta = rand() < 0.3 ? JSON.stringify({ owner: OWNERS[Math.floor(rand() * OWNERS.length)] }) : '{}';
      const crc = rand() < 0.5;
      const parts = size > 64 * 1024 * 1024 ? Math.ceil(size / (16 * 1024 * 1024)) : null;
      const id = ins.run(ids[b], key, size, parts ? etag.replace(/"$/, `-${parts}"`) : etag, type, meta, crc ? 'CRC32' : null, crc ? 'AAAAAA==' : null, crc ? 'FULL_OBJECT' : null, parts, t).lastInsertRowid;
      const hash = i % 10 === 9 && lastHash ? lastHash : (i.toString(16).padStart(8, '0') + '0'.repeat(56));
      const chunkSize = Math.min(size, 8 << 20);
      insChunk.run(hash, chunkSize, t);
      insRef.run(id, chunkSize, hash);
      lastHash = hash;
    }
  });
  while (i < N) {
    batch(Math.min(50_000, N - i));
    process.stderr.write(`\rseeded ${i}/${N}`);
  }
  sqlite.pragma('wal_checkpoint(TRUNCATE)');
  close();
  process.stderr.write(`\nseeded ${N} objects in ${((Date.now() - started) / 1000).toFixed(1)} s (${DIR})\n`);
}

function time(args: string[]): { ms: number[]; bytes: number; code: number } {
  const ms: number[] = [];
  let bytes = 0;
  let code = 0;
  const outFile = path.join(os.tmpdir(), `cairn-find-bench-${process.pid}.out`);
  for (let r = 0; r < RUNS; r++) {
    // stdout to a file: a million objects of JSON need not pass through this process.
    const fd = fs.openSync(outFile, 'w');
    const t = process.hrtime.bigint();
    const res = spawnSync(process.execPath, [CLI, ...args, '--data-dir', DIR], { stdio: ['ignore', fd, 'pipe'], env: { ...process.env, CAIRN_DATA_DIR: '' } });
    ms.push(Number(process.hrtime.bigint() - t) / 1e6);
    fs.closeSync(fd);
    bytes = fs.statSync(outFile).size;
    code = res.status ?? 1;
    if (code !== 0) process.stderr.write(res.stderr.toString());
  }
  fs.rmSync(outFile, { force: true });
  return { ms, bytes, code };
}

if (!fs.existsSync(CLI)) throw new Error('run `npm run build` first');
if (!fs.existsSync(path.join(DIR, 'cairn.db'))) seed();

// A cursor ~30% into the whole listing, for "a deep page costs what the first one does".
const deepAt = Math.floor(N * 0.3);
const deep = spawnSync(process.execPath, [CLI, 'find', '--limit', String(deepAt), '--json', '--data-dir', DIR], { maxBuffer: 1024 ** 3 });
const cursor = JSON.parse(deep.stdout.toString()).nextCursor as string;

const cases: Array<[string, string[]]> = [
  ['startup only: cairn --help', ['--help']],
  ['find (first 100 by key, all buckets)', ['find', '--json']],
  ['find --bucket logs --prefix 2024/05/', ['find', '--bucket', 'logs', '--prefix', '2024/05/', '--json']],
  ['find --min-size 500MiB --sort size --order desc', ['find', '--min-size', '500MiB', '--sort', 'size', '--order', 'desc', '--json']],
  ['find --bucket photos --modified-after 2024-12-01 --sort modified --order desc', ['find', '--bucket', 'photos', '--modified-after', '2024-12-01', '--sort', 'modified', '--order', 'desc', '--json']],
  ['find --contains invoice (substring, scan)', ['find', '--contains', 'invoice', '--json']],
  ['find --contains no-such-text (full scan, no match)', ['find', '--contains', 'no-such-text', '--json']],
  ['find --meta owner=alice', ['find', '--meta', 'owner=alice', '--json']],
  ['find --meta owner=alice --meta project=x (matches nothing: full walk)', ['find', '--meta', 'owner=alice', '--meta', 'project=x', '--json']],
  ['find --content-type image/* --sort size', ['find', '--content-type', 'image/*', '--sort', 'size', '--json']],
  ['find --bucket photos --content-type image/png --meta owner=erin --min-size 1MiB', ['find', '--bucket', 'photos', '--content-type', 'image/png', '--meta', 'owner=erin', '--min-size', '1MiB', '--json']],
  ['find --checksum-algorithm NONE --bucket backups --limit 1000', ['find', '--checksum-algorithm', 'NONE', '--bucket', 'backups', '--limit', '1000', '--json']],
  [`find --limit 1000 --cursor <after ${deepAt} objects>`, ['find', '--limit', '1000', '--cursor', cursor, '--json']],
  ['find --bucket logs --all --json (every match, streamed)', ['find', '--bucket', 'logs', '--all', '--json']],
  ['find --all --json (all 1M objects, streamed)', ['find', '--all', '--json']],
  ['find --bucket logs --all (human lines)', ['find', '--bucket', 'logs', '--all']],
  ['ls (bucket summaries: counts, logical and physical bytes)', ['ls', '--json']],
  ['stats', ['stats', '--json']],
];

const rows: string[] = [];
for (const [name, args] of cases) {
  const r = time(args);
  const sorted = [...r.ms].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  const line = `| ${name} | ${median.toFixed(0)} | ${sorted[0]!.toFixed(0)} | ${(r.bytes / 1024).toFixed(0)} KiB |${r.code !== 0 ? ` exit ${r.code}` : ''}`;
  rows.push(line);
  process.stdout.write(line + '\n');
}
process.stdout.write(`\n${N} objects, ${RUNS} runs each (median/min wall ms of a whole CLI process), node ${process.version}, ${os.cpus().length} CPUs, load ${os.loadavg()[0]!.toFixed(1)}\n`);
