// cairn migrate-metadata on a large store: seeds a temp data dir's SQLite straight through SQL
// (scenarios/listing-seed.ts: N objects in 4 buckets, one chunk row each with every tenth
// shared, chunks up to 32 KiB inline with their bytes as the server's default inline max
// keeps them, tags on a third of the objects), starts a throwaway PostgreSQL cluster, then
// runs the built CLI under /usr/bin/time (wall time, peak memory) into an empty database.
//
//   npm run build && npx tsx bench/migrate-metadata.ts [objects=100000] [inlineMax=32768]
// (inlineMax 0: no chunk bytes in the database, the metadata rows alone)
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startCluster } from '../src/db/pg/cluster.js';
import { ROOT, machine } from './lib.js';
import { seedObjects, type SeedRow } from './scenarios/listing-seed.js';
import { openDb } from '../src/db/client.js';

const N = Number(process.argv[2] ?? 100_000);
const INLINE_MAX = Number(process.argv[3] ?? 32 * 1024);

let seed = 4242;
const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);

function seedStore(dataDir: string): number {
  const t0 = performance.now();
  const init = openDb(path.join(dataDir, 'cairn.db'), { durability: 'relaxed' });
  init.sqlite.prepare('insert or ignore into accounts (id, name, created_at) values (?, ?, ?)').run('a'.repeat(64), 'root', Date.now());
  init.close();
  const buckets = ['logs', 'media', 'backups', 'misc'];
  let lastSize = 0;
  const opened = seedObjects(dataDir, buckets, N, (i): SeedRow => {
    // Log-normal sizes, median ~8 KiB: most objects inline, some file-backed.
    const size = Math.max(1, Math.round(Math.exp(9 + 1.6 * Math.sqrt(-2 * Math.log(rand() || 1e-12)) * Math.cos(2 * Math.PI * rand()))));
    const shares = i % 10 === 9 && lastSize > 0;
    const chunkSize = shares ? lastSize : Math.min(size, 8 * 2 ** 20);
    lastSize = chunkSize;
    const hash = createHash('sha256').update(`chunk-${shares ? i - 1 : i}`).digest('hex');
    return {
      bucket: i % 4,
      key: `dir-${String(i % 100).padStart(2, '0')}/object-${String(i).padStart(7, '0')}.bin`,
      size: chunkSize,
      etag: createHash('md5').update(String(i)).digest('hex'),
      contentType: 'application/octet-stream',
      meta: i % 2 ? '{"owner":"ops"}' : '{}',
      alg: 'CRC32',
      checksum: 'AAAAAA==',
      lastModified: Date.parse('2026-01-01') + i * 1000,
      chunk: { hash, size: chunkSize },
    };
  });
  opened.sqlite.exec(`
    update chunks set data = randomblob(size) where size <= ${INLINE_MAX};
    insert into object_tags (object_id, key, value) select id, 'env', 'prod' from objects where id % 5 = 0;
    insert into object_tags (object_id, key, value) select id, 'project', 'p' || ((id / 10) % 20) from objects where id % 10 < 3;
    update objects set tag_count = (select count(*) from object_tags where object_id = objects.id) where id in (select object_id from object_tags);`);
  opened.sqlite.pragma('wal_checkpoint(TRUNCATE)');
  opened.close();
  return (performance.now() - t0) / 1000;
}

async function main() {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-migbench-'));
  const cluster = await startCluster();
  try {
    const seedS = seedStore(dataDir);
    const dbMiB = fs.statSync(path.join(dataDir, 'cairn.db')).size / 2 ** 20;
    execFileSync('psql', [cluster.url, '-qc', 'create database mig']);
    const timeFile = path.join(dataDir, 'time.txt');
    const args = ['-f', '%e %M', '-o', timeFile, process.execPath, path.join(ROOT, 'dist/cli.js'), 'migrate-metadata', '--from', dataDir, '--to', cluster.urlFor('mig'), '--json', '--no-progress'];
    const load = os.loadavg()[0]!.toFixed(1);
    const run = spawnSync('/usr/bin/time', args, { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
    if (run.status !== 0) throw new Error(`migrate-metadata exited ${run.status}:\n${run.stderr}`);
    const [wall, rssKb] = fs.readFileSync(timeFile, 'utf8').trim().split(/\s+/).map(Number);
    const summary = JSON.parse(run.stdout);
    const rows = summary.tables.map((t: { table: string; rows: number; copyMs: number; verify: { ok: boolean } }) => `| ${t.table} | ${t.rows} | ${(t.copyMs / 1000).toFixed(1)} | ${t.verify.ok ? 'ok' : 'MISMATCH'} |`);
    const pgMiB = Number(execFileSync('psql', [cluster.urlFor('mig'), '-Atc', 'select pg_database_size(current_database())']).toString()) / 2 ** 20;
    process.stdout.write(
      `Machine: ${machine()}\nLoad average (1 min) at start: ${load}\n\n` +
        `Seeded ${N} objects (chunks up to ${INLINE_MAX} bytes inline) in ${seedS.toFixed(1)} s; cairn.db ${dbMiB.toFixed(0)} MiB; PostgreSQL database after: ${pgMiB.toFixed(0)} MiB\n\n` +
        `Whole command (/usr/bin/time): ${wall} s wall, peak RSS ${(rssKb! / 1024).toFixed(0)} MiB; copy ${(summary.copyMs / 1000).toFixed(1)} s (of which index builds ${(summary.indexMs / 1000).toFixed(1)} s), verify ${(summary.verifyMs / 1000).toFixed(1)} s, ok=${summary.ok}\n\n` +
        `| table | rows | copy s | verified |\n|---|---:|---:|---|\n${rows.join('\n')}\n`,
    );
  } finally {
    await cluster.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
