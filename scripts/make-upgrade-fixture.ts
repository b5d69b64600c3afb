// `npx tsx scripts/make-upgrade-fixture.ts [outDir]`: makes test/fixtures/datadir-0.1.0/, a small
// data dir written by the release in this checkout, for test/integration/upgrade.test.ts (an
// existing data dir must keep working after a schema migration).
//
// It starts `cairn serve` from source (node --import tsx src/cli.ts) on a temp data dir on
// 127.0.0.1, writes buckets, objects, a completed and an unfinished multipart upload, a CORS
// configuration and an access key through the S3 SDK and the admin API, stops the server with
// SIGTERM, checkpoints the SQLite file and copies the data dir (no tmp/, no -wal/-shm) to outDir,
// with MANIFEST.json describing what is in it.
//
// The content is fixed (no random bytes): re-running it gives the same objects, sizes, ETags and
// chunk files. Upload ids, the access key, the root credentials, the admin token and the times differ.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import Database from 'better-sqlite3';
import type { ManifestObject } from '../test/helpers/upgrade-manifest.js';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetBucketCorsCommand,
  HeadObjectCommand,
  PutBucketCorsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  type CORSRule,
} from '@aws-sdk/client-s3';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUT = path.resolve(process.argv[2] ?? path.join(ROOT, 'test/fixtures/datadir-0.1.0'));

const KiB = 1024;
const MiB = 1024 * KiB;
// The smallest chunk size cairn accepts, so that a few hundred KiB make several chunk files.
const CHUNK_SIZE = 64 * KiB;
const INLINE_MAX = 32 * KiB; // the default
// S3's (and cairn's, src/storage/multipart-service.ts) minimum size of a part that is not the last.
const MIN_PART_SIZE = 5 * MiB;

const PUBLIC_BUCKET = 'fixture-public';
const PRIVATE_BUCKET = 'fixture-private';

/** n fixed bytes that look random (SHA-256 in counter mode): no two 64 KiB chunks alike. */
function detBytes(seed: string, n: number): Buffer {
  const out = Buffer.alloc(n);
  for (let off = 0, i = 0; off < n; i++) off += createHash('sha256').update(`${seed}:${i}`).digest().copy(out, off);
  return out;
}

function textBytes(line: string, n: number): Buffer {
  return Buffer.from(line.repeat(Math.ceil(n / line.length)).slice(0, n), 'utf8');
}

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
const crc32Base64 = (b: Buffer) => {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(zlib.crc32(b) >>> 0);
  return out.toString('base64');
};

interface PlainObject {
  bucket: string;
  key: string;
  body: Buffer;
  contentType: string;
  metadata: Record<string, string>;
  crc32?: boolean;
}

const PLAIN: PlainObject[] = [
  { bucket: PUBLIC_BUCKET, key: 'hello.txt', body: textBytes('Hello from cairn 0.1.0. ', 100), contentType: 'text/plain; charset=utf-8', metadata: { author: 'fixture', purpose: 'upgrade-test' } },
  {
    bucket: PUBLIC_BUCKET,
    key: 'dir/nested/data.json',
    body: Buffer.from(JSON.stringify({ fixture: 'datadir-0.1.0', values: [1, 2, 3, 5, 8, 13, 21, 34, 55, 89], note: 'checksummed with CRC32' }) + '\n'),
    contentType: 'application/json',
    metadata: { kind: 'json' },
    crc32: true,
  },
  { bucket: PRIVATE_BUCKET, key: 'notes/a.bin', body: detBytes('notes/a.bin', 100), contentType: 'application/octet-stream', metadata: { kind: 'binary', 'mixed-case': 'Value With Spaces' } },
  { bucket: PRIVATE_BUCKET, key: 'notes/ünïcode key & space.txt', body: textBytes('ünïcode ✓ ', 100), contentType: 'text/plain', metadata: {} },
  { bucket: PRIVATE_BUCKET, key: 'notes/empty', body: Buffer.alloc(0), contentType: 'application/x-empty', metadata: { empty: 'yes' } },
  // Larger than the inline limit: 4 chunk files of at most 64 KiB.
  { bucket: PRIVATE_BUCKET, key: 'big/chunked.bin', body: detBytes('big/chunked.bin', 200 * KiB + 1234), contentType: 'application/octet-stream', metadata: { layout: 'chunk-files' } },
];

