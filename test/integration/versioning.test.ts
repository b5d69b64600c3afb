import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketVersioningCommand,
  GetObjectAclCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  ListObjectsV2Command,
  PutBucketVersioningCommand,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { bodyOf, s3Error } from '../helpers/sdk.js';
import { chunkFiles, startTestServer, type TestServer } from '../helpers/server.js';

// Versioning through the SDK: version ids on every write, reads and deletes by version, delete
// markers, the null version of unversioned and suspended buckets, ListObjectVersions, copies from
// a version, and the refusals.

describe('versioning (SDK)', () => {
  let srv: TestServer;
  let s3: S3Client;
  const put = (Bucket: string, Key: string, Body: string | Buffer) => s3.send(new PutObjectCommand({ Bucket, Key, Body }));
  const text = async (Bucket: string, Key: string, VersionId?: string) => (await bodyOf(await s3.send(new GetObjectCommand({ Bucket, Key, VersionId })))).toString();
  const enable = (Bucket: string, Status: 'Enabled' | 'Suspended' = 'Enabled') => s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status } }));

  beforeAll(async () => {
    srv = await startTestServer({ chunkSize: '64KiB' });
    s3 = srv.client();
  });
  afterAll(async () => srv?.stop());

  it('an unversioned bucket has the null version only, and says no version id', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'plain' }));
    expect((await s3.send(new GetBucketVersioningCommand({ Bucket: 'plain' }))).Status).toBeUndefined();
    const r = await put('plain', 'k', 'one');
    expect(r.VersionId).toBeUndefined();
    await put('plain', 'k', 'two');
    expect(await text('plain', 'k', 'null')).toBe('two');
    const v = await s3.send(new ListObjectVersionsCommand({ Bucket: 'plain' }));
    expect(v.Versions?.map((x) => [x.Key, x.VersionId, x.IsLatest])).toEqual([['k', 'null', true]]);
    const del = await s3.send(new DeleteObjectCommand({ Bucket: 'plain', Key: 'k' }));
    expect(del.DeleteMarker).toBeUndefined();
    expect((await s3.send(new ListObjectVersionsCommand({ Bucket: 'plain' }))).Versions).toBeUndefined();
  });

  it('enabled: each PUT is a new version; reads by version; the newest is current', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'ver' }));
    await put('ver', 'doc', 'before versioning');
    await enable('ver');
    expect((await s3.send(new GetBucketVersioningCommand({ Bucket: 'ver' }))).Status).toBe('Enabled');
    const v1 = (await put('ver', 'doc', 'first')).VersionId!;
    const v2 = (await put('ver', 'doc', 'second')).VersionId!;
    expect(v1).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(v2).not.toBe(v1);
    expect(await text('ver', 'doc')).toBe('second');
    expect(await text('ver', 'doc', v1)).toBe('first');
    expect(await text('ver', 'doc', 'null')).toBe('before versioning');
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'ver', Key: 'doc', VersionId: v1 }));
    expect([head.VersionId, head.ContentLength]).toEqual([v1, 5]);
    expect((await s3.send(new GetObjectCommand({ Bucket: 'ver', Key: 'doc' }))).VersionId).toBe(v2);
    const list = await s3.send(new ListObjectVersionsCommand({ Bucket: 'ver', Prefix: 'doc' }));
    expect(list.Versions?.map((x) => [x.VersionId, x.IsLatest, x.Size])).toEqual([
      [v2, true, 6],
      [v1, false, 5],
      ['null', false, 17],
    ]);
    expect(list.Versions?.[0]?.Owner?.ID).toBeTruthy();
    await s3.send(new GetObjectAclCommand({ Bucket: 'ver', Key: 'doc', VersionId: v1 }));
  });

  it('delete markers: DELETE hides the key (404 with x-amz-delete-marker), GET of the marker is 405, deleting the marker restores', async () => {
    const v = (await put('ver', 'gone', 'data')).VersionId!;
    const del = await s3.send(new DeleteObjectCommand({ Bucket: 'ver', Key: 'gone' }));
    expect(del.DeleteMarker).toBe(true);
    const marker = del.VersionId!;
    const miss = await s3Error(s3.send(new GetObjectCommand({ Bucket: 'ver', Key: 'gone' })));
    expect([miss.name, miss.$metadata.httpStatusCode, miss.$response?.headers['x-amz-delete-marker']]).toEqual(['NoSuchKey', 404, 'true']);
    const byVersion = await s3Error(s3.send(new GetObjectCommand({ Bucket: 'ver', Key: 'gone', VersionId: marker })));
    expect([byVersion.$metadata.httpStatusCode, byVersion.$response?.headers['x-amz-delete-marker']]).toEqual([405, 'true']);
    expect((await s3Error(s3.send(new HeadObjectCommand({ Bucket: 'ver', Key: 'gone', VersionId: marker })))).$metadata.httpStatusCode).toBe(405);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'ver', Prefix: 'gone' }));
    expect(listed.KeyCount).toBe(0);
    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: 'ver', Prefix: 'gone' }));
    expect(versions.DeleteMarkers?.map((m) => [m.VersionId, m.IsLatest])).toEqual([[marker, true]]);
    expect(versions.Versions?.map((m) => [m.VersionId, m.IsLatest])).toEqual([[v, false]]);
    const undo = await s3.send(new DeleteObjectCommand({ Bucket: 'ver', Key: 'gone', VersionId: marker }));
    expect([undo.DeleteMarker, undo.VersionId]).toEqual([true, marker]);
    expect(await text('ver', 'gone')).toBe('data');
  });

  it('DELETE of a version removes it for good and frees its chunks; versions of unchanged data share chunks', async () => {
    const big = Buffer.alloc(300 * 1024, 7);
    const before = chunkFiles(srv).length;
    const a = (await put('ver', 'big', big)).VersionId!;
    const afterFirst = chunkFiles(srv).length;
    expect(afterFirst).toBeGreaterThan(before);
    const b = (await put('ver', 'big', big)).VersionId!;
    expect(chunkFiles(srv).length).toBe(afterFirst);
    const other = (await put('ver', 'big', Buffer.alloc(300 * 1024, 9))).VersionId!;
    const withOther = chunkFiles(srv).length;
    expect(withOther).toBeGreaterThan(afterFirst);
    await s3.send(new DeleteObjectCommand({ Bucket: 'ver', Key: 'big', VersionId: other }));
    expect(chunkFiles(srv).length).toBe(afterFirst);
    expect((await bodyOf(await s3.send(new GetObjectCommand({ Bucket: 'ver', Key: 'big' })))).equals(big)).toBe(true);
    await s3.send(new DeleteObjectCommand({ Bucket: 'ver', Key: 'big', VersionId: a }));
    expect(chunkFiles(srv).length).toBe(afterFirst);
    await s3.send(new DeleteObjectCommand({ Bucket: 'ver', Key: 'big', VersionId: b }));
    expect(chunkFiles(srv).length).toBe(before);
  });

  it('suspended: writes and deletes replace the null version, older versions stay', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'susp' }));
    await enable('susp');
    const v1 = (await put('susp', 'k', 'versioned')).VersionId!;
    await enable('susp', 'Suspended');
    expect((await put('susp', 'k', 'null one')).VersionId).toBe('null');
    expect((await put('susp', 'k', 'null two')).VersionId).toBe('null');
    const del = await s3.send(new DeleteObjectCommand({ Bucket: 'susp', Key: 'k' }));
    expect([del.DeleteMarker, del.VersionId]).toEqual([true, 'null']);
    const list = await s3.send(new ListObjectVersionsCommand({ Bucket: 'susp' }));
    expect(list.DeleteMarkers?.map((m) => [m.VersionId, m.IsLatest])).toEqual([['null', true]]);
    expect(list.Versions?.map((m) => m.VersionId)).toEqual([v1]);
  });

  it('DeleteObjects with VersionId answers DeleteMarker and DeleteMarkerVersionId as S3 does', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'batch' }));
    await enable('batch');
    const a = (await put('batch', 'a', '1')).VersionId!;
    await put('batch', 'b', '2');
    const r = await s3.send(
      new DeleteObjectsCommand({ Bucket: 'batch', Delete: { Objects: [{ Key: 'a', VersionId: a }, { Key: 'b' }, { Key: 'c', VersionId: 'malformed!' }] } }),
    );
    const byKey = Object.fromEntries((r.Deleted ?? []).map((d) => [d.Key, d]));
    expect(byKey.a).toMatchObject({ Key: 'a', VersionId: a });
    expect(byKey.a?.DeleteMarker).toBeFalsy();
    expect(byKey.b).toMatchObject({ Key: 'b', DeleteMarker: true });
    expect(byKey.b?.DeleteMarkerVersionId).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(r.Errors?.map((e) => [e.Key, e.Code])).toEqual([['c', 'NoSuchVersion']]);
    const left = await s3.send(new ListObjectVersionsCommand({ Bucket: 'batch' }));
    expect(left.Versions?.map((v) => v.Key)).toEqual(['b']);
    // A bucket with versions or markers only is not empty.
    expect((await s3Error(s3.send(new DeleteBucketCommand({ Bucket: 'batch' })))).name).toBe('BucketNotEmpty');
  });

  it('CopyObject and UploadPartCopy from a version; CompleteMultipartUpload makes a version', async () => {
    const v1 = (await put('ver', 'src', 'A'.repeat(10))).VersionId!;
    await put('ver', 'src', 'B'.repeat(10));
    const copy = await s3.send(new CopyObjectCommand({ Bucket: 'ver', Key: 'copy', CopySource: `ver/src?versionId=${v1}` }));
    expect(copy.CopySourceVersionId).toBe(v1);
    expect(copy.VersionId).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(await text('ver', 'copy')).toBe('A'.repeat(10));
    // "Restore this version": copy an old version over the current one.
    await s3.send(new CopyObjectCommand({ Bucket: 'ver', Key: 'src', CopySource: `ver/src?versionId=${v1}` }));
    expect(await text('ver', 'src')).toBe('A'.repeat(10));
    const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'ver', Key: 'mp' }));
    const part = await s3.send(new UploadPartCopyCommand({ Bucket: 'ver', Key: 'mp', UploadId: up.UploadId, PartNumber: 1, CopySource: `ver/src?versionId=${v1}` }));
    const done = await s3.send(
      new CompleteMultipartUploadCommand({ Bucket: 'ver', Key: 'mp', UploadId: up.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.CopyPartResult!.ETag }] } }),
    );
    expect(done.VersionId).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect((await s3.send(new HeadObjectCommand({ Bucket: 'ver', Key: 'mp' }))).VersionId).toBe(done.VersionId);
    const up2 = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'ver', Key: 'mp' }));
    const p2 = await s3.send(new UploadPartCommand({ Bucket: 'ver', Key: 'mp', UploadId: up2.UploadId, PartNumber: 1, Body: 'second' }));
    await s3.send(new CompleteMultipartUploadCommand({ Bucket: 'ver', Key: 'mp', UploadId: up2.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p2.ETag }] } }));
    expect(await text('ver', 'mp', done.VersionId)).toBe('A'.repeat(10));
    const markerCopy = await s3.send(new DeleteObjectCommand({ Bucket: 'ver', Key: 'src' }));
    const refused = await s3Error(s3.send(new CopyObjectCommand({ Bucket: 'ver', Key: 'x', CopySource: `ver/src?versionId=${markerCopy.VersionId}` })));
    expect(refused.name).toBe('InvalidRequest');
    const up3 = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'ver', Key: 'mp3' }));
    const partFromMarker = await s3Error(
      s3.send(new UploadPartCopyCommand({ Bucket: 'ver', Key: 'mp3', UploadId: up3.UploadId, PartNumber: 1, CopySource: `ver/src?versionId=${markerCopy.VersionId}` })),
    );
    expect([partFromMarker.name, partFromMarker.$metadata.httpStatusCode]).toEqual(['InvalidRequest', 400]);
  });

  it('ListObjectVersions pages with key and version-id markers and groups with a delimiter', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'pages' }));
    await enable('pages');
    for (const key of ['a/x', 'a/y', 'b', 'c']) for (let i = 0; i < 3; i++) await put('pages', key, `${key}${i}`);
    await s3.send(new DeleteObjectCommand({ Bucket: 'pages', Key: 'c' }));
    const whole = await s3.send(new ListObjectVersionsCommand({ Bucket: 'pages' }));
    const all = [...(whole.Versions ?? []), ...(whole.DeleteMarkers ?? [])].map((v) => v.VersionId).sort();
    expect(all).toHaveLength(13);
    const seen: string[] = [];
    let KeyMarker: string | undefined;
    let VersionIdMarker: string | undefined;
    for (let i = 0; i < 20; i++) {
      const p = await s3.send(new ListObjectVersionsCommand({ Bucket: 'pages', MaxKeys: 2, KeyMarker, VersionIdMarker }));
      seen.push(...[...(p.Versions ?? []), ...(p.DeleteMarkers ?? [])].map((v) => v.VersionId!));
      if (!p.IsTruncated) break;
      KeyMarker = p.NextKeyMarker;
      VersionIdMarker = p.NextVersionIdMarker;
    }
    expect(seen.sort()).toEqual(all);
    const grouped = await s3.send(new ListObjectVersionsCommand({ Bucket: 'pages', Delimiter: '/' }));
    expect(grouped.CommonPrefixes?.map((c) => c.Prefix)).toEqual(['a/']);
    expect(grouped.Versions?.map((v) => v.Key)).toEqual(['b', 'b', 'b', 'c', 'c', 'c']);
  });

  it('bad input: a clear S3 error, nothing changed', async () => {
    const cases: Array<[() => Promise<unknown>, string, number]> = [
      [() => s3.send(new GetObjectCommand({ Bucket: 'ver', Key: 'doc', VersionId: 'not a version' })), 'InvalidArgument', 400],
      [() => s3.send(new GetObjectCommand({ Bucket: 'ver', Key: 'doc', VersionId: 'A'.repeat(32) })), 'NoSuchVersion', 404],
      [() => s3.send(new DeleteObjectCommand({ Bucket: 'ver', Key: 'doc', VersionId: '../etc' })), 'InvalidArgument', 400],
      [() => s3.send(new CopyObjectCommand({ Bucket: 'ver', Key: 'doc2', CopySource: 'ver/doc?versionId=bad' })), 'InvalidArgument', 400],
      [() => s3.send(new CopyObjectCommand({ Bucket: 'ver', Key: 'doc2', CopySource: `ver/doc?versionId=${'B'.repeat(32)}` })), 'NoSuchVersion', 404],
      [() => s3.send(new ListObjectVersionsCommand({ Bucket: 'ver', VersionIdMarker: 'null' })), 'InvalidArgument', 400],
      [() => s3.send(new PutBucketVersioningCommand({ Bucket: 'ver', VersioningConfiguration: { Status: 'On' as 'Enabled' } })), 'IllegalVersioningConfigurationException', 400],
      [() => s3.send(new PutBucketVersioningCommand({ Bucket: 'ver', VersioningConfiguration: { Status: 'Enabled', MFADelete: 'Enabled' } })), 'NotImplemented', 501],
      [() => s3.send(new PutBucketVersioningCommand({ Bucket: 'ver', MFA: '123 456', VersioningConfiguration: { Status: 'Enabled' } })), 'NotImplemented', 501],
    ];
    for (const [p, code, status] of cases) {
      const e = await s3Error(p());
      expect([e.name, e.$metadata.httpStatusCode]).toEqual([code, status]);
    }
    expect(await text('ver', 'doc')).toBe('second');
    expect((await s3.send(new GetBucketVersioningCommand({ Bucket: 'ver' }))).Status).toBe('Enabled');
    expect((await s3Error(s3.send(new GetObjectCommand({ Bucket: 'ver', Key: 'doc2' })))).name).toBe('NoSuchKey');
  });
});
