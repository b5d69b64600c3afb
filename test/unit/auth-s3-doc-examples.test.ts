// Worked examples from the S3 API reference: "Signature Calculations for the Authorization
// Header" (single chunk, multiple chunks, trailers), "Authenticating Requests: Using
// Query Parameters", and "Signing and Authenticating REST Requests" (SigV2).
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { authenticate } from '../../src/auth/authenticate.js';
import { AwsChunkedDecoder } from '../../src/auth/aws-chunked.js';
import { EMPTY_SHA256, sha256Hex } from '../../src/auth/crypto.js';
import { canonicalRequest, presignRequest, signRequest, stringToSign } from '../../src/auth/sigv4.js';
import { signV2, stringToSignV2 } from '../../src/auth/sigv2.js';
import { DOC_KEY, DOC_NOW, DOC_SECRET, authHeader, docLookup, req } from './auth-helpers.js';

const HOST = 'examplebucket.s3.amazonaws.com';
const signOpts = { accessKeyId: DOC_KEY, secretAccessKey: DOC_SECRET, region: 'us-east-1', date: DOC_NOW };
const auth = (r: Parameters<typeof authenticate>[0]) => authenticate(r, { lookup: docLookup, region: 'us-east-1', now: DOC_NOW });

describe('SigV4 header examples (single chunk)', () => {
  it('GET Object with Range', () => {
    const r = req('GET', '/test.txt', { host: HOST, range: 'bytes=0-9', 'x-amz-content-sha256': EMPTY_SHA256 });
    const signed = signRequest(r, signOpts);
    expect(signed.canonicalRequest).toBe(
      'GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n' +
        `x-amz-content-sha256:${EMPTY_SHA256}\nx-amz-date:20130524T000000Z\n\n` +
        `host;range;x-amz-content-sha256;x-amz-date\n${EMPTY_SHA256}`,
    );
    expect(signed.stringToSign).toBe(
      'AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972',
    );
    expect(signed.signature).toBe('f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41');

    const wire = req('GET', '/test.txt', {
      host: HOST, range: 'bytes=0-9', 'x-amz-content-sha256': EMPTY_SHA256, 'x-amz-date': '20130524T000000Z',
      authorization: authHeader('host;range;x-amz-content-sha256;x-amz-date', 'f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41'),
    });
    expect(auth(wire)).toEqual({ accessKeyId: DOC_KEY, payload: { kind: 'sha256', expectedHex: EMPTY_SHA256 }, signatureVersion: 'v4', presigned: false });
  });

  it('PUT Object (key test$file.text, signed Date header, signed body)', () => {
    const bodyHash = sha256Hex('Welcome to Amazon S3.');
    expect(bodyHash).toBe('44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072');
    const headers = {
      host: HOST, date: 'Fri, 24 May 2013 00:00:00 GMT', 'x-amz-date': '20130524T000000Z',
      'x-amz-storage-class': 'REDUCED_REDUNDANCY', 'x-amz-content-sha256': bodyHash,
    };
    const signature = '98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd';
    expect(signRequest(req('PUT', '/test%24file.text', headers), signOpts).signature).toBe(signature);
    // The same key sent unencoded ('$' is legal in a path) canonicalizes identically.
    expect(signRequest(req('PUT', '/test$file.text', headers), signOpts).signature).toBe(signature);
    const wire = req('PUT', '/test%24file.text', {
      ...headers, authorization: authHeader('date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class', signature),
    });
    expect(auth(wire)?.payload).toEqual({ kind: 'sha256', expectedHex: bodyHash });
  });

  it('GET Bucket Lifecycle (?lifecycle)', () => {
    const r = req('GET', '/?lifecycle', { host: HOST, 'x-amz-content-sha256': EMPTY_SHA256 });
    const signed = signRequest(r, signOpts);
    expect(signed.canonicalRequest.split('\n')[2]).toBe('lifecycle=');
    expect(signed.signature).toBe('fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543');
    expect(auth(signed.request)?.accessKeyId).toBe(DOC_KEY);
  });

  it('GET Bucket (List Objects) ?max-keys=2&prefix=J', () => {
    const r = req('GET', '/?max-keys=2&prefix=J', { host: HOST, 'x-amz-content-sha256': EMPTY_SHA256 });
    const signed = signRequest(r, signOpts);
    expect(signed.signature).toBe('34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7');
    // Parameter order on the wire does not matter.
    const reordered = { ...signed.request, rawQuery: 'prefix=J&max-keys=2' };
    expect(auth(reordered)?.accessKeyId).toBe(DOC_KEY);
  });
});

