// Diagnostic (not a scenario): `npx tsx bench/prof-pg-get.ts <profile dir> [postgres|sqlite]`.
// One gateway, 4 KiB GETs from wrk at 16 connections; prints the gateway's CPU per GET (user,
// sys), its PostgreSQL backends' CPU per GET and the transactions per GET (pg_stat_database), and
// writes a CPU profile of the counted window (bench/cpu-prof-preload.mjs) unless PROF=0.
// MICRO=1: then bench/micro-pg-get.ts on the seeded database.
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from './lib.js';
import pg from 'pg';
import { startTarget } from './harness.js';
import { startCluster } from '../src/db/pg/cluster.js';
import { rotatingGets, seedObjects, signedLoad } from './scenarios/signed-load.js';

const dir = process.argv[2] ?? '/tmp/pgprof';
const engine = process.argv[3] ?? 'postgres';
const cluster = await startCluster({ durable: true });
try {
  const env: Record<string, string> = { CAIRN_GC_INTERVAL: '0', CAIRN_SCRUB_INTERVAL: '0', CAIRN_LIFECYCLE_INTERVAL: '0' };
  let url = '';
  if (engine === 'postgres') {
    const c = new pg.Client(cluster.url);
    await c.connect();
    await c.query('create database prof');
    await c.end();
    url = cluster.urlFor('prof');
    env.CAIRN_METADATA_URL = url;
  }
  const t = await startTarget('cairn', { env: { ...env, ...(process.env.PROF === '0' ? {} : { NODE_OPTIONS: `--import=${path.join(ROOT, 'bench/cpu-prof-preload.mjs')}`, PROF_DIR: dir }) } });
  await seedObjects(t, 1000, 4096, (i) => `seeded/${i}`);
  const pidCpu = (pid: number) => {
    try {
      const st = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
      return (Number(f[11]) + Number(f[12])) / 100;
    } catch {
      return 0;
    }
  };
  let backends: number[] = [];
  const calls = async () => {
    if (!url) return 0;
    const c = new pg.Client(url);
    await c.connect();
    const r = await c.query(`select sum(xact_commit)::int8 as n from pg_stat_database where datname = 'prof'`);
    const b = await c.query(`select pid from pg_stat_activity where datname = 'prof' and application_name like 'cairn%'`);
    if (backends.length === 0) backends = b.rows.map((x) => x.pid as number);
    await c.end();
    return Number(r.rows[0].n);
  };
  const pgCpu = () => backends.reduce((a, p) => a + pidCpu(p), 0);
  const cpu = () => {
    const st = fs.readFileSync(`/proc/${t.pid}/stat`, 'utf8');
    const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
    return [Number(f[11]) / 100, Number(f[12]) / 100];
  };
  const before = await calls();
  const c0 = cpu();
  const p0 = pgCpu();
  if (process.env.PROF !== '0') setTimeout(() => process.kill(t.pid, 'SIGUSR2'), 2000).unref();
  const f = await signedLoad(t, { connections: 16, warmupSeconds: 1, seconds: Number(process.env.SECONDS_ ?? 10), request: rotatingGets(1000, 'seeded/') });
  if (process.env.PROF !== '0') process.kill(t.pid, 'SIGUSR2');
  await new Promise((r) => setTimeout(r, 800));
  const after = await calls();
  const c1 = cpu();
  const p1 = pgCpu();
  const n = f.responses * (11 / 10);
  console.log(`gateway per GET (window+warm-up, approx): user ${((c1[0]! - c0[0]!) / n * 1e6).toFixed(0)} µs, sys ${((c1[1]! - c0[1]!) / n * 1e6).toFixed(0)} µs; its ${backends.length} PostgreSQL backends ${(((p1 - p0) / n) * 1e6).toFixed(0)} µs`);
  console.log(`${engine}: ${f.ops.toFixed(0)} ops/s, server CPU ${(f.serverCpu * 100).toFixed(0)}%, responses ${f.responses}; xacts ${after - before} (${((after - before) / f.responses).toFixed(2)} per counted response, incl. warm-up)`);
  if (process.env.MICRO === '1' && url) await (await import('./micro-pg-get.js')).micro(url);
  await t.stop();
} finally {
  await cluster.stop();
}
