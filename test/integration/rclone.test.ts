import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { startTestServer, tmpFiles, type TestServer } from '../helpers/server.js';
import { hasClient, run, runOk, rcloneEnv } from '../helpers/clients.js';

// rclone 1.60 against the real server, configured only by environment (no config file):
// it HEADs after every upload and checks ETag == MD5 and size, keeps mtimes in
// X-Amz-Meta-Mtime, and `check` compares MD5 ETags with local MD5s.

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
const MiB = 1024 * 1024;

interface LsEntry {
  Path: string;
  Name: string;
  Size: number;
  ModTime: string;
  IsDir: boolean;
  Hashes?: { md5?: string };
}

// Awkward names rclone must carry through path encoding, listings and copy sources.
const SMALL: Record<string, Buffer> = {
  'a b c.txt': Buffer.from('spaces in the name\n'),
  'plus+sign.txt': Buffer.from('plus\n'),
  'percent%20not-a-space.txt': Buffer.from('percent\n'),
  'ünïcødé 文件.txt': Buffer.from('unicode ✓\n'),
  'dir/sub dir/nested+%.txt': randomBytes(12345),
  'empty.txt': Buffer.alloc(0),
};
const BIG_NAME = 'big.bin';
// Fractional seconds on purpose: rclone keeps sub-second precision in X-Amz-Meta-Mtime.
const MTIME = new Date('2021-03-04T05:06:07.250Z');

