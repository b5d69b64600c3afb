import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectAttributesCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  UploadPartCommand,
  type ChecksumAlgorithm,
  type ChecksumType,
  type ObjectAttributes,
  type S3Client,
} from '@aws-sdk/client-s3';
import { hasClient, runOk } from '../helpers/clients.js';
import { s3Error } from '../helpers/sdk.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { makeSelfSignedCert } from '../helpers/tls.js';
import { createHasher, type ChecksumAlgorithm as Alg } from '../../src/s3/checksums.js';
import { combineCrcs, compositeChecksum } from '../../src/s3/multipart-checksums.js';

// GetObjectAttributes through the SDK and the aws CLI: single PUTs, multipart objects with
// COMPOSITE and FULL_OBJECT checksums, paging of parts, versions, SSE-C, bad input. Over TLS,
// since SSE-C needs it. Parts are 5 MiB (S3's minimum): three uploads of 10 MiB in all.

const MiB = 1024 * 1024;
const B = 'attrs';
const V = 'attrs-versions';
const ALL: ObjectAttributes[] = ['ETag', 'Checksum', 'ObjectParts', 'StorageClass', 'ObjectSize'];
const digest = (alg: Alg, data: Buffer) => {
  const h = createHasher(alg);
  h.update(data);
  return h.digest().toString('base64');
};
const md5 = (b: Buffer) => createHash('md5').update(b).digest();

/** Adds (or replaces) raw headers on one SDK command, before signing: bad input the SDK would not send. */
function withHeaders<C extends { middlewareStack: unknown }>(cmd: C, headers: Record<string, string>): C {
  (cmd.middlewareStack as { add(mw: unknown, o: unknown): void }).add(
    (next: (a: unknown) => unknown) => (args: { request: { headers: Record<string, string> } }) => {
      Object.assign(args.request.headers, headers);
      return next(args);
    },
    { step: 'build', priority: 'low' },
  );
  return cmd;
}

let srv: TestServer;
let s3: S3Client;
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-attrs-'));
const parts = [randomBytes(5 * MiB), randomBytes(5 * MiB), randomBytes(1234)];

/** A 3-part upload with `alg` (and `type`), each part's checksum echoed into Complete as lib-storage does. */
async function multipart(key: string, alg?: ChecksumAlgorithm, type?: ChecksumType): Promise<void> {
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: key, ChecksumAlgorithm: alg, ChecksumType: type, StorageClass: 'STANDARD_IA' }));
  const done = [];
  for (const [i, body] of parts.entries()) {
    const r = await s3.send(new UploadPartCommand({ Bucket: B, Key: key, UploadId, PartNumber: i + 1, Body: body, ChecksumAlgorithm: alg }));
    done.push({ PartNumber: i + 1, ETag: r.ETag, ChecksumCRC32: r.ChecksumCRC32, ChecksumCRC32C: r.ChecksumCRC32C, ChecksumSHA256: r.ChecksumSHA256 });
  }
  await s3.send(new CompleteMultipartUploadCommand({ Bucket: B, Key: key, UploadId, MultipartUpload: { Parts: done } }));
}

beforeAll(async () => {
  const tls = makeSelfSignedCert(work);
  srv = await startTestServer({ tlsCert: tls.cert, tlsKey: tls.key });
  // Without the default CRC32 on every body, so that an upload's algorithm is the one chosen here.
  s3 = srv.client({ requestChecksumCalculation: 'WHEN_REQUIRED' });
  await s3.send(new CreateBucketCommand({ Bucket: B }));
  await s3.send(new CreateBucketCommand({ Bucket: V }));
  await s3.send(new PutBucketVersioningCommand({ Bucket: V, VersioningConfiguration: { Status: 'Enabled' } }));
  await multipart('composite-sha256', 'SHA256');
  await multipart('full-crc32c', 'CRC32C', 'FULL_OBJECT');
  await multipart('plain-mpu');
}, 60_000);

