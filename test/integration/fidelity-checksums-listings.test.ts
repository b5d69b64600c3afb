import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { createHash, randomBytes } from 'node:crypto';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectAttributesCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectVersionsCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  UploadPartCommand,
  type ChecksumAlgorithm,
  type ChecksumType,
  type CompletedPart,
  type S3Client,
} from '@aws-sdk/client-s3';
import { signRequest } from '../../src/auth/sigv4.js';
import { hasClient, run, runOk } from '../helpers/clients.js';
import { bodyOf, s3Error } from '../helpers/sdk.js';
import { TEST_ACCESS_KEY, TEST_SECRET, startTestServer, type TestServer } from '../helpers/server.js';
import { compositeChecksum } from '../../src/s3/multipart-checksums.js';

// S3 fidelity items of issue #21 that real clients notice: the whole object's checksum on
// CompleteMultipartUpload, a part's checksum on GET/HEAD ?partNumber, an empty ListObjectsV2
// continuation-token, what ListObjects v1 url-encodes, Content-Encoding kept as sent, and
// storage classes reported everywhere an object or upload is.

const MiB = 1024 * 1024;
const B = 'fidelity';
const crc32 = (b: Buffer) => {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(zlib.crc32(b) >>> 0);
  return out.toString('base64');
};
const partBodies = [randomBytes(5 * MiB), randomBytes(777)];

let srv: TestServer;
let s3: S3Client;
/** No default CRC32 on request bodies: the checksums of Complete are the ones each test gives. */
let bare: S3Client;

/** A raw request signed with cairn's own signer (headers the SDK would not send as given). */
function signed(method: string, path: string, query: string, headers: Record<string, string>, body: Buffer): Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }> {
  const host = `127.0.0.1:${srv.port}`;
  const all = { host, 'content-length': String(body.length), 'x-amz-content-sha256': createHash('sha256').update(body).digest('hex'), ...headers };
  const s = signRequest({ method, rawPath: path, rawQuery: query, headers: all }, { accessKeyId: TEST_ACCESS_KEY, secretAccessKey: TEST_SECRET, region: 'us-east-1', date: new Date() });
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: srv.port, method, path: path + (query ? `?${query}` : ''), headers: s.request.headers as Record<string, string> }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(parts).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** An upload with both parts uploaded; the parts as Complete lists them. */
async function upload(key: string, alg: ChecksumAlgorithm, type?: ChecksumType): Promise<{ UploadId: string; Parts: CompletedPart[] }> {
  const { UploadId } = await bare.send(new CreateMultipartUploadCommand({ Bucket: B, Key: key, ChecksumAlgorithm: alg, ChecksumType: type }));
  const Parts: CompletedPart[] = [];
  for (const [i, Body] of partBodies.entries()) {
    const r = await bare.send(new UploadPartCommand({ Bucket: B, Key: key, UploadId, PartNumber: i + 1, Body, ChecksumAlgorithm: alg }));
    Parts.push({ PartNumber: i + 1, ETag: r.ETag, ChecksumCRC32: r.ChecksumCRC32, ChecksumCRC32C: r.ChecksumCRC32C });
  }
  return { UploadId: UploadId!, Parts };
}

beforeAll(async () => {
  srv = await startTestServer();
  s3 = srv.client();
  bare = srv.client({ requestChecksumCalculation: 'WHEN_REQUIRED' });
  await s3.send(new CreateBucketCommand({ Bucket: B }));
});

afterAll(async () => {
  await srv?.stop();
});

