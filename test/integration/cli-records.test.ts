import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  PutObjectCommand,
  PutObjectLegalHoldCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { CLI } from '../helpers/process.js';
import { startTestServer, TEST_ACCESS_KEY, TEST_SECRET, type TestServer } from '../helpers/server.js';
import { bodyOf, s3Error } from '../helpers/sdk.js';

// The record and maintenance commands, run as the built CLI (dist/cli.js) against a data dir
// of a running server (WAL readers beside the writer), the same data dir after the server
// stopped, and the running server's admin API (--url/--token).

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** The environment minus every CAIRN_* setting of the machine running the tests. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('CAIRN_')) env[k] = v;
  return { ...env, ...extra };
}

function cli(args: string[], env: Record<string, string> = {}, cwd?: string): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: cleanEnv(env), cwd, timeout: 60_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0, stdout, stderr });
    });
  });
}

/** Runs and parses --json stdout; the command must succeed. */
async function json<T = any>(args: string[], env: Record<string, string> = {}): Promise<T> {
  const r = await cli([...args, '--json'], env);
  if (r.code !== 0) throw new Error(`cairn ${args.join(' ')} exited ${r.code}:\n${r.stderr}${r.stdout}`);
  return JSON.parse(r.stdout) as T;
}

const md5 = (b: Buffer) => `"${createHash('md5').update(b).digest('hex')}"`;
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const CHUNK = 256 * 1024;

interface Uploaded {
  bucket: string;
  key: string;
  body: Buffer;
  contentType: string;
  metadata?: Record<string, string>;
  tagging?: string;
}

let server: TestServer;
let dataDir: string;
let stopped = false;
const uploaded: Uploaded[] = [];
const MANY = 1050; // more than one 1000-object page
const local = (...args: string[]) => [...args, '--data-dir', dataDir];
const remote = (...args: string[]) => [...args, '--url', server.adminUrl, '--token', server.adminToken];

beforeAll(async () => {
  server = await startTestServer({ chunkSize: CHUNK });
  dataDir = server.dataDir;
  const s3 = server.client();
  // The root account's, as buckets made with the root key are.
  const ownerId = (await server.meta.accounts.root()).id;
  for (const b of ['photos', 'logs', 'many']) await server.repo.createBucket({ name: b, region: 'us-east-1', ownerId });
  const big = randomBytes(CHUNK * 3 + 1000);
  const items: Uploaded[] = [
    { bucket: 'photos', key: 'a/one.txt', body: Buffer.from('hello cairn'), contentType: 'text/plain', metadata: { owner: 'alice' }, tagging: 'Team=blue&env=prod' },
    { bucket: 'photos', key: 'a/two.bin', body: randomBytes(CHUNK + 5000), contentType: 'application/octet-stream' },
    { bucket: 'photos', key: 'b/big.png', body: big, contentType: 'image/png', metadata: { owner: 'bob', kind: 'scan' }, tagging: 'env=prod' },
    { bucket: 'photos', key: 'b/copy of big.png', body: big, contentType: 'image/png' },
    { bucket: 'photos', key: 'ünï/ç ø+d%.txt', body: Buffer.from('unicode key'), contentType: 'text/plain' },
    { bucket: 'logs', key: 'x.log', body: Buffer.alloc(0), contentType: 'text/plain' },
  ];
  for (const it of items) {
    await s3.send(new PutObjectCommand({ Bucket: it.bucket, Key: it.key, Body: it.body, ContentType: it.contentType, Metadata: it.metadata, Tagging: it.tagging }));
    uploaded.push(it);
  }
  // A multipart object: two 5 MiB parts and a tail, 21 chunks per part at 256 KiB.
  const parts = [randomBytes(5 << 20), randomBytes(5 << 20), randomBytes(1234)];
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'photos', Key: 'c/multi.bin', ContentType: 'video/mp4', Tagging: 'kind=video' }));
  const etags: string[] = [];
  for (const [i, p] of parts.entries()) {
    etags.push((await s3.send(new UploadPartCommand({ Bucket: 'photos', Key: 'c/multi.bin', UploadId, PartNumber: i + 1, Body: p }))).ETag!);
  }
  await s3.send(
    new CompleteMultipartUploadCommand({
      Bucket: 'photos',
      Key: 'c/multi.bin',
      UploadId,
      MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
    }),
  );
  uploaded.push({ bucket: 'photos', key: 'c/multi.bin', body: Buffer.concat(parts), contentType: 'video/mp4' });
  // Many small objects, 32 at a time.
  const keys = Array.from({ length: MANY }, (_, i) => `k/${String(i).padStart(5, '0')}`);
  for (let i = 0; i < keys.length; i += 32) {
    await Promise.all(
      keys.slice(i, i + 32).map(async (key, j) => {
        const body = Buffer.from(`object ${i + j}`);
        await s3.send(new PutObjectCommand({ Bucket: 'many', Key: key, Body: body, ContentType: 'text/plain' }));
      }),
    );
  }
}, 120_000);

