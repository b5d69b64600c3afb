import { describe, expect, it } from 'vitest';
import { resolveOperation } from '../../src/http/router.js';
import { S3Error } from '../../src/s3/errors.js';
import { COMMON, OPERATIONS, REFUSED_OPERATIONS, isCovered, type Rule } from '../../src/s3/request-headers.js';
import { refuseUnimplemented } from '../../src/s3/refuse-unimplemented.js';
import { routerSource, unsupportedSubresources } from '../helpers/router-source.js';

/** Every query parameter router.ts looks at, and its UNSUPPORTED sub-resources (read from the source, so new ones are probed too). */
function routerParameters(): string[] {
  const found = new Set<string>();
  for (const m of routerSource.matchAll(/(?:has|query\.has|query\.get)\('([^']+)'\)/g)) found.add(m[1]!);
  for (const name of unsupportedSubresources()) found.add(name);
  return [...found];
}

/** Every operation name resolveOperation gives for methods x service/bucket/object x sub-resources x copy source. */
function probeOperations(): Set<string> {
  const params = routerParameters();
  const queries: string[] = ['', ...params, 'list-type=2', 'uploadId=u&partNumber=1'];
  const targets = [{}, { bucket: 'b' }, { bucket: 'b', key: 'k' }];
  const names = new Set<string>();
  for (const method of ['GET', 'HEAD', 'PUT', 'POST', 'DELETE', 'PATCH']) {
    for (const target of targets) {
      for (const q of queries) {
        for (const copySource of [false, true]) {
          try {
            names.add(resolveOperation({ method, ...target, query: new URLSearchParams(q), copySource }).name);
          } catch (err) {
            if (!(err instanceof S3Error)) throw err;
          }
        }
      }
    }
  }
  return names;
}

describe('the request-header table', () => {
  const probed = probeOperations();

  it('probes every operation router.ts names', () => {
    // The probe must reach each literal name in the router, or a coverage gap could hide.
    const literal = [...routerSource.matchAll(/(?:\bop|onBucket\([^,]+|onObject\([^,]+|notImplemented)\('([A-Za-z0-9 ]+)'/g)].map((m) => m[1]!);
    literal.push(...[...routerSource.matchAll(/name: '([A-Za-z0-9]+)'/g)].map((m) => m[1]!));
    expect(literal.length).toBeGreaterThan(25);
    for (const name of literal) expect(probed, name).toContain(name);
  });

  it('has rows for every operation resolveOperation can return', () => {
    const missing = [...probed].filter((name) => !isCovered(name));
    expect(missing).toEqual([]);
    // Each operation the table serves is a real one (no stale rows), CorsPreflight being app.ts's own.
    for (const op of Object.keys(OPERATIONS)) if (op !== 'CorsPreflight') expect(probed, op).toContain(op);
    for (const op of Object.keys(REFUSED_OPERATIONS)) expect(probed, op).toContain(op);
  });

  it('says what the versioning and object lock headers do (implemented in #18, never refused)', () => {
    const rule = (op: string, name: string): Rule | undefined => OPERATIONS[op]?.[name];
    for (const op of ['PutObject', 'CopyObject', 'CompleteMultipartUpload']) {
      for (const h of ['If-Match', 'If-None-Match']) expect(rule(op, h)?.status, `${op} ${h}`).toBe('implemented');
    }
    for (const op of ['PutObject', 'CopyObject', 'CreateMultipartUpload']) {
      for (const h of ['x-amz-object-lock-mode', 'x-amz-object-lock-retain-until-date', 'x-amz-object-lock-legal-hold']) expect(rule(op, h)?.status, `${op} ${h}`).toBe('implemented');
    }
    expect(rule('CreateBucket', 'x-amz-bucket-object-lock-enabled')?.status).toBe('implemented');
    for (const [op, rows] of Object.entries(OPERATIONS)) {
      for (const name of ['?versionId', 'x-amz-bypass-governance-retention']) {
        if (rows[name]) expect(rows[name]!.status, `${op} ${name}`).toBe('implemented');
      }
      // MFA delete needs MFA devices: refused wherever S3 documents it.
      if (rows['x-amz-mfa']) expect(rows['x-amz-mfa']!.status, `${op} x-amz-mfa`).toBe('refused');
    }
  });

  it('names an issue (or none) and a reason for every refusal', () => {
    for (const [op, rows] of Object.entries({ ...OPERATIONS, COMMON })) {
      for (const [name, rule] of Object.entries(rows)) {
        // PostObject's form fields (success_action_status) have underscores.
        expect(name, op).toMatch(/^(\?[A-Za-z-]+|[A-Za-z0-9_-]+(-\*| versionId)?)$/);
        if (rule.status === 'refused' || rule.status === 'by-value') {
          expect(['#19', '#20', '#21', 'none'], `${op} ${name}`).toContain(rule.lift);
          expect(rule.why.length, `${op} ${name}`).toBeGreaterThan(5);
        }
      }
    }
  });
});

describe('refuseUnimplemented', () => {
  const codeOf = (op: string, headers: Record<string, string>, query = '') => {
    try {
      refuseUnimplemented(op, headers, new URLSearchParams(query));
      return undefined;
    } catch (err) {
      if (!(err instanceof S3Error)) throw err;
      return { code: err.code, status: err.status, details: err.details };
    }
  };

  it('refuses a refused header whatever its value, naming it', () => {
    expect(codeOf('PutObject', { 'x-amz-server-side-encryption-aws-kms-key-id': 'k' })).toEqual({ code: 'NotImplemented', status: 501, details: { Header: 'x-amz-server-side-encryption-aws-kms-key-id' } });
    expect(codeOf('PutObject', { 'x-amz-website-redirect-location': '' })?.code).toBe('NotImplemented');
    expect(codeOf('PutObject', { 'x-amz-server-side-encryption-bucket-key-enabled': 'true' })?.details).toEqual({ Header: 'x-amz-server-side-encryption-bucket-key-enabled' });
  });

  it('decides x-amz-server-side-encryption by value: AES256 on writes, KMS refused, nothing on reads', () => {
    for (const op of ['PutObject', 'CopyObject', 'CreateMultipartUpload']) {
      expect(codeOf(op, { 'x-amz-server-side-encryption': 'AES256' }), op).toBeUndefined();
      expect(codeOf(op, { 'x-amz-server-side-encryption': 'aws:kms' })?.code, op).toBe('NotImplemented');
      expect(codeOf(op, { 'x-amz-server-side-encryption': 'aws:kms:dsse' })?.code, op).toBe('NotImplemented');
      expect(codeOf(op, { 'x-amz-server-side-encryption': 'AES128' })?.code, op).toBe('InvalidArgument');
    }
    for (const op of ['GetObject', 'HeadObject']) expect(codeOf(op, { 'x-amz-server-side-encryption': 'AES256' })?.code, op).toBe('InvalidArgument');
    expect(codeOf('GetObject', { 'x-amz-server-side-encryption-customer-key-md5': 'x' })).toBeUndefined();
  });

  it('decides x-amz-acl by value', () => {
    for (const op of ['PutObject', 'CopyObject', 'CreateMultipartUpload']) {
      for (const v of ['private', 'bucket-owner-full-control', 'bucket-owner-read', ' private ', 'public-read', 'public-read-write', 'authenticated-read', 'log-delivery-write']) {
        expect(codeOf(op, { 'x-amz-acl': v }), `${op} ${v}`).toBeUndefined();
      }
      expect(codeOf(op, { 'x-amz-acl': 'aws-exec-read' })?.code, `${op} aws-exec-read`).toBe('NotImplemented');
      expect(codeOf(op, { 'x-amz-acl': 'privat' })).toEqual({ code: 'InvalidArgument', status: 400, details: { ArgumentName: 'x-amz-acl', ArgumentValue: 'privat' } });
    }
    expect(codeOf('CreateBucket', { 'x-amz-acl': 'public-read' })).toBeUndefined();
    expect(codeOf('CreateBucket', { 'x-amz-acl': 'public-read-write' })).toBeUndefined();
    expect(codeOf('CreateBucket', { 'x-amz-acl': 'aws-exec-read' })?.code).toBe('NotImplemented');
    expect(codeOf('CreateBucket', { 'x-amz-acl': 'Private' })?.code).toBe('InvalidArgument');
  });

  it('refuses documented query parameters it does not implement', () => {
    expect(codeOf('ListBuckets', {}, 'bucket-region=us-east-1')).toEqual({ code: 'NotImplemented', status: 501, details: { ArgumentName: 'bucket-region' } });
    expect(codeOf('ListBuckets', {}, 'max-buckets=10')).toBeUndefined();
    expect(codeOf('ListBuckets', {}, 'x-id=ListBuckets')).toBeUndefined();
  });

  it('lets undocumented headers, implemented ones and unlisted operations through', () => {
    expect(codeOf('PutObject', { 'x-amz-foo': '1', 'x-amz-meta-a': 'b', 'content-md5': 'x', 'x-amz-storage-class': 'STANDARD', 'x-amz-checksum-crc32': 'AAAAAA==' })).toBeUndefined();
    expect(codeOf('GetObject', { 'x-amz-acl': 'public-read' })).toBeUndefined();
    expect(codeOf('PutBucketAcl', { 'x-amz-grant-read': 'x' })).toBeUndefined();
  });
});
