import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  CompleteMultipartUploadCommand,
  DeleteObjectCommand,
  GetBucketAclCommand,
  GetBucketCorsCommand,
  GetBucketPolicyStatusCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { GcResult } from '../../src/storage/gc.js';
import type { ScrubResult } from '../../src/storage/scrub.js';
import type { ObjectRecord } from '../../src/db/records/index.js';
import { ROOT } from '../helpers/process.js';
import { bodyOf, s3Error } from '../helpers/sdk.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import type { Manifest, ManifestObject } from '../helpers/upgrade-manifest.js';

// An existing data dir upgrades in place: test/fixtures/datadir-0.1.0 was written by cairn 0.1.0
// (scripts/make-upgrade-fixture.ts, which also wrote its MANIFEST.json). The server starts on a
// copy of it, applies whatever migrations came since, and must serve everything as it was:
// buckets, bytes, ETags, headers, metadata, checksums, the multipart upload left in progress,
// the CORS configuration, the access key; and verify/GC must find nothing wrong.

const FIXTURE = path.join(ROOT, 'test/fixtures/datadir-0.1.0');

const manifest = JSON.parse(fs.readFileSync(path.join(FIXTURE, 'MANIFEST.json'), 'utf8')) as Manifest;
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
const encodeKey = (key: string) => key.split('/').map(encodeURIComponent).join('/');
const objectsIn = (bucket: string) => manifest.objects.filter((o) => o.bucket === bucket);
const find = (predicate: (o: ManifestObject) => boolean) => {
  const o = manifest.objects.find(predicate);
  if (!o) throw new Error('the manifest lacks an object this test needs');
  return o;
};

let srv: TestServer;
let s3: S3Client;

