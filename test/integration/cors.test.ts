import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import { createHash } from 'node:crypto';
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteBucketCorsCommand,
  GetBucketCorsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutBucketCorsCommand,
  PutObjectCommand,
  UploadPartCommand,
  type CORSRule,
  type S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { s3Error } from '../helpers/sdk.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// Bucket CORS on the S3 listener: the configuration through the SDK, preflights and actual
// requests over raw HTTP (what a browser sends: Origin, Access-Control-Request-*), as the web
// console on the admin port and apps uploading with presigned URLs use them.

interface Raw {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function raw(method: string, url: string, headers: Record<string, string> = {}, body?: string | Buffer): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(parts).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

const CONSOLE = 'http://127.0.0.1:9001';
const VARY = 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method';
const CORS_HEADER = /^access-control-|^vary$/;
const corsHeaders = (r: Raw) => Object.fromEntries(Object.entries(r.headers).filter(([k]) => CORS_HEADER.test(k)));
const errorCode = (r: Raw) => /<Code>([^<]*)<\/Code>/.exec(r.body)?.[1];
const errorMessage = (r: Raw) => /<Message>([^<]*)<\/Message>/.exec(r.body)?.[1]?.replace(/&apos;/g, "'");
const element = (r: Raw, name: string) => new RegExp(`<${name}>([^<]*)</${name}>`).exec(r.body)?.[1];

const RULES: CORSRule[] = [
  {
    ID: 'console',
    AllowedOrigins: [CONSOLE],
    AllowedMethods: ['GET', 'PUT', 'POST', 'DELETE', 'HEAD'],
    AllowedHeaders: ['authorization', 'content-type', 'content-md5', 'x-amz-*'],
    ExposeHeaders: ['ETag', 'x-amz-request-id'],
    MaxAgeSeconds: 600,
  },
  { AllowedOrigins: ['*'], AllowedMethods: ['GET', 'HEAD'] },
];

describe('bucket CORS', () => {
  let srv: TestServer;
  let s3: S3Client;
  const url = (path: string) => `${srv.url}${path}`;

  beforeAll(async () => {
    srv = await startTestServer();
    s3 = srv.client();
    await s3.send(new CreateBucketCommand({ Bucket: 'web' }));
    await s3.send(new CreateBucketCommand({ Bucket: 'plain' }));
    await s3.send(new PutObjectCommand({ Bucket: 'web', Key: 'hello.txt', Body: 'hello', ContentType: 'text/plain' }));
  });
  afterAll(async () => srv?.stop());

  it('PutBucketCors, GetBucketCors and DeleteBucketCors round-trip through the SDK', async () => {
    const none = await s3Error(s3.send(new GetBucketCorsCommand({ Bucket: 'web' })));
    expect(none.name).toBe('NoSuchCORSConfiguration');
    expect(none.$metadata.httpStatusCode).toBe(404);
    expect(none.message).toBe('The CORS configuration does not exist');
    expect((none as unknown as { BucketName?: string }).BucketName).toBe('web');

    await s3.send(new PutBucketCorsCommand({ Bucket: 'web', CORSConfiguration: { CORSRules: [{ AllowedOrigins: ['https://old.example'], AllowedMethods: ['GET'] }] } }));
    expect((await s3.send(new GetBucketCorsCommand({ Bucket: 'web' }))).CORSRules).toEqual([{ AllowedOrigins: ['https://old.example'], AllowedMethods: ['GET'] }]);
    // A second Put replaces the whole configuration.
    await s3.send(new PutBucketCorsCommand({ Bucket: 'web', CORSConfiguration: { CORSRules: RULES } }));
    expect((await s3.send(new GetBucketCorsCommand({ Bucket: 'web' }))).CORSRules).toEqual(RULES);

    await s3.send(new PutBucketCorsCommand({ Bucket: 'plain', CORSConfiguration: { CORSRules: RULES } }));
    const del = await s3.send(new DeleteBucketCorsCommand({ Bucket: 'plain' }));
    expect(del.$metadata.httpStatusCode).toBe(204);
    expect((await s3Error(s3.send(new GetBucketCorsCommand({ Bucket: 'plain' })))).name).toBe('NoSuchCORSConfiguration');
    // Deleting what is not there is still a 204.
    expect((await s3.send(new DeleteBucketCorsCommand({ Bucket: 'plain' }))).$metadata.httpStatusCode).toBe(204);
  });

  it('refuses bad configurations with the errors S3 gives', async () => {
    const bad = await s3Error(
      s3.send(new PutBucketCorsCommand({ Bucket: 'plain', CORSConfiguration: { CORSRules: [{ AllowedOrigins: ['*'], AllowedMethods: ['PATCH'] }] } })),
    );
    expect(bad.name).toBe('InvalidRequest');
    expect(bad.message).toBe('Found unsupported HTTP method in CORS config. Unsupported method is PATCH');
    const twoStars = await s3Error(
      s3.send(new PutBucketCorsCommand({ Bucket: 'plain', CORSConfiguration: { CORSRules: [{ AllowedOrigins: ['https://*.*.example'], AllowedMethods: ['GET'] }] } })),
    );
    expect(twoStars.name).toBe('InvalidRequest');
    expect((await s3Error(s3.send(new PutBucketCorsCommand({ Bucket: 'plain', CORSConfiguration: { CORSRules: [] } })))).name).toBe('MalformedXML');
    const many = Array.from({ length: 101 }, () => ({ AllowedOrigins: ['*'], AllowedMethods: ['GET'] }));
    expect((await s3Error(s3.send(new PutBucketCorsCommand({ Bucket: 'plain', CORSConfiguration: { CORSRules: many } })))).name).toBe('MalformedXML');
    const missing = await s3Error(s3.send(new PutBucketCorsCommand({ Bucket: 'no-such-bucket', CORSConfiguration: { CORSRules: RULES } })));
    expect(missing.name).toBe('NoSuchBucket');
    expect((await s3Error(s3.send(new GetBucketCorsCommand({ Bucket: 'no-such-bucket' })))).name).toBe('NoSuchBucket');
    // Nothing was stored by the failures.
    expect((await s3Error(s3.send(new GetBucketCorsCommand({ Bucket: 'plain' })))).name).toBe('NoSuchCORSConfiguration');
  });

  it('PutBucketCors needs Content-MD5 or a checksum header, and checks it', async () => {
    const body =
      '<CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><CORSRule><AllowedOrigin>https://md5.example</AllowedOrigin>' +
      '<AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>';
    // A presigned URL signs no payload and no checksum header (nor, here, the length of the body
    // the SDK would have sent): only the headers sent below count.
    const presigned = () =>
      getSignedUrl(s3, new PutBucketCorsCommand({ Bucket: 'plain', CORSConfiguration: { CORSRules: [] } }), { expiresIn: 300, unsignableHeaders: new Set(['content-length']) });
    const noDigest = await raw('PUT', await presigned(), {}, body);
    expect(noDigest.status).toBe(400);
    expect(errorCode(noDigest)).toBe('InvalidRequest');
    expect(errorMessage(noDigest)).toBe('Missing required header for this request: Content-Md5.');
    const wrong = await raw('PUT', await presigned(), { 'Content-MD5': createHash('md5').update('other').digest('base64') }, body);
    expect(errorCode(wrong)).toBe('BadDigest');
    const ok = await raw('PUT', await presigned(), { 'Content-MD5': createHash('md5').update(body).digest('base64') }, body);
    expect(ok.status).toBe(200);
    expect(ok.body).toBe('');
    expect((await s3.send(new GetBucketCorsCommand({ Bucket: 'plain' }))).CORSRules).toEqual([{ AllowedOrigins: ['https://md5.example'], AllowedMethods: ['GET'] }]);
    await s3.send(new DeleteBucketCorsCommand({ Bucket: 'plain' }));
  });

  it('answers an allowed preflight with the rule: 200, no credentials needed, empty body', async () => {
    const r = await raw('OPTIONS', url('/web/uploads/photo%20one.jpg'), {
      Origin: CONSOLE,
      'Access-Control-Request-Method': 'PUT',
      'Access-Control-Request-Headers': 'authorization,content-type,x-amz-checksum-crc32,x-amz-content-sha256,x-amz-date,x-amz-sdk-checksum-algorithm,x-amz-user-agent',
    });
    expect(r.status).toBe(200);
    expect(r.body).toBe('');
    expect(corsHeaders(r)).toEqual({
      'access-control-allow-origin': CONSOLE,
      'access-control-allow-credentials': 'true',
      'access-control-allow-methods': 'GET, PUT, POST, DELETE, HEAD',
      'access-control-allow-headers': 'authorization, content-type, x-amz-checksum-crc32, x-amz-content-sha256, x-amz-date, x-amz-sdk-checksum-algorithm, x-amz-user-agent',
      'access-control-expose-headers': 'ETag, x-amz-request-id',
      'access-control-max-age': '600',
      vary: VARY,
    });
    // The bucket itself (DeleteObjects is a POST to /web?delete), and any origin for GET by the '*' rule.
    expect((await raw('OPTIONS', url('/web?delete'), { Origin: CONSOLE, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-md5' })).status).toBe(200);
    const any = await raw('OPTIONS', url('/web/hello.txt'), { Origin: 'https://anywhere.test', 'Access-Control-Request-Method': 'GET' });
    expect(any.status).toBe(200);
    expect(corsHeaders(any)).toEqual({ 'access-control-allow-origin': '*', 'access-control-allow-methods': 'GET, HEAD', vary: VARY });
    // A preflight of a presigned URL is answered before (and without) its signature.
    const presigned = await getSignedUrl(s3, new PutObjectCommand({ Bucket: 'web', Key: 'p.bin' }), { expiresIn: 300 });
    const bogus = presigned.replace(/X-Amz-Signature=[0-9a-f]+/, 'X-Amz-Signature=' + '0'.repeat(64));
    const pre = await raw('OPTIONS', bogus, { Origin: CONSOLE, 'Access-Control-Request-Method': 'PUT', 'Access-Control-Request-Headers': 'content-type' });
    expect(pre.status).toBe(200);
    expect(pre.headers['access-control-allow-origin']).toBe(CONSOLE);
  });

  it('refuses preflights no rule allows, and the malformed ones, as S3 does', async () => {
    const denied = async (path: string, headers: Record<string, string>, method: string, resourceType: string) => {
      const r = await raw('OPTIONS', url(path), headers);
      expect(r.status, JSON.stringify(headers)).toBe(403);
      expect(errorCode(r)).toBe('AccessForbidden');
      expect(errorMessage(r)).toBe(
        "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.",
      );
      expect(element(r, 'Method')).toBe(method);
      expect(element(r, 'ResourceType')).toBe(resourceType);
      expect(r.headers['access-control-allow-origin']).toBeUndefined();
      expect(r.headers['access-control-allow-methods']).toBeUndefined();
    };
    // Another origin may only GET/HEAD; the console origin with a scheme, port or slash changed is another origin.
    await denied('/web/k', { Origin: 'https://evil.test', 'Access-Control-Request-Method': 'PUT' }, 'PUT', 'OBJECT');
    await denied('/web', { Origin: 'https://evil.test', 'Access-Control-Request-Method': 'DELETE' }, 'DELETE', 'BUCKET');
    await denied('/web/k', { Origin: 'http://127.0.0.1:9002', 'Access-Control-Request-Method': 'PUT' }, 'PUT', 'OBJECT');
    await denied('/web/k', { Origin: `${CONSOLE}/`, 'Access-Control-Request-Method': 'PUT' }, 'PUT', 'OBJECT');
    // A header outside the rule's AllowedHeader patterns; the '*' rule allows no header at all.
    await denied('/web/k', { Origin: CONSOLE, 'Access-Control-Request-Method': 'PUT', 'Access-Control-Request-Headers': 'x-custom' }, 'PUT', 'OBJECT');
    await denied('/web/k', { Origin: 'https://anywhere.test', 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'range' }, 'GET', 'OBJECT');

    const noOrigin = await raw('OPTIONS', url('/web/k'), { 'Access-Control-Request-Method': 'GET' });
    expect([noOrigin.status, errorCode(noOrigin), errorMessage(noOrigin)]).toEqual([400, 'BadRequest', 'Insufficient information. Origin request header needed.']);
    const bare = await raw('OPTIONS', url('/no-such-bucket/k'));
    expect([bare.status, errorCode(bare)]).toEqual([400, 'BadRequest']);
    const noMethod = await raw('OPTIONS', url('/web/k'), { Origin: CONSOLE });
    expect([noMethod.status, errorCode(noMethod), errorMessage(noMethod)]).toEqual([400, 'BadRequest', 'Invalid Access-Control-Request-Method: null']);
    const badMethod = await raw('OPTIONS', url('/web/k'), { Origin: CONSOLE, 'Access-Control-Request-Method': 'PATCH' });
    expect([badMethod.status, errorMessage(badMethod)]).toEqual([400, 'Invalid Access-Control-Request-Method: PATCH']);

    const noBucket = await raw('OPTIONS', url('/no-such-bucket/k'), { Origin: CONSOLE, 'Access-Control-Request-Method': 'PUT' });
    expect([noBucket.status, errorCode(noBucket), errorMessage(noBucket)]).toEqual([403, 'AccessForbidden', 'CORSResponse: Bucket not found']);
    const notEnabled = await raw('OPTIONS', url('/plain/k'), { Origin: CONSOLE, 'Access-Control-Request-Method': 'PUT' });
    expect([notEnabled.status, errorCode(notEnabled), errorMessage(notEnabled)]).toEqual([403, 'AccessForbidden', 'CORSResponse: CORS is not enabled for this bucket.']);
    expect([element(notEnabled, 'Method'), element(notEnabled, 'ResourceType')]).toEqual(['PUT', 'BUCKET']);
    const originOnly = await raw('OPTIONS', url('/plain/k'), { Origin: CONSOLE });
    expect([originOnly.status, element(originOnly, 'Method')]).toEqual([403, 'OPTIONS']);
  });

  it('puts the headers on actual requests that match, errors included, and nothing on others', async () => {
    const get = await getSignedUrl(s3, new GetObjectCommand({ Bucket: 'web', Key: 'hello.txt' }), { expiresIn: 300 });
    const ok = await raw('GET', get, { Origin: CONSOLE });
    expect(ok.status).toBe(200);
    expect(ok.body).toBe('hello');
    expect(corsHeaders(ok)).toEqual({
      'access-control-allow-origin': CONSOLE,
      'access-control-allow-credentials': 'true',
      'access-control-allow-methods': 'GET, PUT, POST, DELETE, HEAD',
      'access-control-expose-headers': 'ETag, x-amz-request-id',
      'access-control-max-age': '600',
      vary: VARY,
    });
    expect(ok.headers.etag).toBeDefined();
    // HEAD, and a request from any origin through the '*' rule.
    const head = await raw('HEAD', await getSignedUrl(s3, new HeadObjectCommand({ Bucket: 'web', Key: 'hello.txt' }), { expiresIn: 300 }), { Origin: CONSOLE });
    expect(head.status).toBe(200);
    expect(head.headers['access-control-allow-origin']).toBe(CONSOLE);
    expect(head.headers.vary).toBe(VARY);
    const star = await raw('GET', get, { Origin: 'https://anywhere.test' });
    expect(corsHeaders(star)).toEqual({ 'access-control-allow-origin': '*', 'access-control-allow-methods': 'GET, HEAD', vary: VARY });

    // Errors carry them too, so the page can read the S3 error.
    const missing = await raw('GET', await getSignedUrl(s3, new GetObjectCommand({ Bucket: 'web', Key: 'nope' }), { expiresIn: 300 }), { Origin: CONSOLE });
    expect(missing.status).toBe(404);
    expect(errorCode(missing)).toBe('NoSuchKey');
    expect(missing.headers['access-control-allow-origin']).toBe(CONSOLE);
    expect(missing.headers['access-control-expose-headers']).toBe('ETag, x-amz-request-id');
    // A GET URL used for a HEAD: SignatureDoesNotMatch, a status-only 403 with the headers.
    const wrongMethod = await raw('HEAD', get, { Origin: CONSOLE });
    expect(wrongMethod.status).toBe(403);
    expect(wrongMethod.headers['access-control-allow-origin']).toBe(CONSOLE);
    const anonymous = await raw('GET', url('/web/hello.txt'), { Origin: CONSOLE });
    expect([anonymous.status, errorCode(anonymous)]).toEqual([403, 'AccessDenied']);
    expect(anonymous.headers['access-control-allow-origin']).toBe(CONSOLE);

    // No match: the request is served as usual, without CORS headers or Vary.
    const put = await getSignedUrl(s3, new PutObjectCommand({ Bucket: 'web', Key: 'other.txt' }), { expiresIn: 300 });
    const foreign = await raw('PUT', put, { Origin: 'https://evil.test' }, 'x');
    expect(foreign.status).toBe(200);
    expect(corsHeaders(foreign)).toEqual({});
    // Access-Control-Request-Method decides the match when an actual request carries it.
    expect(corsHeaders(await raw('GET', get, { Origin: 'https://anywhere.test', 'Access-Control-Request-Method': 'PUT' }))).toEqual({});
    // No Origin, or a bucket without configuration: nothing.
    expect(corsHeaders(await raw('GET', get))).toEqual({});
    await s3.send(new PutObjectCommand({ Bucket: 'plain', Key: 'x', Body: 'x' }));
    const plain = await raw('GET', await getSignedUrl(s3, new GetObjectCommand({ Bucket: 'plain', Key: 'x' }), { expiresIn: 300 }), { Origin: CONSOLE });
    expect(plain.status).toBe(200);
    expect(corsHeaders(plain)).toEqual({});
  });

  it('lets a browser upload with presigned URLs and read the ETag of each part', async () => {
    const put = await getSignedUrl(s3, new PutObjectCommand({ Bucket: 'web', Key: 'upload.txt', ContentType: 'text/plain' }), { expiresIn: 300 });
    const single = await raw('PUT', put, { Origin: CONSOLE, 'Content-Type': 'text/plain' }, 'from the browser');
    expect(single.status).toBe(200);
    expect(single.headers['access-control-allow-origin']).toBe(CONSOLE);
    expect(single.headers.etag).toBe(`"${createHash('md5').update('from the browser').digest('hex')}"`);

    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'web', Key: 'big.bin' }));
    const partUrl = await getSignedUrl(s3, new UploadPartCommand({ Bucket: 'web', Key: 'big.bin', UploadId, PartNumber: 1 }), { expiresIn: 300 });
    const pre = await raw('OPTIONS', partUrl, { Origin: CONSOLE, 'Access-Control-Request-Method': 'PUT' });
    expect(pre.status).toBe(200);
    const part = await raw('PUT', partUrl, { Origin: CONSOLE }, Buffer.alloc(1024, 1));
    expect(part.status).toBe(200);
    expect(part.headers.etag).toBe(`"${createHash('md5').update(Buffer.alloc(1024, 1)).digest('hex')}"`);
    // The browser hands the page only the headers listed here (plus the safelisted ones).
    expect(part.headers['access-control-expose-headers']?.split(', ')).toContain('ETag');
  });

  it('grants: reading the configuration needs read, changing it needs write', async () => {
    const reader = srv.keys.create({ description: 'cors reader', grants: [{ bucket: 'web', permission: 'read' }] });
    const r = srv.client({ credentials: { accessKeyId: reader.id, secretAccessKey: reader.secret } });
    expect((await r.send(new GetBucketCorsCommand({ Bucket: 'web' }))).CORSRules).toEqual(RULES);
    expect((await s3Error(r.send(new PutBucketCorsCommand({ Bucket: 'web', CORSConfiguration: { CORSRules: RULES } })))).name).toBe('AccessDenied');
    expect((await s3Error(r.send(new DeleteBucketCorsCommand({ Bucket: 'web' })))).name).toBe('AccessDenied');
    const writer = srv.keys.create({ description: 'cors writer', grants: [{ bucket: 'web', permission: 'write' }] });
    const w = srv.client({ credentials: { accessKeyId: writer.id, secretAccessKey: writer.secret } });
    await w.send(new PutBucketCorsCommand({ Bucket: 'web', CORSConfiguration: { CORSRules: RULES } }));
    expect((await s3Error(w.send(new GetBucketCorsCommand({ Bucket: 'plain' })))).name).toBe('AccessDenied');
  });

  it('DeleteBucket takes the configuration with it', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'short-lived' }));
    await s3.send(new PutBucketCorsCommand({ Bucket: 'short-lived', CORSConfiguration: { CORSRules: RULES } }));
    await s3.send(new DeleteBucketCommand({ Bucket: 'short-lived' }));
    const gone = await raw('OPTIONS', url('/short-lived/k'), { Origin: CONSOLE, 'Access-Control-Request-Method': 'PUT' });
    expect(errorMessage(gone)).toBe('CORSResponse: Bucket not found');
    await s3.send(new CreateBucketCommand({ Bucket: 'short-lived' }));
    expect((await s3Error(s3.send(new GetBucketCorsCommand({ Bucket: 'short-lived' })))).name).toBe('NoSuchCORSConfiguration');
    const again = await raw('OPTIONS', url('/short-lived/k'), { Origin: CONSOLE, 'Access-Control-Request-Method': 'PUT' });
    expect(errorMessage(again)).toBe('CORSResponse: CORS is not enabled for this bucket.');
  });
});
