import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { bodyOf, s3Error } from '../helpers/sdk.js';
import { hasClient, run, runOk } from '../helpers/clients.js';
import { exchange, type RawRequest } from '../helpers/raw-exchange.js';
import { postForm, signedV4Fields } from '../helpers/post-form.js';

// The wire-level S3 behaviours of issue 21: Expect (100-continue decided after authentication,
// authorization and the bucket; other values ignored), user metadata beyond ASCII signed either
// way clients sign it, anonymous requests to a missing bucket, expired presigned URLs.

const haveAws = hasClient('aws');
const haveCurl = hasClient('curl');

describe('wire fidelity', () => {
  let srv: TestServer;
  let s3: S3Client;
  let root: { id: string; secret: string };
  let work: string;
  const send = (req: RawRequest) => exchange(srv.port, req);
  const code = (body: Buffer) => /<Code>([^<]*)<\/Code>/.exec(body.toString())?.[1];

  beforeAll(async () => {
    srv = await startTestServer();
    s3 = srv.client();
    root = { id: srv.credentials.accessKeyId, secret: srv.credentials.secretAccessKey };
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-wire-'));
    await s3.send(new CreateBucketCommand({ Bucket: 'wire' }));
  });
  afterAll(async () => {
    await srv?.stop();
    fs.rmSync(work, { recursive: true, force: true });
  });

  describe('Expect', () => {
    const expect100 = { expect: '100-continue' };

    it('a value other than 100-continue is ignored, as S3 does (no 417)', async () => {
      const r = await send({ method: 'PUT', target: '/wire/odd-expect', headers: { expect: 'something-else' }, body: 'data', as: root });
      expect(r.status).toBe(200);
      expect(r.continued).toBe(false);
      const got = await s3.send(new GetObjectCommand({ Bucket: 'wire', Key: 'odd-expect' }));
      expect((await bodyOf(got)).toString()).toBe('data');
    });

    it('refused uploads are answered without 100 Continue, their body never sent, and the connection closed', async () => {
      const body = Buffer.alloc(64 * 1024, 1);
      const cases: Array<[string, RawRequest, number, string]> = [
        ['anonymous', { method: 'PUT', target: '/wire/anon', headers: expect100, body }, 403, 'AccessDenied'],
        ['a wrong secret', { method: 'PUT', target: '/wire/forged', headers: expect100, body, as: { ...root, secret: 'wrong' } }, 403, 'SignatureDoesNotMatch'],
        ['a missing bucket', { method: 'PUT', target: '/no-such-wire/k', headers: expect100, body, as: root }, 404, 'NoSuchBucket'],
        ['an anonymous write to a missing bucket', { method: 'PUT', target: '/no-such-wire/k', headers: expect100, body }, 404, 'NoSuchBucket'],
        ['a refused header', { method: 'PUT', target: '/wire/redirect', headers: { ...expect100, 'x-amz-website-redirect-location': '/x' }, body, as: root }, 501, 'NotImplemented'],
        ['a missing upload', { method: 'PUT', target: '/wire/part?partNumber=1&uploadId=nope', headers: expect100, body, as: root }, 404, 'NoSuchUpload'],
      ];
      for (const [what, req, status, errorCode] of cases) {
        const r = await send(req);
        expect([what, r.status, code(r.body)]).toEqual([what, status, errorCode]);
        expect([what, r.continued, r.bodySent, r.closed]).toEqual([what, false, false, true]);
      }
      await expect(s3.send(new HeadObjectCommand({ Bucket: 'wire', Key: 'anon' }))).rejects.toThrow();
    });

    it('an accepted upload gets 100 Continue, then its body is read (PutObject, UploadPart)', async () => {
      const put = await send({ method: 'PUT', target: '/wire/continued', headers: expect100, body: 'continued body', as: root });
      expect([put.continued, put.bodySent, put.status]).toEqual([true, true, 200]);
      expect(put.closed).toBe(false);
      expect((await bodyOf(await s3.send(new GetObjectCommand({ Bucket: 'wire', Key: 'continued' })))).toString()).toBe('continued body');

      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'wire', Key: 'mpu' }));
      // rclone's spelling.
      const part = await send({ method: 'PUT', target: `/wire/mpu?partNumber=1&uploadId=${UploadId}`, headers: { expect: '100-Continue' }, body: 'part one', as: root });
      expect([part.continued, part.status]).toEqual([true, 200]);
      expect(part.head).toMatch(/\r\netag: "/i);
    });

    it('a request without a body is not held back (GET with Expect keeps its connection)', async () => {
      const r = await send({ method: 'GET', target: '/wire/continued', headers: expect100, as: root });
      expect([r.status, r.body.toString(), r.closed]).toEqual([200, 'continued body', false]);
    });

    it('POST Object: a missing bucket is answered before the form is sent; an existing one gets 100 Continue', async () => {
      const formBody = (bucket: string, key: string) => {
        const fields = { key, ...signedV4Fields({ accessKeyId: root.id, secretAccessKey: root.secret }, [{ bucket }, { key }]) };
        const b = 'wireformboundary';
        const parts = Object.entries(fields).map(([k, v]) => `--${b}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`);
        const text = `${parts.join('')}--${b}\r\nContent-Disposition: form-data; name="file"; filename="f.txt"\r\n\r\nform file\r\n--${b}--\r\n`;
        return { headers: { ...expect100, 'content-type': `multipart/form-data; boundary=${b}` }, body: text };
      };
      const missing = await send({ method: 'POST', target: '/no-such-wire', ...formBody('no-such-wire', 'f') });
      expect([missing.status, code(missing.body), missing.continued, missing.bodySent]).toEqual([404, 'NoSuchBucket', false, false]);
      const ok = await send({ method: 'POST', target: '/wire', ...formBody('wire', 'posted') });
      expect([ok.continued, ok.status]).toEqual([true, 204]);
      expect((await bodyOf(await s3.send(new GetObjectCommand({ Bucket: 'wire', Key: 'posted' })))).toString()).toBe('form file');
    });

    it('the SDK (Expect on large bodies) uploads a 3 MiB object, and learns of a missing bucket', async () => {
      const big = Buffer.alloc(3 * 1024 * 1024, 7);
      await s3.send(new PutObjectCommand({ Bucket: 'wire', Key: 'sdk-big', Body: big }));
      const head = await s3.send(new HeadObjectCommand({ Bucket: 'wire', Key: 'sdk-big' }));
      expect(head.ContentLength).toBe(big.length);
      const err = await s3Error(s3.send(new PutObjectCommand({ Bucket: 'no-such-wire', Key: 'k', Body: big })));
      expect(err.name).toBe('NoSuchBucket');
    });

    it.skipIf(!haveAws)('aws s3 cp of a 3 MiB file (sent with Expect: 100-continue)', async () => {
      const file = path.join(work, 'cli.bin');
      fs.writeFileSync(file, Buffer.alloc(3 * 1024 * 1024, 3));
      const [, refused] = await Promise.all([
        runOk('aws', ['--endpoint-url', srv.url, 's3', 'cp', file, 's3://wire/cli.bin'], { env: srv.env, timeoutMs: 60_000 }),
        run('aws', ['--endpoint-url', srv.url, 's3', 'cp', file, 's3://no-such-wire/cli.bin'], { env: srv.env, timeoutMs: 60_000 }),
      ]);
      const head = await s3.send(new HeadObjectCommand({ Bucket: 'wire', Key: 'cli.bin' }));
      expect(head.ContentLength).toBe(3 * 1024 * 1024);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toContain('NoSuchBucket');
    });
  });

  describe('user metadata beyond ASCII', () => {
    const rawHeader = (r: { head: string }, name: string) => new RegExp(`\\r\\n${name}: ([^\\r]*)`, 'i').exec(r.head)?.[1];
    const latin1 = (b: Buffer) => b.toString('latin1');

    it('the JS SDK (Buffer body: Latin-1 on the wire, UTF-8 signed) verifies and reads back the same value', async () => {
      await s3.send(new PutObjectCommand({ Bucket: 'wire', Key: 'meta-buffer', Body: Buffer.from('x'), Metadata: { note: 'café' } }));
      expect((await s3.send(new HeadObjectCommand({ Bucket: 'wire', Key: 'meta-buffer' }))).Metadata).toEqual({ note: 'café' });
      expect((await s3.send(new GetObjectCommand({ Bucket: 'wire', Key: 'meta-buffer' }))).Metadata).toEqual({ note: 'café' });
    });

    it('the JS SDK (string body: node writes the headers as UTF-8) verifies; the bytes sent come back', async () => {
      await s3.send(new PutObjectCommand({ Bucket: 'wire', Key: 'meta-string', Body: 'x', Metadata: { note: 'café' } }));
      for (const method of ['HEAD', 'GET']) {
        const r = await send({ method, target: '/wire/meta-string', as: root });
        expect([method, r.status, rawHeader(r, 'x-amz-meta-note')]).toEqual([method, 200, latin1(Buffer.from('café', 'utf8'))]);
      }
    });

    it.skipIf(!haveCurl)('curl --aws-sigv4 signing the raw Latin-1 bytes it sends: verifies; HEAD and GET answer the same bytes', async () => {
      // From a file: an argument would reach curl as UTF-8.
      const headers = path.join(work, 'latin1-headers');
      fs.writeFileSync(headers, Buffer.concat([Buffer.from('x-amz-content-sha256: UNSIGNED-PAYLOAD\r\nx-amz-meta-note: caf'), Buffer.from([0xe9]), Buffer.from('\r\n')]));
      const r = await run('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '--aws-sigv4', 'aws:amz:us-east-1:s3', '--user', `${root.id}:${root.secret}`,
        '-X', 'PUT', '-H', `@${headers}`, '--data-binary', 'curl body', `${srv.url}/wire/meta-curl`], { timeoutMs: 30_000 });
      expect(r.stdout, r.stderr).toBe('200');
      for (const method of ['HEAD', 'GET']) {
        const got = await send({ method, target: '/wire/meta-curl', as: root });
        expect([method, rawHeader(got, 'x-amz-meta-note')]).toEqual([method, 'caf\u00e9']);
      }
    });

    it('a browser form (UTF-8 fields, any character) stores the bytes it sent; HEAD answers them', async () => {
      const note = 'café 中文';
      const fields = { key: 'meta-form', 'x-amz-meta-note': note, 'content-disposition': `inline; filename="${note}"` };
      const signed = signedV4Fields({ accessKeyId: root.id, secretAccessKey: root.secret }, [{ bucket: 'wire' }, ...Object.entries(fields).map(([k, v]) => ({ [k]: v }))]);
      const posted = await postForm(`${srv.url}/wire`, { ...fields, ...signed }, { data: 'form body' });
      expect(posted.status, posted.body).toBe(204);
      const head = await send({ method: 'HEAD', target: '/wire/meta-form', as: root });
      expect([head.status, rawHeader(head, 'x-amz-meta-note'), rawHeader(head, 'content-disposition')])
        .toEqual([200, latin1(Buffer.from(note, 'utf8')), latin1(Buffer.from(`inline; filename="${note}"`, 'utf8'))]);
    });

    it('a presigned PUT carrying metadata in its query (the SDK hoists it) stores the bytes it encodes', async () => {
      const note = 'café 中文';
      const url = await getSignedUrl(s3, new PutObjectCommand({ Bucket: 'wire', Key: 'meta-presigned', Metadata: { note } }), { expiresIn: 300 });
      expect(url).toContain('x-amz-meta-note=');
      expect((await fetch(url, { method: 'PUT', body: 'presigned body' })).status).toBe(200);
      const head = await send({ method: 'HEAD', target: '/wire/meta-presigned', as: root });
      expect([head.status, rawHeader(head, 'x-amz-meta-note')]).toEqual([200, latin1(Buffer.from(note, 'utf8'))]);
    });

    it.skipIf(!haveAws)('botocore (the aws CLI) signs and sends a header as UTF-8: verifies, and reads back the bytes it sent', async () => {
      // botocore refuses non-ASCII --metadata itself; Content-Disposition goes the same way to the
      // wire. Python reads response headers as Latin-1, so the UTF-8 bytes show as 'Ã©'.
      const disposition = 'attachment; filename="café.txt"';
      await runOk('aws', ['--endpoint-url', srv.url, 's3api', 'put-object', '--bucket', 'wire', '--key', 'meta-cli', '--content-disposition', disposition], { env: srv.env, timeoutMs: 60_000 });
      const head = await s3.send(new HeadObjectCommand({ Bucket: 'wire', Key: 'meta-cli' }));
      expect(head.ContentDisposition).toBe(latin1(Buffer.from(disposition, 'utf8')));
    });
  });

  describe('anonymous requests to a bucket that does not exist', () => {
    it('answer 404 NoSuchBucket for bucket and object operations (HEAD without a body)', async () => {
      const cases: Array<[string, string]> = [
        ['GET', '/no-such-wire/k'], ['PUT', '/no-such-wire/k'], ['DELETE', '/no-such-wire/k'], ['GET', '/no-such-wire'],
        ['GET', '/no-such-wire?list-type=2'], ['GET', '/no-such-wire?acl'], ['DELETE', '/no-such-wire'], ['POST', '/no-such-wire?delete'],
      ];
      for (const [method, target] of cases) {
        const r = await send({ method, target, body: method === 'PUT' ? 'x' : undefined });
        expect([method, target, r.status, code(r.body)]).toEqual([method, target, 404, 'NoSuchBucket']);
        expect(r.body.toString()).toContain('<BucketName>no-such-wire</BucketName>');
      }
      for (const target of ['/no-such-wire', '/no-such-wire/k']) {
        const head = await send({ method: 'HEAD', target });
        expect([target, head.status, head.body.length]).toEqual([target, 404, 0]);
      }
    });

    it('CreateBucket stays 403, and an existing private bucket still answers 403 AccessDenied', async () => {
      const create = await send({ method: 'PUT', target: '/no-such-wire' });
      expect([create.status, code(create.body)]).toEqual([403, 'AccessDenied']);
      expect((await send({ method: 'HEAD', target: '/no-such-wire', as: root })).status).toBe(404);
      for (const [method, target] of [['GET', '/wire/continued'], ['GET', '/wire/nothing-here'], ['GET', '/wire'], ['PUT', '/wire/anon'], ['DELETE', '/wire/continued']]) {
        const r = await send({ method: method!, target: target!, body: method === 'PUT' ? 'x' : undefined });
        expect([method, target, r.status, code(r.body)]).toEqual([method, target, 403, 'AccessDenied']);
      }
      expect((await send({ method: 'HEAD', target: '/wire' })).status).toBe(403);
    });
  });

  it('an expired presigned URL answers 403 AccessDenied "Request has expired" (SDK SigV4, aws s3 presign SigV2)', async () => {
    const urls: Array<[string, string, string]> = [
      ['SDK GET', 'GET', await getSignedUrl(s3, new GetObjectCommand({ Bucket: 'wire', Key: 'continued' }), { expiresIn: 1 })],
      ['SDK PUT', 'PUT', await getSignedUrl(s3, new PutObjectCommand({ Bucket: 'wire', Key: 'late' }), { expiresIn: 1 })],
    ];
    if (haveAws) {
      const presigned = await runOk('aws', ['--endpoint-url', srv.url, 's3', 'presign', 's3://wire/continued', '--expires-in', '1'], { env: srv.env, timeoutMs: 60_000 });
      urls.push(['aws s3 presign', 'GET', presigned.stdout.trim()]);
    }
    // Past every expiry (1 s, at whole-second resolution): the bounded wait this case needs.
    await new Promise((r) => setTimeout(r, 2100));
    for (const [what, method, url] of urls) {
      const res = await fetch(url, { method, body: method === 'PUT' ? 'late body' : undefined });
      const text = await res.text();
      expect([what, res.status, /<Code>([^<]*)</.exec(text)?.[1], /<Message>([^<]*)</.exec(text)?.[1]]).toEqual([what, 403, 'AccessDenied', 'Request has expired']);
    }
    // An upload waiting for 100 Continue learns it first, without sending its body.
    const put = new URL(urls[1]![2]);
    const late = await send({ method: 'PUT', target: put.pathname + put.search, headers: { expect: '100-continue' }, body: 'late body' });
    expect([late.status, code(late.body), late.continued, late.bodySent]).toEqual([403, 'AccessDenied', false, false]);
    await expect(s3.send(new HeadObjectCommand({ Bucket: 'wire', Key: 'late' }))).rejects.toThrow();
  });
});
