import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  GetObjectLegalHoldCommand,
  GetObjectLockConfigurationCommand,
  GetObjectRetentionCommand,
  HeadObjectCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectLegalHoldCommand,
  PutObjectLockConfigurationCommand,
  PutObjectRetentionCommand,
  UploadPartCommand,
  type ObjectLockMode,
  type S3Client,
} from '@aws-sdk/client-s3';
import { s3Error } from '../helpers/sdk.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// Object lock through the SDK: lock-enabled buckets, default retention, retention and legal hold
// on writes and through their sub-resources, and the enforcement table: every way a version can
// be removed, against every lock state, allowed or 403.

const md5 = (s: string) => createHash('md5').update(s).digest('base64');
const inAnHour = () => new Date(Date.now() + 3_600_000);

describe('object lock (SDK)', () => {
  let srv: TestServer;
  let root: S3Client;
  let writer: S3Client;
  let bypasser: S3Client;
  const B = 'locked';

  beforeAll(async () => {
    srv = await startTestServer();
    root = srv.client();
    await root.send(new CreateBucketCommand({ Bucket: B, ObjectLockEnabledForBucket: true }));
    const key = (permission: 'write' | 'bypass') => {
      const k = srv.keys.create({ description: permission, grants: [{ bucket: B, permission }] });
      return srv.client({ credentials: { accessKeyId: k.id, secretAccessKey: k.secret } });
    };
    writer = key('write');
    bypasser = key('bypass');
  });
  afterAll(async () => srv?.stop());

  it('a lock-enabled bucket is versioned for good and has a lock configuration', async () => {
    expect((await root.send(new GetBucketVersioningCommand({ Bucket: B }))).Status).toBe('Enabled');
    const suspend = await s3Error(root.send(new PutBucketVersioningCommand({ Bucket: B, VersioningConfiguration: { Status: 'Suspended' } })));
    expect([suspend.name, suspend.$metadata.httpStatusCode]).toEqual(['InvalidBucketState', 409]);
    expect((await root.send(new GetObjectLockConfigurationCommand({ Bucket: B }))).ObjectLockConfiguration).toEqual({ ObjectLockEnabled: 'Enabled' });
    await root.send(new CreateBucketCommand({ Bucket: 'unlocked' }));
    const none = await s3Error(root.send(new GetObjectLockConfigurationCommand({ Bucket: 'unlocked' })));
    expect([none.name, none.$metadata.httpStatusCode]).toEqual(['ObjectLockConfigurationNotFoundError', 404]);
    const later = await s3Error(root.send(new PutObjectLockConfigurationCommand({ Bucket: 'unlocked', ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled' } })));
    expect([later.name, later.$metadata.httpStatusCode]).toEqual(['InvalidBucketState', 409]);
  });

  it('default retention applies to new versions (PUT, copy, multipart); explicit headers win', async () => {
    await root.send(new CreateBucketCommand({ Bucket: 'defaults', ObjectLockEnabledForBucket: true }));
    await root.send(
      new PutObjectLockConfigurationCommand({ Bucket: 'defaults', ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 2 } } } }),
    );
    const conf = await root.send(new GetObjectLockConfigurationCommand({ Bucket: 'defaults' }));
    expect(conf.ObjectLockConfiguration?.Rule?.DefaultRetention).toEqual({ Mode: 'GOVERNANCE', Days: 2 });
    const put = await root.send(new PutObjectCommand({ Bucket: 'defaults', Key: 'a', Body: 'a' }));
    const head = await root.send(new HeadObjectCommand({ Bucket: 'defaults', Key: 'a', VersionId: put.VersionId }));
    expect(head.ObjectLockMode).toBe('GOVERNANCE');
    const days = (head.ObjectLockRetainUntilDate!.getTime() - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(1.99);
    expect(days).toBeLessThan(2.01);
    expect(head.ObjectLockLegalHoldStatus).toBe('OFF');
    await root.send(new CopyObjectCommand({ Bucket: 'defaults', Key: 'copy', CopySource: 'defaults/a' }));
    expect((await root.send(new GetObjectRetentionCommand({ Bucket: 'defaults', Key: 'copy' }))).Retention?.Mode).toBe('GOVERNANCE');
    const until = inAnHour();
    const up = await root.send(new CreateMultipartUploadCommand({ Bucket: 'defaults', Key: 'mp', ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: until, ObjectLockLegalHoldStatus: 'ON' }));
    const part = await root.send(new UploadPartCommand({ Bucket: 'defaults', Key: 'mp', UploadId: up.UploadId, PartNumber: 1, Body: 'p' }));
    await root.send(new CompleteMultipartUploadCommand({ Bucket: 'defaults', Key: 'mp', UploadId: up.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }));
    const mp = await root.send(new HeadObjectCommand({ Bucket: 'defaults', Key: 'mp' }));
    expect([mp.ObjectLockMode, mp.ObjectLockRetainUntilDate?.getTime(), mp.ObjectLockLegalHoldStatus]).toEqual(['COMPLIANCE', until.getTime(), 'ON']);
  });

  it('retention and legal hold through their sub-resources: COMPLIANCE only extends, GOVERNANCE shortens with the bypass', async () => {
    const until = inAnHour();
    const v = (await root.send(new PutObjectCommand({ Bucket: B, Key: 'ret', Body: 'r' }))).VersionId!;
    const none = await s3Error(root.send(new GetObjectRetentionCommand({ Bucket: B, Key: 'ret' })));
    expect(none.name).toBe('NoSuchObjectLockConfiguration');
    await root.send(new PutObjectRetentionCommand({ Bucket: B, Key: 'ret', VersionId: v, Retention: { Mode: 'GOVERNANCE', RetainUntilDate: until } }));
    const shorter = new Date(until.getTime() - 60_000);
    const denied = await s3Error(writer.send(new PutObjectRetentionCommand({ Bucket: B, Key: 'ret', Retention: { Mode: 'GOVERNANCE', RetainUntilDate: shorter }, BypassGovernanceRetention: true })));
    expect([denied.name, denied.$metadata.httpStatusCode]).toEqual(['AccessDenied', 403]);
    expect((await s3Error(root.send(new PutObjectRetentionCommand({ Bucket: B, Key: 'ret', Retention: { Mode: 'GOVERNANCE', RetainUntilDate: shorter } })))).name).toBe('AccessDenied');
    await bypasser.send(new PutObjectRetentionCommand({ Bucket: B, Key: 'ret', Retention: { Mode: 'GOVERNANCE', RetainUntilDate: shorter }, BypassGovernanceRetention: true }));
    await root.send(new PutObjectRetentionCommand({ Bucket: B, Key: 'ret', Retention: { Mode: 'COMPLIANCE', RetainUntilDate: until } }));
    for (const change of [
      { Mode: 'COMPLIANCE' as ObjectLockMode, RetainUntilDate: shorter },
      { Mode: 'GOVERNANCE' as ObjectLockMode, RetainUntilDate: new Date(until.getTime() + 60_000) },
    ]) {
      const e = await s3Error(root.send(new PutObjectRetentionCommand({ Bucket: B, Key: 'ret', Retention: change, BypassGovernanceRetention: true })));
      expect(e.name).toBe('AccessDenied');
    }
    const r = await root.send(new GetObjectRetentionCommand({ Bucket: B, Key: 'ret', VersionId: v }));
    expect([r.Retention?.Mode, r.Retention?.RetainUntilDate?.getTime()]).toEqual(['COMPLIANCE', until.getTime()]);
    await root.send(new PutObjectLegalHoldCommand({ Bucket: B, Key: 'ret', LegalHold: { Status: 'ON' } }));
    expect((await root.send(new GetObjectLegalHoldCommand({ Bucket: B, Key: 'ret' }))).LegalHold?.Status).toBe('ON');
  });

  it('bad input: a clear S3 error, nothing stored', async () => {
    const past = new Date(Date.now() - 60_000);
    const cases: Array<[() => Promise<unknown>, string, number]> = [
      [() => root.send(new PutObjectCommand({ Bucket: B, Key: 'bad', Body: 'x', ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: past })), 'InvalidArgument', 400],
      [() => root.send(new PutObjectCommand({ Bucket: B, Key: 'bad', Body: 'x', ObjectLockMode: 'GOVERNANCE' })), 'InvalidArgument', 400],
      [() => root.send(new PutObjectCommand({ Bucket: B, Key: 'bad', Body: 'x', ObjectLockRetainUntilDate: inAnHour() })), 'InvalidArgument', 400],
      [() => root.send(new PutObjectCommand({ Bucket: 'unlocked', Key: 'bad', Body: 'x', ObjectLockLegalHoldStatus: 'ON' })), 'InvalidRequest', 400],
      [() => root.send(new PutObjectRetentionCommand({ Bucket: 'unlocked', Key: 'bad', Retention: { Mode: 'GOVERNANCE', RetainUntilDate: inAnHour() } })), 'InvalidRequest', 400],
      [() => root.send(new PutObjectRetentionCommand({ Bucket: B, Key: 'ret', Retention: { Mode: 'GOVERNANCE', RetainUntilDate: past } })), 'InvalidArgument', 400],
      [() => root.send(new PutObjectRetentionCommand({ Bucket: B, Key: 'no-such-key', Retention: { Mode: 'GOVERNANCE', RetainUntilDate: inAnHour() } })), 'NoSuchKey', 404],
      [() => root.send(new PutObjectLockConfigurationCommand({ Bucket: B, ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 1, Years: 1 } } } })), 'MalformedXML', 400],
      [() => root.send(new PutObjectLockConfigurationCommand({ Bucket: B, ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 0 } } } })), 'InvalidArgument', 400],
      [() => writer.send(new DeleteObjectCommand({ Bucket: B, Key: 'ret', VersionId: 'null', BypassGovernanceRetention: true })), 'AccessDenied', 403],
    ];
    for (const [p, code, status] of cases) {
      const e = await s3Error(p());
      expect([e.name, e.$metadata.httpStatusCode], code).toEqual([code, status]);
    }
    expect((await s3Error(root.send(new GetObjectCommand({ Bucket: B, Key: 'bad' })))).name).toBe('NoSuchKey');
  });

  it('lock headers without Content-MD5 or a checksum are refused (InvalidRequest)', async () => {
    const plain = srv.client({ requestChecksumCalculation: 'WHEN_REQUIRED' });
    const e = await s3Error(plain.send(new PutObjectCommand({ Bucket: B, Key: 'nomd5', Body: 'x', ObjectLockLegalHoldStatus: 'ON' })));
    expect([e.name, e.$metadata.httpStatusCode]).toEqual(['InvalidRequest', 400]);
    await plain.send(new PutObjectCommand({ Bucket: B, Key: 'nomd5', Body: 'x', ContentMD5: md5('x'), ObjectLockLegalHoldStatus: 'ON' }));
  });

  // Enforcement: each way a version can be removed x each lock state -> allowed or 403.
  type State = 'none' | 'governance' | 'compliance' | 'legal-hold' | 'expired';
  type Who = 'root' | 'root+bypass' | 'key+bypass-no-grant' | 'bypass-key+bypass';
  const ALLOWED: Record<State, Record<Who, boolean>> = {
    none: { root: true, 'root+bypass': true, 'key+bypass-no-grant': false, 'bypass-key+bypass': true },
    governance: { root: false, 'root+bypass': true, 'key+bypass-no-grant': false, 'bypass-key+bypass': true },
    compliance: { root: false, 'root+bypass': false, 'key+bypass-no-grant': false, 'bypass-key+bypass': false },
    'legal-hold': { root: false, 'root+bypass': false, 'key+bypass-no-grant': false, 'bypass-key+bypass': false },
    expired: { root: true, 'root+bypass': true, 'key+bypass-no-grant': false, 'bypass-key+bypass': true },
  };
  const ways = ['DeleteObject versionId', 'DeleteObjects VersionId'] as const;
  const cases = ways.flatMap((way) => (Object.keys(ALLOWED) as State[]).flatMap((state) => (Object.keys(ALLOWED[state]) as Who[]).map((who) => [way, state, who] as const)));

  it.each(cases)('%s, %s, %s', async (way, state, who) => {
    const key = `enforce/${way}/${state}/${who}`.replace(/ /g, '_');
    const lock =
      state === 'governance' ? { ObjectLockMode: 'GOVERNANCE' as const, ObjectLockRetainUntilDate: inAnHour() }
      : state === 'compliance' ? { ObjectLockMode: 'COMPLIANCE' as const, ObjectLockRetainUntilDate: inAnHour() }
      : state === 'expired' ? { ObjectLockMode: 'COMPLIANCE' as const, ObjectLockRetainUntilDate: new Date(Date.now() + 3000) }
      : state === 'legal-hold' ? { ObjectLockLegalHoldStatus: 'ON' as const }
      : {};
    const v = (await root.send(new PutObjectCommand({ Bucket: B, Key: key, Body: 'locked bytes', ...lock }))).VersionId!;
    // Long enough to reach the server in the future on a loaded machine; then wait it out.
    if (state === 'expired') await new Promise((r) => setTimeout(r, Math.max(0, lock.ObjectLockRetainUntilDate!.getTime() - Date.now() + 100)));
    const client = who.startsWith('root') ? root : who === 'bypass-key+bypass' ? bypasser : writer;
    const bypass = who.endsWith('+bypass') || who === 'key+bypass-no-grant' ? { BypassGovernanceRetention: true } : {};
    let allowed: boolean;
    if (way === 'DeleteObject versionId') {
      const r = await client.send(new DeleteObjectCommand({ Bucket: B, Key: key, VersionId: v, ...bypass })).then(() => 'ok', (e: { name: string; $metadata: { httpStatusCode?: number } }) => e);
      if (typeof r !== 'string') expect([r.name, r.$metadata.httpStatusCode]).toEqual(['AccessDenied', 403]);
      allowed = r === 'ok';
    } else {
      const r = await client.send(new DeleteObjectsCommand({ Bucket: B, Delete: { Objects: [{ Key: key, VersionId: v }] }, ...bypass })).then(
        (res) => res,
        (e: { name: string }) => e,
      );
      if ('name' in r) {
        // A key without the bypass grant asking for the bypass is refused as a whole.
        expect(r.name).toBe('AccessDenied');
        allowed = false;
      } else {
        if (r.Errors?.length) expect(r.Errors[0]!.Code).toBe('AccessDenied');
        allowed = (r.Deleted ?? []).some((d) => d.VersionId === v);
      }
    }
    expect(allowed).toBe(ALLOWED[state][who]);
    const still = await root.send(new HeadObjectCommand({ Bucket: B, Key: key, VersionId: v })).then(() => true, () => false);
    expect(still).toBe(!allowed);
  });

  it('a delete without a version adds a marker over a locked version; the bucket holding it cannot be deleted', async () => {
    const v = (await root.send(new PutObjectCommand({ Bucket: B, Key: 'held', Body: 'x', ObjectLockLegalHoldStatus: 'ON' }))).VersionId!;
    const del = await root.send(new DeleteObjectCommand({ Bucket: B, Key: 'held' }));
    expect(del.DeleteMarker).toBe(true);
    expect((await root.send(new HeadObjectCommand({ Bucket: B, Key: 'held', VersionId: v }))).ObjectLockLegalHoldStatus).toBe('ON');
    expect((await s3Error(root.send(new DeleteBucketCommand({ Bucket: B })))).name).toBe('BucketNotEmpty');
  });
});