// The multipart object: part 1 is 5 MiB (the minimum for a part that is not the last) made of one
// 128 KiB pattern repeated 40 times, so at 64 KiB chunks it is 2 distinct chunk files (dedup);
// part 2 is 100 KiB (2 chunks). The completed object is 5 MiB + 100 KiB, about 228 KiB on disk.
const MULTIPART = {
  bucket: PRIVATE_BUCKET,
  key: 'big/multipart.bin',
  contentType: 'application/x-tar',
  metadata: { layout: 'multipart', parts: '2' },
  parts: [Buffer.concat(Array.from({ length: MIN_PART_SIZE / (128 * KiB) }, () => detBytes('multipart-pattern', 128 * KiB))), detBytes('multipart-part-2', 100 * KiB)],
};

// Left in progress: one 70 KiB part (2 chunks). It can be completed as it is: a last part may be small.
const PENDING = {
  bucket: PRIVATE_BUCKET,
  key: 'uploads/pending.bin',
  contentType: 'text/csv',
  metadata: { state: 'in-progress' },
  part: detBytes('pending-part-1', 70 * KiB),
};

const CORS_BUCKET = PRIVATE_BUCKET;
const CORS_RULES: CORSRule[] = [
  { AllowedOrigins: ['https://app.example'], AllowedMethods: ['GET', 'PUT', 'HEAD'], AllowedHeaders: ['*'], ExposeHeaders: ['ETag'], MaxAgeSeconds: 600 },
  { AllowedOrigins: ['*'], AllowedMethods: ['GET'] },
];

const KEY_GRANTS = [
  { bucket: PRIVATE_BUCKET, permission: 'write' },
  { bucket: PUBLIC_BUCKET, permission: 'read' },
];

interface Served {
  url: string;
  adminUrl: string;
  stop(): Promise<void>;
  output(): string;
}