describe('SigV4 presigned URL example', () => {
  const expected =
    'X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request' +
    '&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host' +
    '&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404';

  it('GET test.txt, 86400 s', () => {
    const signed = presignRequest(req('GET', '/test.txt', { host: HOST }), { ...signOpts, expiresSeconds: 86400 });
    expect(signed.request.rawQuery).toBe(expected);
    expect(signed.canonicalRequest.endsWith('\nhost\nUNSIGNED-PAYLOAD')).toBe(true);
  });

  it('is accepted until it expires, then refused', () => {
    const r = req('GET', '/test.txt?' + expected, { host: HOST });
    expect(auth(r)).toEqual({ accessKeyId: DOC_KEY, payload: { kind: 'unsigned' }, signatureVersion: 'v4', presigned: true });
    const last = new Date(DOC_NOW.getTime() + 86400_000);
    expect(authenticate(r, { lookup: docLookup, region: 'us-east-1', now: last })?.presigned).toBe(true);
    const after = new Date(last.getTime() + 1000);
    expect(() => authenticate(r, { lookup: docLookup, region: 'us-east-1', now: after })).toThrowError(
      expect.objectContaining({ code: 'AccessDenied', message: 'Request has expired' }),
    );
  });
});

// Body of the multiple-chunks example: 64 KiB + 1 KiB of 'a', then the final 0 chunk.
function chunkedBody(sigs: string[], trailer = ''): Buffer {
  return Buffer.concat([
    Buffer.from(`10000;chunk-signature=${sigs[0]}\r\n`), Buffer.alloc(65536, 'a'),
    Buffer.from(`\r\n400;chunk-signature=${sigs[1]}\r\n`), Buffer.alloc(1024, 'a'),
    Buffer.from(`\r\n0;chunk-signature=${sigs[2]}\r\n${trailer}\r\n`),
  ]);
}

async function decode(body: Buffer, decoder: AwsChunkedDecoder): Promise<Buffer> {
  const out: Buffer[] = [];
  await pipeline(Readable.from([body]), decoder, async (src: AsyncIterable<Buffer>) => {
    for await (const b of src) out.push(b);
  });
  return Buffer.concat(out);
}

describe('SigV4 streaming examples', () => {
  it('PUT Object in multiple chunks (STREAMING-AWS4-HMAC-SHA256-PAYLOAD)', async () => {
    const headers = {
      host: 's3.amazonaws.com', 'x-amz-date': '20130524T000000Z', 'x-amz-storage-class': 'REDUCED_REDUNDANCY',
      'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD', 'content-encoding': 'aws-chunked',
      'x-amz-decoded-content-length': '66560', 'content-length': '66824',
    };
    const signed = 'content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class';
    const seed = '4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9';
    const r = req('PUT', '/examplebucket/chunkObject.txt', { ...headers, authorization: authHeader(signed, seed) });
    const result = auth(r)!;
    expect(result.payload.kind).toBe('streaming-signed');
    if (result.payload.kind !== 'streaming-signed') return;
    expect(result.payload.trailer).toBe(false);
    expect(result.payload.seed.seedSignature).toBe(seed);

    const body = chunkedBody([
      'ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648',
      '0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497',
      'b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9',
    ]);
    expect(body.length).toBe(66824);
    const data = await decode(body, new AwsChunkedDecoder({ signing: result.payload.seed, expectTrailer: false, decodedLength: 66560 }));
    expect(data.equals(Buffer.alloc(66560, 'a'))).toBe(true);
  });

  it('PUT Object with a signed trailer (STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER)', async () => {
    const headers = {
      host: 's3.amazonaws.com', 'x-amz-date': '20130524T000000Z', 'x-amz-storage-class': 'REDUCED_REDUNDANCY',
      'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER', 'content-encoding': 'aws-chunked',
      'x-amz-decoded-content-length': '66560', 'x-amz-trailer': 'x-amz-checksum-crc32c',
    };
    const signed = 'content-encoding;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class;x-amz-trailer';
    const seed = '106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e';
    const result = auth(req('PUT', '/examplebucket/chunkObject.txt', { ...headers, authorization: authHeader(signed, seed) }))!;
    if (result.payload.kind !== 'streaming-signed') throw new Error('expected streaming-signed');
    expect(result.payload.trailer).toBe(true);

    const body = chunkedBody(
      [
        'b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2',
        '1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7',
        '2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992',
      ],
      'x-amz-checksum-crc32c:sOO8/Q==\r\nx-amz-trailer-signature:d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435\r\n',
    );
    const decoder = new AwsChunkedDecoder({ signing: result.payload.seed, expectTrailer: true, signedTrailer: true, decodedLength: 66560 });
    const data = await decode(body, decoder);
    expect(data.length).toBe(66560);
    expect(decoder.trailers).toEqual({ 'x-amz-checksum-crc32c': 'sOO8/Q==' });
  });
});