async function api<T>(route: string, body?: unknown): Promise<T> {
  const res = await fetch(srv.adminUrl + route, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${srv.adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  expect(res.status, `${route}`).toBe(200);
  return (await res.json()) as T;
}

beforeAll(async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-upgrade-'));
  fs.cpSync(FIXTURE, dataDir, { recursive: true });
  srv = await startTestServer(
    {
      // The upload in progress dates from when the fixture was made: older than any default expiry.
      multipartExpiry: '36500d',
      // GC dry runs below see every chunk file (the copies are younger than any grace period).
      gcGrace: 0,
      gcInterval: 0,
      scrubInterval: 0,
    },
    { existingDataDir: dataDir },
  );
  s3 = srv.client();
});

afterAll(async () => srv?.stop());

describe('a data dir written by 0.1.0, after the upgrade', () => {
  it('keeps its root credentials and admin token', () => {
    const saved = JSON.parse(fs.readFileSync(path.join(FIXTURE, 'credentials.json'), 'utf8')) as { accessKeyId: string };
    expect(srv.credentials.generated).toBe(false);
    expect(srv.credentials.accessKeyId).toBe(saved.accessKeyId);
    expect(srv.adminTokenGenerated).toBe(false);
    expect(srv.adminToken).toBe(fs.readFileSync(path.join(FIXTURE, 'admin-token'), 'utf8').trim());
  });

  it('verify finds every chunk intact and GC finds nothing to remove', async () => {
    const scrub = await api<ScrubResult>('/v1/verify', {});
    expect(scrub.broken).toEqual([]);
    expect(scrub.checked).toBe(manifest.stats.chunks);
    const gc = await api<GcResult>('/v1/gc', { dryRun: true });
    expect(gc).toMatchObject({ orphanChunks: 0, youngOrphans: 0, expiredUploads: 0, tmpFiles: 0, chunkRowsRepaired: 0 });
  });

  it('lists both buckets; the public one still answers anonymous reads, the private one does not', async () => {
    const names = (await s3.send(new ListBucketsCommand({}))).Buckets?.map((b) => b.Name);
    expect(names).toEqual(manifest.buckets.map((b) => b.name).sort());
    for (const b of manifest.buckets) {
      const o = objectsIn(b.name)[0]!;
      const res = await fetch(`${srv.url}/${b.name}/${encodeKey(o.key)}`);
      expect(res.status, b.name).toBe(b.public ? 200 : 403);
      if (b.public) expect(md5(Buffer.from(await res.arrayBuffer()))).toBe(o.md5);
    }
  });

  it('gives every bucket and key to the first account, and keeps a public bucket public by its ACL and policy', async () => {
    const accounts = await srv.meta.accounts.list();
    expect(accounts.map((a) => a.name)).toEqual(['root']);
    const root = accounts[0]!;
    expect(root.id).toMatch(/^[0-9a-f]{64}$/);
    const owner = (await s3.send(new ListBucketsCommand({}))).Owner;
    expect(owner).toEqual({ ID: root.id, DisplayName: 'root' });
    for (const b of manifest.buckets) {
      const acl = await s3.send(new GetBucketAclCommand({ Bucket: b.name }));
      expect(acl.Owner?.ID, b.name).toBe(root.id);
      const everyone = (acl.Grants ?? []).filter((g) => g.Grantee?.URI?.endsWith('/AllUsers')).map((g) => g.Permission);
      expect(everyone, b.name).toEqual(b.public ? ['READ'] : []);
      if (b.public) expect((await s3.send(new GetBucketPolicyStatusCommand({ Bucket: b.name }))).PolicyStatus?.IsPublic).toBe(true);
      else expect((await s3Error(s3.send(new GetBucketPolicyStatusCommand({ Bucket: b.name })))).name, b.name).toBe('NoSuchBucketPolicy');
    }
    for (const k of await srv.meta.keys.list()) expect(k.accountId, k.id).toBe(root.id);
    expect((await srv.meta.keys.list()).length).toBeGreaterThan(0);
  });

  it('lists every object of each bucket with its size and ETag, and nothing else', async () => {
    for (const b of manifest.buckets) {
      const listed = (await s3.send(new ListObjectsV2Command({ Bucket: b.name }))).Contents ?? [];
      // S3 order: the keys' UTF-8 bytes.
      const expected = objectsIn(b.name).sort((x, y) => Buffer.compare(Buffer.from(x.key), Buffer.from(y.key)));
      expect(listed.map((o) => [o.Key, o.Size, o.ETag])).toEqual(expected.map((o) => [o.key, o.size, o.etag]));
    }
  });

  it('serves every object with the same bytes, ETag, content type, metadata and checksum', async () => {
    for (const o of manifest.objects) {
      const where = `${o.bucket}/${o.key}`;
      const res = await s3.send(new GetObjectCommand({ Bucket: o.bucket, Key: o.key, ...(o.checksumCRC32 ? { ChecksumMode: 'ENABLED' } : {}) }));
      const body = await bodyOf(res);
      expect(body.length, where).toBe(o.size);
      expect(md5(body), where).toBe(o.md5);
      expect(res.ETag, where).toBe(o.etag);
      expect(res.ContentType, where).toBe(o.contentType);
      expect(res.Metadata, where).toEqual(o.metadata);
      if (o.checksumCRC32) expect(res.ChecksumCRC32, where).toBe(o.checksumCRC32);
      // The chunk list the release wrote is the one the records show now.
      const rec = await api<ObjectRecord>(`/v1/objects/${encodeURIComponent(o.bucket)}/${encodeKey(o.key)}`);
      expect(rec.chunks.length, where).toBe(o.chunks);
      expect(rec.chunks.reduce((n, c) => n + c.size, 0), where).toBe(o.size);
    }
  });

  it('serves ranges of the chunked object, across chunk boundaries', async () => {
    const o = find((x) => x.stored === 'files' && !x.parts);
    expect(o.chunks).toBeGreaterThan(2);
    const whole = await bodyOf(await s3.send(new GetObjectCommand({ Bucket: o.bucket, Key: o.key })));
    const ranges: Array<[number, number]> = [
      [0, 0],
      [65_000, 140_000], // three chunks of 64 KiB
      [65_536, 131_071], // exactly the second chunk
      [o.size - 1000, o.size - 1], // the short last chunk
    ];
    for (const [start, end] of ranges) {
      const res = await s3.send(new GetObjectCommand({ Bucket: o.bucket, Key: o.key, Range: `bytes=${start}-${end}` }));
      expect(res.ContentRange).toBe(`bytes ${start}-${end}/${o.size}`);
      expect((await bodyOf(res)).equals(whole.subarray(start, end + 1)), `bytes=${start}-${end}`).toBe(true);
    }
    const suffix = await s3.send(new GetObjectCommand({ Bucket: o.bucket, Key: o.key, Range: 'bytes=-70000' }));
    expect((await bodyOf(suffix)).equals(whole.subarray(o.size - 70_000))).toBe(true);
  });

  it('keeps the multipart object whole: ETag with -2, and each part by partNumber', async () => {
    const o = find((x) => x.parts !== undefined);
    expect(o.etag).toMatch(/^"[0-9a-f]{32}-2"$/);
    expect((await s3.send(new HeadObjectCommand({ Bucket: o.bucket, Key: o.key }))).ETag).toBe(o.etag);
    let offset = 0;
    for (const p of o.parts!) {
      const res = await s3.send(new GetObjectCommand({ Bucket: o.bucket, Key: o.key, PartNumber: p.partNumber }));
      expect(res.PartsCount).toBe(2);
      expect(res.ETag).toBe(o.etag);
      expect(res.ContentRange).toBe(`bytes ${offset}-${offset + p.size - 1}/${o.size}`);
      expect(md5(await bodyOf(res)), `part ${p.partNumber}`).toBe(p.md5);
      offset += p.size;
    }
  });

  it('keeps the CORS configuration, and preflights still match it', async () => {
    for (const b of manifest.buckets.filter((x) => x.cors)) {
      expect((await s3.send(new GetBucketCorsCommand({ Bucket: b.name }))).CORSRules).toEqual(b.cors);
      const origin = b.cors![0]!.AllowedOrigins![0]!;
      const res = await fetch(`${srv.url}/${b.name}/anything`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'PUT' },
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('access-control-allow-origin')).toBe(origin);
    }
  });

  it('the access key still signs, with its grants', async () => {
    const k = manifest.accessKey;
    const keyS3 = srv.client({ credentials: { accessKeyId: k.id, secretAccessKey: k.secret } });
    for (const g of k.grants) {
      const o = objectsIn(g.bucket)[0]!;
      expect(md5(await bodyOf(await keyS3.send(new GetObjectCommand({ Bucket: o.bucket, Key: o.key })))), g.bucket).toBe(o.md5);
      const put = keyS3.send(new PutObjectCommand({ Bucket: g.bucket, Key: 'written-by-key.txt', Body: 'after the upgrade' }));
      if (g.permission === 'write') {
        await put;
        await keyS3.send(new DeleteObjectCommand({ Bucket: g.bucket, Key: 'written-by-key.txt' }));
      } else {
        expect((await s3Error(put)).name).toBe('AccessDenied');
      }
    }
    const other = srv.client({ credentials: { accessKeyId: k.id, secretAccessKey: 'not-the-secret-0123456789' } });
    expect((await s3Error(other.send(new ListBucketsCommand({})))).name).toBe('SignatureDoesNotMatch');
  });

  it('lists the upload left in progress, and completes it with its one part', async () => {
    const u = manifest.inProgressUpload;
    const uploads = (await s3.send(new ListMultipartUploadsCommand({ Bucket: u.bucket }))).Uploads ?? [];
    expect(uploads.map((x) => [x.Key, x.UploadId])).toEqual([[u.key, u.uploadId]]);
    const parts = (await s3.send(new ListPartsCommand({ Bucket: u.bucket, Key: u.key, UploadId: u.uploadId }))).Parts ?? [];
    expect(parts.map((p) => [p.PartNumber, p.Size, p.ETag])).toEqual(u.parts.map((p) => [p.partNumber, p.size, p.etag]));

    const done = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: u.bucket,
        Key: u.key,
        UploadId: u.uploadId,
        MultipartUpload: { Parts: u.parts.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag })) },
      }),
    );
    expect(done.ETag).toMatch(/-1"$/);
    const res = await s3.send(new GetObjectCommand({ Bucket: u.bucket, Key: u.key }));
    expect(md5(await bodyOf(res))).toBe(u.parts[0]!.md5);
    expect(res.ContentType).toBe(u.contentType);
    expect(res.Metadata).toEqual(u.metadata);
    expect((await s3.send(new ListMultipartUploadsCommand({ Bucket: u.bucket }))).Uploads ?? []).toEqual([]);

    // The completed upload's chunks are the part's: verify is still clean, nothing is orphaned.
    const scrub = await api<ScrubResult>('/v1/verify', {});
    expect(scrub.broken).toEqual([]);
    expect((await api<GcResult>('/v1/gc', { dryRun: true })).orphanChunks).toBe(0);
  });

  it('every existing object became its key\'s null version; versioning can be turned on over it', async () => {
    for (const b of manifest.buckets) {
      const expected = manifest.objects.filter((o) => o.bucket === b.name);
      const v = await s3.send(new ListObjectVersionsCommand({ Bucket: b.name }));
      expect(v.DeleteMarkers ?? []).toEqual([]);
      // The upload completed above is the one object made since the upgrade.
      const old = (v.Versions ?? []).filter((x) => x.Key !== manifest.inProgressUpload.key);
      expect(old.map((x) => [x.Key, x.VersionId, x.IsLatest, x.ETag]).sort()).toEqual(expected.map((o) => [o.key, 'null', true, o.etag]).sort());
    }
    const o = manifest.objects.find((x) => x.stored === 'files')!;
    expect(md5(await bodyOf(await s3.send(new GetObjectCommand({ Bucket: o.bucket, Key: o.key, VersionId: 'null' }))))).toBe(o.md5);
    await s3.send(new PutBucketVersioningCommand({ Bucket: o.bucket, VersioningConfiguration: { Status: 'Enabled' } }));
    const next = await s3.send(new PutObjectCommand({ Bucket: o.bucket, Key: o.key, Body: 'a newer version' }));
    expect(next.VersionId).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(md5(await bodyOf(await s3.send(new GetObjectCommand({ Bucket: o.bucket, Key: o.key, VersionId: 'null' }))))).toBe(o.md5);
    expect((await s3.send(new GetObjectCommand({ Bucket: o.bucket, Key: o.key }))).VersionId).toBe(next.VersionId);
  });
});