/** `cairn serve` from source, a child process, so that it is stopped the way an operator stops it. */
async function serve(dataDir: string): Promise<Served> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('CAIRN_')) env[k] = v;
  env.CAIRN_LOG_LEVEL = 'info';
  const args = ['--import', 'tsx', 'src/cli.ts', 'serve', '--host', '127.0.0.1', '--port', '0', '--admin-port', '0', '--data-dir', dataDir];
  args.push('--chunk-size', String(CHUNK_SIZE), '--inline-max', String(INLINE_MAX), '--gc-interval', '0', '--scrub-interval', '0');
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = await new Promise<{ endpoint: string; admin: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ready line within 60 s:\n${out}`)), 60_000);
    const check = () => {
      // Whole lines only: a chunk of stdout may end mid-line.
      for (const line of out.split('\n').slice(0, -1)) {
        if (!line.includes('cairn ready on')) continue;
        clearTimeout(timer);
        resolve(JSON.parse(line) as { endpoint: string; admin: string });
        return;
      }
    };
    child.stdout.on('data', check);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`cairn exited before it was ready:\n${out}`));
    });
  });
  return {
    url: ready.endpoint,
    adminUrl: ready.admin,
    output: () => out,
    stop: async () => {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      const code = await exited;
      clearTimeout(timer);
      if (code !== 0) throw new Error(`cairn did not stop cleanly (exit ${code}):\n${out}`);
    },
  };
}

async function admin<T>(served: Served, token: string, route: string, body?: unknown): Promise<T> {
  const res = await fetch(served.adminUrl + route, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`admin ${route}: ${res.status} ${text}`);
  return JSON.parse(text) as T;
}

const encodeKey = (key: string) => key.split('/').map(encodeURIComponent).join('/');

async function main(): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-fixture-'));
  const served = await serve(dataDir);
  try {
    const creds = JSON.parse(fs.readFileSync(path.join(dataDir, 'credentials.json'), 'utf8')) as { accessKeyId: string; secretAccessKey: string };
    const token = fs.readFileSync(path.join(dataDir, 'admin-token'), 'utf8').trim();
    // No SDK default checksums: the objects carry exactly the checksums listed here.
    const s3 = new S3Client({
      endpoint: served.url,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: creds,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });

    await s3.send(new CreateBucketCommand({ Bucket: PUBLIC_BUCKET, ACL: 'public-read' }));
    await s3.send(new CreateBucketCommand({ Bucket: PRIVATE_BUCKET }));
    await s3.send(new PutBucketCorsCommand({ Bucket: CORS_BUCKET, CORSConfiguration: { CORSRules: CORS_RULES } }));

    const objects: ManifestObject[] = [];
    const describe = async (bucket: string, key: string, body: Buffer, contentType: string, metadata: Record<string, string>) => {
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: 'ENABLED' }));
      const rec = await admin<{ chunks: Array<{ stored: 'file' | 'inline' }> }>(served, token, `/v1/objects/${encodeURIComponent(bucket)}/${encodeKey(key)}`);
      if (head.ContentLength !== body.length) throw new Error(`${bucket}/${key}: size ${head.ContentLength}, expected ${body.length}`);
      const o: ManifestObject = {
        bucket,
        key,
        size: body.length,
        etag: head.ETag!,
        md5: md5(body),
        contentType,
        metadata,
        ...(head.ChecksumCRC32 ? { checksumCRC32: head.ChecksumCRC32 } : {}),
        stored: rec.chunks.length === 0 ? 'none' : rec.chunks.every((c) => c.stored === 'inline') ? 'inline' : 'files',
        chunks: rec.chunks.length,
      };
      objects.push(o);
      return o;
    };

    for (const p of PLAIN) {
      await s3.send(
        new PutObjectCommand({
          Bucket: p.bucket,
          Key: p.key,
          Body: p.body,
          ContentType: p.contentType,
          Metadata: p.metadata,
          ...(p.crc32 ? { ChecksumCRC32: crc32Base64(p.body) } : {}),
        }),
      );
      const o = await describe(p.bucket, p.key, p.body, p.contentType, p.metadata);
      if (p.crc32 && o.checksumCRC32 !== crc32Base64(p.body)) throw new Error(`${p.key}: CRC32 not stored`);
    }

    const mp = await s3.send(new CreateMultipartUploadCommand({ Bucket: MULTIPART.bucket, Key: MULTIPART.key, ContentType: MULTIPART.contentType, Metadata: MULTIPART.metadata }));
    const done = [];
    for (const [i, part] of MULTIPART.parts.entries()) {
      const r = await s3.send(new UploadPartCommand({ Bucket: MULTIPART.bucket, Key: MULTIPART.key, UploadId: mp.UploadId, PartNumber: i + 1, Body: part }));
      done.push({ PartNumber: i + 1, ETag: r.ETag });
    }
    await s3.send(new CompleteMultipartUploadCommand({ Bucket: MULTIPART.bucket, Key: MULTIPART.key, UploadId: mp.UploadId, MultipartUpload: { Parts: done } }));
    const whole = Buffer.concat(MULTIPART.parts);
    const mpo = await describe(MULTIPART.bucket, MULTIPART.key, whole, MULTIPART.contentType, MULTIPART.metadata);
    mpo.parts = MULTIPART.parts.map((b, i) => ({ partNumber: i + 1, size: b.length, md5: md5(b) }));
    if (!mpo.etag.endsWith('-2"')) throw new Error(`multipart ETag ${mpo.etag}`);

    const pending = await s3.send(new CreateMultipartUploadCommand({ Bucket: PENDING.bucket, Key: PENDING.key, ContentType: PENDING.contentType, Metadata: PENDING.metadata }));
    const pendingPart = await s3.send(new UploadPartCommand({ Bucket: PENDING.bucket, Key: PENDING.key, UploadId: pending.UploadId, PartNumber: 1, Body: PENDING.part }));

    const key = await admin<{ id: string; secret: string; grants: unknown[] }>(served, token, '/v1/keys', { description: 'upgrade fixture key', grants: KEY_GRANTS });
    const cors = (await s3.send(new GetBucketCorsCommand({ Bucket: CORS_BUCKET }))).CORSRules;
    // The store's totals; not `pool`, which is the server's settings, not the data dir's.
    const { pool: _pool, ...stats } = await admin<Record<string, unknown>>(served, token, '/v1/stats');
    s3.destroy();

    await served.stop();
    const migrations = checkpoint(path.join(dataDir, 'cairn.db'));

    const manifest = {
      about:
        'A data dir written by cairn 0.1.0 (scripts/make-upgrade-fixture.ts); test/integration/upgrade.test.ts starts the server on a copy. ' +
        'Root credentials: credentials.json; admin token: admin-token. Start it with a long multipart expiry (e.g. 36500d): ' +
        'the upload in progress is older than the default 7 days and would be swept at start-up.',
      createdBy: { cairn: '0.1.0', node: process.version, createdAt: new Date().toISOString(), migrations },
      settings: { chunkSize: CHUNK_SIZE, inlineMax: INLINE_MAX },
      buckets: [
        { name: PRIVATE_BUCKET, public: false, cors: cors },
        { name: PUBLIC_BUCKET, public: true },
      ],
      objects,
      inProgressUpload: {
        bucket: PENDING.bucket,
        key: PENDING.key,
        uploadId: pending.UploadId!,
        contentType: PENDING.contentType,
        metadata: PENDING.metadata,
        parts: [{ partNumber: 1, size: PENDING.part.length, etag: pendingPart.ETag!, md5: md5(PENDING.part) }],
      },
      accessKey: { id: key.id, secret: key.secret, description: 'upgrade fixture key', grants: key.grants },
      stats,
    };

    fs.rmSync(OUT, { recursive: true, force: true });
    copyDataDir(dataDir, OUT);
    fs.writeFileSync(path.join(OUT, 'MANIFEST.json'), JSON.stringify(manifest, null, 2) + '\n');
    fs.rmSync(dataDir, { recursive: true, force: true });
    const files = listFiles(OUT);
    const bytes = files.reduce((n, f) => n + fs.statSync(path.join(OUT, f)).size, 0);
    process.stdout.write(`wrote ${OUT}: ${objects.length} objects, ${files.length} files, ${bytes} bytes\n`);
  } catch (err) {
    process.stderr.write(`server output:\n${served.output()}\n`);
    await served.stop().catch(() => undefined);
    throw err;
  }
}

/**
 * Folds the WAL into cairn.db (the server's close already does: it is the last connection) and
 * checks the file; returns the migrations it records.
 */
function checkpoint(file: string): Array<{ hash: string; createdAt: number }> {
  const db = new Database(file);
  try {
    db.pragma('wal_checkpoint(TRUNCATE)');
    const ok = db.pragma('integrity_check', { simple: true });
    if (ok !== 'ok') throw new Error(`integrity_check: ${String(ok)}`);
    return (db.prepare('SELECT hash, created_at AS createdAt FROM __drizzle_migrations ORDER BY id').all() as Array<{ hash: string; createdAt: number }>);
  } finally {
    // The last connection's close removes -wal and -shm; copyDataDir checks that they are gone.
    db.close();
  }
}

/** Everything but what is transient: tmp/ (swept at start-up), quarantine/, SQLite's -wal/-shm/-journal, *.tmp. */
function copyDataDir(from: string, to: string): void {
  for (const leftover of ['cairn.db-wal', 'cairn.db-shm']) if (fs.existsSync(path.join(from, leftover))) throw new Error(`${leftover} left after checkpoint`);
  const skip = (rel: string) => rel === 'tmp' || rel.startsWith('tmp' + path.sep) || rel === 'quarantine' || /-(wal|shm|journal)$|\.tmp$|\.pid$|\.lock$/.test(rel);
  fs.cpSync(from, to, { recursive: true, filter: (src) => !skip(path.relative(from, src)) });
}

function listFiles(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((d) => d.isFile()).map((d) => path.relative(dir, path.join(d.parentPath, d.name)));
}

await main();
