// The recipes in test/fixtures/policies (reused by the docs), evaluated against example requests.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { conditionKeys, evaluatePolicy, isPublicPolicy, parsePolicy, type CompiledPolicy, type PolicyPrincipal } from '../../src/auth/policy/index.js';
import { BUCKET, BUCKET_ARN, OTHER, OWNER, isAccount, objectArn, otherKey, ownerKey, request } from './policy-helpers.js';

const DIR = path.join(import.meta.dirname, '..', 'fixtures', 'policies');
const recipe = (name: string): CompiledPolicy => parsePolicy(fs.readFileSync(path.join(DIR, name), 'utf8'), BUCKET, isAccount);

const dropBoxKey: PolicyPrincipal = { accountId: OTHER, accessKeyId: 'CKDROPBOX00000000001' };
const backupKey: PolicyPrincipal = { accountId: OWNER, accessKeyId: 'CKBACKUP000000000001' };

it('every recipe in the folder parses and is covered here', () => {
  const names = fs.readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();
  expect(names).toEqual(['anonymous-read-prefix.json', 'backup-no-delete.json', 'backup-restic.json', 'drop-box.json', 'https-only.json', 'ip-allow-list.json']);
  for (const name of names) expect(() => recipe(name)).not.toThrow();
});

describe('anonymous-read-prefix', () => {
  const p = recipe('anonymous-read-prefix.json');

  it('lets anyone read under public/, and nothing else', () => {
    expect(evaluatePolicy(p, request({ principal: null, resource: objectArn('public/cake.jpg') }))).toBe('Allow');
    expect(evaluatePolicy(p, request({ principal: otherKey, resource: objectArn('public/a/b.txt') }))).toBe('Allow');
    expect(evaluatePolicy(p, request({ principal: null, resource: objectArn('private/cake.jpg') }))).toBeUndefined();
    expect(evaluatePolicy(p, request({ principal: null, resource: objectArn('Public/cake.jpg') }))).toBeUndefined();
    expect(evaluatePolicy(p, request({ principal: null, action: 's3:PutObject', resource: objectArn('public/x') }))).toBeUndefined();
    expect(evaluatePolicy(p, request({ principal: null, action: 's3:ListBucket', resource: BUCKET_ARN }))).toBeUndefined();
  });

  it('is public and needs no condition keys', () => {
    expect(isPublicPolicy(p)).toBe(true);
    expect(conditionKeys(p).size).toBe(0);
  });
});

describe('drop-box', () => {
  const p = recipe('drop-box.json');
  const asDropBox = (action: string, resource = objectArn('incoming/report.csv')) => evaluatePolicy(p, request({ principal: dropBoxKey, action, resource }));

  it('lets the key upload into incoming/ and abort its uploads', () => {
    expect(asDropBox('s3:PutObject')).toBe('Allow');
    expect(asDropBox('s3:AbortMultipartUpload')).toBe('Allow');
  });

  it('denies the key reading, listing and deleting, even what it uploaded', () => {
    for (const action of ['s3:GetObject', 's3:GetObjectVersion', 's3:DeleteObject', 's3:DeleteObjectVersion', 's3:ListMultipartUploadParts', 's3:PutObjectAcl']) {
      expect(asDropBox(action), action).toBe('Deny');
    }
    for (const action of ['s3:ListBucket', 's3:ListBucketVersions', 's3:ListBucketMultipartUploads', 's3:GetBucketPolicy', 's3:PutBucketPolicy']) {
      expect(asDropBox(action, BUCKET_ARN), action).toBe('Deny');
    }
  });

  it('does not allow uploads outside incoming/', () => {
    expect(asDropBox('s3:PutObject', objectArn('elsewhere/x'))).toBeUndefined();
  });

  it('says nothing about other keys, of that account or another', () => {
    const sibling: PolicyPrincipal = { accountId: OTHER, accessKeyId: 'CKOTHER0000000000009' };
    for (const who of [sibling, ownerKey, null]) {
      expect(evaluatePolicy(p, request({ principal: who, action: 's3:GetObject' }))).toBeUndefined();
      expect(evaluatePolicy(p, request({ principal: who, action: 's3:PutObject', resource: objectArn('incoming/x') }))).toBeUndefined();
    }
  });

  it('is not public', () => {
    expect(isPublicPolicy(p)).toBe(false);
  });
});

