// The write order of a PUT, observed with strace on the built server (`dist/cli.js serve`):
// for every chunk, tmp file opened -> fdatasync -> rename into chunks/ab/cd/ -> fsync of that
// directory; then the SQLite commit's WAL sync (synchronous=FULL); then the response. The
// response time is the moment the SDK had it, on the same clock as strace's timestamps.
import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { hasClient } from '../helpers/clients.js';
import { CLI } from '../helpers/process.js';
import { TEST_ACCESS_KEY, TEST_SECRET } from '../helpers/server.js';

const haveStrace = hasClient('strace', ['-V']);
const CHUNK = 256 * 1024;
const SYSCALLS = 'openat,fdatasync,fsync,rename,renameat,renameat2';
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

interface Call {
  name: string;
  /** Raw argument text (with -y: fds carry their path, `23</data/chunks/ab/cd>`). */
  args: string;
  ret: string;
  /** Entry and exit, seconds since the epoch (strace -ttt, -T). */
  start: number;
  end: number;
}

/** Parses `strace -f -ttt -T -y` output, joining `<unfinished ...>` with `<... resumed>` lines. */
function parseTrace(text: string): Call[] {
  const calls: Call[] = [];
  const open = new Map<string, { name: string; args: string; start: number }>();
  for (const line of text.split('\n')) {
    const m = /^(\d+)\s+(\d+\.\d+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const [, pid, ts, rest] = m;
    const t = Number(ts);
    let u = /^(\w+)\((.*) <unfinished \.\.\.>$/.exec(rest);
    if (u) {
      open.set(`${pid}:${u[1]}`, { name: u[1], args: u[2], start: t });
      continue;
    }
    u = /^<\.\.\. (\w+) resumed>(.*)\) += (.*?)(?: <(\d+\.\d+)>)?$/.exec(rest);
    if (u) {
      const begun = open.get(`${pid}:${u[1]}`);
      open.delete(`${pid}:${u[1]}`);
      if (begun) calls.push({ name: begun.name, args: begun.args + u[2], ret: u[3], start: begun.start, end: t });
      continue;
    }
    u = /^(\w+)\((.*)\) += (.*?)(?: <(\d+\.\d+)>)?$/.exec(rest);
    if (u) calls.push({ name: u[1], args: u[2], ret: u[3], start: t, end: t + Number(u[4] ?? 0) });
  }
  return calls.sort((a, b) => a.start - b.start);
}

const quoted = (args: string) => [...args.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]);
/** The path strace -y printed for the first fd argument. */
const fdPath = (args: string) => /^\d+<([^>]*)>/.exec(args)?.[1];