describe('CompleteMultipartUpload with the whole object\'s checksum', () => {
  it('COMPOSITE: "<base64>-<N>" (or without -N) is checked; a wrong value, count, type or algorithm changes nothing', async () => {
    const key = 'composite.bin';
    const { UploadId, Parts } = await upload(key, 'CRC32');
    const whole = compositeChecksum('CRC32', partBodies.map(crc32));
    expect(whole).toMatch(/-2$/);
    const complete = (extra: Record<string, string>) => bare.send(new CompleteMultipartUploadCommand({ Bucket: B, Key: key, UploadId, MultipartUpload: { Parts }, ...extra }));
    const refusals: Array<[Record<string, string>, string]> = [
      [{ ChecksumCRC32: crc32(Buffer.from('other')) + '-2' }, 'BadDigest'],
      [{ ChecksumCRC32: whole.replace(/-2$/, '-3') }, 'BadDigest'],
      [{ ChecksumCRC32: whole, ChecksumType: 'FULL_OBJECT' }, 'BadDigest'],
      [{ ChecksumCRC32C: crc32(Buffer.from('x')) }, 'InvalidRequest'],
      [{ ChecksumCRC32: 'not base64!' }, 'InvalidRequest'],
    ];
    for (const [extra, name] of refusals) {
      const err = await s3Error(complete(extra));
      expect([err.name, err.$metadata.httpStatusCode], JSON.stringify(extra)).toEqual([name, 400]);
      // Nothing changed: the upload and its parts are still there, no object.
      expect((await bare.send(new ListPartsCommand({ Bucket: B, Key: key, UploadId }))).Parts?.length).toBe(2);
      expect((await s3Error(bare.send(new HeadObjectCommand({ Bucket: B, Key: key })))).name).toBe('NotFound');
    }
    const done = await complete({ ChecksumCRC32: whole, ChecksumType: 'COMPOSITE' });
    expect([done.ChecksumCRC32, done.ChecksumType]).toEqual([whole, 'COMPOSITE']);
    // GetObjectAttributes of a COMPOSITE CRC32 object: the value without -N, each part's CRC32.
    const attrs = await s3.send(new GetObjectAttributesCommand({ Bucket: B, Key: key, ObjectAttributes: ['Checksum', 'ObjectParts'] }));
    expect(attrs.Checksum).toEqual({ ChecksumCRC32: whole.replace(/-2$/, ''), ChecksumType: 'COMPOSITE' });
    expect(attrs.ObjectParts?.Parts).toEqual(partBodies.map((b, i) => ({ PartNumber: i + 1, Size: b.length, ChecksumCRC32: crc32(b) })));
    // Without the count, on a second upload.
    const again = await upload('composite-bare.bin', 'CRC32');
    const bareDone = await bare.send(new CompleteMultipartUploadCommand({ Bucket: B, Key: 'composite-bare.bin', ...again, MultipartUpload: { Parts: again.Parts }, ChecksumCRC32: whole.replace(/-2$/, '') }));
    expect(bareDone.ChecksumCRC32).toBe(whole);
  });

  it('FULL_OBJECT: the plain CRC of the whole object; BadDigest otherwise', async () => {
    const key = 'full.bin';
    const { UploadId, Parts } = await upload(key, 'CRC32', 'FULL_OBJECT');
    const whole = crc32(Buffer.concat(partBodies));
    const complete = (extra: Record<string, string>) => bare.send(new CompleteMultipartUploadCommand({ Bucket: B, Key: key, UploadId, MultipartUpload: { Parts }, ChecksumType: 'FULL_OBJECT', ...extra }));
    expect((await s3Error(complete({ ChecksumCRC32: crc32(partBodies[0]!) }))).name).toBe('BadDigest');
    expect((await s3Error(complete({ ChecksumCRC32: `${whole}-2` }))).name).toBe('BadDigest');
    const done = await complete({ ChecksumCRC32: whole });
    expect([done.ChecksumCRC32, done.ChecksumType]).toEqual([whole, 'FULL_OBJECT']);
  });
});