// The S3 docs renamed the examples' bucket from 'johnsmith' to 'awsexamplebucket1' in the
// prose but kept the signatures computed for 'johnsmith'; with that name every published
// StringToSign reproduces its published signature.
describe('SigV2 examples (Signing and Authenticating REST Requests)', () => {
  const now = (d: string) => ({ lookup: docLookup, region: 'us-east-1', now: new Date(d) });
  const v2 = (sig: string) => `AWS ${DOC_KEY}:${sig}`;

  const cases: Array<{ name: string; method: string; target: string; headers: Record<string, string | string[]>; bucket?: string; sts: string; sig: string }> = [
    { name: 'Object GET', method: 'GET', target: '/photos/puppy.jpg', bucket: 'johnsmith',
      headers: { date: 'Tue, 27 Mar 2007 19:36:42 +0000' },
      sts: 'GET\n\n\nTue, 27 Mar 2007 19:36:42 +0000\n/johnsmith/photos/puppy.jpg', sig: 'bWq2s1WEIj+Ydj0vQ697zp+IXMU=' },
    { name: 'Object PUT', method: 'PUT', target: '/photos/puppy.jpg', bucket: 'johnsmith',
      headers: { 'content-type': 'image/jpeg', 'content-length': '94328', date: 'Tue, 27 Mar 2007 21:15:45 +0000' },
      sts: 'PUT\n\nimage/jpeg\nTue, 27 Mar 2007 21:15:45 +0000\n/johnsmith/photos/puppy.jpg', sig: 'MyyxeRY7whkBe+bq8fHCL/2kKUg=' },
    { name: 'List', method: 'GET', target: '/?prefix=photos&max-keys=50&marker=puppy', bucket: 'johnsmith',
      headers: { 'user-agent': 'Mozilla/5.0', date: 'Tue, 27 Mar 2007 19:42:41 +0000' },
      sts: 'GET\n\n\nTue, 27 Mar 2007 19:42:41 +0000\n/johnsmith/', sig: 'htDYFYduRNen8P9ZfE/s9SuKy0U=' },
    { name: 'Fetch ?acl', method: 'GET', target: '/?acl', bucket: 'johnsmith',
      headers: { date: 'Tue, 27 Mar 2007 19:44:46 +0000' },
      sts: 'GET\n\n\nTue, 27 Mar 2007 19:44:46 +0000\n/johnsmith/?acl', sig: 'c2WLPFtWHVgbEmeEG93a4cG37dM=' },
    { name: 'Upload (CNAME bucket, repeated x-amz-meta header)', method: 'PUT', target: '/db-backup.dat.gz', bucket: 'static.johnsmith.net',
      headers: {
        'user-agent': 'curl/7.15.5', date: 'Tue, 27 Mar 2007 21:06:08 +0000', 'x-amz-acl': 'public-read',
        'content-type': 'application/x-download', 'content-md5': '4gJE4saaMU4BqNR0kLY+lw==',
        'x-amz-meta-reviewedby': ['joe@johnsmith.net', 'jane@johnsmith.net'], 'x-amz-meta-filechecksum': '0x02661779',
        'x-amz-meta-checksumalgorithm': 'crc32', 'content-disposition': 'attachment; filename=database.dat',
        'content-encoding': 'gzip', 'content-length': '5913339',
      },
      sts: 'PUT\n4gJE4saaMU4BqNR0kLY+lw==\napplication/x-download\nTue, 27 Mar 2007 21:06:08 +0000\n' +
        'x-amz-acl:public-read\nx-amz-meta-checksumalgorithm:crc32\nx-amz-meta-filechecksum:0x02661779\n' +
        'x-amz-meta-reviewedby:joe@johnsmith.net,jane@johnsmith.net\n/static.johnsmith.net/db-backup.dat.gz',
      sig: 'ilyl83RwaSoYIEdixDQcA4OnAnc=' },
    { name: 'List all my buckets', method: 'GET', target: '/', headers: { date: 'Wed, 28 Mar 2007 01:29:59 +0000' },
      sts: 'GET\n\n\nWed, 28 Mar 2007 01:29:59 +0000\n/', sig: 'qGdzdERIC03wnaRNKh6OqZehG9s=' },
    { name: 'Unicode keys (path signed literally)', method: 'GET', target: '/dictionary/fran%C3%A7ais/pr%c3%a9f%c3%a8re',
      headers: { date: 'Wed, 28 Mar 2007 01:49:49 +0000' },
      sts: 'GET\n\n\nWed, 28 Mar 2007 01:49:49 +0000\n/dictionary/fran%C3%A7ais/pr%c3%a9f%c3%a8re', sig: 'DNEZGsoieTZ92F3bUfSPQcbGmlM=' },
  ];

  it.each(cases)('$name', (c) => {
    const r = req(c.method, c.target, { ...c.headers, authorization: v2(c.sig) }, { virtualHostBucket: c.bucket });
    const sts = stringToSignV2({
      method: r.method, contentMd5: (c.headers['content-md5'] as string) ?? '', contentType: (c.headers['content-type'] as string) ?? '',
      date: c.headers.date as string, amzHeaders: r.headers, rawPath: r.rawPath, rawQuery: r.rawQuery, virtualHostBucket: c.bucket,
    });
    expect(sts).toBe(c.sts);
    expect(signV2(DOC_SECRET, sts)).toBe(c.sig);
    expect(authenticate(r, now(c.headers.date as string))).toEqual({ accessKeyId: DOC_KEY, payload: { kind: 'unsigned' }, signatureVersion: 'v2', presigned: false });
  });

  it('x-amz-date replaces Date: empty Date line, x-amz-date signed as an amz header', () => {
    // The docs' DELETE example table contradicts its own rule (it puts the x-amz-date value
    // in the Date slot); we follow the rule, as s3cmd and MinIO do.
    const headers = { date: 'Tue, 27 Mar 2007 21:20:27 +0000', 'x-amz-date': 'Tue, 27 Mar 2007 21:20:26 +0000' };
    const sts = 'DELETE\n\n\n\nx-amz-date:Tue, 27 Mar 2007 21:20:26 +0000\n/johnsmith/photos/puppy.jpg';
    const r = req('DELETE', '/johnsmith/photos/puppy.jpg', { ...headers, authorization: v2(signV2(DOC_SECRET, sts)) });
    expect(authenticate(r, now(headers.date))?.signatureVersion).toBe('v2');
  });

  it('query string authentication (presigned GET)', () => {
    const r = req('GET', '/photos/puppy.jpg?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D&Expires=1175139620', { host: 'johnsmith.s3.amazonaws.com' }, { virtualHostBucket: 'johnsmith' });
    expect(authenticate(r, now('2007-03-29T03:00:00Z'))).toEqual({ accessKeyId: DOC_KEY, payload: { kind: 'unsigned' }, signatureVersion: 'v2', presigned: true });
    expect(() => authenticate(r, now('2007-03-29T03:40:21Z'))).toThrowError(expect.objectContaining({ code: 'AccessDenied', message: 'Request has expired' }));
  });
});

// The exported building blocks compose to exactly what signRequest signs.
it('canonicalRequest + stringToSign compose like signRequest', () => {
  const r = req('GET', '/test.txt', { host: HOST, range: 'bytes=0-9', 'x-amz-content-sha256': EMPTY_SHA256, 'x-amz-date': '20130524T000000Z' });
  const cr = canonicalRequest({ ...r, signedHeaders: ['host', 'range', 'x-amz-content-sha256', 'x-amz-date'], payloadHash: EMPTY_SHA256 });
  expect(stringToSign('20130524T000000Z', '20130524/us-east-1/s3/aws4_request', cr)).toBe(signRequest(r, signOpts).stringToSign);
});