describe('backup-no-delete', () => {
  const p = recipe('backup-no-delete.json');
  const asBackup = (action: string, resource = objectArn('db/2024-01-01.dump')) => evaluatePolicy(p, request({ principal: backupKey, action, resource }));

  it('leaves writing and reading to the key\'s grants', () => {
    for (const action of ['s3:PutObject', 's3:GetObject', 's3:AbortMultipartUpload', 's3:PutObjectRetention']) expect(asBackup(action), action).toBeUndefined();
    expect(asBackup('s3:ListBucket', BUCKET_ARN)).toBeUndefined();
  });

  it('denies deleting objects or versions and lifting their protection', () => {
    for (const action of ['s3:DeleteObject', 's3:DeleteObjectVersion', 's3:BypassGovernanceRetention', 's3:PutObjectLegalHold']) {
      expect(asBackup(action), action).toBe('Deny');
    }
  });

  it('denies turning off versioning, expiring versions, opening the bucket ACL, or replacing the policy', () => {
    for (const action of ['s3:PutBucketVersioning', 's3:PutLifecycleConfiguration', 's3:PutBucketObjectLockConfiguration', 's3:PutBucketAcl', 's3:PutBucketPolicy', 's3:DeleteBucketPolicy', 's3:DeleteBucket']) {
      expect(asBackup(action, BUCKET_ARN), action).toBe('Deny');
    }
  });

  it('binds only the backup key', () => {
    expect(evaluatePolicy(p, request({ principal: ownerKey, action: 's3:DeleteObject' }))).toBeUndefined();
    expect(isPublicPolicy(p)).toBe(false);
  });
});

describe('backup-restic', () => {
  const p = recipe('backup-restic.json');
  const asBackup = (action: string, resource = objectArn('data/ab/abcd')) => evaluatePolicy(p, request({ principal: backupKey, action, resource }));

  it('lets the key remove lock files (a delete marker on a versioned bucket), and nothing else', () => {
    expect(asBackup('s3:DeleteObject', objectArn('locks/0123'))).toBeUndefined();
    expect(asBackup('s3:DeleteObject')).toBe('Deny');
    expect(asBackup('s3:DeleteObject', objectArn('snapshots/0123'))).toBe('Deny');
    expect(asBackup('s3:DeleteObject', BUCKET_ARN)).toBe('Deny');
    expect(asBackup('s3:DeleteObjectVersion', objectArn('locks/0123'))).toBe('Deny');
  });

  it('denies what backup-no-delete denies, but DeleteObject under locks/', () => {
    const strict = recipe('backup-no-delete.json');
    for (const s of strict.statements) expect(s.effect).toBe('Deny');
    for (const action of ['s3:BypassGovernanceRetention', 's3:PutObjectLegalHold', 's3:PutObject', 's3:GetObject']) expect(asBackup(action), action).toBe(evaluatePolicy(strict, request({ principal: backupKey, action, resource: objectArn('data/ab/abcd') })));
    for (const action of ['s3:PutBucketVersioning', 's3:PutBucketAcl', 's3:PutBucketPolicy', 's3:DeleteBucketPolicy', 's3:ListBucket']) {
      expect(asBackup(action, BUCKET_ARN), action).toBe(evaluatePolicy(strict, request({ principal: backupKey, action, resource: BUCKET_ARN })));
    }
    expect(evaluatePolicy(p, request({ principal: ownerKey, action: 's3:DeleteObject' }))).toBeUndefined();
    expect(isPublicPolicy(p)).toBe(false);
  });
});

describe('ip-allow-list', () => {
  const p = recipe('ip-allow-list.json');
  const from = (ip: string | undefined, principal: PolicyPrincipal | null = ownerKey, action = 's3:GetObject') =>
    evaluatePolicy(p, request({ principal, action, conditions: { 'aws:sourceip': ip } }));

  it('denies every caller and action from outside the loopback addresses', () => {
    expect(from('192.0.2.10')).toBe('Deny');
    expect(from('10.0.0.1', null)).toBe('Deny');
    expect(from('2001:db8::1', otherKey, 's3:PutObject')).toBe('Deny');
    expect(from(undefined)).toBe('Deny');
  });

  it('says nothing from loopback (grants decide)', () => {
    expect(from('127.0.0.1')).toBeUndefined();
    expect(from('127.255.0.9', null, 's3:DeleteObject')).toBeUndefined();
    expect(from('::1')).toBeUndefined();
    expect(from('::ffff:127.0.0.1')).toBeUndefined();
  });

  it('needs aws:sourceip and is not public', () => {
    expect([...conditionKeys(p)]).toEqual(['aws:sourceip']);
    expect(isPublicPolicy(p)).toBe(false);
  });
});

describe('https-only', () => {
  const p = recipe('https-only.json');
  const over = (secure: string | undefined, principal: PolicyPrincipal | null = ownerKey) =>
    evaluatePolicy(p, request({ principal, action: 's3:PutObject', conditions: { 'aws:securetransport': secure } }));

  it('denies plain HTTP for everyone and says nothing over TLS', () => {
    expect(over('false')).toBe('Deny');
    expect(over('false', null)).toBe('Deny');
    expect(over('true')).toBeUndefined();
    expect(over('true', null)).toBeUndefined();
  });

  it('needs aws:securetransport and is not public', () => {
    expect([...conditionKeys(p)]).toEqual(['aws:securetransport']);
    expect(isPublicPolicy(p)).toBe(false);
  });
});
