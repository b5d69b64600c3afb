import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import path from 'node:path';
import { Readable } from 'node:stream';
import { CreateBucketCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { startTestServer, tmpFiles, chunkFiles, type TestServer } from '../helpers/server.js';
import { encodePolicy, errorCode, errorMessage, postForm, signedV4Fields, type PostResult } from '../helpers/post-form.js';
import { signingKey } from '../../src/auth/sigv4.js';
import { createHmac } from 'node:crypto';

// PostObject's bad input: each gets S3's code, status and XML body, and leaves nothing behind (no
// object, no tmp file, no unreferenced chunk, every pool buffer back). And a 1 GiB form upload
// streams through the chunk writer with the pool's bound.

const MiB = 1024 * 1024;
const B = 'forms';
const BOUNDARY = '----cairnFormBoundary7MA4YWxkTrZu0gW';

/** The multipart framing of fields, then the file's part header (the file's bytes follow it). */
function formHead(fields: Record<string, string>, filename = 'f.bin'): Buffer {
  let s = '';
  for (const [k, v] of Object.entries(fields)) s += `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`;
  s += `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\nContent-Type: application/octet-stream\r\n\r\n`;
  return Buffer.from(s);
}

/** A raw POST of `body` pieces; `contentLength` may claim more than is sent (then the socket is cut). */
function rawPost(url: string, body: Readable | Buffer[], opts: { contentLength?: number; cut?: boolean } = {}): Promise<PostResult & { error?: string }> {
  return new Promise((resolve) => {
    const headers: Record<string, string> = { 'Content-Type': `multipart/form-data; boundary=${BOUNDARY}` };
    if (opts.contentLength !== undefined) headers['Content-Length'] = String(opts.contentLength);
    const req = http.request(url, { method: 'POST', headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: new Headers(res.headers as Record<string, string>), body: Buffer.concat(parts).toString() }));
    });
    req.on('error', (err) => resolve({ status: 0, headers: new Headers(), body: '', error: err.message }));
    if (Array.isArray(body)) {
      for (const p of body) req.write(p);
      if (opts.cut) setTimeout(() => req.destroy(), 200);
      else req.end();
    } else {
      body.pipe(req);
    }
  });
}