describe('GET/HEAD ?partNumber with checksum mode', () => {
  it('a COMPOSITE object answers the part\'s checksum (the SDK verifies it on the 206); a FULL_OBJECT one of several parts none', async () => {
    for (const n of [1, 2]) {
      const got = await s3.send(new GetObjectCommand({ Bucket: B, Key: 'composite.bin', PartNumber: n, ChecksumMode: 'ENABLED' }));
      expect([got.ChecksumCRC32, got.ChecksumType, got.PartsCount]).toEqual([crc32(partBodies[n - 1]!), 'COMPOSITE', 2]);
      expect((await bodyOf(got)).equals(partBodies[n - 1]!)).toBe(true);
      const head = await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'composite.bin', PartNumber: n, ChecksumMode: 'ENABLED' }));
      expect([head.ChecksumCRC32, head.ContentLength]).toEqual([crc32(partBodies[n - 1]!), partBodies[n - 1]!.length]);
    }
    const full = await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'full.bin', PartNumber: 1, ChecksumMode: 'ENABLED' }));
    expect([full.ChecksumCRC32, full.ChecksumType]).toEqual([undefined, undefined]);
    // Without checksum mode, none.
    expect((await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'composite.bin', PartNumber: 1 }))).ChecksumCRC32).toBeUndefined();
  });
});