afterAll(async () => {
  if (!stopped) await server.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const photos = () => uploaded.filter((u) => u.bucket === 'photos').sort((a, b) => Buffer.compare(Buffer.from(a.key), Buffer.from(b.key)));

describe('cairn record commands: help and usage errors', { timeout: 180_000 }, () => {
  it('documents every command with --help', async () => {
    const commands = [
      ['ls'],
      ['find'],
      ['inspect'],
      ['stats'],
      ['bucket', 'create'],
      ['bucket', 'delete'],
      ['bucket', 'list'],
      ['bucket', 'public'],
      ['bucket', 'private'],
      ['keys', 'create'],
      ['keys', 'list'],
      ['keys', 'revoke'],
      ['accounts', 'create'],
      ['accounts', 'list'],
      ['accounts', 'delete'],
      ['presign'],
      ['verify'],
      ['gc'],
    ];
    const runs = await Promise.all(commands.map((c) => cli([...c, '--help'])));
    for (const [i, r] of runs.entries()) {
      expect(r.code, commands[i]!.join(' ')).toBe(0);
      for (const flag of ['--data-dir', '--url', '--token', '--json']) expect(r.stdout, `${commands[i]!.join(' ')} ${flag}`).toContain(flag);
    }
    const find = runs[1]!.stdout;
    for (const flag of ['--bucket', '--prefix', '--contains', '--min-size', '--max-size', '--modified-after', '--modified-before', '--content-type', '--etag', '--meta', '--tag', '--checksum-algorithm', '--versions', '--locked', '--sort', '--order', '--limit', '--cursor']) {
      expect(find).toContain(flag);
    }
    expect(runs[0]!.stdout).toContain('--versions');
    expect(runs[2]!.stdout).toContain('--version-id <id>');
    const help = (...c: string[]) => runs[commands.findIndex((x) => x.join(' ') === c.join(' '))]!.stdout;
    expect(help('presign')).toContain('--expires');
    expect(help('verify')).toContain('--no-quarantine');
    expect(help('gc')).toContain('--dry-run');
    for (const flag of ['--account', '--access-key-id', '--secret-access-key', '--grant']) expect(help('keys', 'create')).toContain(flag);
    expect(help('keys', 'list')).toContain('--account');
    expect(help('bucket', 'create')).toContain('--owner');
    expect(help('bucket', 'list')).toContain('--owner');
    expect(help('accounts', 'create')).toContain('--email');
    expect(find).toContain('--owner');
    for (const parent of [['bucket'], ['keys'], ['accounts']]) {
      const r = await cli([...parent, '--help']);
      expect(r.code).toBe(0);
    }
    const top = await cli(['--help']);
    for (const c of ['ls', 'find', 'inspect', 'stats', 'bucket', 'keys', 'accounts', 'presign', 'verify', 'gc', 'lifecycle']) expect(top.stdout).toMatch(new RegExp(`^  ${c} `, 'm'));
  });

  it('explains configuration and usage errors with exit code 2', async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-cli-empty-'));
    try {
      const noDir = await cli(['ls'], {}, empty);
      expect(noDir.code).toBe(2);
      expect(noDir.stderr).toContain('no cairn data dir at ./data (use --data-dir or --url)');
      const notCairn = await cli(['stats', '--data-dir', empty]);
      expect(notCairn.code).toBe(2);
      expect(notCairn.stderr).toContain('has no cairn.db');
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
    const both = await cli(['ls', '--data-dir', dataDir, '--url', 'http://127.0.0.1:1']);
    expect(both.code).toBe(2);
    const noToken = await cli(['ls', '--url', server.adminUrl]);
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toContain('CAIRN_ADMIN_TOKEN');
    const badToken = await cli(['ls', '--url', server.adminUrl, '--token', 'not-the-token-at-all']);
    expect(badToken.code).toBe(2);
    expect(badToken.stderr).toContain('refused the token');
    const unknown = await cli(['ls', '--no-such-flag']);
    expect(unknown.code).toBe(2);
    const badSort = await cli(local('find', '--sort', 'color'));
    expect(badSort.code).toBe(2);
    const badSize = await cli(local('find', '--min-size', 'lots'));
    expect(badSize.code).toBe(2);
    expect(badSize.stderr).toContain('--min-size');
    const badDate = await cli(local('find', '--modified-after', 'yesterday'));
    expect(badDate.code).toBe(2);
    expect(badDate.stderr).toContain('--modified-after');
    const badDateRemote = await cli(remote('find', '--modified-after', 'yesterday'));
    expect(badDateRemote.code).toBe(2);
    expect(badDateRemote.stderr).toContain('--modified-after');
    const badGrant = await cli(local('keys', 'create', '--grant', 'photos:admin'));
    expect(badGrant.code).toBe(2);
    const noGrant = await cli(local('keys', 'create'));
    expect(noGrant.code).toBe(2);
    const badTarget = await cli(local('inspect', 'photos'));
    expect(badTarget.code).toBe(2);
  });
});

/** The read-only views, compared between modes. */
async function snapshot(mode: (...a: string[]) => string[]) {
  return {
    buckets: (await json(mode('ls'))).buckets,
    photos: await json(mode('ls', 'photos')),
    prefix: await json(mode('ls', 'photos/b/')),
    big: await json(mode('find', '--min-size', '256KiB', '--sort', 'size', '--order', 'desc')),
    meta: await json(mode('find', '--meta', 'owner=bob')),
    tagged: await json(mode('find', '--tag', 'env=prod', '--tag', 'Team=blue')),
    inspect: await json(mode('inspect', 'photos/c/multi.bin')),
    unicode: await json(mode('inspect', 'photos/ünï/ç ø+d%.txt')),
  };
}

function checkSnapshot(s: Awaited<ReturnType<typeof snapshot>>) {
  const byName = Object.fromEntries(s.buckets.map((b: any) => [b.name, b]));
  expect(Object.keys(byName)).toEqual(expect.arrayContaining(['logs', 'many', 'photos']));
  const p = photos();
  expect(byName.photos.objects).toBe(p.length);
  expect(byName.photos.logicalBytes).toBe(p.reduce((n, u) => n + u.body.length, 0));
  // The copy shares every chunk with the original: stored once.
  expect(byName.photos.physicalBytes).toBe(byName.photos.logicalBytes - uploaded.find((u) => u.key === 'b/copy of big.png')!.body.length);
  expect(byName.many.objects).toBe(MANY);
  expect(byName.logs.objects).toBe(1);

  expect(s.photos.objects.map((o: any) => o.key)).toEqual(p.map((u) => u.key));
  expect(s.photos.nextCursor).toBeUndefined();
  for (const [i, o] of s.photos.objects.entries()) {
    const u = p[i]!;
    expect(o.bucket).toBe('photos');
    expect(o.size).toBe(u.body.length);
    expect(o.contentType).toBe(u.contentType);
    expect(o.metadata).toEqual(u.metadata ?? {});
    if (u.key !== 'c/multi.bin') expect(o.etag).toBe(md5(u.body));
    else expect(o.etag).toMatch(/-3"$/);
  }
  expect(s.prefix.objects.map((o: any) => o.key)).toEqual(['b/big.png', 'b/copy of big.png']);
  // Equal sizes: the later upload first in descending order (ties break on insertion order).
  expect(s.big.objects.map((o: any) => o.key)).toEqual(['c/multi.bin', 'b/copy of big.png', 'b/big.png', 'a/two.bin']);
  expect(s.meta.objects.map((o: any) => `${o.bucket}/${o.key}`)).toEqual(['photos/b/big.png']);
  // --tag is repeatable (every tag must match) and keeps the key's case.
  expect(s.tagged.objects.map((o: any) => `${o.bucket}/${o.key}`)).toEqual(['photos/a/one.txt']);
  expect(s.inspect.tags).toEqual([{ key: 'kind', value: 'video' }]);

  const multi = uploaded.find((u) => u.key === 'c/multi.bin')!;
  expect(s.inspect.size).toBe(multi.body.length);
  expect(s.inspect.partCount).toBe(3);
  expect(s.inspect.parts.map((x: any) => x.size)).toEqual([5 << 20, 5 << 20, 1234]);
  // The chunk table tiles the object, and each chunk's hash is the SHA-256 of its bytes.
  let offset = 0;
  for (const c of s.inspect.chunks) {
    expect(c.offset).toBe(offset);
    expect(c.sha256).toBe(sha256(multi.body.subarray(c.offset, c.offset + c.size)));
    offset += c.size;
  }
  expect(offset).toBe(multi.body.length);
  expect(s.unicode.key).toBe('ünï/ç ø+d%.txt');
  expect(s.unicode.size).toBe(11);
}

describe('cairn record commands against a running server', { timeout: 180_000 }, () => {
  let localSnap: Awaited<ReturnType<typeof snapshot>>;

  it('reads the data dir directly while the server runs (--data-dir)', async () => {
    localSnap = await snapshot(local);
    checkSnapshot(localSnap);
  });

  it('reads the same records through the admin API (--url/--token)', async () => {
    const remoteSnap = await snapshot(remote);
    expect(remoteSnap).toEqual(localSnap);
    // CAIRN_ADMIN_TOKEN works as well as --token.
    const viaEnv = await json(['stats', '--url', server.adminUrl], { CAIRN_ADMIN_TOKEN: server.adminToken });
    expect(viaEnv.objects).toBe(uploaded.length + MANY);
    expect(viaEnv.pool.total).toBeGreaterThan(0);
  });

  it('pages through more than one API page, and stops and resumes with --limit/--cursor', async () => {
    for (const mode of [local, remote]) {
      const all = await json(mode('ls', 'many'));
      expect(all.objects).toHaveLength(MANY);
      expect(all.objects[MANY - 1].key).toBe(`k/${String(MANY - 1).padStart(5, '0')}`);
      const first = await json(mode('ls', 'many', '--limit', '10'));
      expect(first.objects.map((o: any) => o.key)).toEqual(all.objects.slice(0, 10).map((o: any) => o.key));
      expect(first.nextCursor).toBeTruthy();
      const next = await json(mode('ls', 'many', '--limit', '1025', '--cursor', first.nextCursor));
      expect(next.objects.map((o: any) => o.key)).toEqual(all.objects.slice(10, 1035).map((o: any) => o.key));
      const rest = await json(mode('find', '--bucket', 'many', '--all', '--cursor', next.nextCursor));
      expect(rest.objects.map((o: any) => o.key)).toEqual(all.objects.slice(1035).map((o: any) => o.key));
      expect(rest.nextCursor).toBeUndefined();
      // find: one page by default (100), the cursor to continue.
      const page = await json(mode('find', '--bucket', 'many'));
      expect(page.objects).toHaveLength(100);
      expect(page.nextCursor).toBeTruthy();
    }
    const human = await cli(local('ls', 'many', '--limit', '3'));
    expect(human.code).toBe(0);
    expect(human.stdout.trim().split('\n')).toHaveLength(3);
    expect(human.stderr).toContain('--cursor');
  });

  it('applies every find filter', async () => {
    const keys = async (...args: string[]) => (await json(local('find', '--all', ...args))).objects.map((o: any) => `${o.bucket}/${o.key}`);
    expect(await keys('--bucket', 'photos', '--prefix', 'a/')).toEqual(['photos/a/one.txt', 'photos/a/two.bin']);
    expect(await keys('--contains', 'big')).toEqual(['photos/b/big.png', 'photos/b/copy of big.png']);
    expect(await keys('--bucket', 'photos', '--max-size', '11')).toEqual(['photos/a/one.txt', 'photos/ünï/ç ø+d%.txt']);
    expect(await keys('--content-type', 'image/*')).toEqual(['photos/b/big.png', 'photos/b/copy of big.png']);
    expect(await keys('--content-type', 'video/mp4')).toEqual(['photos/c/multi.bin']);
    expect(await keys('--etag', md5(uploaded[0]!.body).replace(/"/g, ''))).toEqual(['photos/a/one.txt']);
    expect(await keys('--meta', 'owner=bob', '--meta', 'kind=scan')).toEqual(['photos/b/big.png']);
    expect(await keys('--meta', 'owner=bob', '--meta', 'kind=other')).toEqual([]);
    expect(await keys('--modified-before', '2000-01-01')).toEqual([]);
    expect((await keys('--modified-after', '1h')).length).toBe(uploaded.length + MANY);
    const listed = (await json(local('ls', 'photos'))).objects;
    const withCrc32 = listed.filter((o: any) => o.checksumAlgorithm === 'CRC32').map((o: any) => `photos/${o.key}`);
    const without = listed.filter((o: any) => o.checksumAlgorithm === null).map((o: any) => `photos/${o.key}`);
    expect(withCrc32.length + without.length).toBeGreaterThan(0);
    expect(await keys('--bucket', 'photos', '--checksum-algorithm', 'crc32', '--modified-after', '2000-01-01T00:00:00Z')).toEqual(withCrc32);
    expect(await keys('--bucket', 'photos', '--checksum-algorithm', 'NONE')).toEqual(without);
    const sizes = (await json(local('find', '--bucket', 'photos', '--sort', 'size', '--limit', '3'))).objects.map((o: any) => o.size);
    expect(sizes).toEqual([11, 11, CHUNK + 5000]);
    const desc = (await json(local('find', '--bucket', 'photos', '--sort', 'modified', '--order', 'desc', '--limit', '1'))).objects[0].key;
    expect(desc).toBe('c/multi.bin');
    // Human output: one line per object with its bucket/key and a human size.
    const human = await cli(local('find', '--bucket', 'photos', '--min-size', '1MiB'));
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+10 MiB  photos\/c\/multi\.bin$/m);
    expect(human.stdout.trim().split('\n')).toHaveLength(1);
    const kib = await cli(local('ls', 'photos/b/'));
    expect(kib.stdout).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+769 KiB  b\/big\.png$/m);
    const long = await cli(local('find', '--bucket', 'photos', '--min-size', '1MiB', '--long'));
    expect(long.stdout).toMatch(/video\/mp4\s+"[0-9a-f]{32}-3"\s+photos\/c\/multi\.bin/);
  });

  it('prints human tables', async () => {
    const buckets = await cli(local('ls'));
    expect(buckets.code).toBe(0);
    expect(buckets.stdout).toMatch(/^NAME\s+OWNER\s+OBJECTS\s+SIZE\s+VERSIONS\s+MARKERS\s+STORED\s+ACCESS/);
    expect(buckets.stdout).toMatch(/^many\s+root\s+1050\s+\S+ KiB\s+1050\s+0\s/m);
    const inspect = await cli(local('inspect', 's3://photos/b/big.png'));
    expect(inspect.code).toBe(0);
    expect(inspect.stdout).toContain('Object:');
    expect(inspect.stdout).toContain('photos/b/big.png');
    expect(inspect.stdout).toContain('x-amz-meta-owner');
    expect(inspect.stdout).toMatch(/^Tags:\s+env=prod$/m);
    expect(inspect.stdout).toMatch(/Chunks \(4\):\nSEQ\s+OFFSET\s+SIZE\s+SHA256\s+CRC32C\s+REFS\s+SHARED/);
    expect(inspect.stdout).toMatch(/^\s*0\s+0\s+256 KiB\s+[0-9a-f]{64}\s+[0-9a-f]{8}\s+2\s+yes\s+file$/m);
    const stats = await cli(local('stats'));
    expect(stats.code).toBe(0);
    expect(stats.stdout).toMatch(/^Objects:\s+1057$/m);
    expect(stats.stdout).toMatch(/^Dedup ratio:\s+1\.\d\dx$/m);
    // A chunk by its hash: who uses it.
    const rec = await json(local('inspect', 'photos/b/big.png'));
    const chunk = await json(local('inspect', rec.chunks[0].sha256));
    expect(chunk.refcount).toBe(2);
    expect(chunk.objects.map((o: any) => o.key).sort()).toEqual(['b/big.png', 'b/copy of big.png']);
    expect(await json(remote('inspect', rec.chunks[0].sha256))).toEqual(chunk);
    const missing = await cli(local('inspect', 'photos/nope'));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no object photos/nope');
    const missingRemote = await cli(remote('inspect', 'photos/nope'));
    expect(missingRemote.code).toBe(1);
    const noBucket = await cli(local('ls', 'nosuchbucket'));
    expect(noBucket.code).toBe(1);
    expect(noBucket.stderr).toContain('no bucket nosuchbucket');
  });

  it('presigns URLs that download the object (local keys and the server)', async () => {
    const u = uploaded.find((x) => x.key === 'ünï/ç ø+d%.txt')!;
    const endpoint = ['--endpoint', server.url];
    const fromEnv = await json(['presign', `photos/${u.key}`, ...endpoint, '--expires', '10m'], { CAIRN_ACCESS_KEY_ID: TEST_ACCESS_KEY, CAIRN_SECRET_ACCESS_KEY: TEST_SECRET });
    expect(fromEnv.url).toContain('X-Amz-Expires=600');
    // The data dir's credentials.json (the server was given its keys, so write the file here).
    fs.writeFileSync(path.join(dataDir, 'credentials.json'), JSON.stringify({ accessKeyId: TEST_ACCESS_KEY, secretAccessKey: TEST_SECRET }));
    const fromFile = await cli(local('presign', `photos/${u.key}`, ...endpoint));
    expect(fromFile.code).toBe(0);
    const fromServer = await json(remote('presign', `photos/${u.key}`, '--expires', '120'));
    for (const url of [fromEnv.url, fromFile.stdout.trim(), fromServer.url]) {
      const res = await fetch(url);
      expect(res.status, url).toBe(200);
      expect(Buffer.from(await res.arrayBuffer())).toEqual(u.body);
    }
    const tooLong = await cli(local('presign', 'photos/a/one.txt', '--expires', '8d'));
    expect(tooLong.code).toBe(2);
  });

  it('creates, publishes and deletes buckets in both modes while the server runs', async () => {
    const s3 = server.client();
    for (const [mode, name] of [
      [local, 'cli-local'],
      [remote, 'cli-remote'],
    ] as const) {
      const created = await json(mode('bucket', 'create', name));
      expect(created).toMatchObject({ name, public: false, objects: 0, logicalBytes: 0 });
      await s3.send(new HeadBucketCommand({ Bucket: name }));
      await s3.send(new PutObjectCommand({ Bucket: name, Key: 'hello.txt', Body: 'hi' }));
      const anonymous = `${server.url}/${name}/hello.txt`;
      expect((await fetch(anonymous)).status).toBe(403);
      expect(await json(mode('bucket', 'public', name))).toMatchObject({ name, public: true, objects: 1 });
      expect((await fetch(anonymous)).status).toBe(200);
      expect((await json(mode('bucket', 'private', name))).public).toBe(false);
      expect((await fetch(anonymous)).status).toBe(403);
      const notEmpty = await cli(mode('bucket', 'delete', name));
      expect(notEmpty.code).toBe(1);
      expect(notEmpty.stderr).toMatch(/not empty/);
      await s3.send(new DeleteObjectCommand({ Bucket: name, Key: 'hello.txt' }));
      expect(await json(mode('bucket', 'delete', name))).toEqual({ bucket: name, deleted: true });
      expect((await s3Error(s3.send(new HeadBucketCommand({ Bucket: name })))).$metadata.httpStatusCode).toBe(404);
      const again = await cli(mode('bucket', 'delete', name));
      expect(again.code).toBe(1);
    }
    const dup = await cli(local('bucket', 'create', 'photos'));
    expect(dup.code).toBe(1);
    const badName = await cli(local('bucket', 'create', 'Bad_Name'));
    expect(badName.code).toBe(2);
    const list = await json(local('bucket', 'list'));
    expect(list.buckets.map((b: any) => b.name)).toEqual(['logs', 'many', 'photos']);
  });

  it('creates access keys whose grants the server enforces, lists and revokes them', async () => {
    for (const mode of [local, remote]) {
      const key = await json(mode('keys', 'create', '--grant', 'photos:read', '--grant', 'logs:write', '--description', 'cli test'));
      expect(key.id).toMatch(/^[A-Z0-9]{20}$/);
      expect(key.secret.length).toBeGreaterThanOrEqual(40);
      expect(key.grants).toEqual([
        { bucket: 'logs', permission: 'write' },
        { bucket: 'photos', permission: 'read' },
      ]);
      const s3 = new S3Client({ endpoint: server.url, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: key.id, secretAccessKey: key.secret } });
      expect((await bodyOf(await s3.send(new GetObjectCommand({ Bucket: 'photos', Key: 'a/one.txt' })))).toString()).toBe('hello cairn');
      expect((await s3Error(s3.send(new PutObjectCommand({ Bucket: 'photos', Key: 'nope', Body: 'x' })))).name).toBe('AccessDenied');
      await s3.send(new PutObjectCommand({ Bucket: 'logs', Key: 'from-key.log', Body: 'ok' }));
      const listed = await json(mode('keys', 'list'));
      const mine = listed.keys.find((k: any) => k.id === key.id);
      expect(mine).toEqual({ id: key.id, accountId: key.accountId, description: 'cli test', createdAt: key.createdAt, grants: key.grants });
      expect(key.accountId).toBe((await server.meta.accounts.root()).id);
      expect(JSON.stringify(listed)).not.toContain(key.secret);
      const human = await cli(mode('keys', 'list').filter((a) => a !== '--json'));
      expect(human.stdout).toContain(key.id);
      expect(human.stdout).toContain('logs:write, photos:read');
      expect(human.stdout).toMatch(new RegExp(`${key.id}\\s+root\\s`));
      expect(await json(mode('keys', 'revoke', key.id))).toEqual({ id: key.id, revoked: true });
      expect((await s3Error(s3.send(new GetObjectCommand({ Bucket: 'photos', Key: 'a/one.txt' })))).$metadata.httpStatusCode).toBe(403);
      const again = await cli(mode('keys', 'revoke', key.id));
      expect(again.code).toBe(1);
      await server.client().send(new DeleteObjectCommand({ Bucket: 'logs', Key: 'from-key.log' }));
    }
    const human = await cli(local('keys', 'create', '--grant', '*:read'));
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/AWS_ACCESS_KEY_ID=[A-Z0-9]{20}\n\s+AWS_SECRET_ACCESS_KEY=\S{40,}/);
    expect(human.stdout).toContain('*:read');
  });

  it('gc --dry-run reports and deletes nothing; verify passes on a healthy store (both modes)', async () => {
    const before = fs.readdirSync(path.join(dataDir, 'chunks'), { recursive: true }).length;
    for (const mode of [local, remote]) {
      const r = await cli(mode('gc', '--dry-run', '--json'));
      expect(r.code, r.stderr).toBe(0);
      const gc = JSON.parse(r.stdout);
      expect(gc).toMatchObject({ dryRun: true, orphanChunks: 0, freedBytes: 0 });
      const v = await cli(mode('verify', '--json'));
      expect(v.code, v.stderr).toBe(0);
      const scrub = JSON.parse(v.stdout);
      expect(scrub.broken).toEqual([]);
      expect(scrub.checked).toBeGreaterThan(MANY);
    }
    expect(fs.readdirSync(path.join(dataDir, 'chunks'), { recursive: true }).length).toBe(before);
  });
});

describe('cairn record commands on a stopped data dir', { timeout: 180_000 }, () => {
  let running: Awaited<ReturnType<typeof snapshot>>;
  beforeAll(async () => {
    running = await snapshot(local);
    await server.close();
    stopped = true;
  });

  it('reads the same records after the server stopped', async () => {
    const after = await snapshot(local);
    expect(after).toEqual(running);
    const stats = await json(local('stats'));
    expect(stats.objects).toBe(uploaded.length + MANY);
    expect(stats.pool).toBeUndefined();
  });

  it('gc --dry-run reports orphans and stray temp files and deletes nothing; gc frees them', async () => {
    const orphan = randomBytes(1000);
    const hash = sha256(orphan);
    const file = path.join(dataDir, 'chunks', hash.slice(0, 2), hash.slice(2, 4), hash);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, orphan);
    const tmp = path.join(dataDir, 'tmp', 'stray.part');
    fs.mkdirSync(path.dirname(tmp), { recursive: true });
    fs.writeFileSync(tmp, Buffer.alloc(500));
    const old = new Date(Date.now() - 2 * 3_600_000);
    fs.utimesSync(file, old, old);
    fs.utimesSync(tmp, old, old);
    const young = randomBytes(700);
    const youngHash = sha256(young);
    const youngFile = path.join(dataDir, 'chunks', youngHash.slice(0, 2), youngHash.slice(2, 4), youngHash);
    fs.mkdirSync(path.dirname(youngFile), { recursive: true });
    fs.writeFileSync(youngFile, young);

    const dry = await cli(local('gc', '--dry-run', '--json'));
    expect(dry.code, dry.stderr).toBe(0);
    const report = JSON.parse(dry.stdout);
    expect(report).toMatchObject({ dryRun: true, orphanChunks: 1, orphanBytes: 1000, tmpFiles: 1, tmpBytes: 500, freedBytes: 1500 });
    // Progress is on stderr as plain lines (not a terminal), never on stdout.
    expect(dry.stderr).toMatch(/^gc: \d+\/\d+ chunk dirs$/m);
    expect(fs.existsSync(file)).toBe(true);
    expect(fs.existsSync(tmp)).toBe(true);
    expect(fs.existsSync(youngFile)).toBe(true);

    const human = await cli(local('gc', '--dry-run', '--no-progress'));
    expect(human.code).toBe(0);
    expect(human.stderr).toBe('');
    expect(human.stdout).toContain('would free 1.5 KiB');
    expect(fs.existsSync(file)).toBe(true);

    const real = await json(local('gc'));
    expect(real).toMatchObject({ dryRun: false, orphanChunks: 1, tmpFiles: 1, freedBytes: 1500 });
    expect(fs.existsSync(file)).toBe(false);
    expect(fs.existsSync(tmp)).toBe(false);
    expect(fs.existsSync(youngFile)).toBe(true);
    // A zero grace period takes the young one too.
    expect((await json(local('gc', '--grace', '0'))).orphanChunks).toBe(1);
    expect(fs.existsSync(youngFile)).toBe(false);
    expect(await snapshot(local)).toEqual(running);
  });

  it('verify finds a flipped byte, exits 1, names the object and quarantines the chunk', async () => {
    const ok = await cli(local('verify'));
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/all good/);
    expect(ok.stderr).toMatch(/^verify: \d+\/\d+ chunks$/m);

    const rec = await json(local('inspect', 'photos/a/two.bin'));
    const victim = rec.chunks[1].sha256 as string;
    const file = path.join(dataDir, 'chunks', victim.slice(0, 2), victim.slice(2, 4), victim);
    const bytes = fs.readFileSync(file);
    bytes[17] ^= 0x01;
    fs.writeFileSync(file, bytes);

    const dryish = await cli(local('verify', '--no-quarantine', '--json'));
    expect(dryish.code).toBe(1);
    const report = JSON.parse(dryish.stdout);
    expect(report.broken).toHaveLength(1);
    expect(report.broken[0]).toMatchObject({ sha256: victim, problem: 'corrupt', objects: [{ bucket: 'photos', key: 'a/two.bin' }] });
    expect(report.broken[0].quarantinedTo).toBeUndefined();
    expect(fs.existsSync(file)).toBe(true);

    const human = await cli(local('verify'));
    expect(human.code).toBe(1);
    expect(human.stdout).toContain('1 broken');
    expect(human.stdout).toContain(victim);
    expect(human.stdout).toMatch(/Broken objects \(1\):\n\s+photos\/a\/two\.bin/);
    expect(fs.existsSync(file)).toBe(false);

    // Quarantined: now it is missing, and still breaks the same object.
    expect(fs.readdirSync(path.join(dataDir, 'quarantine')).join()).toContain(victim);
    const missing = await cli(local('verify', '--json', '--no-progress'));
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.stdout).broken[0]).toMatchObject({ sha256: victim, problem: 'missing', objects: [{ bucket: 'photos', key: 'a/two.bin' }] });
  });
});