describe('PostObject: bad input', () => {
  let srv: TestServer;
  let s3: S3Client;
  let creds: { accessKeyId: string; secretAccessKey: string };
  const url = () => `${srv.url}/${B}`;
  const signed = (key: string, extra: Array<Record<string, string> | [string, string | number, string | number]> = [], opts: Parameters<typeof signedV4Fields>[2] = {}) => ({
    key,
    ...signedV4Fields(creds, [{ bucket: B }, { key }, ...extra], opts),
  });

  async function waitFor(cond: () => boolean, ms = 10_000): Promise<boolean> {
    const until = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > until) return false;
      await new Promise((r) => setTimeout(r, 20));
    }
    return true;
  }

  /** Nothing at `key`, no tmp file, no chunk file nothing references, the pool's buffers all back. */
  async function expectNothingStored(key: string): Promise<void> {
    const orphans = () => chunkFiles(srv).filter((f) => !srv.repo.isChunkReferenced(path.basename(f)));
    await waitFor(() => srv.pool.stats().inUse === 0 && tmpFiles(srv).length === 0 && orphans().length === 0);
    await expect(s3.send(new HeadObjectCommand({ Bucket: B, Key: key }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
    expect(tmpFiles(srv)).toEqual([]);
    expect(orphans()).toEqual([]);
    expect(srv.pool.stats()).toMatchObject({ inUse: 0, waiters: 0 });
  }

  function expectError(r: PostResult, status: number, code: string, message?: string | RegExp): void {
    expect({ status: r.status, code: errorCode(r) }, r.body).toEqual({ status, code });
    expect(r.body).toMatch(/^<\?xml[^>]*>\s*<Error>/);
    if (message !== undefined) expect(errorMessage(r)).toMatch(message);
  }

  beforeAll(async () => {
    srv = await startTestServer({ chunkSize: 1 * MiB, inlineMax: 0, maxBuffersPerRequest: 4 });
    s3 = srv.client();
    creds = srv.credentials;
    await s3.send(new CreateBucketCommand({ Bucket: B }));
  });
  afterAll(async () => srv?.stop());

  const small = { data: 'some bytes' };
  const cases: Array<{ name: string; key: string; post: () => Promise<PostResult>; status: number; code: string; message?: string | RegExp }> = [
    { name: 'an expired policy', key: 'expired', post: () => postForm(url(), signed('expired', [], { expiresInMs: -60_000 }), small), status: 403, code: 'AccessDenied', message: 'Invalid according to Policy: Policy expired.' },
    { name: 'a violated condition', key: 'violated', post: () => postForm(url(), { ...signed('violated', [['starts-with', '$Content-Type', 'image/']]), 'Content-Type': 'text/html' }, small), status: 403, code: 'AccessDenied', message: 'Invalid according to Policy: Policy Condition failed: ["starts-with","$Content-Type","image/"]' },
    { name: 'a field no condition covers', key: 'extra', post: () => postForm(url(), { ...signed('extra'), 'x-amz-meta-sneaky': '1' }, small), status: 403, code: 'AccessDenied', message: 'Invalid according to Policy: Extra input fields: x-amz-meta-sneaky' },
    { name: 'a bad signature', key: 'badsig', post: () => postForm(url(), { ...signed('badsig'), 'x-amz-signature': '0'.repeat(64) }, small), status: 403, code: 'SignatureDoesNotMatch' },
    { name: 'a policy changed after signing', key: 'changed', post: () => postForm(url(), { ...signed('changed'), policy: encodePolicy([{ bucket: B }, ['starts-with', '$key', '']]) }, small), status: 403, code: 'SignatureDoesNotMatch' },
    { name: 'an unknown access key', key: 'unknown', post: () => postForm(url(), { key: 'unknown', ...signedV4Fields({ accessKeyId: 'NOSUCHKEY0000000000', secretAccessKey: 'x' }, [{ bucket: B }, { key: 'unknown' }]) }, small), status: 403, code: 'InvalidAccessKeyId' },
    { name: 'a file over content-length-range', key: 'large', post: () => postForm(url(), signed('large', [['content-length-range', 0, 1000]]), { data: Buffer.alloc(3 * MiB, 1) }), status: 400, code: 'EntityTooLarge' },
    { name: 'a file under content-length-range', key: 'small', post: () => postForm(url(), signed('small', [['content-length-range', 100, 1000]]), small), status: 400, code: 'EntityTooSmall' },
    { name: 'no key field', key: 'nokey', post: () => postForm(url(), signedV4Fields(creds, [{ bucket: B }]), small), status: 400, code: 'InvalidArgument', message: /must contain a field named 'key'/ },
    { name: 'no file field', key: 'nofile', post: () => postForm(url(), signed('nofile'), undefined), status: 400, code: 'InvalidArgument', message: 'POST requires exactly one file upload per request.' },
    { name: 'a signed form without a policy', key: 'nopolicy', post: () => postForm(url(), { ...signed('nopolicy'), policy: '' }, small), status: 400, code: 'InvalidArgument', message: /field named 'policy'/ },
    { name: 'a policy that is not base64', key: 'b64', post: () => postForm(url(), withPolicy('b64', '%%%not base64%%%'), small), status: 400, code: 'InvalidPolicyDocument' },
    { name: 'a policy that is not JSON', key: 'json', post: () => postForm(url(), withPolicy('json', Buffer.from('{"expiration": ').toString('base64')), small), status: 400, code: 'InvalidPolicyDocument', message: 'Invalid Policy: Invalid JSON.' },
    { name: 'a policy without conditions', key: 'nocond', post: () => postForm(url(), withPolicy('nocond', Buffer.from(JSON.stringify({ expiration: '2099-01-01T00:00:00Z' })).toString('base64')), small), status: 400, code: 'InvalidPolicyDocument', message: 'Invalid Policy: Policy missing conditions.' },
    { name: 'a body that is not multipart/form-data', key: 'urlencoded', post: () => fetch(url(), { method: 'POST', body: new URLSearchParams({ key: 'urlencoded' }) }).then(async (r) => ({ status: r.status, headers: r.headers, body: await r.text() })), status: 412, code: 'PreconditionFailed' },
    { name: 'multipart/form-data without a boundary', key: 'noboundary', post: () => fetch(url(), { method: 'POST', headers: { 'Content-Type': 'multipart/form-data' }, body: 'key=noboundary' }).then(async (r) => ({ status: r.status, headers: r.headers, body: await r.text() })), status: 400, code: 'MalformedPOSTRequest' },
    { name: 'a policy without a signature', key: 'unsigned', post: () => postForm(url(), { key: 'unsigned', policy: encodePolicy([{ bucket: B }, { key: 'unsigned' }]) }, small), status: 400, code: 'InvalidArgument', message: /field named 'x-amz-signature'/ },
    { name: 'fields before the file over 20 KB', key: 'prelude', post: () => postForm(url(), { ...signed('prelude', [['starts-with', '$x-amz-meta-big', '']]), 'x-amz-meta-big': 'x'.repeat(21 * 1024) }, small), status: 400, code: 'MaxPostPreDataLengthExceededError' },
    { name: 'an SSE-S3 field on a server with no server key', key: 'sse', post: () => postForm(url(), { ...signed('sse', [{ 'x-amz-server-side-encryption': 'AES256' }]), 'x-amz-server-side-encryption': 'AES256' }, small), status: 501, code: 'NotImplemented' },
    { name: 'a tagging field that is no Tagging document', key: 'tags', post: () => postForm(url(), { ...signed('tags', [['starts-with', '$tagging', '']]), tagging: '<Tagging/>' }, small), status: 400, code: 'MalformedXML' },
    { name: 'a tagging field with 11 tags', key: 'tags11', post: () => postForm(url(), { ...signed('tags11', [['starts-with', '$tagging', '']]), tagging: `<Tagging><TagSet>${Array.from({ length: 11 }, (_, i) => `<Tag><Key>k${i}</Key><Value>v</Value></Tag>`).join('')}</TagSet></Tagging>` }, small), status: 400, code: 'BadRequest' },
    { name: 'an unknown field', key: 'unknownfield', post: () => postForm(url(), { ...signed('unknownfield', [{ colour: 'red' }]), colour: 'red' }, small), status: 501, code: 'NotImplemented' },
    { name: 'an anonymous form on a private bucket', key: 'anon', post: () => postForm(url(), { key: 'anon' }, small), status: 403, code: 'AccessDenied' },
    { name: 'a credential for another region', key: 'region', post: () => postForm(url(), signed('region', [], { region: 'eu-west-1' }), small), status: 400, code: 'AuthorizationQueryParametersError' },
  ];

  /** A form signed over `policy` as it is (the signature is right; the document is not). */
  function withPolicy(key: string, policy: string): Record<string, string> {
    const now = new Date();
    const date = now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
    const day = date.slice(0, 8);
    const signature = createHmac('sha256', signingKey(creds.secretAccessKey, day, 'us-east-1', 's3')).update(policy).digest('hex');
    return { key, 'x-amz-algorithm': 'AWS4-HMAC-SHA256', 'x-amz-credential': `${creds.accessKeyId}/${day}/us-east-1/s3/aws4_request`, 'x-amz-date': date, policy, 'x-amz-signature': signature };
  }

  it.each(cases)('$name: $status $code, nothing stored', async ({ key, post, status, code, message }) => {
    expectError(await post(), status, code, message);
    await expectNothingStored(key);
  });

  it('a form whose closing boundary never comes: 400 MalformedPOSTRequest, nothing stored', async () => {
    const body = [formHead(signed('unclosed')), Buffer.alloc(2 * MiB, 2)];
    const r = await rawPost(url(), body, { contentLength: body.reduce((n, b) => n + b.length, 0) });
    expectError(r, 400, 'MalformedPOSTRequest');
    await expectNothingStored('unclosed');
  });

  it('a client that hangs up mid-file: nothing stored, the pool\'s buffers back', async () => {
    const head = formHead(signed('cut'));
    const r = await rawPost(url(), [head, Buffer.alloc(5 * MiB, 3)], { contentLength: head.length + 50 * MiB, cut: true });
    expect(r.status === 0 || r.status === 400, `${r.status} ${r.error ?? r.body}`).toBe(true);
    await expectNothingStored('cut');
  });

  it('a file over the range stops being read at once: the rest of a large body is never stored', async () => {
    const size = 200 * MiB;
    const fields = signed('stopped', [['content-length-range', 0, 4 * MiB]]);
    const r = await rawPost(url(), Readable.from(formBody(fields, size)), {});
    expectError(r, 400, 'EntityTooLarge');
    await expectNothingStored('stopped');
  });

  it('streams a 1 GiB form upload with the pool bounded (per-request cap), and stores it whole', async () => {
    const size = 1024 * MiB;
    let peakInUse = 0;
    const sampler = setInterval(() => (peakInUse = Math.max(peakInUse, srv.pool.stats().inUse)), 5);
    const heapBefore = process.memoryUsage().heapUsed;
    let r;
    try {
      r = await rawPost(url(), Readable.from(formBody(signed('big', [['content-length-range', 1, size]]), size)), {});
    } finally {
      clearInterval(sampler);
    }
    expect(r.status, r.body).toBe(204);
    expect(peakInUse, 'pool buffers held at once').toBeLessThanOrEqual(4);
    expect(process.memoryUsage().heapUsed - heapBefore, 'heap growth').toBeLessThan(100 * MiB);
    const head = await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'big' }));
    expect(head.ContentLength).toBe(size);
    expect(srv.pool.stats().inUse).toBe(0);
    expect(tmpFiles(srv)).toEqual([]);
  }, 300_000);
});

/** The whole form: fields, a file of `size` bytes made as it is read, the closing boundary, a field S3 ignores. */
async function* formBody(fields: Record<string, string>, size: number): AsyncGenerator<Buffer> {
  yield formHead(fields);
  const piece = Buffer.alloc(MiB, 0x61);
  for (let sent = 0; sent < size; sent += piece.length) {
    // A varying byte per MiB: chunks that dedup to one file would hide a writer that skips data.
    const out = Buffer.from(piece.subarray(0, Math.min(piece.length, size - sent)));
    out.writeUInt32BE((sent / MiB) >>> 0, 0);
    yield out;
  }
  yield Buffer.from(`\r\n--${BOUNDARY}\r\nContent-Disposition: form-data; name="submit"\r\n\r\nUpload\r\n--${BOUNDARY}--\r\n`);
}