describe.skipIf(!hasClient('aws'))('aws s3api and the whole object\'s checksum', () => {
  it('complete-multipart-upload --checksum-crc32 "<base64>-<N>"; get-object --part-number verifies the part\'s CRC32', async () => {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-fidelity-'));
    const env = { ...srv.env, AWS_PAGER: '', AWS_MAX_ATTEMPTS: '1' };
    const aws = async (args: string[]) => JSON.parse((await runOk('aws', ['--endpoint-url', srv.url, 's3api', ...args, '--output', 'json'], { env })).stdout || '{}') as Record<string, any>;
    try {
      const key = 'cli-composite.bin';
      // Parts through the SDK (each aws process costs a second or two); Complete and the read through the CLI.
      const { UploadId, Parts } = await upload(key, 'CRC32');
      const parts = Parts.map((p) => ({ PartNumber: p.PartNumber, ETag: p.ETag, ChecksumCRC32: p.ChecksumCRC32 }));
      const whole = compositeChecksum('CRC32', partBodies.map(crc32));
      const args = ['complete-multipart-upload', '--bucket', B, '--key', key, '--upload-id', UploadId, '--multipart-upload', JSON.stringify({ Parts: parts })];
      const wrong = await run('aws', ['--endpoint-url', srv.url, 's3api', ...args, '--checksum-crc32', `${crc32(Buffer.from('no'))}-2`], { env });
      expect([wrong.code, wrong.stderr]).toEqual([255, expect.stringContaining('(BadDigest)')]);
      const done = await aws([...args, '--checksum-crc32', whole]);
      expect([done.ChecksumCRC32, done.ChecksumType]).toEqual([whole, 'COMPOSITE']);
      const out = path.join(work, 'part2.out');
      const got = await aws(['get-object', '--bucket', B, '--key', key, '--part-number', '2', '--checksum-mode', 'ENABLED', out]);
      expect([got.ChecksumCRC32, got.ContentLength]).toEqual([crc32(partBodies[1]!), partBodies[1]!.length]);
      expect(fs.readFileSync(out).equals(partBodies[1]!)).toBe(true);
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  });
});

describe('listings', () => {
  const KEYS = ['enc/a b.txt', 'enc/sub dir/x+y.txt', 'enc/ünïcødé ✓.txt', 'enc/ctl\u0001\u0007.txt', 'enc/100%.txt'];

  beforeAll(async () => {
    for (const Key of KEYS) await s3.send(new PutObjectCommand({ Bucket: B, Key, Body: Key }));
  });

  it('ListObjectsV2: an empty continuation-token is none, and is echoed', async () => {
    const r = await signed('GET', `/${B}`, 'list-type=2&continuation-token=&prefix=enc%2F', {}, Buffer.alloc(0));
    expect(r.status, r.text).toBe(200);
    expect(r.text).toContain('<ContinuationToken></ContinuationToken>');
    expect(r.text.match(/<Key>/g)?.length).toBe(KEYS.length);
  });

  it('ListObjects v1 with encoding-type=url: keys, markers, delimiter and common prefixes encoded, the top-level Prefix not', async () => {
    const r = await signed('GET', `/${B}`, `encoding-type=url&prefix=${encodeURIComponent('enc/')}&delimiter=%20&marker=${encodeURIComponent('enc/2 2')}&max-keys=1`, {}, Buffer.alloc(0));
    expect(r.status, r.text).toBe(200);
    expect(r.text).toContain('<Prefix>enc/</Prefix><Marker>enc/2%202</Marker><NextMarker>enc/a%20</NextMarker>');
    expect(r.text).toContain('<Delimiter>%20</Delimiter>');
    expect(r.text).toContain('<CommonPrefixes><Prefix>enc/a%20</Prefix></CommonPrefixes>');
    // The SDK leaves decoding to its caller: the keys come back encoded, each decodes to its key.
    const sdk = await s3.send(new ListObjectsCommand({ Bucket: B, Prefix: 'enc/', EncodingType: 'url' }));
    expect(sdk.Prefix).toBe('enc/');
    expect(sdk.Contents?.map((c) => decodeURIComponent(c.Key!)).sort()).toEqual([...KEYS].sort());
  });

  it.skipIf(!hasClient('aws'))('aws s3api list-objects (botocore decodes what S3 encodes) pages and names keys as stored', async () => {
    const env = { ...srv.env, AWS_PAGER: '' };
    const aws = async (args: string[]) => JSON.parse((await runOk('aws', ['--endpoint-url', srv.url, 's3api', ...args, '--output', 'json'], { env })).stdout) as Record<string, any>;
    // A prefix with a space: botocore does not decode the top-level Prefix, so it must come unencoded.
    const spaced = await aws(['list-objects', '--bucket', B, '--prefix', 'enc/sub dir/']);
    expect(spaced.Prefix).toBe('enc/sub dir/');
    expect(spaced.Contents.map((c: { Key: string }) => c.Key)).toEqual(['enc/sub dir/x+y.txt']);
    // One key per page with a delimiter: every page resumes from the decoded NextMarker.
    const all = await aws(['list-objects', '--bucket', B, '--prefix', 'enc/', '--delimiter', '/', '--page-size', '1']);
    expect(all.Contents.map((c: { Key: string }) => c.Key).sort()).toEqual(KEYS.filter((k) => !k.includes('sub dir')).sort());
    expect(all.CommonPrefixes).toEqual([{ Prefix: 'enc/sub dir/' }]);
  });
});

describe('Content-Encoding with aws-chunked removed', () => {
  it('keeps the other codings exactly as sent', async () => {
    const data = Buffer.from('hello');
    const framed = Buffer.from(`5\r\nhello\r\n0\r\nx-amz-checksum-crc32:${crc32(data)}\r\n\r\n`);
    const r = await signed('PUT', `/${B}/ce-chunked`, '', {
      'content-encoding': 'aws-chunked, deflate, gzip',
      'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
      'x-amz-decoded-content-length': '5',
      'x-amz-trailer': 'x-amz-checksum-crc32',
    }, framed);
    expect(r.status, r.text).toBe(200);
    const plain = await signed('PUT', `/${B}/ce-plain`, '', { 'content-encoding': 'deflate,  gzip' }, data);
    expect(plain.status, plain.text).toBe(200);
    expect((await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'ce-chunked' }))).ContentEncoding).toBe('deflate, gzip');
    expect((await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'ce-plain' }))).ContentEncoding).toBe('deflate,  gzip');
    const got = await s3.send(new GetObjectCommand({ Bucket: B, Key: 'ce-chunked' }));
    expect([got.ContentEncoding, (await bodyOf(got)).toString()]).toEqual(['deflate, gzip', 'hello']);
  });
});

