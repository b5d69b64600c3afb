import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HeadObjectCommand, ListMultipartUploadsCommand, S3Client } from '@aws-sdk/client-s3';
import { hasClient, runOk, rcloneEnv } from '../helpers/clients.js';
import { startTestServer, tmpFiles, type TestServer } from '../helpers/server.js';

// rclone 1.60 multipart against the real server: uploads above --s3-upload-cutoff (200 MiB)
// and every upload of unknown size go in 5 MiB parts; since a multipart ETag is no MD5,
// rclone stores the file's MD5 in X-Amz-Meta-Md5chksum and `check` compares that. Server-side
// copies are CopyObject below --s3-copy-cutoff and UploadPartCopy above it.

const MiB = 1024 * 1024;
const RCLONE_PART = 5 * MiB;
const BIG_SIZE = 300 * MiB;
const STREAM_SIZE = 30 * MiB + 12345;

const md5hex = (b: Buffer) => createHash('md5').update(b).digest('hex');

/** "<md5 of the part MD5s>-<n>" for data cut into `part`-sized pieces. */
class MultipartEtag {
  private readonly md5s: Buffer[] = [];
  private cur = createHash('md5');
  private filled = 0;
  constructor(private readonly part: number) {}
  update(data: Buffer): void {
    let at = 0;
    while (at < data.length) {
      const n = Math.min(this.part - this.filled, data.length - at);
      this.cur.update(data.subarray(at, at + n));
      this.filled += n;
      at += n;
      if (this.filled === this.part) this.flush();
    }
  }
  private flush(): void {
    this.md5s.push(this.cur.digest());
    this.cur = createHash('md5');
    this.filled = 0;
  }
  digest(): string {
    if (this.filled > 0) this.flush();
    return `"${md5hex(Buffer.concat(this.md5s))}-${this.md5s.length}"`;
  }
}

/** Random bytes in 8 MiB pieces, each handed to `sink` (a file write or a pipe). */
async function randomPieces(size: number, sink: (piece: Buffer) => void | Promise<void>): Promise<{ md5: string; etag: string }> {
  const md5 = createHash('md5');
  const etag = new MultipartEtag(RCLONE_PART);
  for (let off = 0; off < size; off += 8 * MiB) {
    const piece = randomBytes(Math.min(8 * MiB, size - off));
    md5.update(piece);
    etag.update(piece);
    await sink(piece);
  }
  return { md5: md5.digest('hex'), etag: etag.digest() };
}

/** `rclone cat` streamed into an MD5 (never buffering the whole object). */
function catMd5(env: NodeJS.ProcessEnv, target: string): Promise<{ md5: string; size: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn('rclone', ['cat', target], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const h = createHash('md5');
    let size = 0;
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => {
      h.update(d);
      size += d.length;
    });
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`rclone cat ${target} exited ${code}: ${Buffer.concat(err).toString()}`));
      else resolve({ md5: h.digest('hex'), size });
    });
  });
}

