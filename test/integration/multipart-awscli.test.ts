import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GetObjectCommand, HeadObjectCommand, ListMultipartUploadsCommand, S3Client } from '@aws-sdk/client-s3';
import { hasClient, runOk } from '../helpers/clients.js';
import { chunkFiles, startTestServer, tmpFiles, type TestServer } from '../helpers/server.js';

// The real aws CLI (v1, botocore) doing multipart transfers against the real server:
// uploads above 8 MiB go in 8 MiB parts (10 in parallel, CRC32 per part), downloads are
// parallel 8 MiB ranged GETs carrying If-Match, s3->s3 copies above 8 MiB use UploadPartCopy.

const MiB = 1024 * 1024;
const PART = 8 * MiB;

interface Made {
  path: string;
  size: number;
  sha256: string;
  /** What S3 answers for this file uploaded in 8 MiB parts: "<md5 of part md5s>-<n>". */
  multipartEtag: string;
  /** Bytes of part 2 (8 MiB .. 16 MiB). */
  part2: Buffer;
}

/** Writes `size` random bytes in 8 MiB pieces, hashing as it goes (never one giant Buffer). */
function makeRandomFile(p: string, size: number): Made {
  fs.mkdirSync(path.dirname(p), { recursive: true });
  const fd = fs.openSync(p, 'w');
  const whole = createHash('sha256');
  const partMd5s: Buffer[] = [];
  let part2 = Buffer.alloc(0);
  try {
    for (let off = 0; off < size; off += PART) {
      const piece = randomBytes(Math.min(PART, size - off));
      fs.writeSync(fd, piece);
      whole.update(piece);
      partMd5s.push(createHash('md5').update(piece).digest());
      if (off === PART) part2 = piece;
    }
  } finally {
    fs.closeSync(fd);
  }
  const etag = `"${createHash('md5').update(Buffer.concat(partMd5s)).digest('hex')}-${partMd5s.length}"`;
  return { path: p, size, sha256: whole.digest('hex'), multipartEtag: etag, part2 };
}

function sha256File(p: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    fs.createReadStream(p, { highWaterMark: 4 * MiB })
      .on('data', (d) => h.update(d as Buffer))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
  });
}

async function sha256Object(s3: S3Client, Bucket: string, Key: string): Promise<{ sha256: string; size: number }> {
  const res = await s3.send(new GetObjectCommand({ Bucket, Key }));
  const h = createHash('sha256');
  let size = 0;
  for await (const p of res.Body as AsyncIterable<Uint8Array>) {
    h.update(p);
    size += p.length;
  }
  return { sha256: h.digest('hex'), size };
}

const mibps = (bytes: number, ms: number) => (bytes / MiB / (ms / 1000)).toFixed(1);

