import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketLocationCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { bodyOf, s3Error } from '../helpers/sdk.js';
import { startTestServer, tmpFiles, chunkFiles, type TestServer } from '../helpers/server.js';

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');


describe('SDK v3 with default settings (CRC32 on, streams as aws-chunked)', () => {
  let srv: TestServer;
  let s3: S3Client;
  beforeAll(async () => {
    srv = await startTestServer({ chunkSize: '1MiB', writeBuffers: 8 });
    s3 = srv.client();
    await s3.send(new CreateBucketCommand({ Bucket: 'sdk' }));
  });
  afterAll(async () => srv?.stop());

  it('creates, lists, heads and locates buckets', async () => {
    const dup = await s3Error(s3.send(new CreateBucketCommand({ Bucket: 'sdk' })));
    expect(dup.name).toBe('BucketAlreadyOwnedByYou');
    expect(dup.$metadata.httpStatusCode).toBe(409);
    const list = await s3.send(new ListBucketsCommand({}));
    expect(list.Buckets?.map((b) => b.Name)).toContain('sdk');
    const head = await s3.send(new HeadBucketCommand({ Bucket: 'sdk' }));
    expect(head.BucketRegion).toBe('us-east-1');
    const loc = await s3.send(new GetBucketLocationCommand({ Bucket: 'sdk' }));
    expect(loc.LocationConstraint ?? '').toBe('');
    const ver = await s3.send(new GetBucketVersioningCommand({ Bucket: 'sdk' }));
    expect(ver.Status).toBeUndefined();
    const bad = await s3Error(s3.send(new CreateBucketCommand({ Bucket: 'Bad_Name' })));
    expect(bad.name).toBe('InvalidBucketName');
    const missing = await s3Error(s3.send(new HeadBucketCommand({ Bucket: 'nope-nope' })));
    expect(missing.$metadata.httpStatusCode).toBe(404);
  });

  it('round-trips a Buffer PUT with metadata and headers, checksum echoed', async () => {
    const data = randomBytes(3 * 1024 * 1024 + 17);
    const put = await s3.send(
      new PutObjectCommand({
        Bucket: 'sdk',
        Key: 'dir/a b+c%d/ünï.bin',
        Body: data,
        ContentType: 'application/x-test',
        ContentDisposition: 'attachment; filename="x.bin"',
        CacheControl: 'max-age=60',
        ContentLanguage: 'en',
        Expires: new Date('2030-01-01T00:00:00Z'),
        Metadata: { color: 'blue', 'multi-word': 'v a l' },
      }),
    );
    expect(put.ETag).toBe(`"${md5(data)}"`);
    expect(put.ChecksumCRC32).toBeDefined();
    const got = await s3.send(new GetObjectCommand({ Bucket: 'sdk', Key: 'dir/a b+c%d/ünï.bin', ChecksumMode: 'ENABLED' }));
    const body = await bodyOf(got);
    expect(body.equals(data)).toBe(true);
    expect(got.ContentType).toBe('application/x-test');
    expect(got.ContentDisposition).toBe('attachment; filename="x.bin"');
    expect(got.CacheControl).toBe('max-age=60');
    expect(got.ContentLanguage).toBe('en');
    expect(got.Expires?.toISOString()).toBe('2030-01-01T00:00:00.000Z');
    expect(got.Metadata).toEqual({ color: 'blue', 'multi-word': 'v a l' });
    expect(got.ChecksumCRC32).toBe(put.ChecksumCRC32);
    expect(got.ETag).toBe(put.ETag);
    // 4 chunks of 1 MiB: the object lives in chunk files.
    expect(chunkFiles(srv).length).toBeGreaterThanOrEqual(4);
  });

  it('uploads a stream of unknown length (aws-chunked with a CRC32 trailer)', async () => {
    const data = randomBytes(2 * 1024 * 1024 + 5);
    const stream = Readable.from((function* () {
      for (let i = 0; i < data.length; i += 65536) yield data.subarray(i, i + 65536);
    })());
    await s3.send(new PutObjectCommand({ Bucket: 'sdk', Key: 'stream.bin', Body: stream, ContentLength: data.length }));
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'sdk', Key: 'stream.bin' }));
    expect(head.ContentLength).toBe(data.length);
    expect(head.ETag).toBe(`"${md5(data)}"`);
    expect(head.ContentEncoding).toBeUndefined();
    expect((await bodyOf(await s3.send(new GetObjectCommand({ Bucket: 'sdk', Key: 'stream.bin' })))).equals(data)).toBe(true);
  });

  it('stores each checksum algorithm the SDK can send', async () => {
    for (const alg of ['CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'] as const) {
      const data = randomBytes(100_000);
      const put = await s3.send(new PutObjectCommand({ Bucket: 'sdk', Key: `ck-${alg}`, Body: data, ChecksumAlgorithm: alg }));
      const got = await s3.send(new GetObjectCommand({ Bucket: 'sdk', Key: `ck-${alg}`, ChecksumMode: 'ENABLED' }));
      expect((await bodyOf(got)).equals(data)).toBe(true);
      const field = `Checksum${alg}` as const;
      expect(got[field]).toBe(put[field]);
      expect(got[field]).toBeTruthy();
    }
  });

  it('serves ranges, 416 and conditional requests', async () => {
    const data = randomBytes(3000);
    const { ETag } = await s3.send(new PutObjectCommand({ Bucket: 'sdk', Key: 'range', Body: data }));
    const r1 = await s3.send(new GetObjectCommand({ Bucket: 'sdk', Key: 'range', Range: 'bytes=10-19', ChecksumMode: 'ENABLED' }));
    expect(r1.ContentRange).toBe('bytes 10-19/3000');
    expect(r1.ChecksumCRC32).toBeUndefined();
    expect((await bodyOf(r1)).equals(data.subarray(10, 20))).toBe(true);
    const r2 = await s3.send(new GetObjectCommand({ Bucket: 'sdk', Key: 'range', Range: 'bytes=-100' }));
    expect((await bodyOf(r2)).equals(data.subarray(2900))).toBe(true);
    const r3 = await s3.send(new GetObjectCommand({ Bucket: 'sdk', Key: 'range', Range: 'bytes=2990-' }));
    expect((await bodyOf(r3)).equals(data.subarray(2990))).toBe(true);
    const bad = await s3Error(s3.send(new GetObjectCommand({ Bucket: 'sdk', Key: 'range', Range: 'bytes=5000-' })));
    expect(bad.name).toBe('InvalidRange');
    expect(bad.$metadata.httpStatusCode).toBe(416);
    const pf = await s3Error(s3.send(new GetObjectCommand({ Bucket: 'sdk', Key: 'range', IfMatch: '"0000"' })));
    expect(pf.$metadata.httpStatusCode).toBe(412);
    const nm = await s3Error(s3.send(new GetObjectCommand({ Bucket: 'sdk', Key: 'range', IfNoneMatch: ETag })));
    expect(nm.$metadata.httpStatusCode).toBe(304);
    const ok = await s3.send(new GetObjectCommand({ Bucket: 'sdk', Key: 'range', IfMatch: ETag, IfUnmodifiedSince: new Date('2000-01-01T00:00:00Z') }));
    expect((await bodyOf(ok)).length).toBe(3000);
    const over = await s3.send(new GetObjectCommand({ Bucket: 'sdk', Key: 'range', ResponseContentType: 'text/plain', ResponseContentDisposition: 'inline' }));
    expect(over.ContentType).toBe('text/plain');
    expect(over.ContentDisposition).toBe('inline');
    await bodyOf(over);
  });

  it('copies by sharing chunks, with COPY and REPLACE directives', async () => {
    const data = randomBytes(2 * 1024 * 1024);
    await s3.send(new PutObjectCommand({ Bucket: 'sdk', Key: 'src', Body: data, Metadata: { a: '1' }, ContentType: 'x/y' }));
    const before = chunkFiles(srv).length;
    const c1 = await s3.send(new CopyObjectCommand({ Bucket: 'sdk', Key: 'dst1', CopySource: 'sdk/src' }));
    expect(c1.CopyObjectResult?.ETag).toBe(`"${md5(data)}"`);
    const c2 = await s3.send(new CopyObjectCommand({ Bucket: 'sdk', Key: 'dst2', CopySource: '/sdk/src', MetadataDirective: 'REPLACE', Metadata: { b: '2' }, ContentType: 'a/b' }));
    expect(c2.CopyObjectResult?.ETag).toBe(`"${md5(data)}"`);
    expect(chunkFiles(srv).length).toBe(before);
    const h1 = await s3.send(new HeadObjectCommand({ Bucket: 'sdk', Key: 'dst1' }));
    expect(h1.Metadata).toEqual({ a: '1' });
    expect(h1.ContentType).toBe('x/y');
    const h2 = await s3.send(new HeadObjectCommand({ Bucket: 'sdk', Key: 'dst2' }));
    expect(h2.Metadata).toEqual({ b: '2' });
    expect(h2.ContentType).toBe('a/b');
    // Deleting the source keeps the copies' bytes.
    await s3.send(new DeleteObjectCommand({ Bucket: 'sdk', Key: 'src' }));
    expect((await bodyOf(await s3.send(new GetObjectCommand({ Bucket: 'sdk', Key: 'dst2' })))).equals(data)).toBe(true);
    const self = await s3Error(s3.send(new CopyObjectCommand({ Bucket: 'sdk', Key: 'dst1', CopySource: 'sdk/dst1' })));
    expect(self.name).toBe('InvalidRequest');
    const pre = await s3Error(s3.send(new CopyObjectCommand({ Bucket: 'sdk', Key: 'dst3', CopySource: 'sdk/dst1', CopySourceIfMatch: '"nope"' })));
    expect(pre.$metadata.httpStatusCode).toBe(412);
  });

  it('lists with v1 and v2, delimiters, paging and url encoding', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'lst' }));
    const keys = ['a/1', 'a/2', 'a/b/3', 'b', 'c d', 'c+e', 'z/ü'];
    for (const k of keys) await s3.send(new PutObjectCommand({ Bucket: 'lst', Key: k, Body: k }));
    const all = await s3.send(new ListObjectsV2Command({ Bucket: 'lst' }));
    expect(all.Contents?.map((c) => c.Key)).toEqual([...keys].sort());
    expect(all.KeyCount).toBe(keys.length);
    const d = await s3.send(new ListObjectsV2Command({ Bucket: 'lst', Delimiter: '/' }));
    expect(d.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['a/', 'z/']);
    expect(d.Contents?.map((c) => c.Key)).toEqual(['b', 'c d', 'c+e']);
    // A delimiter page walks keys only and looks the rows of its contents up after: whole records.
    const plain = all.Contents!.filter((c) => ['b', 'c d', 'c+e'].includes(c.Key!));
    expect(d.Contents?.map((c) => [c.Key, c.Size, c.ETag, c.LastModified?.getTime(), c.StorageClass])).toEqual(
      plain.map((c) => [c.Key, c.Key!.length, c.ETag, c.LastModified?.getTime(), 'STANDARD']),
    );
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: 'lst', MaxKeys: 2, ContinuationToken: token }));
      seen.push(...(page.Contents ?? []).map((c) => c.Key!));
      token = page.NextContinuationToken;
      if (token) expect(page.IsTruncated).toBe(true);
    } while (token);
    expect(seen).toEqual([...keys].sort());
    const v1 = await s3.send(new ListObjectsCommand({ Bucket: 'lst', Delimiter: '/', MaxKeys: 2 }));
    expect(v1.IsTruncated).toBe(true);
    expect(v1.NextMarker).toBeDefined();
    const v1b = await s3.send(new ListObjectsCommand({ Bucket: 'lst', Delimiter: '/', Marker: v1.NextMarker }));
    expect([...(v1.CommonPrefixes ?? []), ...(v1b.CommonPrefixes ?? [])].map((p) => p.Prefix)).toEqual(['a/', 'z/']);
    const pre = await s3.send(new ListObjectsV2Command({ Bucket: 'lst', Prefix: 'a/', Delimiter: '/', StartAfter: 'a/1' }));
    expect(pre.Contents?.map((c) => c.Key)).toEqual(['a/2']);
    expect(pre.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['a/b/']);
    const enc = await s3.send(new ListObjectsV2Command({ Bucket: 'lst', EncodingType: 'url', Prefix: 'c' }));
    expect(enc.EncodingType).toBe('url');
  });

  it('deletes many objects at once, quietly or not, and empty buckets only', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'del' }));
    for (const k of ['x', 'y', 'z']) await s3.send(new PutObjectCommand({ Bucket: 'del', Key: k, Body: k }));
    const notEmpty = await s3Error(s3.send(new DeleteBucketCommand({ Bucket: 'del' })));
    expect(notEmpty.name).toBe('BucketNotEmpty');
    const res = await s3.send(new DeleteObjectsCommand({ Bucket: 'del', Delete: { Objects: [{ Key: 'x' }, { Key: 'y' }, { Key: 'missing' }] } }));
    expect(res.Deleted?.map((d) => d.Key).sort()).toEqual(['missing', 'x', 'y']);
    const quiet = await s3.send(new DeleteObjectsCommand({ Bucket: 'del', Delete: { Objects: [{ Key: 'z' }], Quiet: true } }));
    expect(quiet.Deleted ?? []).toEqual([]);
    await s3.send(new DeleteObjectCommand({ Bucket: 'del', Key: 'never-was' }));
    await s3.send(new DeleteBucketCommand({ Bucket: 'del' }));
    const gone = await s3Error(s3.send(new ListObjectsV2Command({ Bucket: 'del' })));
    expect(gone.name).toBe('NoSuchBucket');
  });

  it('answers NoSuchKey / NotFound and keeps no temp files', async () => {
    const get = await s3Error(s3.send(new GetObjectCommand({ Bucket: 'sdk', Key: 'absent' })));
    expect(get.name).toBe('NoSuchKey');
    const head = await s3Error(s3.send(new HeadObjectCommand({ Bucket: 'sdk', Key: 'absent' })));
    expect(head.name).toBe('NotFound');
    expect(tmpFiles(srv)).toEqual([]);
  });

  it('rejects a wrong secret and an unknown key', async () => {
    const wrong = srv.client({ credentials: { accessKeyId: 'CAIRNTESTKEY0000001', secretAccessKey: 'not-the-secret' } });
    expect((await s3Error(wrong.send(new ListBucketsCommand({})))).name).toBe('SignatureDoesNotMatch');
    const unknown = srv.client({ credentials: { accessKeyId: 'AKIDUNKNOWN', secretAccessKey: 'whatever-secret' } });
    expect((await s3Error(unknown.send(new ListBucketsCommand({})))).name).toBe('InvalidAccessKeyId');
    const badPut = await s3Error(wrong.send(new PutObjectCommand({ Bucket: 'sdk', Key: 'evil', Body: 'x' })));
    expect(badPut.$metadata.httpStatusCode).toBe(403);
    expect((await s3Error(s3.send(new HeadObjectCommand({ Bucket: 'sdk', Key: 'evil' })))).name).toBe('NotFound');
  });
});