afterAll(async () => {
  await srv?.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

describe('GetObjectAttributes', () => {
  it('a single PUT: unquoted ETag, its checksum (FULL_OBJECT), class, size, no ObjectParts', async () => {
    const body = Buffer.from('hello attributes');
    await s3.send(new PutObjectCommand({ Bucket: B, Key: 'single', Body: body, ChecksumAlgorithm: 'CRC32', StorageClass: 'GLACIER_IR' }));
    const a = await s3.send(new GetObjectAttributesCommand({ Bucket: B, Key: 'single', ObjectAttributes: ALL }));
    expect(a.ETag).toBe(md5(body).toString('hex'));
    expect(a.Checksum).toEqual({ ChecksumCRC32: digest('CRC32', body), ChecksumType: 'FULL_OBJECT' });
    expect(a.ObjectParts).toBeUndefined();
    expect(a.StorageClass).toBe('GLACIER_IR');
    expect(a.ObjectSize).toBe(body.length);
    expect(a.LastModified).toBeInstanceOf(Date);
    expect(a.VersionId).toBeUndefined();
    // Only what is asked for comes back.
    const some = await s3.send(new GetObjectAttributesCommand({ Bucket: B, Key: 'single', ObjectAttributes: ['ObjectSize'] }));
    expect([some.ETag, some.Checksum, some.StorageClass, some.ObjectSize]).toEqual([undefined, undefined, undefined, body.length]);
  });

  it('COMPOSITE SHA256 multipart: the checksum without -N, every part with its checksum, paged', async () => {
    const partSums = parts.map((p) => digest('SHA256', p));
    const a = await s3.send(new GetObjectAttributesCommand({ Bucket: B, Key: 'composite-sha256', ObjectAttributes: ALL }));
    expect(a.Checksum).toEqual({ ChecksumSHA256: compositeChecksum('SHA256', partSums).replace(/-3$/, ''), ChecksumType: 'COMPOSITE' });
    expect(a.ETag).toMatch(/^[0-9a-f]{32}-3$/);
    expect(a.StorageClass).toBe('STANDARD_IA');
    expect(a.ObjectSize).toBe(10 * MiB + 1234);
    expect(a.ObjectParts).toEqual({
      TotalPartsCount: 3, PartNumberMarker: '0', NextPartNumberMarker: '3', MaxParts: 1000, IsTruncated: false,
      Parts: parts.map((p, i) => ({ PartNumber: i + 1, Size: p.length, ChecksumSHA256: partSums[i] })),
    });
    const first = await s3.send(new GetObjectAttributesCommand({ Bucket: B, Key: 'composite-sha256', ObjectAttributes: ['ObjectParts'], MaxParts: 2 }));
    expect(first.ObjectParts).toMatchObject({ TotalPartsCount: 3, MaxParts: 2, IsTruncated: true, NextPartNumberMarker: '2' });
    expect(first.ObjectParts?.Parts?.map((p) => p.PartNumber)).toEqual([1, 2]);
    const rest = await s3.send(new GetObjectAttributesCommand({ Bucket: B, Key: 'composite-sha256', ObjectAttributes: ['ObjectParts'], MaxParts: 2, PartNumberMarker: '2' }));
    expect(rest.ObjectParts).toMatchObject({ PartNumberMarker: '2', IsTruncated: false, NextPartNumberMarker: '3' });
    expect(rest.ObjectParts?.Parts).toEqual([{ PartNumber: 3, Size: 1234, ChecksumSHA256: partSums[2] }]);
  });

  it('FULL_OBJECT CRC32C multipart: the whole object\'s CRC; parts counted, not listed', async () => {
    const whole = combineCrcs('CRC32C', parts.map((p) => ({ checksumBase64: digest('CRC32C', p), size: p.length })));
    expect(whole).toBe(digest('CRC32C', Buffer.concat(parts)));
    const a = await s3.send(new GetObjectAttributesCommand({ Bucket: B, Key: 'full-crc32c', ObjectAttributes: ALL }));
    expect(a.Checksum).toEqual({ ChecksumCRC32C: whole, ChecksumType: 'FULL_OBJECT' });
    expect(a.ObjectParts).toEqual({ TotalPartsCount: 3 });
    // Without any checksum there is no Checksum element either.
    const plain = await s3.send(new GetObjectAttributesCommand({ Bucket: B, Key: 'plain-mpu', ObjectAttributes: ALL }));
    expect([plain.Checksum, plain.ObjectParts]).toEqual([undefined, { TotalPartsCount: 3 }]);
  });

  it('per version: x-amz-version-id, an older version by id, delete markers as S3 answers them', async () => {
    const v1 = await s3.send(new PutObjectCommand({ Bucket: V, Key: 'k', Body: 'one' }));
    await s3.send(new PutObjectCommand({ Bucket: V, Key: 'k', Body: 'second' }));
    const old = await s3.send(new GetObjectAttributesCommand({ Bucket: V, Key: 'k', VersionId: v1.VersionId, ObjectAttributes: ['ObjectSize'] }));
    expect([old.ObjectSize, old.VersionId]).toEqual([3, v1.VersionId]);
    const current = await s3.send(new GetObjectAttributesCommand({ Bucket: V, Key: 'k', ObjectAttributes: ['ObjectSize'] }));
    expect(current.ObjectSize).toBe(6);
    const marker = await s3.send(new DeleteObjectCommand({ Bucket: V, Key: 'k' }));
    const gone = await s3Error(s3.send(new GetObjectAttributesCommand({ Bucket: V, Key: 'k', ObjectAttributes: ['ETag'] })));
    expect([gone.name, gone.$metadata.httpStatusCode, gone.$response?.headers['x-amz-delete-marker']]).toEqual(['NoSuchKey', 404, 'true']);
    const byId = await s3Error(s3.send(new GetObjectAttributesCommand({ Bucket: V, Key: 'k', VersionId: marker.VersionId, ObjectAttributes: ['ETag'] })));
    expect([byId.name, byId.$metadata.httpStatusCode, byId.$response?.headers['x-amz-delete-marker']]).toEqual(['MethodNotAllowed', 405, 'true']);
    const missing = await s3Error(s3.send(new GetObjectAttributesCommand({ Bucket: V, Key: 'k', VersionId: 'nope', ObjectAttributes: ['ETag'] })));
    expect([missing.name, missing.$metadata.httpStatusCode]).toEqual(['InvalidArgument', 400]);
  });

  it('an SSE-C object needs its key, as on HEAD', async () => {
    const key = randomBytes(32);
    const sse = { SSECustomerAlgorithm: 'AES256', SSECustomerKey: key.toString('base64'), SSECustomerKeyMD5: md5(key).toString('base64') };
    await s3.send(new PutObjectCommand({ Bucket: B, Key: 'sse-c', Body: 'secret', ...sse }));
    const denied = await s3Error(s3.send(new GetObjectAttributesCommand({ Bucket: B, Key: 'sse-c', ObjectAttributes: ['ObjectSize'] })));
    expect(denied.$metadata.httpStatusCode).toBe(400);
    const other = randomBytes(32);
    const wrong = await s3Error(s3.send(new GetObjectAttributesCommand({ Bucket: B, Key: 'sse-c', ObjectAttributes: ['ObjectSize'], SSECustomerAlgorithm: 'AES256', SSECustomerKey: other.toString('base64'), SSECustomerKeyMD5: md5(other).toString('base64') })));
    expect(wrong.$metadata.httpStatusCode).toBe(403);
    const ok = await s3.send(new GetObjectAttributesCommand({ Bucket: B, Key: 'sse-c', ObjectAttributes: ['ObjectSize'], ...sse }));
    expect(ok.ObjectSize).toBe(6);
  });

  it('bad input: no attributes (InvalidRequest), an unknown one or bad paging headers (InvalidArgument), no key (NoSuchKey)', async () => {
    const cases: Array<[Record<string, string>, number, string]> = [
      [{ 'x-amz-object-attributes': '' }, 400, 'InvalidRequest'],
      [{ 'x-amz-object-attributes': 'ETag,ETags' }, 400, 'InvalidArgument'],
      [{ 'x-amz-object-attributes': 'etag' }, 400, 'InvalidArgument'],
      [{ 'x-amz-max-parts': 'ten' }, 400, 'InvalidArgument'],
      [{ 'x-amz-max-parts': '-1' }, 400, 'InvalidArgument'],
      [{ 'x-amz-part-number-marker': '1.5' }, 400, 'InvalidArgument'],
    ];
    for (const [headers, status, name] of cases) {
      const err = await s3Error(s3.send(withHeaders(new GetObjectAttributesCommand({ Bucket: B, Key: 'composite-sha256', ObjectAttributes: ['ObjectParts'] }), headers)));
      expect([err.name, err.$metadata.httpStatusCode], JSON.stringify(headers)).toEqual([name, status]);
    }
    const none = await s3Error(s3.send(new GetObjectAttributesCommand({ Bucket: B, Key: 'no-such', ObjectAttributes: ['ETag'] })));
    expect([none.name, none.$metadata.httpStatusCode]).toEqual(['NoSuchKey', 404]);
    const owner = await s3Error(s3.send(new GetObjectAttributesCommand({ Bucket: B, Key: 'single', ObjectAttributes: ['ETag'], ExpectedBucketOwner: '111122223333' })));
    expect([owner.name, owner.$metadata.httpStatusCode]).toEqual(['AccessDenied', 403]);
  });
});

describe.skipIf(!hasClient('aws'))('aws s3api get-object-attributes', () => {
  const aws = async (args: string[]) => {
    const env = { ...srv.env, AWS_PAGER: '' };
    return JSON.parse((await runOk('aws', ['--endpoint-url', srv.url, '--ca-bundle', srv.caFile!, 's3api', ...args, '--output', 'json'], { env })).stdout) as Record<string, any>;
  };

  it('pages the parts of a COMPOSITE object and reads a single PUT', async () => {
    const page = await aws(['get-object-attributes', '--bucket', B, '--key', 'composite-sha256', '--object-attributes', 'ETag', 'Checksum', 'ObjectParts', 'StorageClass', 'ObjectSize', '--max-parts', '1', '--part-number-marker', '1']);
    expect(page.ETag).toMatch(/^[0-9a-f]{32}-3$/);
    expect(page.Checksum.ChecksumType).toBe('COMPOSITE');
    expect(page.ObjectParts).toMatchObject({ TotalPartsCount: 3, PartNumberMarker: 1, NextPartNumberMarker: 2, MaxParts: 1, IsTruncated: true });
    expect(page.ObjectParts.Parts).toEqual([{ PartNumber: 2, Size: 5 * MiB, ChecksumSHA256: digest('SHA256', parts[1]!) }]);
    expect([page.StorageClass, page.ObjectSize]).toEqual(['STANDARD_IA', 10 * MiB + 1234]);
    const single = await aws(['get-object-attributes', '--bucket', B, '--key', 'single', '--object-attributes', 'ObjectSize', 'StorageClass']);
    expect([single.ObjectSize, single.StorageClass, single.ETag]).toEqual([16, 'GLACIER_IR', undefined]);
  });
});