describe.skipIf(!hasClient('aws'))('aws CLI v1 multipart (path style, plain HTTP)', () => {
  let srv: TestServer;
  let work: string;
  let env: NodeJS.ProcessEnv;
  let s3: S3Client;
  let f100: Made;
  let f1g: Made;
  const aws = (args: string[], timeoutMs = 120_000) => runOk('aws', ['--endpoint-url', srv.url, ...args], { env, timeoutMs });
  const json = async (args: string[]) => JSON.parse((await aws([...args, '--output', 'json'])).stdout) as Record<string, any>;

  beforeAll(async () => {
    // Defaults otherwise (8 MiB chunks = the CLI's part size); relaxed durability from the helper.
    srv = await startTestServer({ writeBuffers: 24 });
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-mp-awscli-'));
    const cfg = path.join(work, 'config');
    fs.writeFileSync(cfg, '[default]\nregion = us-east-1\ns3 =\n  addressing_style = path\n');
    env = { ...srv.env, AWS_CONFIG_FILE: cfg, AWS_PAGER: '', AWS_MAX_ATTEMPTS: '1' };
    s3 = srv.client();
    f100 = makeRandomFile(path.join(work, 'up', 'f100.bin'), 100 * MiB);
    f1g = makeRandomFile(path.join(work, 'up', 'f1g.bin'), 1024 * MiB);
    await aws(['s3', 'mb', 's3://mpu']);
  }, 120_000);

  afterAll(async () => {
    await srv?.stop();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it('cp uploads 100 MiB and 1 GiB files as 8 MiB parts with the multipart ETag', async () => {
    await aws(['s3', 'cp', f100.path, 's3://mpu/f100.bin']);
    const t0 = performance.now();
    await aws(['s3', 'cp', f1g.path, 's3://mpu/f1g.bin'], 180_000);
    const upMs = performance.now() - t0;
    console.log(`aws s3 cp 1 GiB upload: ${(upMs / 1000).toFixed(2)} s = ${mibps(f1g.size, upMs)} MiB/s`);

    for (const f of [f100, f1g]) {
      const head = await json(['s3api', 'head-object', '--bucket', 'mpu', '--key', path.basename(f.path), '--checksum-mode', 'ENABLED']);
      expect(head.ContentLength).toBe(f.size);
      expect(head.ETag).toBe(f.multipartEtag);
      // The CLI asked for CRC32 on Create and sent one per part: a composite "-N" checksum.
      expect(head.ChecksumCRC32).toMatch(new RegExp(`^[A-Za-z0-9+/]{6}==-${Math.ceil(f.size / PART)}$`));
      expect(head.ChecksumType).toBe('COMPOSITE');
    }
    expect(f100.multipartEtag).toMatch(/-13"$/);
    expect(f1g.multipartEtag).toMatch(/-128"$/);
    const ups = await s3.send(new ListMultipartUploadsCommand({ Bucket: 'mpu' }));
    expect(ups.Uploads ?? []).toEqual([]);
    expect(tmpFiles(srv)).toEqual([]);
    expect(srv.pool.stats().inUse).toBe(0);
  }, 240_000);

  it('cp downloads both (parallel ranged GETs with If-Match) byte for byte', async () => {
    const down = path.join(work, 'down');
    await aws(['s3', 'cp', 's3://mpu/f100.bin', path.join(down, 'f100.bin')]);
    expect(await sha256File(path.join(down, 'f100.bin'))).toBe(f100.sha256);
    const t0 = performance.now();
    await aws(['s3', 'cp', 's3://mpu/f1g.bin', path.join(down, 'f1g.bin')], 180_000);
    const downMs = performance.now() - t0;
    console.log(`aws s3 cp 1 GiB download: ${(downMs / 1000).toFixed(2)} s = ${mibps(f1g.size, downMs)} MiB/s`);
    expect(fs.statSync(path.join(down, 'f1g.bin')).size).toBe(f1g.size);
    expect(await sha256File(path.join(down, 'f1g.bin'))).toBe(f1g.sha256);
    fs.rmSync(down, { recursive: true, force: true });
  }, 240_000);

  it('head-object shows the -N ETag; get-object --part-number 2 returns exactly part 2', async () => {
    const head = await json(['s3api', 'head-object', '--bucket', 'mpu', '--key', 'f100.bin']);
    expect(head.ETag).toBe(f100.multipartEtag);
    expect(head.ETag).toMatch(/^"[0-9a-f]{32}-13"$/);
    const headPart = await json(['s3api', 'head-object', '--bucket', 'mpu', '--key', 'f100.bin', '--part-number', '2']);
    expect(headPart.PartsCount).toBe(13);
    expect(headPart.ContentLength).toBe(PART);

    const out = path.join(work, 'part2.bin');
    const got = await json(['s3api', 'get-object', '--bucket', 'mpu', '--key', 'f100.bin', '--part-number', '2', out]);
    expect(got.PartsCount).toBe(13);
    expect(got.ContentLength).toBe(PART);
    expect(got.ContentRange).toBe(`bytes ${PART}-${2 * PART - 1}/${f100.size}`);
    expect(got.ETag).toBe(f100.multipartEtag);
    expect(fs.readFileSync(out).equals(f100.part2)).toBe(true);
  });

  it('cp s3->s3 of the 100 MiB object copies it part by part (UploadPartCopy)', async () => {
    await aws(['s3', 'cp', 's3://mpu/f100.bin', 's3://mpu/copy/f100.bin']);
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'mpu', Key: 'copy/f100.bin' }));
    expect(head.ContentLength).toBe(f100.size);
    // A multipart copy in 8 MiB parts has the same part layout, hence the same ETag; a
    // CopyObject would have kept it too, so the part count below is what proves UploadPartCopy.
    expect(head.ETag).toBe(f100.multipartEtag);
    const part = await s3.send(new HeadObjectCommand({ Bucket: 'mpu', Key: 'copy/f100.bin', PartNumber: 13 }));
    expect(part.PartsCount).toBe(13);
    expect(part.ContentLength).toBe(f100.size - 12 * PART);
    const got = await sha256Object(s3, 'mpu', 'copy/f100.bin');
    expect(got).toEqual({ sha256: f100.sha256, size: f100.size });
    // Whole-chunk ranges share the source's chunk files: no new chunk file appeared for the copy.
    const files = new Set(chunkFiles(srv));
    expect(files.size).toBe(13 + 128);

    // s3api copy-object is one CopyObject; onto itself with new metadata it keeps the
    // "-13" ETag, and with it the part layout that ?partNumber reads.
    await aws(['s3api', 'copy-object', '--bucket', 'mpu', '--key', 'copy/f100.bin', '--copy-source', 'mpu/copy/f100.bin', '--metadata-directive', 'REPLACE', '--metadata', 'k=v']);
    const replaced = await json(['s3api', 'head-object', '--bucket', 'mpu', '--key', 'copy/f100.bin', '--part-number', '2']);
    expect(replaced.Metadata).toEqual({ k: 'v' });
    expect(replaced.ETag).toBe(f100.multipartEtag);
    expect([replaced.PartsCount, replaced.ContentLength, replaced.ContentRange]).toEqual([13, PART, `bytes ${PART}-${2 * PART - 1}/${f100.size}`]);
  }, 120_000);

  it('sync uploads a tree with a 40 MiB file once; a second sync transfers nothing', async () => {
    const tree = path.join(work, 'tree');
    const big = makeRandomFile(path.join(tree, 'data', 'forty.bin'), 40 * MiB);
    const small: Record<string, Buffer> = {
      'a.txt': Buffer.from('alpha\n'),
      'sub/b.txt': randomBytes(3000),
      'sub/deeper/c.bin': randomBytes(100_000),
      'empty': Buffer.alloc(0),
    };
    for (const [rel, data] of Object.entries(small)) {
      fs.mkdirSync(path.dirname(path.join(tree, rel)), { recursive: true });
      fs.writeFileSync(path.join(tree, rel), data);
    }
    // S3 lists LastModified in whole seconds and sync re-uploads when the local mtime is later,
    // so a file written in the same second as its upload is re-sent (as against AWS): give
    // the tree an mtime in the past, like any tree that was not created a moment ago.
    const past = new Date(Date.now() - 3_600_000);
    for (const rel of [...Object.keys(small), 'data/forty.bin']) fs.utimesSync(path.join(tree, rel), past, past);
    const first = await aws(['s3', 'sync', tree, 's3://mpu/tree/']);
    const uploads = first.stdout.split(/\r|\n/).filter((l) => l.startsWith('upload:'));
    expect(uploads.length).toBe(5);
    const second = await aws(['s3', 'sync', tree, 's3://mpu/tree/']);
    expect(second.stdout.trim()).toBe('');

    const head = await s3.send(new HeadObjectCommand({ Bucket: 'mpu', Key: 'tree/data/forty.bin' }));
    expect(head.ETag).toBe(big.multipartEtag);
    expect(head.ETag).toMatch(/-5"$/);
    expect(await sha256Object(s3, 'mpu', 'tree/data/forty.bin')).toEqual({ sha256: big.sha256, size: big.size });
    for (const [rel, data] of Object.entries(small)) {
      const got = await sha256Object(s3, 'mpu', `tree/${rel}`);
      expect(got).toEqual({ sha256: createHash('sha256').update(data).digest('hex'), size: data.length });
    }
    expect(tmpFiles(srv)).toEqual([]);
    expect(srv.pool.stats().inUse).toBe(0);
  }, 120_000);
});