describe.skipIf(!hasClient('rclone', ['version']))('rclone 1.60 against cairn', () => {
  let srv: TestServer;
  let root: string;
  let src: string;
  let env: NodeJS.ProcessEnv;
  let big: Buffer;
  const files = new Map<string, Buffer>();

  const rclone = (...args: string[]) => runOk('rclone', args, { env, timeoutMs: 60_000 });

  beforeAll(async () => {
    srv = await startTestServer({ chunkSize: '8MiB', writeBuffers: 8 });
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-rclone-'));
    src = path.join(root, 'src');
    big = randomBytes(64 * MiB);
    files.set(BIG_NAME, big);
    for (const [name, data] of Object.entries(SMALL)) files.set(name, data);
    for (const [name, data] of files) {
      const p = path.join(src, name);
      fs.mkdirSync(path.dirname(p), { recursive: true });
      fs.writeFileSync(p, data);
      fs.utimesSync(p, MTIME, MTIME);
    }
    const configFile = path.join(root, 'rclone.conf');
    fs.writeFileSync(configFile, '');
    env = rcloneEnv(srv, configFile);
  });

  afterAll(async () => {
    await srv?.stop();
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  async function lsjson(target: string, extra: string[] = []): Promise<LsEntry[]> {
    const r = await rclone('lsjson', '-R', '--files-only', ...extra, target);
    return JSON.parse(r.stdout) as LsEntry[];
  }

  it('mkdir creates the bucket', async () => {
    await rclone('mkdir', 'cairn:rclone');
    const r = await rclone('lsd', 'cairn:');
    expect(r.stdout).toMatch(/\srclone$/m);
  });

  it('copy uploads a tree (64 MiB single PUT and awkward names); rclone verifies every upload', async () => {
    // -v so a failed post-upload verification (ETag/size/mtime) shows up in stderr.
    const r = await rclone('copy', src, 'cairn:rclone', '-v');
    expect(r.stderr).not.toMatch(/ERROR|corrupted|differ/i);
    const s3 = srv.client();
    for (const [name, data] of files) {
      const head = await s3.send(new HeadObjectCommand({ Bucket: 'rclone', Key: name }));
      expect(head.ContentLength, name).toBe(data.length);
      expect(head.ETag, name).toBe(`"${md5(data)}"`);
      // rclone stores the mtime as seconds with a fraction.
      expect(Number(head.Metadata?.mtime), name).toBeCloseTo(MTIME.getTime() / 1000, 3);
    }
    expect(tmpFiles(srv)).toEqual([]);
  });

  it('ls and lsjson list sizes, names, MD5s and mtimes', async () => {
    const ls = await rclone('ls', 'cairn:rclone');
    const listed = new Map(
      ls.stdout
        .split('\n')
        .filter(Boolean)
        .map((line) => {
          const m = /^\s*(\d+) (.*)$/.exec(line)!;
          return [m[2], Number(m[1])] as const;
        }),
    );
    expect(new Map([...files].map(([n, d]) => [n, d.length]))).toEqual(listed);

    const entries = await lsjson('cairn:rclone', ['--hash']);
    expect(entries.map((e) => e.Path).sort()).toEqual([...files.keys()].sort());
    for (const e of entries) {
      const data = files.get(e.Path)!;
      expect(e.Size, e.Path).toBe(data.length);
      expect(e.Name, e.Path).toBe(path.posix.basename(e.Path));
      expect(e.Hashes?.md5, e.Path).toBe(md5(data));
      // X-Amz-Meta-Mtime round-trips: same instant as the source file, to the second.
      expect(Math.floor(Date.parse(e.ModTime) / 1000), e.Path).toBe(Math.floor(MTIME.getTime() / 1000));
    }
  });

  it('check passes (MD5 ETags equal local MD5s) and detects a difference', async () => {
    await rclone('check', src, 'cairn:rclone');
    await rclone('check', src, 'cairn:rclone', '--download', '--exclude', BIG_NAME);
    const other = path.join(root, 'other');
    fs.mkdirSync(other, { recursive: true });
    fs.writeFileSync(path.join(other, 'plus+sign.txt'), 'PLUS\n');
    const r = await run('rclone', ['check', other, 'cairn:rclone', '--one-way'], { env });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/1 differences found/);
  });

  it('cat returns identical bytes', async () => {
    for (const [name, data] of files) {
      const r = await runCatBinary(env, `cairn:rclone/${name}`);
      expect(r.length, name).toBe(data.length);
      expect(md5(r), name).toBe(md5(data));
    }
    const part = await runCatBinary(env, `cairn:rclone/${BIG_NAME}`, ['--offset', String(10 * MiB + 3), '--count', '1000']);
    expect(part.equals(big.subarray(10 * MiB + 3, 10 * MiB + 1003))).toBe(true);
  });

  it('copyto on the same remote is a server-side CopyObject', async () => {
    const r = await rclone('copyto', `cairn:rclone/${BIG_NAME}`, 'cairn:rclone/copies/big copy+1.bin', '-v');
    expect(r.stderr).toMatch(/Copied \(server-side copy\)/);
    await rclone('copyto', 'cairn:rclone/ünïcødé 文件.txt', 'cairn:rclone/copies/ü 2%.txt');
    const entries = await lsjson('cairn:rclone/copies', ['--hash']);
    const byPath = new Map(entries.map((e) => [e.Path, e]));
    expect(byPath.get('big copy+1.bin')?.Size).toBe(big.length);
    expect(byPath.get('big copy+1.bin')?.Hashes?.md5).toBe(md5(big));
    expect(byPath.get('ü 2%.txt')?.Hashes?.md5).toBe(md5(SMALL['ünïcødé 文件.txt']));
    // The copy keeps the source's mtime metadata.
    expect(Math.floor(Date.parse(byPath.get('big copy+1.bin')!.ModTime) / 1000)).toBe(Math.floor(MTIME.getTime() / 1000));
    const copied = await runCatBinary(env, 'cairn:rclone/copies/big copy+1.bin');
    expect(md5(copied)).toBe(md5(big));
  });

  it('delete removes files', async () => {
    await rclone('delete', 'cairn:rclone/copies');
    await rclone('delete', 'cairn:rclone', '--include', 'plus+sign.txt');
    const entries = await lsjson('cairn:rclone');
    const names = entries.map((e) => e.Path);
    expect(names).not.toContain('plus+sign.txt');
    expect(names.some((n) => n.startsWith('copies/'))).toBe(false);
    expect(names).toContain('a b c.txt');
  });

  it('sync uploads the tree once; a second sync transfers nothing; deletions propagate', async () => {
    const first = await rclone('sync', src, 'cairn:rcsync', '-v', '--stats-one-line', '--stats', '0');
    const copiedFirst = (first.stderr.match(/: Copied \(new\)/g) ?? []).length;
    expect(copiedFirst).toBe(files.size);
    await rclone('check', src, 'cairn:rcsync');

    const second = await rclone('sync', src, 'cairn:rcsync', '-v', '--stats-one-line', '--stats', '0');
    expect(second.stderr).not.toMatch(/Copied|Updated|Deleted/);
    expect(second.stderr).toMatch(/There was nothing to transfer|0 B \/ 0 B/);

    fs.rmSync(path.join(src, 'empty.txt'));
    try {
      const third = await rclone('sync', src, 'cairn:rcsync', '-v');
      expect(third.stderr).toMatch(/empty\.txt: Deleted/);
      const names = (await lsjson('cairn:rcsync')).map((e) => e.Path);
      expect(names).not.toContain('empty.txt');
      expect(names).toHaveLength(files.size - 1);
    } finally {
      fs.writeFileSync(path.join(src, 'empty.txt'), '');
    }
  });

  it('rmdir removes an empty bucket, refuses a full one; purge removes everything', async () => {
    await rclone('mkdir', 'cairn:rcempty');
    await rclone('rmdir', 'cairn:rcempty');
    const full = await run('rclone', ['rmdir', 'cairn:rcsync'], { env });
    expect(full.code).not.toBe(0);
    await rclone('purge', 'cairn:rcsync');
    await rclone('purge', 'cairn:rclone');
    const lsd = await rclone('lsd', 'cairn:');
    expect(lsd.stdout.trim()).toBe('');
    expect(srv.repo.listBuckets()).toEqual([]);
    expect(tmpFiles(srv)).toEqual([]);
    expect(srv.pool.stats().inUse).toBe(0);
  });
});

/** `rclone cat` with binary-safe stdout (run() decodes as UTF-8). */
async function runCatBinary(env: NodeJS.ProcessEnv, target: string, extra: string[] = []): Promise<Buffer> {
  const { spawn } = await import('node:child_process');
  return new Promise((resolve, reject) => {
    const child = spawn('rclone', ['cat', ...extra, target], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`rclone cat ${target} exited ${code}: ${Buffer.concat(err).toString()}`));
      else resolve(Buffer.concat(out));
    });
  });
}
