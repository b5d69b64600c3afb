import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import {
  CreateMultipartUploadCommand,
  GetBucketAclCommand,
  GetBucketCorsCommand,
  GetBucketOwnershipControlsCommand,
  GetBucketPolicyCommand,
  GetObjectAclCommand,
  GetObjectTaggingCommand,
  GetBucketTaggingCommand,
  GetObjectCommand,
  GetBucketVersioningCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  PutBucketCorsCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { startTestServer, tmpFiles, TEST_ACCESS_KEY, TEST_SECRET, type TestServer } from '../helpers/server.js';
import { bodyOf, s3Error } from '../helpers/sdk.js';
import { unsupportedSubresources } from '../helpers/router-source.js';
import { presignRequest, signRequest } from '../../src/auth/sigv4.js';
import { OPERATIONS, type Rule } from '../../src/s3/request-headers.js';
import { postForm, signedV4Fields } from '../helpers/post-form.js';

// The refusals of src/s3/request-headers.ts over real HTTP, one request per refused row (and
// refused value), generated from the table: adding a row adds a test. Each must answer S3's
// error and leave everything as it was.

const B = 'refusals';
const EMPTY = 'refusals-empty';
const CORS_B = 'refusals-cors';
const KEEP = 'keep.txt';
const KEEP_BYTES = 'the previous bytes';
const MP = 'mp.bin';
const md5B64 = (b: Buffer | string) => createHash('md5').update(b).digest('base64');
const sha256Hex = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

interface Req {
  method: string;
  path: string;
  query?: string;
  headers?: Record<string, string>;
  body?: Buffer;
}
interface Resp {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}
/** A valid request for an operation, and the check that a refused one left everything as it was. */
interface Template {
  req: () => Req;
  unchanged: () => Promise<void>;
  /** PostObject: the refused header goes in the form, as a field (covered by the policy), not in the request's headers. */
  post?: (name: string, value: string) => Promise<Resp>;
}

const SSE_C_KEY = randomBytes(32);
const OWNER = '111122223333';
/** A plausible value for each refused header (the refusal must not depend on it). */
function valueFor(name: string): string {
  const n = name.toLowerCase();
  if (n.endsWith('customer-algorithm') || n === 'x-amz-server-side-encryption') return 'AES256';
  if (n.endsWith('customer-key')) return SSE_C_KEY.toString('base64');
  if (n.endsWith('customer-key-md5')) return md5B64(SSE_C_KEY);
  if (n.endsWith('aws-kms-key-id')) return `arn:aws:kms:us-east-1:${OWNER}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
  if (n.endsWith('encryption-context')) return Buffer.from('{"project":"cairn"}').toString('base64');
  if (n.startsWith('x-amz-grant-')) return `id="${OWNER}"`;
  if (n.endsWith('expected-bucket-owner')) return OWNER;
  if (n.startsWith('x-amz-checksum-')) return Buffer.alloc(n.endsWith('md5') ? 16 : 8).toString('base64');
  if (n.startsWith('x-amz-if-match-') && n.endsWith('time')) return new Date().toUTCString();
  const fixed: Record<string, string> = {
    'x-amz-request-payer': 'requester',
    'x-amz-tagging': 'project=cairn',
    'x-amz-website-redirect-location': '/elsewhere.html',
    'x-amz-object-ownership': 'BucketOwnerEnforced',
    'x-amz-bucket-namespace': 'account-regional',
    'x-amz-write-offset-bytes': '0',
    'x-amz-optional-object-attributes': 'RestoreStatus',
    'x-amz-object-annotation-directive': 'COPY',
    'x-amz-checksum-algorithm': 'CRC32C',
    'x-amz-mp-object-size': '8',
    'x-amz-if-match-size': String(KEEP_BYTES.length),
    'x-amz-object-lock-event-hold': 'ON',
    'if-match': '*',
  };
  return fixed[n] ?? '1';
}

describe('refused headers and parameters over real HTTP', () => {
  let srv: TestServer;
  let s3: S3Client;
  let host: string;
  let uploadId: string;
  let n = 0;
  const cors = { CORSRules: [{ AllowedOrigins: ['https://app.example'], AllowedMethods: ['GET'] }] };

  beforeAll(async () => {
    srv = await startTestServer();
    s3 = srv.client();
    host = `127.0.0.1:${srv.port}`;
    for (const b of [B, EMPTY, CORS_B]) expect((await send({ method: 'PUT', path: `/${b}` })).status).toBe(200);
    await s3.send(new PutObjectCommand({ Bucket: B, Key: KEEP, Body: KEEP_BYTES }));
    await s3.send(new PutBucketCorsCommand({ Bucket: CORS_B, CORSConfiguration: cors }));
    uploadId = (await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: MP }))).UploadId!;
    await s3.send(new UploadPartCommand({ Bucket: B, Key: MP, UploadId: uploadId, PartNumber: 1, Body: 'part one' }));
  });

  afterAll(async () => srv?.stop());

  function send(r: Req): Promise<Resp> {
    const body = r.body ?? Buffer.alloc(0);
    const headers: Record<string, string> = { host, 'x-amz-content-sha256': sha256Hex(body), ...lower(r.headers ?? {}) };
    if (r.body) headers['content-length'] = String(body.length);
    const signed = signRequest(
      { method: r.method, rawPath: r.path, rawQuery: r.query ?? '', headers },
      { accessKeyId: TEST_ACCESS_KEY, secretAccessKey: TEST_SECRET, region: 'us-east-1', date: new Date() },
    );
    return rawSend(r.method, r.path + (r.query ? `?${r.query}` : ''), signed.request.headers as Record<string, string>, r.body);
  }

  function rawSend(method: string, target: string, headers: Record<string, string>, body?: Buffer): Promise<Resp> {
    return new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: srv.port, method, path: target, headers, agent: false }, (res) => {
        const parts: Buffer[] = [];
        res.on('data', (d: Buffer) => parts.push(d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(parts).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  function expectError(r: Resp, method: string, status: number, code: string, detail?: [string, string]): void {
    expect(r.status, r.text).toBe(status);
    // HEAD errors are status-only, in S3 too.
    if (method === 'HEAD') return expect(r.text).toBe('');
    expect(r.text).toMatch(/^<\?xml[^>]*>\s*<Error>/);
    expect(r.headers['content-type']).toMatch(/xml/);
    expect(/<Code>([^<]*)<\/Code>/.exec(r.text)?.[1]).toBe(code);
    if (detail) expect(r.text).toContain(`<${detail[0]}>${detail[1]}</${detail[0]}>`);
  }

  const absent = async (key: string) => expect((await s3Error(s3.send(new HeadObjectCommand({ Bucket: B, Key: key })))).name).toBe('NotFound');
  const keepIntact = async () => expect((await bodyOf(await s3.send(new GetObjectCommand({ Bucket: B, Key: KEEP })))).toString()).toBe(KEEP_BYTES);
  const uploadIntact = async () => {
    const parts = await s3.send(new ListPartsCommand({ Bucket: B, Key: MP, UploadId: uploadId }));
    expect(parts.Parts?.map((p) => p.PartNumber)).toEqual([1]);
    await absent(MP);
  };
  const corsIntact = async () => expect((await s3.send(new GetBucketCorsCommand({ Bucket: CORS_B }))).CORSRules?.[0]?.AllowedOrigins).toEqual(['https://app.example']);
  const nothing = async () => undefined;
  const noDefaultEncryption = async () => expect((await srv.meta.buckets.get(B))!.defaultEncryption).toBeNull();
  const noLifecycle = async () => expect((await srv.meta.buckets.get(B))!.lifecycle).toBeNull();
  const fresh = (prefix: string) => `${prefix}-${++n}`;

  /** A signed form upload carrying `name` as a field its policy allows. */
  async function postWithField(key: string, name: string, value: string): Promise<Resp> {
    const fields = { key, [name]: value, ...signedV4Fields(srv.credentials, [{ bucket: B }, { key }, ['starts-with', `$${name}`, '']]) };
    const r = await postForm(`${srv.url}/${B}`, fields, { data: 'must not land' });
    return { status: r.status, headers: Object.fromEntries(r.headers), text: r.body };
  }

  const deleteXml = Buffer.from(`<Delete><Object><Key>${KEEP}</Key></Object></Delete>`);
  const corsXml = Buffer.from('<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>PUT</AllowedMethod></CORSRule></CORSConfiguration>');
  const lifecycleXml = Buffer.from('<LifecycleConfiguration><Rule><ID>r</ID><Filter></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule></LifecycleConfiguration>');
  const encryptionXml = Buffer.from('<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault></Rule></ServerSideEncryptionConfiguration>');
  const completeXml = () => Buffer.from(`<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"${createHash('md5').update('part one').digest('hex')}"</ETag></Part></CompleteMultipartUpload>`);

  /** Keyed by operation; fresh keys and buckets are made per request so absence proves nothing was created. */
  const versioningXml = Buffer.from('<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>');
  const lockXml = Buffer.from('<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled></ObjectLockConfiguration>');
  const policyJson = Buffer.from(JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${B}/*` }] }));
  const ownershipXml = Buffer.from('<OwnershipControls><Rule><ObjectOwnership>BucketOwnerEnforced</ObjectOwnership></Rule></OwnershipControls>');
  const retentionXml = Buffer.from('<Retention><Mode>GOVERNANCE</Mode><RetainUntilDate>2099-01-01T00:00:00Z</RetainUntilDate></Retention>');
  const holdXml = Buffer.from('<LegalHold><Status>ON</Status></LegalHold>');
  const taggingXml = Buffer.from('<Tagging><TagSet><Tag><Key>a</Key><Value>b</Value></Tag></TagSet></Tagging>');
  const unversioned = async () => expect((await s3.send(new GetBucketVersioningCommand({ Bucket: B }))).Status).toBeUndefined();
  const TEMPLATES: Record<string, Template[]> = {
    ListBuckets: [{ req: () => ({ method: 'GET', path: '/' }), unchanged: nothing }],
    CreateBucket: [(() => {
      let name = '';
      return { req: () => ({ method: 'PUT', path: `/${(name = fresh('refused-bucket'))}` }), unchanged: async () => expect((await s3Error(s3.send(new HeadBucketCommand({ Bucket: name })))).name).toBe('NotFound') };
    })()],
    HeadBucket: [{ req: () => ({ method: 'HEAD', path: `/${B}` }), unchanged: nothing }],
    DeleteBucket: [{ req: () => ({ method: 'DELETE', path: `/${EMPTY}` }), unchanged: async () => void (await s3.send(new HeadBucketCommand({ Bucket: EMPTY }))) }],
    GetBucketLocation: [{ req: () => ({ method: 'GET', path: `/${B}`, query: 'location' }), unchanged: nothing }],
    GetBucketVersioning: [{ req: () => ({ method: 'GET', path: `/${B}`, query: 'versioning' }), unchanged: nothing }],
    GetBucketAcl: [{ req: () => ({ method: 'GET', path: `/${B}`, query: 'acl' }), unchanged: nothing }],
    GetObjectAcl: [{ req: () => ({ method: 'GET', path: `/${B}/${KEEP}`, query: 'acl' }), unchanged: nothing }],
    PutBucketCors: [{ req: () => ({ method: 'PUT', path: `/${CORS_B}`, query: 'cors', body: corsXml, headers: { 'content-md5': md5B64(corsXml) } }), unchanged: corsIntact }],
    GetBucketCors: [{ req: () => ({ method: 'GET', path: `/${CORS_B}`, query: 'cors' }), unchanged: nothing }],
    DeleteBucketCors: [{ req: () => ({ method: 'DELETE', path: `/${CORS_B}`, query: 'cors' }), unchanged: corsIntact }],
    PutBucketLifecycleConfiguration: [{ req: () => ({ method: 'PUT', path: `/${B}`, query: 'lifecycle', body: lifecycleXml, headers: { 'content-md5': md5B64(lifecycleXml) } }), unchanged: noLifecycle }],
    GetBucketLifecycleConfiguration: [{ req: () => ({ method: 'GET', path: `/${B}`, query: 'lifecycle' }), unchanged: nothing }],
    DeleteBucketLifecycle: [{ req: () => ({ method: 'DELETE', path: `/${B}`, query: 'lifecycle' }), unchanged: noLifecycle }],
    // This server has no key: a refused header must be answered before the NotImplemented of SSE-S3 itself.
    PutBucketEncryption: [{ req: () => ({ method: 'PUT', path: `/${B}`, query: 'encryption', body: encryptionXml, headers: { 'content-md5': md5B64(encryptionXml) } }), unchanged: noDefaultEncryption }],
    GetBucketEncryption: [{ req: () => ({ method: 'GET', path: `/${B}`, query: 'encryption' }), unchanged: nothing }],
    DeleteBucketEncryption: [{ req: () => ({ method: 'DELETE', path: `/${B}`, query: 'encryption' }), unchanged: noDefaultEncryption }],
    DeleteObjects: [{ req: () => ({ method: 'POST', path: `/${B}`, query: 'delete', body: deleteXml, headers: { 'content-md5': md5B64(deleteXml) } }), unchanged: keepIntact }],
    ListObjects: [{ req: () => ({ method: 'GET', path: `/${B}` }), unchanged: nothing }],
    ListObjectsV2: [{ req: () => ({ method: 'GET', path: `/${B}`, query: 'list-type=2' }), unchanged: nothing }],
    ListMultipartUploads: [{ req: () => ({ method: 'GET', path: `/${B}`, query: 'uploads' }), unchanged: nothing }],
    PostObject: [(() => {
      let key = '';
      return { req: () => ({ method: 'POST', path: `/${B}` }), post: (name, value) => postWithField((key = fresh('post')), name, value), unchanged: async () => absent(key) };
    })()],
    PutObject: [
      { req: () => ({ method: 'PUT', path: `/${B}/${KEEP}`, body: Buffer.from('new bytes that must not land') }), unchanged: keepIntact },
      (() => {
        let key = '';
        return { req: () => ({ method: 'PUT', path: `/${B}/${(key = fresh('put'))}`, body: Buffer.from('must not land') }), unchanged: async () => absent(key) };
      })(),
    ],
    CopyObject: [(() => {
      let key = '';
      return { req: () => ({ method: 'PUT', path: `/${B}/${(key = fresh('copy'))}`, headers: { 'x-amz-copy-source': `${B}/${KEEP}` } }), unchanged: async () => absent(key) };
    })()],
    GetObject: [{ req: () => ({ method: 'GET', path: `/${B}/${KEEP}` }), unchanged: nothing }],
    HeadObject: [{ req: () => ({ method: 'HEAD', path: `/${B}/${KEEP}` }), unchanged: nothing }],
    GetObjectAttributes: [{ req: () => ({ method: 'GET', path: `/${B}/${KEEP}`, query: 'attributes', headers: { 'x-amz-object-attributes': 'ETag' } }), unchanged: nothing }],
    DeleteObject: [{ req: () => ({ method: 'DELETE', path: `/${B}/${KEEP}` }), unchanged: keepIntact }],
    CreateMultipartUpload: [(() => {
      let key = '';
      return {
        req: () => ({ method: 'POST', path: `/${B}/${(key = fresh('mpu'))}`, query: 'uploads' }),
        unchanged: async () => expect((await s3.send(new ListMultipartUploadsCommand({ Bucket: B, Prefix: key }))).Uploads ?? []).toEqual([]),
      };
    })()],
    UploadPart: [{ req: () => ({ method: 'PUT', path: `/${B}/${MP}`, query: `partNumber=2&uploadId=${uploadId}`, body: Buffer.from('part two') }), unchanged: uploadIntact }],
    UploadPartCopy: [{ req: () => ({ method: 'PUT', path: `/${B}/${MP}`, query: `partNumber=3&uploadId=${uploadId}`, headers: { 'x-amz-copy-source': `${B}/${KEEP}` } }), unchanged: uploadIntact }],
    CompleteMultipartUpload: [{ req: () => ({ method: 'POST', path: `/${B}/${MP}`, query: `uploadId=${uploadId}`, body: completeXml() }), unchanged: uploadIntact }],
    AbortMultipartUpload: [{ req: () => ({ method: 'DELETE', path: `/${B}/${MP}`, query: `uploadId=${uploadId}` }), unchanged: uploadIntact }],
    ListParts: [{ req: () => ({ method: 'GET', path: `/${B}/${MP}`, query: `uploadId=${uploadId}` }), unchanged: nothing }],
    PutBucketVersioning: [{ req: () => ({ method: 'PUT', path: `/${B}`, query: 'versioning', body: versioningXml, headers: { 'content-md5': md5B64(versioningXml) } }), unchanged: unversioned }],
    ListObjectVersions: [{ req: () => ({ method: 'GET', path: `/${B}`, query: 'versions' }), unchanged: nothing }],
    PutObjectLockConfiguration: [{ req: () => ({ method: 'PUT', path: `/${B}`, query: 'object-lock', body: lockXml, headers: { 'content-md5': md5B64(lockXml) } }), unchanged: nothing }],
    GetObjectLockConfiguration: [{ req: () => ({ method: 'GET', path: `/${B}`, query: 'object-lock' }), unchanged: nothing }],
    PutObjectRetention: [{ req: () => ({ method: 'PUT', path: `/${B}/${KEEP}`, query: 'retention', body: retentionXml, headers: { 'content-md5': md5B64(retentionXml) } }), unchanged: keepIntact }],
    GetObjectRetention: [{ req: () => ({ method: 'GET', path: `/${B}/${KEEP}`, query: 'retention' }), unchanged: nothing }],
    PutObjectLegalHold: [{ req: () => ({ method: 'PUT', path: `/${B}/${KEEP}`, query: 'legal-hold', body: holdXml, headers: { 'content-md5': md5B64(holdXml) } }), unchanged: keepIntact }],
    GetObjectLegalHold: [{ req: () => ({ method: 'GET', path: `/${B}/${KEEP}`, query: 'legal-hold' }), unchanged: nothing }],
    PutBucketAcl: [{ req: () => ({ method: 'PUT', path: `/${B}`, query: 'acl', headers: { 'x-amz-acl': 'public-read' } }), unchanged: bucketAclPrivate }],
    PutObjectAcl: [{ req: () => ({ method: 'PUT', path: `/${B}/${KEEP}`, query: 'acl', headers: { 'x-amz-acl': 'public-read' } }), unchanged: keepAclPrivate }],
    PutBucketPolicy: [{ req: () => ({ method: 'PUT', path: `/${B}`, query: 'policy', body: policyJson }), unchanged: noPolicy }],
    PutBucketOwnershipControls: [{ req: () => ({ method: 'PUT', path: `/${B}`, query: 'ownershipControls', body: ownershipXml, headers: { 'content-md5': md5B64(ownershipXml) } }), unchanged: objectWriter }],
    PutBucketTagging: [{ req: () => ({ method: 'PUT', path: `/${B}`, query: 'tagging', body: taggingXml, headers: { 'content-md5': md5B64(taggingXml) } }), unchanged: async () => expect((await s3Error(s3.send(new GetBucketTaggingCommand({ Bucket: B })))).name).toBe('NoSuchTagSet') }],
    GetObjectTagging: [{ req: () => ({ method: 'GET', path: `/${B}/${KEEP}`, query: 'tagging' }), unchanged: nothing }],
    PutObjectTagging: [{ req: () => ({ method: 'PUT', path: `/${B}/${KEEP}`, query: 'tagging', body: taggingXml, headers: { 'content-md5': md5B64(taggingXml) } }), unchanged: keepUntagged }],
  };

  async function keepUntagged(): Promise<void> {
    expect((await s3.send(new GetObjectTaggingCommand({ Bucket: B, Key: KEEP }))).TagSet).toEqual([]);
  }

  async function bucketAclPrivate(): Promise<void> {
    expect((await s3.send(new GetBucketAclCommand({ Bucket: B }))).Grants?.map((g) => g.Permission)).toEqual(['FULL_CONTROL']);
  }
  async function keepAclPrivate(): Promise<void> {
    expect((await s3.send(new GetObjectAclCommand({ Bucket: B, Key: KEEP }))).Grants?.map((g) => g.Permission)).toEqual(['FULL_CONTROL']);
  }
  async function noPolicy(): Promise<void> {
    expect((await s3Error(s3.send(new GetBucketPolicyCommand({ Bucket: B })))).name).toBe('NoSuchBucketPolicy');
  }
  async function objectWriter(): Promise<void> {
    expect((await s3.send(new GetBucketOwnershipControlsCommand({ Bucket: B }))).OwnershipControls?.Rules?.[0]?.ObjectOwnership).toBe('ObjectWriter');
  }

  /** Every refusal the table makes: [operation, header or ?parameter, value, expected status and code]. */
  const CASES: Array<[string, string, string, number, string]> = [];
  for (const [op, rows] of Object.entries(OPERATIONS)) {
    for (const [name, rule] of Object.entries(rows) as Array<[string, Rule]>) {
      if (rule.status === 'refused') CASES.push([op, name, name.startsWith('?') ? '1' : valueFor(name), 501, 'NotImplemented']);
      if (rule.status === 'by-value') {
        for (const v of rule.refuse) CASES.push([op, name, v, 501, 'NotImplemented']);
        CASES.push([op, name, 'no-such-value', 400, rule.unknown]);
      }
    }
  }

  it('has a request for every operation with refusals', () => {
    expect(CASES.length).toBeGreaterThan(100);
    const ops = new Set(CASES.map(([op]) => op));
    expect([...ops].filter((op) => !TEMPLATES[op])).toEqual([]);
  });

  it.each(CASES)('%s with %s: %s -> %i %s', async (op, name, value, status, code) => {
    for (const template of TEMPLATES[op] ?? []) {
      const req = template.req();
      if (name.startsWith('?')) req.query = [req.query, `${name.slice(1)}=${value}`].filter(Boolean).join('&');
      else req.headers = { ...req.headers, [name]: value };
      const r = template.post ? await template.post(name, value) : await send(req);
      const detail: [string, string] = name.startsWith('?') ? ['ArgumentName', name.slice(1)] : status === 501 ? ['Header', name] : ['ArgumentValue', value];
      expectError(r, req.method, status, code, detail);
      await template.unchanged();
    }
    expect(tmpFiles(srv)).toEqual([]);
    expect(srv.pool.stats().inUse).toBe(0);
  });

  it('a presigned PutObject carrying a refused header in its query is refused too', async () => {
    const key = fresh('presigned');
    const rawPath = `/${B}/${key}`;
    const signed = presignRequest(
      { method: 'PUT', rawPath, rawQuery: 'x-amz-server-side-encryption=AES256', headers: { host } },
      { accessKeyId: TEST_ACCESS_KEY, secretAccessKey: TEST_SECRET, region: 'us-east-1', date: new Date(), expiresSeconds: 300 },
    );
    const r = await rawSend('PUT', `${rawPath}?${signed.request.rawQuery}`, { host, 'content-length': '4' }, Buffer.from('data'));
    expectError(r, 'PUT', 501, 'NotImplemented', ['Header', 'x-amz-server-side-encryption']);
    await absent(key);
  });

  it('the SDK sees NotImplemented for SSE-S3 on a server without keys and for KMS', async () => {
    for (const extra of [{ ServerSideEncryption: 'AES256' as const }, { ServerSideEncryption: 'aws:kms' as const }]) {
      const err = await s3Error(s3.send(new PutObjectCommand({ Bucket: B, Key: 'sdk-refused', Body: 'x', ...extra })));
      expect({ name: err.name, status: err.$metadata.httpStatusCode }, JSON.stringify(extra)).toEqual({ name: 'NotImplemented', status: 501 });
    }
    await absent('sdk-refused');
  });

  it('x-amz-acl private, bucket-owner-full-control and bucket-owner-read store the object', async () => {
    for (const acl of ['private', 'bucket-owner-full-control', 'bucket-owner-read'] as const) {
      await s3.send(new PutObjectCommand({ Bucket: B, Key: `acl-${acl}`, Body: acl, ACL: acl }));
      expect((await bodyOf(await s3.send(new GetObjectCommand({ Bucket: B, Key: `acl-${acl}` })))).toString()).toBe(acl);
      const raw = await send({ method: 'PUT', path: `/${B}/raw-acl-${acl}`, body: Buffer.from(acl), headers: { 'x-amz-acl': acl } });
      expect(raw.status, raw.text).toBe(200);
    }
  });

  const subresources = unsupportedSubresources();

  it.each(subresources)('sub-resource ?%s on a bucket and on an object: 501 NotImplemented', async (sub) => {
    for (const path of [`/${B}`, `/${B}/${KEEP}`]) {
      for (const method of ['GET', 'PUT', 'DELETE']) {
        expectError(await send({ method, path, query: sub }), method, 501, 'NotImplemented');
      }
    }
    await keepIntact();
  });
});

function lower(h: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));
}
