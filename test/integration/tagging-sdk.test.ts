import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketTaggingCommand,
  DeleteObjectCommand,
  DeleteObjectTaggingCommand,
  GetBucketTaggingCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  PutBucketTaggingCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  UploadPartCommand,
  type S3Client,
  type Tag,
} from '@aws-sdk/client-s3';
import { s3Error } from '../helpers/sdk.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { signRequest } from '../../src/auth/sigv4.js';

// Object and bucket tagging through the SDK against the real server (#21): every operation, per
// version, the x-amz-tagging header on the writes, the tagging directive of a copy, and S3's
// answers to tag sets it refuses, each changing nothing.

const B = 'tags';
const V = 'tags-versioned';
const tagSet = (n: number, key = (i: number) => `k${i}`): Tag[] => Array.from({ length: n }, (_, i) => ({ Key: key(i), Value: `v${i}` }));
const sorted = (tags: Tag[] | undefined) => [...(tags ?? [])].sort((a, b) => (a.Key! < b.Key! ? -1 : 1));

describe('tagging with the SDK', () => {
  let srv: TestServer;
  let s3: S3Client;
  const tagsOf = async (Key: string, VersionId?: string, Bucket = B) => sorted((await s3.send(new GetObjectTaggingCommand({ Bucket, Key, VersionId }))).TagSet);

  beforeAll(async () => {
    srv = await startTestServer();
    s3 = srv.client();
    await s3.send(new CreateBucketCommand({ Bucket: B }));
    await s3.send(new CreateBucketCommand({ Bucket: V }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: V, VersioningConfiguration: { Status: 'Enabled' } }));
  });
  afterAll(async () => srv?.stop());

  it('put-object with Tagging; GET and HEAD carry the count; get, put and delete the tags', async () => {
    await s3.send(new PutObjectCommand({ Bucket: B, Key: 'a', Body: 'x', Tagging: 'project=cairn&empty=&sp%20ace=a%2Bb' }));
    expect(await tagsOf('a')).toEqual([{ Key: 'empty', Value: '' }, { Key: 'project', Value: 'cairn' }, { Key: 'sp ace', Value: 'a+b' }]);
    expect((await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'a' }))).TagCount).toBe(3);
    const head = await fetchHead('a');
    expect(head.get('x-amz-tagging-count')).toBe('3');
    expect((await s3.send(new GetObjectCommand({ Bucket: B, Key: 'a' }))).TagCount).toBe(3);
    await s3.send(new PutObjectTaggingCommand({ Bucket: B, Key: 'a', Tagging: { TagSet: [{ Key: 'only', Value: 'one' }] } }));
    expect(await tagsOf('a')).toEqual([{ Key: 'only', Value: 'one' }]);
    expect((await s3.send(new GetObjectCommand({ Bucket: B, Key: 'a' }))).TagCount).toBe(1);
    await s3.send(new DeleteObjectTaggingCommand({ Bucket: B, Key: 'a' }));
    expect(await tagsOf('a')).toEqual([]);
    const plain = await s3.send(new GetObjectCommand({ Bucket: B, Key: 'a' }));
    expect(plain.TagCount).toBeUndefined();
    await plain.Body?.transformToString();
  });

  it('per version: each version keeps its own tags; a delete marker answers 405 by id, 404 as the current version', async () => {
    const v1 = (await s3.send(new PutObjectCommand({ Bucket: V, Key: 'k', Body: '1', Tagging: 'gen=1' }))).VersionId!;
    const v2 = (await s3.send(new PutObjectCommand({ Bucket: V, Key: 'k', Body: '2' }))).VersionId!;
    const put = await s3.send(new PutObjectTaggingCommand({ Bucket: V, Key: 'k', VersionId: v1, Tagging: { TagSet: [{ Key: 'gen', Value: 'old' }] } }));
    expect(put.VersionId).toBe(v1);
    expect(await tagsOf('k', v1, V)).toEqual([{ Key: 'gen', Value: 'old' }]);
    expect(await tagsOf('k', v2, V)).toEqual([]);
    const got = await s3.send(new GetObjectTaggingCommand({ Bucket: V, Key: 'k' }));
    expect(got.VersionId).toBe(v2);
    const marker = (await s3.send(new DeleteObjectCommand({ Bucket: V, Key: 'k' }))).VersionId!;
    expect((await s3Error(s3.send(new GetObjectTaggingCommand({ Bucket: V, Key: 'k', VersionId: marker })))).$metadata.httpStatusCode).toBe(405);
    expect((await s3Error(s3.send(new PutObjectTaggingCommand({ Bucket: V, Key: 'k', Tagging: { TagSet: [] } })))).name).toBe('NoSuchKey');
    expect((await s3Error(s3.send(new DeleteObjectTaggingCommand({ Bucket: V, Key: 'k', VersionId: 'v'.repeat(32) })))).$metadata.httpStatusCode).toBe(404);
    const del = await s3.send(new DeleteObjectTaggingCommand({ Bucket: V, Key: 'k', VersionId: v1 }));
    expect(del.VersionId).toBe(v1);
    expect(await tagsOf('k', v1, V)).toEqual([]);
  });

  it('copy: COPY (the default) keeps the source version\'s tags, REPLACE takes x-amz-tagging or none; a bad directive is InvalidArgument', async () => {
    await s3.send(new PutObjectCommand({ Bucket: B, Key: 'src', Body: 'source', Tagging: 'a=1&b=2' }));
    await s3.send(new CopyObjectCommand({ Bucket: B, Key: 'copy', CopySource: `${B}/src`, Tagging: 'ignored=yes' }));
    expect(await tagsOf('copy')).toEqual([{ Key: 'a', Value: '1' }, { Key: 'b', Value: '2' }]);
    await s3.send(new CopyObjectCommand({ Bucket: B, Key: 'copy2', CopySource: `${B}/src`, TaggingDirective: 'REPLACE', Tagging: 'c=3' }));
    expect(await tagsOf('copy2')).toEqual([{ Key: 'c', Value: '3' }]);
    await s3.send(new CopyObjectCommand({ Bucket: B, Key: 'copy3', CopySource: `${B}/src`, TaggingDirective: 'REPLACE' }));
    expect(await tagsOf('copy3')).toEqual([]);
    const bad = await s3Error(s3.send(new CopyObjectCommand({ Bucket: B, Key: 'copy4', CopySource: `${B}/src`, TaggingDirective: 'MERGE' as 'COPY' })));
    expect(bad.name).toBe('InvalidArgument');
    expect((await s3Error(s3.send(new HeadObjectCommand({ Bucket: B, Key: 'copy4' })))).name).toBe('NotFound');
  });

  it('multipart: CreateMultipartUpload\'s Tagging is the completed object\'s', async () => {
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: 'mp', Tagging: 'from=upload' }));
    const part = await s3.send(new UploadPartCommand({ Bucket: B, Key: 'mp', UploadId, PartNumber: 1, Body: 'only part' }));
    await s3.send(new CompleteMultipartUploadCommand({ Bucket: B, Key: 'mp', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }));
    expect(await tagsOf('mp')).toEqual([{ Key: 'from', Value: 'upload' }]);
    expect((await fetchHead('mp')).get('x-amz-tagging-count')).toBe('1');
  });

  it('bucket tagging: none is NoSuchTagSet; put, get, replace, delete', async () => {
    expect((await s3Error(s3.send(new GetBucketTaggingCommand({ Bucket: B })))).name).toBe('NoSuchTagSet');
    await s3.send(new PutBucketTaggingCommand({ Bucket: B, Tagging: { TagSet: tagSet(50) } }));
    expect((await s3.send(new GetBucketTaggingCommand({ Bucket: B }))).TagSet).toHaveLength(50);
    await s3.send(new PutBucketTaggingCommand({ Bucket: B, Tagging: { TagSet: [{ Key: 'team', Value: 'storage' }] } }));
    expect((await s3.send(new GetBucketTaggingCommand({ Bucket: B }))).TagSet).toEqual([{ Key: 'team', Value: 'storage' }]);
    await s3.send(new DeleteBucketTaggingCommand({ Bucket: B }));
    expect((await s3Error(s3.send(new GetBucketTaggingCommand({ Bucket: B })))).name).toBe('NoSuchTagSet');
  });

  it('tag sets over S3\'s limits get S3\'s codes and change nothing', async () => {
    await s3.send(new PutObjectCommand({ Bucket: B, Key: 'kept', Body: 'x', Tagging: 'keep=me' }));
    const cases: Array<[Tag[], string]> = [
      [tagSet(11), 'BadRequest'],
      [[{ Key: 'k'.repeat(129), Value: 'v' }], 'InvalidTag'],
      [[{ Key: 'k', Value: 'v'.repeat(257) }], 'InvalidTag'],
      [[{ Key: 'aws:reserved', Value: 'v' }], 'InvalidTag'],
      [[{ Key: 'dup', Value: '1' }, { Key: 'dup', Value: '2' }], 'InvalidTag'],
    ];
    for (const [TagSet, code] of cases) {
      const err = await s3Error(s3.send(new PutObjectTaggingCommand({ Bucket: B, Key: 'kept', Tagging: { TagSet } })));
      expect([err.name, err.$metadata.httpStatusCode], JSON.stringify(TagSet).slice(0, 60)).toEqual([code, 400]);
    }
    // 128 and 256 Unicode characters are allowed (not bytes).
    await s3.send(new PutObjectCommand({ Bucket: B, Key: 'edge', Body: 'e' }));
    await s3.send(new PutObjectTaggingCommand({ Bucket: B, Key: 'edge', Tagging: { TagSet: [{ Key: 'é'.repeat(128), Value: 'ü'.repeat(256) }] } }));
    expect(await tagsOf('edge')).toHaveLength(1);
    expect((await s3Error(s3.send(new PutBucketTaggingCommand({ Bucket: B, Tagging: { TagSet: tagSet(51) } })))).name).toBe('InvalidTag');
    expect((await s3Error(s3.send(new GetBucketTaggingCommand({ Bucket: B })))).name).toBe('NoSuchTagSet');
    for (const Tagging of ['a=%ZZ', 'a=1&a=2']) {
      const err = await s3Error(s3.send(new PutObjectCommand({ Bucket: B, Key: 'never', Body: 'x', Tagging })));
      expect(err.name, Tagging).toBe('InvalidArgument');
    }
    expect((await s3Error(s3.send(new PutObjectCommand({ Bucket: B, Key: 'never', Body: 'x', Tagging: tagSet(11).map((t) => `${t.Key}=${t.Value}`).join('&') })))).name).toBe('BadRequest');
    expect((await s3Error(s3.send(new HeadObjectCommand({ Bucket: B, Key: 'never' })))).name).toBe('NotFound');
    expect(await tagsOf('kept')).toEqual([{ Key: 'keep', Value: 'me' }]);
    const malformed = await rawPut('/tags/kept?tagging', '<Tagging><TagSet><Tag><Key>a</Key></Tag></TagSet></Tagging>');
    expect([malformed.status, /<Code>MalformedXML<\/Code>/.test(malformed.text)]).toEqual([400, true]);
    expect(await tagsOf('kept')).toEqual([{ Key: 'keep', Value: 'me' }]);
  });

  it('the admin API reads and sets a version\'s tags by S3\'s rules (the console\'s route)', async () => {
    await s3.send(new PutObjectCommand({ Bucket: B, Key: 'admin', Body: 'x', Tagging: 'a=1' }));
    const admin = async (method: string, query: string, body?: unknown) => {
      const res = await fetch(`${srv.adminUrl}/v1/objects/${B}/admin?${query}`, { method, headers: { authorization: `Bearer ${srv.adminToken}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
      return { status: res.status, body: (await res.json()) as Record<string, any> };
    };
    expect(await admin('GET', 'tags')).toEqual({ status: 200, body: { bucket: B, key: 'admin', versionId: 'null', tags: [{ key: 'a', value: '1' }] } });
    expect((await admin('PUT', 'tags', { tags: [{ key: 'b', value: '2' }] })).body.tags).toEqual([{ key: 'b', value: '2' }]);
    expect(await tagsOf('admin')).toEqual([{ Key: 'b', Value: '2' }]);
    const refused = await admin('PUT', 'tags', { tags: [{ key: 'aws:x', value: '1' }] });
    expect([refused.status, refused.body.error.message]).toEqual([400, expect.stringContaining('InvalidTag')]);
    expect((await admin('PUT', 'tags&versionId=nope', { tags: [] })).status).toBe(404);
    expect((await admin('GET', 'tags=x')).status).toBe(400);
    expect((await admin('PUT', 'tags', { tags: [] })).body.tags).toEqual([]);
    expect(await tagsOf('admin')).toEqual([]);
    // The object record carries the tags too.
    await s3.send(new PutObjectTaggingCommand({ Bucket: B, Key: 'admin', Tagging: { TagSet: [{ Key: 'z', Value: '' }] } }));
    const record = await fetch(`${srv.adminUrl}/v1/objects/${B}/admin`, { headers: { authorization: `Bearer ${srv.adminToken}` } });
    expect(((await record.json()) as { tags: unknown }).tags).toEqual([{ key: 'z', value: '' }]);
  });

  /** HEAD as the wire has it. */
  async function fetchHead(key: string): Promise<Headers> {
    const r = await signedFetch('HEAD', `/${B}/${key}`);
    return r.headers;
  }

  async function rawPut(pathAndQuery: string, body: string): Promise<{ status: number; text: string }> {
    const r = await signedFetch('PUT', pathAndQuery, Buffer.from(body));
    return { status: r.status, text: await r.text() };
  }

  async function signedFetch(method: string, pathAndQuery: string, body = Buffer.alloc(0)): Promise<Response> {
    const [rawPath, rawQuery = ''] = pathAndQuery.split('?');
    const host = `127.0.0.1:${srv.port}`;
    const { createHash } = await import('node:crypto');
    const headers: Record<string, string> = { host, 'x-amz-content-sha256': createHash('sha256').update(body).digest('hex') };
    const signed = signRequest({ method, rawPath: rawPath!, rawQuery, headers }, { accessKeyId: srv.credentials.accessKeyId, secretAccessKey: srv.credentials.secretAccessKey, region: 'us-east-1', date: new Date() });
    const { host: _h, ...sent } = signed.request.headers as Record<string, string>;
    return fetch(`${srv.url}${rawPath}${rawQuery ? `?${rawQuery}` : ''}`, { method, headers: sent, body: method === 'PUT' ? body : undefined });
  }
});
