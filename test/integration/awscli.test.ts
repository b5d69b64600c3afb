import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { hasClient, run, runOk, type RunResult } from '../helpers/clients.js';
import { startTestServer, tmpFiles, type TestServer } from '../helpers/server.js';

// The real aws CLI (v1, botocore) against the real server, path-style, plain HTTP.
// Everything stays below the CLI's 8 MiB multipart threshold.

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
const sha256File = (p: string) => sha256(fs.readFileSync(p));

/** Keys the CLI and the listings must carry through unchanged. */
const ODD_KEYS = ['odd/sp ace.txt', 'odd/plus+sign.txt', 'odd/pct%41%.txt', 'odd/ünïcødé ✓.txt', 'odd/../dots.txt'];

/** Local tree -> { relative posix path: sha256 }. */
function treeHashes(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const d of fs.readdirSync(root, { recursive: true, withFileTypes: true })) {
    if (!d.isFile()) continue;
    const full = path.join(d.parentPath, d.name);
    out[path.relative(root, full).split(path.sep).join('/')] = sha256File(full);
  }
  return out;
}

/** The key names in `aws s3 ls` output (date, time, size, name — the name may contain spaces). */
function lsNames(stdout: string): string[] {
  return stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const pre = /^\s*PRE (.*)$/.exec(l);
      if (pre) return pre[1]!;
      const m = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+\d+ (.*)$/.exec(l);
      if (!m) throw new Error(`unexpected ls line: ${JSON.stringify(l)}`);
      return m[1]!;
    });
}

