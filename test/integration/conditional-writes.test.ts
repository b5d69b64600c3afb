import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { bodyOf, s3Error } from '../helpers/sdk.js';
import { startTestServer, TEST_ACCESS_KEY, TEST_SECRET, tmpFiles, type TestServer } from '../helpers/server.js';
import { signRequest } from '../../src/auth/sigv4.js';

// Conditional writes: If-None-Match: * and If-Match on PutObject, CompleteMultipartUpload and
// CopyObject. Checked before the body (412/404) and again in the step that commits (409), so a
// client that takes a lock by creating a file holds it alone.

const text = async (s3: S3Client, Bucket: string, Key: string) => (await bodyOf(await s3.send(new GetObjectCommand({ Bucket, Key })))).toString();

describe('conditional writes (SDK)', () => {
  let srv: TestServer;
  let s3: S3Client;
  beforeAll(async () => {
    srv = await startTestServer();
    s3 = srv.client();
    await s3.send(new CreateBucketCommand({ Bucket: 'cond' }));
  });
  afterAll(async () => srv?.stop());

  it('If-None-Match: * creates once; a second writer gets 412 and the first bytes stay', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'cond', Key: 'lock', Body: 'first', IfNoneMatch: '*' }));
    const e = await s3Error(s3.send(new PutObjectCommand({ Bucket: 'cond', Key: 'lock', Body: 'second', IfNoneMatch: '*' })));
    expect([e.name, e.$metadata.httpStatusCode]).toEqual(['PreconditionFailed', 412]);
    expect(await text(s3, 'cond', 'lock')).toBe('first');
    expect(tmpFiles(srv)).toEqual([]);
  });

  it('If-Match: the current ETag writes; another is 412; no current version is 404', async () => {
    const put = await s3.send(new PutObjectCommand({ Bucket: 'cond', Key: 'state', Body: 'v1' }));
    await s3.send(new PutObjectCommand({ Bucket: 'cond', Key: 'state', Body: 'v2', IfMatch: put.ETag }));
    const stale = await s3Error(s3.send(new PutObjectCommand({ Bucket: 'cond', Key: 'state', Body: 'v3', IfMatch: put.ETag })));
    expect([stale.name, stale.$metadata.httpStatusCode]).toEqual(['PreconditionFailed', 412]);
    expect(await text(s3, 'cond', 'state')).toBe('v2');
    const none = await s3Error(s3.send(new PutObjectCommand({ Bucket: 'cond', Key: 'no-such', Body: 'x', IfMatch: put.ETag })));
    expect([none.name, none.$metadata.httpStatusCode]).toEqual(['NoSuchKey', 404]);
  });

  it('a delete marker counts as absent', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'cond-v' }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: 'cond-v', VersioningConfiguration: { Status: 'Enabled' } }));
    await s3.send(new PutObjectCommand({ Bucket: 'cond-v', Key: 'k', Body: 'a', IfNoneMatch: '*' }));
    await s3.send(new DeleteObjectCommand({ Bucket: 'cond-v', Key: 'k' }));
    await s3.send(new PutObjectCommand({ Bucket: 'cond-v', Key: 'k', Body: 'b', IfNoneMatch: '*' }));
    expect(await text(s3, 'cond-v', 'k')).toBe('b');
  });

  it('CompleteMultipartUpload and CopyObject take the same conditions; a refused Complete keeps the upload', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'cond', Key: 'mp', Body: 'exists' }));
    const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'cond', Key: 'mp' }));
    const part = await s3.send(new UploadPartCommand({ Bucket: 'cond', Key: 'mp', UploadId: up.UploadId, PartNumber: 1, Body: 'new' }));
    const complete = (cond: { IfNoneMatch?: string; IfMatch?: string }) =>
      s3.send(new CompleteMultipartUploadCommand({ Bucket: 'cond', Key: 'mp', UploadId: up.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] }, ...cond }));
    expect((await s3Error(complete({ IfNoneMatch: '*' }))).$metadata.httpStatusCode).toBe(412);
    expect((await s3.send(new ListMultipartUploadsCommand({ Bucket: 'cond', Prefix: 'mp' }))).Uploads?.length).toBe(1);
    expect(await text(s3, 'cond', 'mp')).toBe('exists');
    const current = await s3.send(new PutObjectCommand({ Bucket: 'cond', Key: 'mp', Body: 'exists' }));
    await complete({ IfMatch: current.ETag });
    expect(await text(s3, 'cond', 'mp')).toBe('new');

    const copyOver = await s3Error(s3.send(new CopyObjectCommand({ Bucket: 'cond', Key: 'lock', CopySource: 'cond/mp', IfNoneMatch: '*' })));
    expect(copyOver.$metadata.httpStatusCode).toBe(412);
    expect(await text(s3, 'cond', 'lock')).toBe('first');
    await s3.send(new CopyObjectCommand({ Bucket: 'cond', Key: 'copied', CopySource: 'cond/mp', IfNoneMatch: '*' }));
    expect(await text(s3, 'cond', 'copied')).toBe('new');
  });

  it('conditions cairn does not implement on writes are refused (501), never ignored', async () => {
    const etag = await s3Error(s3.send(new PutObjectCommand({ Bucket: 'cond', Key: 'x', Body: 'x', IfNoneMatch: '"abc"' })));
    expect([etag.name, etag.$metadata.httpStatusCode]).toEqual(['NotImplemented', 501]);
    for (const [name, value] of [
      ['if-modified-since', new Date().toUTCString()],
      ['if-unmodified-since', new Date().toUTCString()],
    ]) {
      const r = await signedPut(srv, '/cond/x', Buffer.from('x'), { [name]: value });
      expect([r.status, /<Code>NotImplemented<\/Code>/.test(r.body)]).toEqual([501, true]);
    }
    expect((await s3Error(s3.send(new GetObjectCommand({ Bucket: 'cond', Key: 'x' })))).name).toBe('NoSuchKey');
  });

  it('a condition that held before the body but not at commit is 409 ConditionalRequestConflict', async () => {
    const body = Buffer.alloc(256 * 1024, 1);
    // Headers and half the body go out; the key is created meanwhile; then the rest.
    const slow = startSignedPut(srv, '/cond/raced', body.length, { 'if-none-match': '*' });
    slow.req.write(body.subarray(0, body.length / 2));
    // Past its pre-check once its body holds a pool buffer (the check runs before the receive).
    for (let i = 0; i < 200 && srv.pool.stats().inUse === 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(srv.pool.stats().inUse).toBeGreaterThan(0);
    await s3.send(new PutObjectCommand({ Bucket: 'cond', Key: 'raced', Body: 'winner' }));
    slow.req.end(body.subarray(body.length / 2));
    const r = await slow.done;
    expect([r.status, /<Code>ConditionalRequestConflict<\/Code>/.exec(r.body)?.[0]]).toEqual([409, '<Code>ConditionalRequestConflict</Code>']);
    expect(await text(s3, 'cond', 'raced')).toBe('winner');
    expect(tmpFiles(srv)).toEqual([]);
  });
});