describe('cairn record commands and versions', { timeout: 180_000 }, () => {
  let srv: TestServer;
  const at = (mode: 'local' | 'remote', ...args: string[]) =>
    mode === 'local' ? [...args, '--data-dir', srv.dataDir] : [...args, '--url', srv.adminUrl, '--token', srv.adminToken];
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    srv = await startTestServer();
    const s3 = srv.client();
    await s3.send(new CreateBucketCommand({ Bucket: 'history', ObjectLockEnabledForBucket: true }));
    const until = new Date(Date.now() + 86_400_000);
    ids.v1 = (await s3.send(new PutObjectCommand({ Bucket: 'history', Key: 'doc.txt', Body: 'first', ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: until }))).VersionId!;
    ids.v2 = (await s3.send(new PutObjectCommand({ Bucket: 'history', Key: 'doc.txt', Body: 'second version' }))).VersionId!;
    ids.held = (await s3.send(new PutObjectCommand({ Bucket: 'history', Key: 'gone.txt', Body: 'held' }))).VersionId!;
    await s3.send(new PutObjectLegalHoldCommand({ Bucket: 'history', Key: 'gone.txt', VersionId: ids.held, LegalHold: { Status: 'ON' } }));
    ids.marker = (await s3.send(new DeleteObjectCommand({ Bucket: 'history', Key: 'gone.txt' }))).VersionId!;
  });

  afterAll(async () => {
    await srv?.stop();
  });

  it('ls and find show current objects; --versions every version and delete marker; --locked the locked ones (both modes)', async () => {
    for (const mode of ['local', 'remote'] as const) {
      const current = await json(at(mode, 'ls', 'history'));
      expect(current.objects.map((o: any) => [o.key, o.versionId])).toEqual([['doc.txt', ids.v2]]);
      const all = await json(at(mode, 'ls', 'history', '--versions'));
      expect(all.objects.map((o: any) => [o.key, o.versionId, o.isLatest, o.deleteMarker])).toEqual([
        ['doc.txt', ids.v2, true, false],
        ['doc.txt', ids.v1, false, false],
        ['gone.txt', ids.marker, true, true],
        ['gone.txt', ids.held, false, false],
      ]);
      expect(all.objects[1].lock).toMatchObject({ mode: 'GOVERNANCE', legalHold: false });
      expect(all.objects[3].lock).toEqual({ mode: null, retainUntil: null, legalHold: true });
      const locked = await json(at(mode, 'find', '--bucket', 'history', '--versions', '--locked', '--all'));
      expect(locked.objects.map((o: any) => o.versionId)).toEqual([ids.v1, ids.held]);
      expect((await json(at(mode, 'find', '--bucket', 'history', '--locked'))).objects).toEqual([]);
      const b = (await json(at(mode, 'ls'))).buckets.find((x: any) => x.name === 'history');
      expect(b).toMatchObject({ objects: 1, logicalBytes: 14, versions: 3, deleteMarkers: 1, versionBytes: 5 + 14 + 4 });
      expect(await json(at(mode, 'stats'))).toMatchObject({ objects: 1, logicalBytes: 14, versions: 3, deleteMarkers: 1, versionBytes: 23 });
    }
    const human = await cli(at('local', 'ls', 'history', '--versions'));
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(new RegExp(`^\\S+ \\S+\\s+5 B  doc\\.txt  ${ids.v1}  \\(GOVERNANCE until \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\)$`, 'm'));
    expect(human.stdout).toMatch(new RegExp(`^\\S+ \\S+\\s+-  gone\\.txt  ${ids.marker}  \\(latest, delete marker\\)$`, 'm'));
    const stats = await cli(at('local', 'stats'));
    expect(stats.stdout).toMatch(/^Versions:\s+3$/m);
    expect(stats.stdout).toMatch(/^Delete markers:\s+1$/m);
  });

  it('inspect --version-id shows that version, its lock and the key\'s versions (both modes)', async () => {
    for (const mode of ['local', 'remote'] as const) {
      const rec = await json(at(mode, 'inspect', 'history/doc.txt', '--version-id', ids.v1!));
      expect(rec).toMatchObject({ versionId: ids.v1, isLatest: false, size: 5, lock: { mode: 'GOVERNANCE', legalHold: false } });
      expect(rec.versions.map((v: any) => v.versionId)).toEqual([ids.v2, ids.v1]);
      expect(await json(at(mode, 'inspect', 'history/gone.txt', '--version-id', ids.marker!))).toMatchObject({ deleteMarker: true, isLatest: true, chunks: [] });
      const noCurrent = await cli(at(mode, 'inspect', 'history/gone.txt'));
      expect(noCurrent.code).toBe(1);
      const missing = await cli(at(mode, 'inspect', 'history/doc.txt', '--version-id', 'no-such-version'));
      expect(missing.code).toBe(1);
    }
    expect((await cli(at('local', 'inspect', 'history/doc.txt', '--version-id', 'nope'))).stderr).toContain('no version nope of history/doc.txt');
    const human = await cli(at('local', 'inspect', 'history/gone.txt', '--version-id', ids.held!));
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^Lock:\s+legal hold$/m);
    expect(human.stdout).toMatch(/Versions \(2, newest first\):\nVERSION\s+MODIFIED\s+SIZE\s+ETAG\s+STATE/);
    expect(human.stdout).toContain(`* ${ids.held}`);
  });
});