describe.skipIf(!hasClient('aws'))('aws CLI v1 (path style, SigV4, plain HTTP)', () => {
  let srv: TestServer;
  let work: string;
  let env: NodeJS.ProcessEnv;
  let envV4Presign: NodeJS.ProcessEnv;
  let envV2: NodeJS.ProcessEnv;
  let s3: S3Client;
  /** Setup that is not what a test is about goes through the SDK: one CLI start costs ~1 s. */
  const put = (bucket: string, keys: string[], body: string) =>
    Promise.all(keys.map((Key) => s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body: body }))));
  const sdkHead = (Bucket: string, Key: string) => s3.send(new HeadObjectCommand({ Bucket, Key }));
  const sdkMissing = async (Bucket: string, Key: string) => {
    const err = await sdkHead(Bucket, Key).then(() => undefined, (e: { $metadata?: { httpStatusCode?: number } }) => e);
    expect(err?.$metadata?.httpStatusCode, `${Bucket}/${Key} should be gone`).toBe(404);
  };

  const aws = (args: string[], e: NodeJS.ProcessEnv = env) => runOk('aws', ['--endpoint-url', srv.url, ...args], { env: e, timeoutMs: 60_000 });
  const awsFail = async (args: string[]): Promise<RunResult> => {
    const r = await run('aws', ['--endpoint-url', srv.url, ...args], { env, timeoutMs: 60_000 });
    expect(r.code, `aws ${args.join(' ')} should fail\n${r.stdout}`).not.toBe(0);
    return r;
  };
  const json = async (args: string[]) => JSON.parse((await aws([...args, '--output', 'json'])).stdout) as Record<string, any>;
  const curl = (args: string[]) => run('curl', ['-sS', '--globoff', ...args], { timeoutMs: 30_000 });
  const file = (name: string, data: Buffer) => {
    const p = path.join(work, name);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, data);
    return p;
  };

  beforeAll(async () => {
    srv = await startTestServer({ chunkSize: '1MiB', writeBuffers: 8 });
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-awscli-'));
    const cfg = path.join(work, 'config');
    fs.writeFileSync(cfg, '[default]\nregion = us-east-1\ns3 =\n  addressing_style = path\n');
    const cfgV4 = path.join(work, 'config-v4');
    fs.writeFileSync(cfgV4, '[default]\nregion = us-east-1\ns3 =\n  addressing_style = path\n  signature_version = s3v4\n');
    env = { ...srv.env, AWS_CONFIG_FILE: cfg, AWS_PAGER: '', AWS_MAX_ATTEMPTS: '1' };
    envV4Presign = { ...env, AWS_CONFIG_FILE: cfgV4 };
    const cfgV2 = path.join(work, 'config-v2');
    fs.writeFileSync(cfgV2, '[default]\nregion = us-east-1\ns3 =\n  addressing_style = path\n  signature_version = s3\n');
    envV2 = { ...env, AWS_CONFIG_FILE: cfgV2 };
    s3 = srv.client();
    await aws(['s3', 'mb', 's3://cli']);
  });
  afterAll(async () => {
    await srv?.stop();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it('mb creates a bucket that ls lists; a second mb fails with BucketAlreadyOwnedByYou', async () => {
    const out = await aws(['s3', 'mb', 's3://cli-other']);
    expect(out.stdout).toContain('make_bucket: cli-other');
    const ls = await aws(['s3', 'ls']);
    const names = ls.stdout.split('\n').filter(Boolean).map((l) => l.split(' ').pop());
    expect(names).toEqual(expect.arrayContaining(['cli', 'cli-other']));
    const dup = await awsFail(['s3', 'mb', 's3://cli-other']);
    expect(dup.stderr).toContain('BucketAlreadyOwnedByYou');
    await aws(['s3', 'rb', 's3://cli-other']);
  });

  it('cp round-trips a 7.5 MiB file, a small file and an empty file byte for byte', async () => {
    const big = randomBytes(7.5 * 1024 * 1024);
    const small = Buffer.from('hello, cairn\n');
    const srcBig = file('up/big.bin', big);
    const srcSmall = file('up/small.txt', small);
    const srcEmpty = file('up/empty', Buffer.alloc(0));
    await Promise.all([
      aws(['s3', 'cp', srcBig, 's3://cli/files/big.bin']),
      aws(['s3', 'cp', srcSmall, 's3://cli/files/small.txt']),
      aws(['s3', 'cp', srcEmpty, 's3://cli/files/empty']),
    ]);
    const down = path.join(work, 'down');
    await Promise.all([
      aws(['s3', 'cp', 's3://cli/files/big.bin', path.join(down, 'big.bin')]),
      aws(['s3', 'cp', 's3://cli/files/small.txt', path.join(down, 'small.txt')]),
      aws(['s3', 'cp', 's3://cli/files/empty', path.join(down, 'empty')]),
    ]);
    expect(sha256File(path.join(down, 'big.bin'))).toBe(sha256(big));
    expect(sha256File(path.join(down, 'small.txt'))).toBe(sha256(small));
    expect(fs.statSync(path.join(down, 'empty')).size).toBe(0);

    const head = await json(['s3api', 'head-object', '--bucket', 'cli', '--key', 'files/big.bin']);
    expect(head.ContentLength).toBe(big.length);
    expect(head.ETag).toBe(`"${md5(big)}"`);
    expect(typeof head.LastModified).toBe('string');
    const emptyHead = await json(['s3api', 'head-object', '--bucket', 'cli', '--key', 'files/empty']);
    expect(emptyHead.ContentLength).toBe(0);
    expect(emptyHead.ETag).toBe(`"${md5(Buffer.alloc(0))}"`);
    expect(tmpFiles(srv)).toEqual([]);
  });

  it('cp from stdin and to stdout', async () => {
    const data = randomBytes(100_000);
    const up = await run('aws', ['--endpoint-url', srv.url, 's3', 'cp', '-', 's3://cli/stream/in.bin'], { env, input: data });
    expect(up.code, up.stderr).toBe(0);
    const down = await new Promise<Buffer>((resolve, reject) => {
      import('node:child_process').then(({ spawn }) => {
        const child = spawn('aws', ['--endpoint-url', srv.url, 's3', 'cp', 's3://cli/stream/in.bin', '-'], { env });
        const parts: Buffer[] = [];
        child.stdout.on('data', (d: Buffer) => parts.push(d));
        child.on('error', reject);
        child.on('close', (code) => (code === 0 ? resolve(Buffer.concat(parts)) : reject(new Error(`exit ${code}`))));
      }, reject);
    });
    expect(sha256(down)).toBe(sha256(data));
  });

  it('head-object on a missing key fails with 404 Not Found', async () => {
    const r = await awsFail(['s3api', 'head-object', '--bucket', 'cli', '--key', 'files/missing']);
    expect(r.stderr).toMatch(/\(404\)|Not Found/);
    const g = await awsFail(['s3api', 'get-object', '--bucket', 'cli', '--key', 'files/missing', path.join(work, 'missing.out')]);
    expect(g.stderr).toContain('NoSuchKey');
  });

  it('keys with spaces, +, %, unicode and ../ round-trip through cp, ls, ls --recursive and list-objects', async () => {
    const bodies = ODD_KEYS.map((k) => Buffer.from(`body of ${k}\n`));
    // All but the '../' key go up in one recursive cp of files named like the keys.
    const plain = ODD_KEYS.filter((k) => !k.includes('../'));
    plain.forEach((k) => file(`odd-src/${k.slice('odd/'.length)}`, bodies[ODD_KEYS.indexOf(k)]!));
    const dotsBody = bodies[ODD_KEYS.indexOf('odd/../dots.txt')]!;
    await Promise.all([
      aws(['s3', 'cp', '--recursive', path.join(work, 'odd-src'), 's3://cli/odd/']),
      aws(['s3', 'cp', file('dots-src.txt', dotsBody), 's3://cli/odd/../dots.txt']),
    ]);

    // ls of the prefix shows the names relative to it; --recursive the whole keys.
    const ls = await aws(['s3', 'ls', 's3://cli/odd/']);
    expect(lsNames(ls.stdout).sort()).toEqual(['../', ...ODD_KEYS.filter((k) => !k.includes('../')).map((k) => k.slice('odd/'.length))].sort());
    const rec = await aws(['s3', 'ls', '--recursive', 's3://cli/odd/']);
    expect(lsNames(rec.stdout).sort()).toEqual([...ODD_KEYS].sort());
    const dots = await aws(['s3', 'ls', 's3://cli/odd/../']);
    expect(lsNames(dots.stdout)).toEqual(['dots.txt']);

    // v1 listing through s3api (botocore asks for encoding-type=url and decodes).
    const v1 = await json(['s3api', 'list-objects', '--bucket', 'cli', '--prefix', 'odd/']);
    expect(v1.Contents.map((c: { Key: string }) => c.Key).sort()).toEqual([...ODD_KEYS].sort());
    const v1d = await json(['s3api', 'list-objects', '--bucket', 'cli', '--prefix', 'odd/', '--delimiter', '/']);
    expect(v1d.CommonPrefixes.map((c: { Prefix: string }) => c.Prefix)).toEqual(['odd/../']);
    expect(v1d.Contents.map((c: { Key: string }) => c.Key).sort()).toEqual(ODD_KEYS.filter((k) => !k.includes('../')).sort());

    // Each downloads to its own bytes.
    const down = path.join(work, 'odd-down');
    await Promise.all([
      aws(['s3', 'cp', '--recursive', 's3://cli/odd/', down, '--exclude', '../*']),
      aws(['s3', 'cp', 's3://cli/odd/../dots.txt', path.join(work, 'dots.out')]),
    ]);
    expect(treeHashes(down)).toEqual(Object.fromEntries(plain.map((k) => [k.slice('odd/'.length), sha256(bodies[ODD_KEYS.indexOf(k)]!)])));
    expect(fs.readFileSync(path.join(work, 'dots.out'))).toEqual(dotsBody);
    const head = await json(['s3api', 'head-object', '--bucket', 'cli', '--key', 'odd/ünïcødé ✓.txt']);
    expect(head.ContentLength).toBe(bodies[3]!.length);
  });

  it('list-objects (v1) pages with max-items and returns sizes and ETags', async () => {
    const keys = Array.from({ length: 7 }, (_, i) => `v1/k${i}`);
    await put('cli', keys, 'v1 body');
    const all = await json(['s3api', 'list-objects', '--bucket', 'cli', '--prefix', 'v1/', '--page-size', '3']);
    expect(all.Contents.map((c: { Key: string }) => c.Key)).toEqual(keys);
    for (const c of all.Contents) {
      expect(c.Size).toBe(7);
      expect(c.ETag).toBe(`"${md5(Buffer.from('v1 body'))}"`);
    }
    const first = await json(['s3api', 'list-objects', '--bucket', 'cli', '--prefix', 'v1/', '--max-items', '2']);
    expect(first.Contents.map((c: { Key: string }) => c.Key)).toEqual(keys.slice(0, 2));
    expect(first.NextToken).toBeTruthy();
    const rest = await json(['s3api', 'list-objects', '--bucket', 'cli', '--prefix', 'v1/', '--starting-token', first.NextToken]);
    expect(rest.Contents.map((c: { Key: string }) => c.Key)).toEqual(keys.slice(2));
  });

  it('sync uploads a tree, a second sync transfers nothing; sync down likewise', async () => {
    const src = path.join(work, 'tree');
    file('tree/a.txt', Buffer.from('a'));
    file('tree/sub/b.txt', Buffer.from('bb'));
    file('tree/sub/deep/c.bin', randomBytes(300_000));
    file('tree/sp ace/ü+%.txt', Buffer.from('odd'));
    file('tree/empty.txt', Buffer.alloc(0));
    // S3 keeps whole seconds: a file written in the same second as its upload looks newer than
    // the object to sync (against AWS too). Real trees are older than that.
    const past = new Date(Date.now() - 3600_000);
    for (const f of Object.keys(treeHashes(src))) fs.utimesSync(path.join(src, f), past, past);
    const up = await aws(['s3', 'sync', src, 's3://cli/tree/', '--no-progress']);
    expect(up.stdout.match(/^upload: /gm)?.length).toBe(5);
    const again = await aws(['s3', 'sync', src, 's3://cli/tree/', '--no-progress']);
    expect(again.stdout.trim()).toBe('');

    const dst = path.join(work, 'tree-down');
    const down = await aws(['s3', 'sync', 's3://cli/tree/', dst, '--no-progress']);
    expect(down.stdout.match(/^download: /gm)?.length).toBe(5);
    expect(treeHashes(dst)).toEqual(treeHashes(src));
    const downAgain = await aws(['s3', 'sync', 's3://cli/tree/', dst, '--no-progress']);
    expect(downAgain.stdout.trim()).toBe('');
    // The CLI sets each file's mtime to the listed LastModified (whole seconds), and
    // --exact-timestamps compares them for equality.
    const exact = await aws(['s3', 'sync', 's3://cli/tree/', dst, '--no-progress', '--exact-timestamps']);
    expect(exact.stdout.trim()).toBe('');

    // A changed file is the only one transferred next time, and --delete removes what is gone.
    fs.writeFileSync(path.join(src, 'a.txt'), 'a changed');
    fs.rmSync(path.join(src, 'sub', 'b.txt'));
    const delta = await aws(['s3', 'sync', src, 's3://cli/tree/', '--delete', '--no-progress']);
    const lines = delta.stdout.trim().split('\n').sort();
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^delete: s3:\/\/cli\/tree\/sub\/b\.txt$/);
    expect(lines[1]).toMatch(/^upload: .*a\.txt to s3:\/\/cli\/tree\/a\.txt$/);
  });

  it('rm --recursive removes a prefix and nothing else', async () => {
    await put('cli', ['rm/x/1', 'rm/x/2', 'rm/y/3', 'rmkeep'], 'rm');
    const out = await aws(['s3', 'rm', '--recursive', 's3://cli/rm/']);
    expect(out.stdout.match(/^delete: /gm)?.length).toBe(3);
    const ls = await run('aws', ['--endpoint-url', srv.url, 's3', 'ls', '--recursive', 's3://cli/rm/'], { env });
    // `aws s3 ls` exits 1 when nothing matched.
    expect(ls.stdout.trim()).toBe('');
    expect((await sdkHead('cli', 'rmkeep')).ContentLength).toBe(2);
  });

  it('cp s3->s3 (CopyObject) across buckets and mv keep the bytes; mv removes the source', async () => {
    await aws(['s3', 'mb', 's3://cli-copy']);
    const data = randomBytes(2 * 1024 * 1024 + 5);
    await aws(['s3', 'cp', file('copy.bin', data), 's3://cli/copy/src.bin', '--content-type', 'application/x-cairn', '--metadata', 'color=blue']);
    await aws(['s3', 'cp', 's3://cli/copy/src.bin', 's3://cli-copy/dst with space+ü.bin']);
    const head = await sdkHead('cli-copy', 'dst with space+ü.bin');
    expect(head.ETag).toBe(`"${md5(data)}"`);
    expect(head.ContentType).toBe('application/x-cairn');
    expect(head.Metadata).toEqual({ color: 'blue' });
    await aws(['s3', 'cp', 's3://cli-copy/dst with space+ü.bin', path.join(work, 'copy.out')]);
    expect(sha256File(path.join(work, 'copy.out'))).toBe(sha256(data));

    const mv = await aws(['s3', 'mv', 's3://cli-copy/dst with space+ü.bin', 's3://cli-copy/moved/ü.bin']);
    expect(mv.stdout).toContain('move: s3://cli-copy/dst with space+ü.bin to s3://cli-copy/moved/ü.bin');
    await sdkMissing('cli-copy', 'dst with space+ü.bin');
    await aws(['s3', 'mv', 's3://cli-copy/moved/ü.bin', path.join(work, 'moved.out')]);
    expect(sha256File(path.join(work, 'moved.out'))).toBe(sha256(data));
    const ls = await run('aws', ['--endpoint-url', srv.url, 's3', 'ls', '--recursive', 's3://cli-copy'], { env });
    expect(ls.stdout.trim()).toBe('');
    // The source of the first copy is untouched.
    expect((await sdkHead('cli', 'copy/src.bin')).ContentLength).toBe(data.length);
  });

  it('cp s3->s3 sets the storage class it is given, in place too; a copy without one is STANDARD', async () => {
    await aws(['s3', 'cp', file('sc.txt', Buffer.from('storage class')), 's3://cli/sc/a', '--storage-class', 'STANDARD_IA', '--metadata', 'keep=me']);
    const cls = async (key: string) => (await sdkHead('cli', key)).StorageClass ?? 'STANDARD';
    expect(await cls('sc/a')).toBe('STANDARD_IA');
    // Changing the class of an object in place is a copy onto itself (S3 allows it when the class is given).
    await aws(['s3', 'cp', 's3://cli/sc/a', 's3://cli/sc/a', '--storage-class', 'GLACIER_IR']);
    const head = await sdkHead('cli', 'sc/a');
    expect(head.StorageClass).toBe('GLACIER_IR');
    expect(head.Metadata).toEqual({ keep: 'me' });
    const got = await s3.send(new GetObjectCommand({ Bucket: 'cli', Key: 'sc/a' }));
    expect(await got.Body!.transformToString()).toBe('storage class');
    // COPY directive with an explicit class, then without one (S3: "the copied object will be stored in STANDARD").
    await Promise.all([
      aws(['s3api', 'copy-object', '--bucket', 'cli', '--key', 'sc/b', '--copy-source', 'cli/sc/a', '--storage-class', 'REDUCED_REDUNDANCY']),
      aws(['s3', 'cp', 's3://cli/sc/a', 's3://cli/sc/c']),
    ]);
    expect(await cls('sc/b')).toBe('REDUCED_REDUNDANCY');
    expect(await cls('sc/c')).toBe('STANDARD');
    // Onto itself with nothing changed is still refused.
    const same = await awsFail(['s3api', 'copy-object', '--bucket', 'cli', '--key', 'sc/a', '--copy-source', 'cli/sc/a']);
    expect(same.stderr).toContain('InvalidRequest');
  });

  it('s3api delete-objects deletes a batch, reports missing keys as deleted', async () => {
    await put('cli', ['del/a', 'del/b c', 'del/ü+%'], 'del');
    const res = await json([
      's3api', 'delete-objects', '--bucket', 'cli',
      '--delete', JSON.stringify({ Objects: [{ Key: 'del/a' }, { Key: 'del/b c' }, { Key: 'del/ü+%' }, { Key: 'del/never-existed' }] }),
    ]);
    expect(res.Deleted.map((d: { Key: string }) => d.Key).sort()).toEqual(['del/a', 'del/b c', 'del/never-existed', 'del/ü+%']);
    expect(res.Errors ?? []).toEqual([]);
    const v1 = await json(['s3api', 'list-objects', '--bucket', 'cli', '--prefix', 'del/']);
    expect(v1.Contents ?? []).toEqual([]);
  });

  it('rb refuses a non-empty bucket (BucketNotEmpty); rb --force empties and removes it', async () => {
    await aws(['s3', 'mb', 's3://cli-rb']);
    await put('cli-rb', ['one', 'two/three'], 'rb');
    const r = await awsFail(['s3', 'rb', 's3://cli-rb']);
    expect(r.stderr).toContain('BucketNotEmpty');
    await aws(['s3', 'rb', '--force', 's3://cli-rb']);
    const ls = await aws(['s3', 'ls']);
    expect(ls.stdout).not.toMatch(/ cli-rb$/m);
  });

  it('downloads an object above 8 MiB with parallel ranged GETs (If-Match)', async () => {
    // Stored with one SDK PUT: the CLI would upload this size as multipart.
    const data = randomBytes(20 * 1024 * 1024 + 123);
    await s3.send(new PutObjectCommand({ Bucket: 'cli', Key: 'big/20m.bin', Body: data }));
    await aws(['s3', 'cp', 's3://cli/big/20m.bin', path.join(work, '20m.out')]);
    expect(sha256File(path.join(work, '20m.out'))).toBe(sha256(data));
  });

  it('ls pages (--page-size) without losing or repeating keys or prefixes', async () => {
    // In S3's (UTF-8 byte) order.
    const keys = ['pg/a', 'pg/b/1', 'pg/b/2', 'pg/b/3', 'pg/c', 'pg/d d/1', 'pg/z', 'pg/ü', 'pg/ü/1'];
    await put('cli', keys, 'p');
    const flat = await aws(['s3', 'ls', '--page-size', '2', 's3://cli/pg/']);
    // The CLI prints each page as it comes (its prefixes, then its keys): compare as sets, duplicates included.
    expect(lsNames(flat.stdout).sort()).toEqual(['a', 'b/', 'c', 'd d/', 'z', 'ü', 'ü/']);
    const rec = await aws(['s3', 'ls', '--recursive', '--page-size', '2', 's3://cli/pg/']);
    expect(lsNames(rec.stdout)).toEqual(keys);
  });

  it('works end to end with SigV2 header signing (signature_version = s3)', async () => {
    const data = randomBytes(600_000);
    const key = 'v2 sig/ü+(1).bin';
    const v2 = (args: string[]) => aws(args, envV2);
    await v2(['s3', 'cp', file('v2.bin', data), `s3://cli/${key}`]);
    expect(lsNames((await v2(['s3', 'ls', 's3://cli/v2 sig/'])).stdout)).toEqual(['ü+(1).bin']);
    await v2(['s3', 'cp', `s3://cli/${key}`, 's3://cli/v2 sig/copy?.bin']);
    await v2(['s3', 'cp', 's3://cli/v2 sig/copy?.bin', path.join(work, 'v2.out')]);
    expect(sha256File(path.join(work, 'v2.out'))).toBe(sha256(data));
    const del = JSON.parse((await v2(['s3api', 'delete-objects', '--bucket', 'cli', '--output', 'json', '--delete', JSON.stringify({ Objects: [{ Key: key }, { Key: 'v2 sig/copy?.bin' }] })])).stdout);
    expect(del.Deleted).toHaveLength(2);
  });

  describe('aws s3 presign fetched with curl', () => {
    const data = randomBytes(1024 * 1024 + 3);
    beforeAll(async () => {
      await aws(['s3', 'cp', file('presign.bin', data), 's3://cli/presign/ob ject+ü.bin']);
    });

    it('a SigV2 query URL (the default) returns the bytes', async () => {
      const url = (await aws(['s3', 'presign', 's3://cli/presign/ob ject+ü.bin'])).stdout.trim();
      expect(url).toContain('AWSAccessKeyId=');
      expect(url).toContain('Signature=');
      const out = path.join(work, 'presign-v2.out');
      const r = await curl(['-o', out, '-w', '%{http_code}', url]);
      expect(r.stdout).toBe('200');
      expect(sha256File(out)).toBe(sha256(data));
    });

    it('a SigV4 query URL (signature_version = s3v4) returns the bytes', async () => {
      const url = (await aws(['s3', 'presign', 's3://cli/presign/ob ject+ü.bin'], envV4Presign)).stdout.trim();
      expect(url).toContain('X-Amz-Signature=');
      const out = path.join(work, 'presign-v4.out');
      const r = await curl(['-o', out, '-w', '%{http_code}', url]);
      expect(r.stdout).toBe('200');
      expect(sha256File(out)).toBe(sha256(data));
    });

    it('an expired or tampered URL is refused with 403 and an XML error', async () => {
      const [short, good, goodV4] = await Promise.all([
        aws(['s3', 'presign', '--expires-in', '1', 's3://cli/presign/ob ject+ü.bin']),
        aws(['s3', 'presign', 's3://cli/presign/ob ject+ü.bin']),
        aws(['s3', 'presign', 's3://cli/presign/ob ject+ü.bin'], envV4Presign),
      ]).then((rs) => rs.map((r) => r.stdout.trim()));
      const check = async (url: string, code: string) => {
        const r = await curl(['-w', '\n%{http_code}', url]);
        const body = r.stdout.slice(0, r.stdout.lastIndexOf('\n'));
        expect(r.stdout.slice(r.stdout.lastIndexOf('\n') + 1), url).toBe('403');
        expect(body).toMatch(/^<\?xml/);
        expect(body).toContain(`<Code>${code}</Code>`);
        expect(body).not.toContain(srv.dataDir);
        expect(body).not.toMatch(/\bat .*\.(ts|js):\d+/);
      };
      // Expires is whole seconds: wait until it is certainly in the past.
      await new Promise((r) => setTimeout(r, 2100));
      await check(short!, 'AccessDenied');
      // Another key under the same signature, a changed signature, a changed expiry.
      await check(good!.replace('presign/', 'presign2/'), 'SignatureDoesNotMatch');
      await check(good!.replace(/Signature=([^&]+)/, (_, s: string) => `Signature=${s.startsWith('A') ? 'B' : 'A'}${s.slice(1)}`), 'SignatureDoesNotMatch');
      await check(good!.replace(/Expires=(\d+)/, (_, e: string) => `Expires=${Number(e) + 1}`), 'SignatureDoesNotMatch');
      await check(goodV4!.replace(/X-Amz-Expires=(\d+)/, (_, e: string) => `X-Amz-Expires=${Number(e) + 1}`), 'SignatureDoesNotMatch');
      await check(goodV4!.replace('presign/', 'presign2/'), 'SignatureDoesNotMatch');
    });
  });
});
