import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { hasClient, run } from '../helpers/clients.js';
import { startTestServer, TEST_ACCESS_KEY, TEST_SECRET, type TestServer } from '../helpers/server.js';

// curl as the client: presigned URLs (SDK SigV4), curl's own --aws-sigv4, anonymous access
// to public-read and private buckets, and the shape of error responses.

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

interface CurlResult {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

async function bodyOf(res: { Body?: unknown }): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const p of res.Body as AsyncIterable<Uint8Array>) parts.push(Buffer.from(p));
  return Buffer.concat(parts);
}

describe.skipIf(!hasClient('curl'))('curl: presigned URLs, --aws-sigv4, anonymous access', () => {
  let srv: TestServer;
  let s3: S3Client;
  let work: string;
  let n = 0;

  /** Runs curl; returns the final response's status, headers (lower-case) and body bytes. */
  const curl = async (args: string[]): Promise<CurlResult> => {
    const id = n++;
    const hfile = path.join(work, `h${id}`);
    const bfile = path.join(work, `b${id}`);
    const r = await run('curl', ['-sS', '--globoff', '-D', hfile, '-o', bfile, '-w', '%{http_code}', ...args], { timeoutMs: 30_000 });
    if (r.code !== 0) throw new Error(`curl ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    // With Expect: 100-continue the dump holds an interim response first: keep the last.
    const dump = fs.readFileSync(hfile);
    const blocks = dump.toString('latin1').split(/\r?\n\r?\n/).filter((b) => b.trim() !== '');
    const headers: Record<string, string> = {};
    for (const line of blocks[blocks.length - 1]!.split(/\r?\n/).slice(1)) {
      const i = line.indexOf(':');
      if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
    }
    let body = fs.existsSync(bfile) ? fs.readFileSync(bfile) : Buffer.alloc(0);
    // -I writes the headers to the output too: what follows them would be a body.
    if (args.includes('-I')) {
      expect(body.subarray(0, dump.length)).toEqual(dump);
      body = body.subarray(dump.length);
    }
    return { status: Number(r.stdout), headers, body };
  };
  const sigv4 = ['--aws-sigv4', 'aws:amz:us-east-1:s3', '--user', `${TEST_ACCESS_KEY}:${TEST_SECRET}`];
  const url = (p: string) => `${srv.url}${p}`;
  const file = (name: string, data: Buffer) => {
    const p = path.join(work, name);
    fs.writeFileSync(p, data);
    return p;
  };
  /** An S3 error response: XML with the code, and nothing of the server's insides. */
  const expectXmlError = (r: CurlResult, status: number, code: string) => {
    const text = r.body.toString('utf8');
    expect(r.status, text).toBe(status);
    expect(r.headers['content-type']).toMatch(/^application\/xml/);
    expect(text).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\s*<Error>/);
    expect(text).toContain(`<Code>${code}</Code>`);
    expect(text).toMatch(/<RequestId>[^<]+<\/RequestId>/);
    expect(text).not.toContain(srv.dataDir);
    expect(text).not.toContain(os.tmpdir() + '/');
    expect(text).not.toMatch(/\bat .*\.(ts|js):\d+|node:internal|Error: /);
    expect(text).not.toContain(TEST_SECRET);
    return text;
  };

  const data = randomBytes(3 * 1024 * 1024 + 11);
  const ODD = 'dir/sp ace+plus%pct/ünï ✓.bin';

  beforeAll(async () => {
    srv = await startTestServer({ chunkSize: '1MiB', writeBuffers: 8 });
    s3 = srv.client();
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-curl-'));
    await s3.send(new CreateBucketCommand({ Bucket: 'priv' }));
    await s3.send(new CreateBucketCommand({ Bucket: 'pub', ACL: 'public-read' }));
    await Promise.all([
      s3.send(new PutObjectCommand({ Bucket: 'priv', Key: 'obj.bin', Body: data })),
      s3.send(new PutObjectCommand({ Bucket: 'priv', Key: ODD, Body: data })),
      // The bucket's public-read ACL lets anyone list it; each object's own ACL lets anyone read it (S3's rule).
      s3.send(new PutObjectCommand({ Bucket: 'pub', Key: 'hello.txt', Body: 'hello, public world\n', ContentType: 'text/plain', ACL: 'public-read' })),
      s3.send(new PutObjectCommand({ Bucket: 'pub', Key: 'sp ace/ü.txt', Body: 'odd public\n', ACL: 'public-read' })),
    ]);
  });
  afterAll(async () => {
    await srv?.stop();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  describe('SDK SigV4 presigned URLs', () => {
    it('GET returns the exact bytes, for plain and odd keys', async () => {
      for (const Key of ['obj.bin', ODD]) {
        const u = await getSignedUrl(s3, new GetObjectCommand({ Bucket: 'priv', Key }), { expiresIn: 300 });
        expect(u).toContain('X-Amz-Signature=');
        const r = await curl([u]);
        expect(r.status, r.body.toString()).toBe(200);
        expect(sha256(r.body)).toBe(sha256(data));
        expect(r.headers['etag']).toBe(`"${md5(data)}"`);
        expect(r.headers['content-length']).toBe(String(data.length));
      }
    });

    it('GET with signed response-* overrides and a Range header', async () => {
      const u = await getSignedUrl(
        s3,
        new GetObjectCommand({ Bucket: 'priv', Key: 'obj.bin', ResponseContentDisposition: 'attachment; filename="x.bin"', ResponseContentType: 'application/x-over' }),
        { expiresIn: 300 },
      );
      const r = await curl(['-r', '100-199', u]);
      expect(r.status).toBe(206);
      expect(r.body).toEqual(data.subarray(100, 200));
      expect(r.headers['content-range']).toBe(`bytes 100-199/${data.length}`);
      expect(r.headers['content-disposition']).toBe('attachment; filename="x.bin"');
      expect(r.headers['content-type']).toBe('application/x-over');
    });

    it('PUT (with x-amz-checksum-crc32 and x-amz-sdk-checksum-algorithm in the query) accepts curl -T', async () => {
      const body = randomBytes(2 * 1024 * 1024 + 1); // big enough that curl sends Expect: 100-continue
      const u = await getSignedUrl(s3, new PutObjectCommand({ Bucket: 'priv', Key: 'presigned-put.bin' }), { expiresIn: 300 });
      const q = new URL(u).searchParams;
      expect(q.get('x-amz-sdk-checksum-algorithm')).toBe('CRC32');
      expect(q.has('x-amz-checksum-crc32')).toBe(true);
      const r = await curl(['-T', file('put.bin', body), u]);
      expect(r.status, r.body.toString()).toBe(200);
      expect(r.headers['etag']).toBe(`"${md5(body)}"`);
      const got = await s3.send(new GetObjectCommand({ Bucket: 'priv', Key: 'presigned-put.bin' }));
      expect(sha256(await bodyOf(got))).toBe(sha256(body));
    });

    it('PUT applies the x-amz-* headers the SDK hoisted into the query (metadata, storage class)', async () => {
      const u = await getSignedUrl(
        s3,
        new PutObjectCommand({ Bucket: 'priv', Key: 'hoisted', Metadata: { color: 'blue', 'two-words': 'a b' }, StorageClass: 'STANDARD_IA' }),
        { expiresIn: 300 },
      );
      const q = new URL(u).searchParams;
      expect(q.get('x-amz-meta-color')).toBe('blue');
      expect(q.get('X-Amz-SignedHeaders')).toBe('host');
      const r = await curl(['-T', file('hoisted.txt', Buffer.from('hoisted')), u]);
      expect(r.status, r.body.toString()).toBe(200);
      const head = await s3.send(new HeadObjectCommand({ Bucket: 'priv', Key: 'hoisted' }));
      expect(head.Metadata).toEqual({ color: 'blue', 'two-words': 'a b' });
      expect(head.StorageClass).toBe('STANDARD_IA');
      expect(head.ContentLength).toBe(7);
    });

    it('DELETE removes the object', async () => {
      await s3.send(new PutObjectCommand({ Bucket: 'priv', Key: 'to delete', Body: 'x' }));
      const u = await getSignedUrl(s3, new DeleteObjectCommand({ Bucket: 'priv', Key: 'to delete' }), { expiresIn: 300 });
      const r = await curl(['-X', 'DELETE', u]);
      expect(r.status, r.body.toString()).toBe(204);
      expect((await curl([...sigv4, '-I', url('/priv/to%20delete')])).status).toBe(404);
    });

    it('PUT of an odd key with a signed Content-Type', async () => {
      const body = Buffer.from('typed body');
      const Key = 'put/ä b+c%.txt';
      // The SDK signs only host unless told which headers to sign.
      const u = await getSignedUrl(s3, new PutObjectCommand({ Bucket: 'priv', Key, ContentType: 'text/x-cairn' }), { expiresIn: 300, signableHeaders: new Set(['content-type']) });
      expect(new URL(u).searchParams.get('X-Amz-SignedHeaders')).toBe('content-type;host');
      const r = await curl(['-T', file('typed.txt', body), '-H', 'Content-Type: text/x-cairn', u]);
      expect(r.status, r.body.toString()).toBe(200);
      const head = await s3.send(new HeadObjectCommand({ Bucket: 'priv', Key }));
      expect(head.ContentType).toBe('text/x-cairn');
      expect(head.ContentLength).toBe(body.length);
      // The same URL with a different signed header value fails.
      const bad = await curl(['-T', file('typed.txt', body), '-H', 'Content-Type: text/other', u]);
      expectXmlError(bad, 403, 'SignatureDoesNotMatch');
    });

    it('a GET URL used for HEAD, PUT or another key, tampered, or expired is refused', async () => {
      const u = await getSignedUrl(s3, new GetObjectCommand({ Bucket: 'priv', Key: 'obj.bin' }), { expiresIn: 300 });
      const head = await curl(['-I', u]);
      expect(head.status).toBe(403);
      expect(head.body.length).toBe(0);
      expectXmlError(await curl(['-X', 'PUT', '--data-binary', 'x', u]), 403, 'SignatureDoesNotMatch');
      expectXmlError(await curl([u.replace('/obj.bin?', '/obj.bim?')]), 403, 'SignatureDoesNotMatch');
      expectXmlError(await curl([u.replace(/X-Amz-Expires=\d+/, 'X-Amz-Expires=301')]), 403, 'SignatureDoesNotMatch');
      expectXmlError(await curl([u.replace(/X-Amz-Expires=\d+/, 'X-Amz-Expires=604801')]), 400, 'AuthorizationQueryParametersError');
      expectXmlError(await curl([u.replace(/X-Amz-Signature=[0-9a-f]/, 'X-Amz-Signature=g')]), 403, 'SignatureDoesNotMatch');
      const short = await getSignedUrl(s3, new GetObjectCommand({ Bucket: 'priv', Key: 'obj.bin' }), { expiresIn: 1 });
      await new Promise((r) => setTimeout(r, 2100));
      const expired = expectXmlError(await curl([short]), 403, 'AccessDenied');
      expect(expired).toContain('Request has expired');
    });
  });

  describe('curl --aws-sigv4', () => {
    it('GET returns the bytes, with and without a Range', async () => {
      const r = await curl([...sigv4, url('/priv/obj.bin')]);
      expect(r.status, r.body.toString()).toBe(200);
      expect(sha256(r.body)).toBe(sha256(data));
      const part = await curl([...sigv4, '-r', '0-9', url('/priv/obj.bin')]);
      expect(part.status).toBe(206);
      expect(part.body).toEqual(data.subarray(0, 10));
    });

    it('GET of an odd key given percent-encoded', async () => {
      const enc = ODD.split('/').map(encodeURIComponent).join('/');
      const r = await curl([...sigv4, url(`/priv/${enc}`)]);
      expect(r.status, r.body.toString()).toBe(200);
      expect(sha256(r.body)).toBe(sha256(data));
    });

    it('PUT with x-amz-content-sha256: UNSIGNED-PAYLOAD stores the bytes', async () => {
      const body = randomBytes(1_500_000);
      const r = await curl([...sigv4, '-H', 'x-amz-content-sha256: UNSIGNED-PAYLOAD', '-T', file('sigv4-put.bin', body), url('/priv/curl-put.bin')]);
      expect(r.status, r.body.toString()).toBe(200);
      expect(r.headers['etag']).toBe(`"${md5(body)}"`);
      const got = await curl([...sigv4, url('/priv/curl-put.bin')]);
      expect(sha256(got.body)).toBe(sha256(body));
    });

    it('PUT with a hex payload hash that does not match the body is refused', async () => {
      const r = await curl([...sigv4, '-H', `x-amz-content-sha256: ${sha256(Buffer.from('other'))}`, '--data-binary', 'actual', '-X', 'PUT', url('/priv/curl-bad.bin')]);
      expectXmlError(r, 400, 'XAmzContentSHA256Mismatch');
      const head = await curl([...sigv4, '-I', url('/priv/curl-bad.bin')]);
      expect(head.status).toBe(404);
    });

    it('a wrong secret is SignatureDoesNotMatch, an unknown key InvalidAccessKeyId', async () => {
      expectXmlError(await curl(['--aws-sigv4', 'aws:amz:us-east-1:s3', '--user', `${TEST_ACCESS_KEY}:wrong`, url('/priv/obj.bin')]), 403, 'SignatureDoesNotMatch');
      expectXmlError(await curl(['--aws-sigv4', 'aws:amz:us-east-1:s3', '--user', `NOSUCHKEY:${TEST_SECRET}`, url('/priv/obj.bin')]), 403, 'InvalidAccessKeyId');
    });

    it('errors: NoSuchKey and NoSuchBucket are XML with the right code; HEAD of a missing key is a bare 404', async () => {
      const nk = expectXmlError(await curl([...sigv4, url('/priv/no/such%20key')]), 404, 'NoSuchKey');
      expect(nk).toContain('<Key>no/such key</Key>');
      const nb = expectXmlError(await curl([...sigv4, url('/nosuchbucket/x')]), 404, 'NoSuchBucket');
      expect(nb).toContain('<BucketName>nosuchbucket</BucketName>');
      const head = await curl([...sigv4, '-I', url('/priv/no-such-key')]);
      expect(head.status).toBe(404);
      expect(head.body.length).toBe(0);
      expect(head.headers['x-amz-request-id']).toBeTruthy();
    });
  });

  describe('anonymous access', () => {
    it('public-read bucket: GET of an object, Range 0-9, HEAD, and listings', async () => {
      const r = await curl([url('/pub/hello.txt')]);
      expect(r.status).toBe(200);
      expect(r.body.toString()).toBe('hello, public world\n');
      expect(r.headers['content-type']).toBe('text/plain');
      const part = await curl(['-r', '0-9', url('/pub/hello.txt')]);
      expect(part.status).toBe(206);
      expect(part.body.toString()).toBe('hello, pub');
      expect(part.headers['content-range']).toBe('bytes 0-9/20');
      const suffix = await curl(['-r', '-6', url('/pub/hello.txt')]);
      expect(suffix.status).toBe(206);
      expect(suffix.body.toString()).toBe('world\n');
      const odd = await curl([url('/pub/sp%20ace/%C3%BC.txt')]);
      expect(odd.status).toBe(200);
      expect(odd.body.toString()).toBe('odd public\n');
      const head = await curl(['-I', url('/pub/hello.txt')]);
      expect(head.status).toBe(200);
      expect(head.headers['content-length']).toBe('20');

      const list = await curl([url('/pub/')]);
      expect(list.status).toBe(200);
      expect(list.body.toString()).toContain('<Key>hello.txt</Key>');
      const v2 = await curl([url('/pub?list-type=2&encoding-type=url')]);
      expect(v2.status).toBe(200);
      expect(v2.body.toString()).toContain('<Key>sp%20ace/%C3%BC.txt</Key>');
      expect(v2.body.toString()).toContain('<EncodingType>url</EncodingType>');
    });

    it('public-read bucket: anonymous GET cannot override response headers (S3: signed requests only)', async () => {
      const r = await curl([url('/pub/hello.txt?response-content-type=text/html')]);
      const text = expectXmlError(r, 400, 'InvalidRequest');
      expect(text).toContain('Request specific response headers cannot be used for anonymous GET requests.');
      expectXmlError(await curl([url('/pub/hello.txt?response-content-disposition=attachment')]), 400, 'InvalidRequest');
      // Signed, the same override is honoured.
      const signed = await curl([...sigv4, url('/pub/hello.txt?response-content-type=text%2Fhtml')]);
      expect(signed.status, signed.body.toString()).toBe(200);
      expect(signed.headers['content-type']).toBe('text/html');
    });

    it('public-read bucket: anonymous writes are AccessDenied and change nothing', async () => {
      expectXmlError(await curl(['-X', 'PUT', '--data-binary', 'evil', url('/pub/hello.txt')]), 403, 'AccessDenied');
      expectXmlError(await curl(['-X', 'PUT', '--data-binary', 'evil', url('/pub/new.txt')]), 403, 'AccessDenied');
      expectXmlError(await curl(['-X', 'DELETE', url('/pub/hello.txt')]), 403, 'AccessDenied');
      expectXmlError(await curl(['-X', 'DELETE', url('/pub')]), 403, 'AccessDenied');
      // DeleteObjects is decided per key (a policy may allow some keys): each key's AccessDenied, in a 200.
      const body = '<Delete><Object><Key>hello.txt</Key></Object></Delete>';
      const md5 = createHash('md5').update(body).digest('base64');
      const many = await curl(['-X', 'POST', '-H', `Content-MD5: ${md5}`, '--data-binary', body, url('/pub?delete')]);
      expect(many.status).toBe(200);
      expect(many.body.toString()).toMatch(/<Error><Key>hello\.txt<\/Key><Code>AccessDenied<\/Code>/);
      expectXmlError(await curl(['-X', 'PUT', '-H', 'x-amz-copy-source: /priv/obj.bin', url('/pub/stolen.bin')]), 403, 'AccessDenied');
      const r = await curl([url('/pub/hello.txt')]);
      expect(r.body.toString()).toBe('hello, public world\n');
      expect((await curl(['-I', url('/pub/new.txt')])).status).toBe(404);
      // A bad signature is never downgraded to an anonymous request, even where anonymous reads work.
      const u = await getSignedUrl(s3, new GetObjectCommand({ Bucket: 'pub', Key: 'hello.txt' }), { expiresIn: 300 });
      expectXmlError(await curl([u.replace(/X-Amz-Signature=[0-9a-f]/, 'X-Amz-Signature=g')]), 403, 'SignatureDoesNotMatch');
    });

    it('private bucket: anonymous GET, HEAD and list are refused', async () => {
      expectXmlError(await curl([url('/priv/obj.bin')]), 403, 'AccessDenied');
      expectXmlError(await curl([url('/priv/')]), 403, 'AccessDenied');
      expectXmlError(await curl([url('/')]), 403, 'AccessDenied');
      const head = await curl(['-I', url('/priv/obj.bin')]);
      expect(head.status).toBe(403);
      expect(head.body.length).toBe(0);
    });
  });
});
