import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
  type ChecksumAlgorithm,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { bodyOf, s3Error } from '../helpers/sdk.js';
import { startTestServer, tmpFiles, type TestServer } from '../helpers/server.js';

const MiB = 1024 * 1024;
const md5 = (b: Buffer) => createHash('md5').update(b).digest();


function streamOf(data: Buffer, piece = 256 * 1024): Readable {
  return Readable.from((function* () {
    for (let i = 0; i < data.length; i += piece) yield data.subarray(i, i + piece);
  })());
}

describe('multipart uploads with the SDK', () => {
  let srv: TestServer;
  let s3: S3Client;
  beforeAll(async () => {
    srv = await startTestServer({ chunkSize: '1MiB', writeBuffers: 16 });
    s3 = srv.client();
    await s3.send(new CreateBucketCommand({ Bucket: 'mpu' }));
  });
  afterAll(async () => srv?.stop());

  it('lib-storage Upload of a stream with default checksums', async () => {
    const data = randomBytes(23 * MiB + 123);
    await new Upload({ client: s3, params: { Bucket: 'mpu', Key: 'lib/default', Body: streamOf(data) }, partSize: 5 * MiB, queueSize: 4 }).done();
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'mpu', Key: 'lib/default' }));
    expect(head.ContentLength).toBe(data.length);
    const parts = Math.ceil(data.length / (5 * MiB));
    const expectedEtag = createHash('md5')
      .update(Buffer.concat(Array.from({ length: parts }, (_, i) => md5(data.subarray(i * 5 * MiB, (i + 1) * 5 * MiB)))))
      .digest('hex');
    expect(head.ETag).toBe(`"${expectedEtag}-${parts}"`);
    const got = await s3.send(new GetObjectCommand({ Bucket: 'mpu', Key: 'lib/default', ChecksumMode: 'ENABLED' }));
    expect((await bodyOf(got)).equals(data)).toBe(true);
  });

  for (const [alg, type] of [['CRC32C', 'COMPOSITE'], ['CRC64NVME', 'FULL_OBJECT'], ['SHA256', 'COMPOSITE'], ['CRC32', 'FULL_OBJECT']] as const) {
    it(`lib-storage Upload with ${alg} (${type})`, async () => {
      const data = randomBytes(11 * MiB + 7);
      const key = `lib/${alg}-${type}`;
      const up = new Upload({
        client: s3,
        params: { Bucket: 'mpu', Key: key, Body: streamOf(data), ChecksumAlgorithm: alg as ChecksumAlgorithm, ...(type === 'FULL_OBJECT' ? { ChecksumType: 'FULL_OBJECT' } : {}) },
        partSize: 5 * MiB,
        queueSize: 3,
      });
      const res = await up.done();
      const got = await s3.send(new GetObjectCommand({ Bucket: 'mpu', Key: key, ChecksumMode: 'ENABLED' }));
      expect((await bodyOf(got)).equals(data)).toBe(true);
      const value = got[`Checksum${alg}` as 'ChecksumCRC32'];
      expect(value).toBeTruthy();
      expect(got.ChecksumType).toBe(type);
      if (type === 'FULL_OBJECT') {
        // The combined CRC must equal a single-PUT of the same bytes.
        const single = await s3.send(new PutObjectCommand({ Bucket: 'mpu', Key: `${key}-single`, Body: data, ChecksumAlgorithm: alg as ChecksumAlgorithm }));
        expect(value).toBe(single[`Checksum${alg}` as 'ChecksumCRC32']);
      } else {
        expect(value).toMatch(/-3$/);
      }
      expect(res.ETag).toMatch(/-3"$/);
    });
  }

  it('accepts parts out of order and concurrently, re-uploads replace, ListParts pages', async () => {
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'mpu', Key: 'manual', ContentType: 'x/manual', Metadata: { k: 'v' } }));
    const parts = [randomBytes(5 * MiB), randomBytes(5 * MiB), randomBytes(1000)];
    await s3.send(new UploadPartCommand({ Bucket: 'mpu', Key: 'manual', UploadId, PartNumber: 2, Body: randomBytes(5 * MiB) }));
    const etags = await Promise.all(
      [3, 2, 1].map(async (n) => [n, (await s3.send(new UploadPartCommand({ Bucket: 'mpu', Key: 'manual', UploadId, PartNumber: n, Body: parts[n - 1] }))).ETag!] as const),
    );
    const byNum = new Map(etags);
    const p1 = await s3.send(new ListPartsCommand({ Bucket: 'mpu', Key: 'manual', UploadId, MaxParts: 2 }));
    expect(p1.Parts?.map((p) => p.PartNumber)).toEqual([1, 2]);
    expect(p1.IsTruncated).toBe(true);
    const p2 = await s3.send(new ListPartsCommand({ Bucket: 'mpu', Key: 'manual', UploadId, PartNumberMarker: p1.NextPartNumberMarker }));
    expect(p2.Parts?.map((p) => [p.PartNumber, p.Size])).toEqual([[3, 1000]]);
    // Invisible until completed.
    expect((await s3Error(s3.send(new HeadObjectCommand({ Bucket: 'mpu', Key: 'manual' })))).name).toBe('NotFound');
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'mpu', Prefix: 'manual' }));
    expect(listed.KeyCount).toBe(0);
    const done = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: 'mpu',
        Key: 'manual',
        UploadId,
        MultipartUpload: { Parts: [1, 2, 3].map((n) => ({ PartNumber: n, ETag: byNum.get(n) })) },
      }),
    );
    const all = Buffer.concat(parts);
    const got = await s3.send(new GetObjectCommand({ Bucket: 'mpu', Key: 'manual' }));
    expect(got.ContentType).toBe('x/manual');
    expect(got.Metadata).toEqual({ k: 'v' });
    expect((await bodyOf(got)).equals(all)).toBe(true);
    expect(got.ETag).toBe(done.ETag);
    const part2 = await s3.send(new GetObjectCommand({ Bucket: 'mpu', Key: 'manual', PartNumber: 2 }));
    expect(part2.PartsCount).toBe(3);
    expect(part2.ContentRange).toBe(`bytes ${5 * MiB}-${10 * MiB - 1}/${all.length}`);
    expect((await bodyOf(part2)).equals(parts[1]!)).toBe(true);
    // A retried Complete answers like the first one.
    const again = await s3.send(
      new CompleteMultipartUploadCommand({ Bucket: 'mpu', Key: 'manual', UploadId, MultipartUpload: { Parts: [1, 2, 3].map((n) => ({ PartNumber: n, ETag: byNum.get(n) })) } }),
    );
    expect(again.ETag).toBe(done.ETag);
  });

  it('rejects bad Complete requests and changes nothing', async () => {
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'mpu', Key: 'bad' }));
    const e1 = (await s3.send(new UploadPartCommand({ Bucket: 'mpu', Key: 'bad', UploadId, PartNumber: 1, Body: randomBytes(1000) }))).ETag!;
    const e2 = (await s3.send(new UploadPartCommand({ Bucket: 'mpu', Key: 'bad', UploadId, PartNumber: 2, Body: randomBytes(1000) }))).ETag!;
    const complete = (Parts: Array<{ PartNumber: number; ETag: string }>) =>
      s3Error(s3.send(new CompleteMultipartUploadCommand({ Bucket: 'mpu', Key: 'bad', UploadId, MultipartUpload: { Parts } })));
    expect((await complete([{ PartNumber: 1, ETag: e1 }, { PartNumber: 2, ETag: e2 }])).name).toBe('EntityTooSmall');
    expect((await complete([{ PartNumber: 2, ETag: e2 }, { PartNumber: 1, ETag: e1 }])).name).toBe('InvalidPartOrder');
    expect((await complete([{ PartNumber: 1, ETag: '"00000000000000000000000000000000"' }])).name).toBe('InvalidPart');
    expect((await complete([{ PartNumber: 3, ETag: e1 }])).name).toBe('InvalidPart');
    expect((await s3Error(s3.send(new UploadPartCommand({ Bucket: 'mpu', Key: 'bad', UploadId, PartNumber: 10001, Body: 'x' })))).name).toBe('InvalidArgument');
    const ups = await s3.send(new ListMultipartUploadsCommand({ Bucket: 'mpu', Prefix: 'bad' }));
    expect(ups.Uploads?.map((u) => u.UploadId)).toEqual([UploadId]);
    await s3.send(new AbortMultipartUploadCommand({ Bucket: 'mpu', Key: 'bad', UploadId }));
    expect((await s3Error(s3.send(new UploadPartCommand({ Bucket: 'mpu', Key: 'bad', UploadId, PartNumber: 3, Body: 'late' })))).name).toBe('NoSuchUpload');
    expect((await s3Error(s3.send(new AbortMultipartUploadCommand({ Bucket: 'mpu', Key: 'bad', UploadId })))).name).toBe('NoSuchUpload');
    expect((await s3Error(s3.send(new HeadObjectCommand({ Bucket: 'mpu', Key: 'bad' })))).name).toBe('NotFound');
    expect(tmpFiles(srv)).toEqual([]);
  });

  it('UploadPartCopy copies ranges of an object', async () => {
    const src = randomBytes(7 * MiB + 333);
    await s3.send(new PutObjectCommand({ Bucket: 'mpu', Key: 'copy-src', Body: src }));
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'mpu', Key: 'copy-dst' }));
    const a = await s3.send(new UploadPartCopyCommand({ Bucket: 'mpu', Key: 'copy-dst', UploadId, PartNumber: 1, CopySource: 'mpu/copy-src', CopySourceRange: `bytes=100-${100 + 5 * MiB - 1}` }));
    const b = await s3.send(new UploadPartCopyCommand({ Bucket: 'mpu', Key: 'copy-dst', UploadId, PartNumber: 2, CopySource: '/mpu/copy-src' }));
    expect(a.CopyPartResult?.ETag).toBe(`"${md5(src.subarray(100, 100 + 5 * MiB)).toString('hex')}"`);
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: 'mpu',
        Key: 'copy-dst',
        UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: a.CopyPartResult!.ETag }, { PartNumber: 2, ETag: b.CopyPartResult!.ETag }] },
      }),
    );
    const got = await bodyOf(await s3.send(new GetObjectCommand({ Bucket: 'mpu', Key: 'copy-dst' })));
    expect(got.equals(Buffer.concat([src.subarray(100, 100 + 5 * MiB), src]))).toBe(true);
    const bad = await s3Error(s3.send(new UploadPartCopyCommand({ Bucket: 'mpu', Key: 'copy-dst', UploadId: 'nope', PartNumber: 1, CopySource: 'mpu/copy-src' })));
    expect(bad.name).toBe('NoSuchUpload');
  });
});