describe('SDK v3 with requestChecksumCalculation WHEN_REQUIRED', () => {
  let srv: TestServer;
  let s3: S3Client;
  beforeAll(async () => {
    srv = await startTestServer();
    s3 = srv.client({ requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
    await s3.send(new CreateBucketCommand({ Bucket: 'wrq' }));
  });
  afterAll(async () => srv?.stop());

  it('uploads buffers and streams without checksums', async () => {
    const data = randomBytes(1024 * 1024 + 3);
    const put = await s3.send(new PutObjectCommand({ Bucket: 'wrq', Key: 'buf', Body: data }));
    expect(put.ETag).toBe(`"${md5(data)}"`);
    const stream = Readable.from([data.subarray(0, 1000), data.subarray(1000)]);
    await s3.send(new PutObjectCommand({ Bucket: 'wrq', Key: 'stream', Body: stream, ContentLength: data.length }));
    const got = await s3.send(new GetObjectCommand({ Bucket: 'wrq', Key: 'stream' }));
    expect((await bodyOf(got)).equals(data)).toBe(true);
    const res = await s3.send(new DeleteObjectsCommand({ Bucket: 'wrq', Delete: { Objects: [{ Key: 'buf' }] } }));
    expect(res.Deleted?.[0]?.Key).toBe('buf');
  });
});