describe('storage classes', () => {
  it('a class given on PUT, CreateMultipartUpload or CopyObject is reported by every read and listing', async () => {
    const V = 'fidelity-classes';
    await s3.send(new CreateBucketCommand({ Bucket: V }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: V, VersioningConfiguration: { Status: 'Enabled' } }));
    await s3.send(new PutObjectCommand({ Bucket: V, Key: 'ia', Body: 'x', StorageClass: 'STANDARD_IA' }));
    await s3.send(new CopyObjectCommand({ Bucket: V, Key: 'copied', CopySource: `${V}/ia`, StorageClass: 'ONEZONE_IA' }));
    await s3.send(new CopyObjectCommand({ Bucket: V, Key: 'copied-default', CopySource: `${V}/ia` }));
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: V, Key: 'mpu', StorageClass: 'GLACIER_IR' }));
    const part = await s3.send(new UploadPartCommand({ Bucket: V, Key: 'mpu', UploadId, PartNumber: 1, Body: 'p' }));
    expect((await s3.send(new ListMultipartUploadsCommand({ Bucket: V }))).Uploads?.map((u) => u.StorageClass)).toEqual(['GLACIER_IR']);
    expect((await s3.send(new ListPartsCommand({ Bucket: V, Key: 'mpu', UploadId }))).StorageClass).toBe('GLACIER_IR');
    await s3.send(new CompleteMultipartUploadCommand({ Bucket: V, Key: 'mpu', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }));

    const want: Record<string, string | undefined> = { copied: 'ONEZONE_IA', 'copied-default': undefined, ia: 'STANDARD_IA', mpu: 'GLACIER_IR' };
    const listed = (want2: Record<string, string | undefined>) => Object.fromEntries(Object.entries(want2).map(([k, v]) => [k, v ?? 'STANDARD']));
    for (const [Key, cls] of Object.entries(want)) {
      // HEAD and GET send x-amz-storage-class for every class but STANDARD, as S3 does.
      expect((await s3.send(new HeadObjectCommand({ Bucket: V, Key }))).StorageClass, Key).toBe(cls);
      const got = await s3.send(new GetObjectCommand({ Bucket: V, Key }));
      await bodyOf(got);
      expect(got.StorageClass, Key).toBe(cls);
      expect((await s3.send(new GetObjectAttributesCommand({ Bucket: V, Key, ObjectAttributes: ['StorageClass'] }))).StorageClass).toBe(cls ?? 'STANDARD');
    }
    const v1 = await s3.send(new ListObjectsCommand({ Bucket: V }));
    expect(Object.fromEntries(v1.Contents!.map((c) => [c.Key, c.StorageClass]))).toEqual(listed(want));
    const v2 = await s3.send(new ListObjectsV2Command({ Bucket: V }));
    expect(Object.fromEntries(v2.Contents!.map((c) => [c.Key, c.StorageClass]))).toEqual(listed(want));
    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: V }));
    expect(Object.fromEntries(versions.Versions!.map((c) => [c.Key, c.StorageClass]))).toEqual(listed(want));
  });

  it('an unknown class is InvalidStorageClass on PUT, CreateMultipartUpload and CopyObject, and stores nothing', async () => {
    const bad = 'FROZEN' as 'STANDARD';
    const errs = [
      await s3Error(s3.send(new PutObjectCommand({ Bucket: B, Key: 'bad-class', Body: 'x', StorageClass: bad }))),
      await s3Error(s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: 'bad-class', StorageClass: bad }))),
      await s3Error(s3.send(new CopyObjectCommand({ Bucket: B, Key: 'bad-class', CopySource: `${B}/ce-plain`, StorageClass: bad }))),
    ];
    expect(errs.map((e) => [e.name, e.$metadata.httpStatusCode])).toEqual(Array(3).fill(['InvalidStorageClass', 400]));
    expect((await s3Error(s3.send(new HeadObjectCommand({ Bucket: B, Key: 'bad-class' })))).name).toBe('NotFound');
    expect((await s3.send(new ListMultipartUploadsCommand({ Bucket: B, Prefix: 'bad-class' }))).Uploads ?? []).toEqual([]);
  });
});