describe.skipIf(!hasClient('rclone', ['version']))('rclone 1.60 multipart against cairn', () => {
  let srv: TestServer;
  let root: string;
  let src: string;
  let env: NodeJS.ProcessEnv;
  let s3: S3Client;
  let big: { md5: string; etag: string };

  const rclone = (...args: string[]) => runOk('rclone', args, { env, timeoutMs: 150_000 });
  const head = (Key: string, PartNumber?: number) => s3.send(new HeadObjectCommand({ Bucket: 'rcmp', Key, PartNumber }));

  beforeAll(async () => {
    srv = await startTestServer({ writeBuffers: 16 });
    s3 = srv.client();
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-mp-rclone-'));
    src = path.join(root, 'src');
    fs.mkdirSync(src, { recursive: true });
    const fd = fs.openSync(path.join(src, 'big.bin'), 'w');
    try {
      big = await randomPieces(BIG_SIZE, (p) => void fs.writeSync(fd, p));
    } finally {
      fs.closeSync(fd);
    }
    fs.writeFileSync(path.join(src, 'small.txt'), 'a small file next to the big one\n');
    const configFile = path.join(root, 'rclone.conf');
    fs.writeFileSync(configFile, '');
    env = rcloneEnv(srv, configFile);
    await rclone('mkdir', 'cairn:rcmp');
  }, 60_000);

  afterAll(async () => {
    await srv?.stop();
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  it('copy uploads a 300 MiB file in 5 MiB parts and stores its MD5 in X-Amz-Meta-Md5chksum', async () => {
    const r = await rclone('copy', src, 'cairn:rcmp/up', '-v');
    expect(r.stderr).not.toMatch(/ERROR|corrupted|differ/i);
    const h = await head('up/big.bin');
    expect(h.ContentLength).toBe(BIG_SIZE);
    expect(h.ETag).toBe(big.etag);
    expect(h.ETag).toMatch(/-60"$/);
    expect(h.Metadata?.md5chksum).toBe(Buffer.from(big.md5, 'hex').toString('base64'));
    const p60 = await head('up/big.bin', 60);
    expect(p60.PartsCount).toBe(60);
    expect(p60.ContentLength).toBe(RCLONE_PART);
    expect((await s3.send(new ListMultipartUploadsCommand({ Bucket: 'rcmp' }))).Uploads ?? []).toEqual([]);
    expect(tmpFiles(srv)).toEqual([]);
    expect(srv.pool.stats().inUse).toBe(0);
  }, 180_000);

  it('check passes on the multipart object (via X-Amz-Meta-Md5chksum), also with --download', async () => {
    const r = await rclone('check', src, 'cairn:rcmp/up');
    expect(r.stderr).toMatch(/0 differences found/);
    expect(r.stderr).toMatch(/2 matching files/);
    const d = await rclone('check', '--download', src, 'cairn:rcmp/up');
    expect(d.stderr).toMatch(/0 differences found/);
    expect(d.stderr).toMatch(/2 matching files/);
    const entries = JSON.parse((await rclone('lsjson', '--hash', '--files-only', 'cairn:rcmp/up')).stdout) as Array<{ Path: string; Hashes?: { md5?: string } }>;
    expect(entries.find((e) => e.Path === 'big.bin')?.Hashes?.md5).toBe(big.md5);
  }, 180_000);

  it('rcat streams ~30 MiB of unknown size from a pipe as a multipart upload', async () => {
    const child = spawn('rclone', ['rcat', 'cairn:rcmp/stream/piped.bin'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const err: Buffer[] = [];
    child.stderr.on('data', (d: Buffer) => err.push(d));
    const exited = new Promise<number | null>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', resolve);
    });
    const sent = await randomPieces(STREAM_SIZE, async (piece) => {
      // Respect the pipe's back-pressure: the data is never all in memory at once.
      if (!child.stdin.write(piece)) await new Promise((r) => child.stdin.once('drain', r));
    });
    child.stdin.end();
    expect(await exited, Buffer.concat(err).toString()).toBe(0);

    const h = await head('stream/piped.bin');
    expect(h.ContentLength).toBe(STREAM_SIZE);
    // Unknown size: multipart even though it is far below the upload cutoff.
    expect(h.ETag).toBe(sent.etag);
    expect(h.ETag).toMatch(/-7"$/);
    expect(await catMd5(env, 'cairn:rcmp/stream/piped.bin')).toEqual({ md5: sent.md5, size: STREAM_SIZE });
    expect(tmpFiles(srv)).toEqual([]);
  }, 120_000);

  it('copyto server-side: CopyObject by default, UploadPartCopy with --s3-copy-cutoff 50M', async () => {
    const a = await rclone('copyto', 'cairn:rcmp/up/big.bin', 'cairn:rcmp/copies/by-copyobject.bin', '-v');
    expect(a.stderr).toMatch(/Copied \(server-side copy\)/);
    const b = await rclone('copyto', 'cairn:rcmp/up/big.bin', 'cairn:rcmp/copies/by-partcopy.bin', '-v', '--s3-copy-cutoff', '50M');
    expect(b.stderr).toMatch(/Copied \(server-side copy\)/);

    const ha = await head('copies/by-copyobject.bin');
    expect(ha.ContentLength).toBe(BIG_SIZE);
    expect(ha.Metadata?.md5chksum).toBe(Buffer.from(big.md5, 'hex').toString('base64'));
    // CopyObject keeps the source's ETag, so it keeps its part layout: ?partNumber works on the copy.
    expect(ha.ETag).toBe(big.etag);
    const pa = await head('copies/by-copyobject.bin', 60);
    expect([pa.PartsCount, pa.ContentLength, pa.ContentRange]).toEqual([60, RCLONE_PART, `bytes ${59 * RCLONE_PART}-${BIG_SIZE - 1}/${BIG_SIZE}`]);
    const hb = await head('copies/by-partcopy.bin');
    expect(hb.ContentLength).toBe(BIG_SIZE);
    // Six 50 MiB UploadPartCopy parts.
    expect(hb.ETag).toMatch(/^"[0-9a-f]{32}-6"$/);
    expect((await head('copies/by-partcopy.bin', 6)).PartsCount).toBe(6);

    // rclone check compares MD5s (the Md5chksum metadata the copies carry) with the local file.
    fs.mkdirSync(path.join(root, 'cmp'), { recursive: true });
    fs.linkSync(path.join(src, 'big.bin'), path.join(root, 'cmp', 'by-copyobject.bin'));
    fs.linkSync(path.join(src, 'big.bin'), path.join(root, 'cmp', 'by-partcopy.bin'));
    const check = await rclone('check', path.join(root, 'cmp'), 'cairn:rcmp/copies');
    expect(check.stderr).toMatch(/2 matching files/);

    for (const key of ['copies/by-copyobject.bin', 'copies/by-partcopy.bin']) {
      expect(await catMd5(env, `cairn:rcmp/${key}`), key).toEqual({ md5: big.md5, size: BIG_SIZE });
    }
    expect((await s3.send(new ListMultipartUploadsCommand({ Bucket: 'rcmp' }))).Uploads ?? []).toEqual([]);
    expect(tmpFiles(srv)).toEqual([]);
    expect(srv.pool.stats().inUse).toBe(0);
  }, 180_000);
});