async function tracePut(durability: 'fsync' | 'relaxed') {
  const dataDir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-strace-')));
  dirs.push(dataDir);
  const traceFile = path.join(dataDir, '..', `${path.basename(dataDir)}.strace`);
  dirs.push(traceFile);
  const child = spawn('strace', ['-f', '-ttt', '-T', '-y', '-e', `trace=${SYSCALLS}`, '-o', traceFile, process.execPath, CLI, 'serve', '--host', '127.0.0.1'], {
    env: {
      ...process.env,
      CAIRN_DATA_DIR: dataDir,
      CAIRN_PORT: '0',
      CAIRN_ADMIN_PORT: '0',
      CAIRN_ACCESS_KEY_ID: TEST_ACCESS_KEY,
      CAIRN_SECRET_ACCESS_KEY: TEST_SECRET,
      CAIRN_CHUNK_SIZE: String(CHUNK),
      CAIRN_DURABILITY: durability,
      // Nothing in the background: every sync in the trace window belongs to the PUT.
      CAIRN_GC_INTERVAL: '0',
      CAIRN_SCRUB_INTERVAL: '0',
      CAIRN_LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = await new Promise<{ url: string; pid: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ready line within 30 s:\n${out}`)), 30_000);
    child.stdout.on('data', () => {
      const line = out.split('\n').find((l) => l.includes('cairn ready on'));
      if (!line) return;
      clearTimeout(timer);
      const { pid, endpoint } = JSON.parse(line) as { pid: number; endpoint: string };
      resolve({ url: endpoint, pid });
    });
    child.once('exit', () => reject(new Error(`strace or cairn exited before ready:\n${out}`)));
  });
  const s3 = new S3Client({ endpoint: ready.url, region: 'us-east-1', forcePathStyle: true, maxAttempts: 1, credentials: { accessKeyId: TEST_ACCESS_KEY, secretAccessKey: TEST_SECRET } });
  const now = () => (performance.timeOrigin + performance.now()) / 1000;
  let sent: number;
  let answered: number;
  const body = randomBytes(2 * CHUNK + 90_000);
  try {
    await s3.send(new CreateBucketCommand({ Bucket: 'order' }));
    sent = now();
    await s3.send(new PutObjectCommand({ Bucket: 'order', Key: 'traced', Body: body }));
    answered = now();
  } finally {
    s3.destroy();
    // SIGTERM to cairn itself (strace passes it through and exits when its tracee does).
    process.kill(ready.pid, 'SIGTERM');
    await exited;
  }
  const hashes = [0, CHUNK, 2 * CHUNK].map((o) => createHash('sha256').update(body.subarray(o, Math.min(o + CHUNK, body.length))).digest('hex'));
  const calls = parseTrace(fs.readFileSync(traceFile, 'utf8')).filter((c) => c.start >= sent);
  return { dataDir, calls, sent, answered, hashes };
}

describe.skipIf(!haveStrace)('PUT write order under strace (default fsync durability)', () => {
  it('chunk fdatasync -> rename -> directory fsync, for every chunk; then the WAL sync of the commit; then the response', async () => {
    const { dataDir, calls, answered, hashes } = await tracePut('fsync');
    const tmpDir = path.join(dataDir, 'tmp') + '/';
    const walSyncs = calls.filter((c) => (c.name === 'fsync' || c.name === 'fdatasync') && fdPath(c.args) === path.join(dataDir, 'cairn.db-wal'));
    const order: string[] = [];
    let lastDirSync = 0;
    for (const hash of hashes) {
      const target = path.join(dataDir, 'chunks', hash.slice(0, 2), hash.slice(2, 4), hash);
      const rename = calls.find((c) => c.name.startsWith('rename') && quoted(c.args)[1] === target);
      expect(rename, `rename into ${target}`).toBeDefined();
      expect(rename!.ret).toBe('0');
      const tmp = quoted(rename!.args)[0];
      expect(tmp.startsWith(tmpDir)).toBe(true);
      const opened = calls.find((c) => c.name === 'openat' && quoted(c.args)[0] === tmp);
      expect(opened?.args).toMatch(/O_CREAT/);
      const datasync = calls.find((c) => (c.name === 'fdatasync' || c.name === 'fsync') && fdPath(c.args) === tmp);
      expect(datasync, `fdatasync of ${tmp}`).toBeDefined();
      expect(datasync!.ret).toBe('0');
      const dirSync = calls.find((c) => c.name === 'fsync' && fdPath(c.args) === path.dirname(target) && c.start >= rename!.end);
      expect(dirSync, `fsync of ${path.dirname(target)} after the rename`).toBeDefined();
      expect(dirSync!.ret).toBe('0');
      expect(opened!.end).toBeLessThanOrEqual(datasync!.start);
      expect(datasync!.end).toBeLessThanOrEqual(rename!.start);
      expect(rename!.end).toBeLessThanOrEqual(dirSync!.start);
      lastDirSync = Math.max(lastDirSync, dirSync!.end);
      order.push(`${hash.slice(0, 8)}: openat tmp ${opened!.start.toFixed(6)}, ${datasync!.name} ${datasync!.start.toFixed(6)}-${datasync!.end.toFixed(6)}, rename ${rename!.start.toFixed(6)}, fsync dir ${dirSync!.start.toFixed(6)}-${dirSync!.end.toFixed(6)}`);
    }
    // The commit: the first sync of the WAL after the PUT began comes after every chunk is durable,
    // and it is done before the client has its answer.
    expect(walSyncs.length, 'a WAL sync (synchronous=FULL) during the PUT').toBeGreaterThan(0);
    const commit = walSyncs[0];
    expect(commit.ret).toBe('0');
    expect(commit.start).toBeGreaterThanOrEqual(lastDirSync);
    expect(commit.end).toBeLessThan(answered);
    order.push(`commit: ${commit.name}(cairn.db-wal) ${commit.start.toFixed(6)}-${commit.end.toFixed(6)}; response at the SDK ${answered.toFixed(6)}`);
    console.log(`write order observed:\n  ${order.join('\n  ')}`);
  });

  it('relaxed durability, for contrast: no chunk fdatasync and no WAL sync before the response', async () => {
    const { dataDir, calls, answered } = await tracePut('relaxed');
    const before = calls.filter((c) => c.start < answered);
    expect(before.some((c) => c.name.startsWith('rename') && quoted(c.args)[1]?.includes('/chunks/'))).toBe(true);
    expect(before.filter((c) => c.name === 'fdatasync' || c.name === 'fsync').map((c) => fdPath(c.args))).not.toContain(path.join(dataDir, 'cairn.db-wal'));
    expect(before.filter((c) => c.name === 'fdatasync' || c.name === 'fsync')).toEqual([]);
  });
});