// The lock race: 32 writers of one key with If-None-Match: *, 100 rounds, exactly one winner
// each round, whichever way commits run (the commit thread, or group commit on the event loop).
for (const commitThread of ['on', 'off'] as const) {
  describe(`If-None-Match lock race, commit thread ${commitThread}`, () => {
    let srv: TestServer;
    let s3: S3Client;
    beforeAll(async () => {
      srv = await startTestServer({ commitThread });
      s3 = srv.client({ maxAttempts: 1 });
      await s3.send(new CreateBucketCommand({ Bucket: 'race' }));
    });
    afterAll(async () => srv?.stop());

    it('32 concurrent writers, 100 rounds: exactly one winner a round; the losers get 412 or 409', async () => {
      const losers: Record<string, number> = {};
      for (let round = 0; round < 100; round++) {
        const key = `lock-${round}`;
        const outcomes = await Promise.allSettled(
          Array.from({ length: 32 }, (_, i) => s3.send(new PutObjectCommand({ Bucket: 'race', Key: key, Body: `writer ${i}`, IfNoneMatch: '*' }))),
        );
        const winners = outcomes.flatMap((o, i) => (o.status === 'fulfilled' ? [i] : []));
        expect(winners, `round ${round}`).toHaveLength(1);
        for (const o of outcomes) {
          if (o.status === 'rejected') {
            const status = (o.reason as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
            losers[String(status)] = (losers[String(status)] ?? 0) + 1;
          }
        }
        expect(await text(s3, 'race', key)).toBe(`writer ${winners[0]}`);
      }
      expect(Object.keys(losers).every((s) => s === '412' || s === '409'), JSON.stringify(losers)).toBe(true);
      expect((losers['412'] ?? 0) + (losers['409'] ?? 0)).toBe(100 * 31);
    }, 180_000);
  });
}

function startSignedPut(srv: TestServer, path: string, length: number, extra: Record<string, string>) {
  const headers: Record<string, string> = { host: `127.0.0.1:${srv.port}`, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', 'content-length': String(length), ...extra };
  const signed = signRequest({ method: 'PUT', rawPath: path, rawQuery: '', headers }, { accessKeyId: TEST_ACCESS_KEY, secretAccessKey: TEST_SECRET, region: 'us-east-1', date: new Date() });
  const req = http.request({ host: '127.0.0.1', port: srv.port, method: 'PUT', path, headers: signed.request.headers as Record<string, string>, agent: false });
  const done = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req.on('response', (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString() }));
    });
    req.on('error', reject);
  });
  return { req, done };
}

async function signedPut(srv: TestServer, path: string, body: Buffer, extra: Record<string, string>) {
  const p = startSignedPut(srv, path, body.length, extra);
  p.req.end(body);
  return p.done;
}
