import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketLifecycleCommand,
  GetBucketLifecycleConfigurationCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectVersionsCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectLegalHoldCommand,
  UploadPartCommand,
  type LifecycleRule,
  type S3Client,
} from '@aws-sdk/client-s3';
import { startTestServer, TEST_ACCESS_KEY, TEST_SECRET, type TestServer } from '../helpers/server.js';
import { s3Error } from '../helpers/sdk.js';
import { signRequest } from '../../src/auth/sigv4.js';
import type { LifecycleResult } from '../../src/storage/lifecycle.js';

// Bucket lifecycle end to end on one server with a one-second lifecycle "day" and no worker:
// each pass is triggered through the admin API (what `cairn lifecycle run --url` does) with a
// clock a few "days" ahead, so nothing sleeps.

const md5B64 = (b: Buffer) => createHash('md5').update(b).digest('base64');
const sha256Hex = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('lifecycle: configuration, x-amz-expiration, passes', () => {
  let srv: TestServer;
  let s3: S3Client;

  beforeAll(async () => {
    srv = await startTestServer({ lifecycleDaySeconds: 1, lifecycleInterval: 0 });
    s3 = srv.client();
  });
  afterAll(async () => srv?.stop());

  const bucket = async (name: string, opts: { versioning?: 'Enabled' | 'Suspended'; lock?: boolean } = {}) => {
    await s3.send(new CreateBucketCommand({ Bucket: name, ObjectLockEnabledForBucket: opts.lock }));
    if (opts.versioning) await s3.send(new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: opts.versioning } }));
  };
  const rules = (b: string, Rules: LifecycleRule[]) => s3.send(new PutBucketLifecycleConfigurationCommand({ Bucket: b, LifecycleConfiguration: { Rules } }));
  const pass = async (b: string, aheadSeconds: number, dryRun = false): Promise<LifecycleResult> => {
    const at = new Date(Date.now() + aheadSeconds * 1000).toISOString();
    const res = await fetch(`${srv.adminUrl}/v1/lifecycle`, {
      method: 'POST',
      headers: { authorization: `Bearer ${srv.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ bucket: b, at, dryRun }),
    });
    expect(res.status).toBe(200);
    return (await res.json()) as LifecycleResult;
  };
  const versions = async (b: string) =>
    ((await s3.send(new ListObjectVersionsCommand({ Bucket: b }))).Versions ?? []).map((v) => `${v.Key}@${v.VersionId}`).concat(
      ((await s3.send(new ListObjectVersionsCommand({ Bucket: b }))).DeleteMarkers ?? []).map((m) => `${m.Key}@${m.VersionId}:marker`),
    );
  /** A signed raw PUT ?lifecycle (documents the SDK would not send). */
  const rawPut = async (b: string, body: string, headers: Record<string, string> = {}) => {
    const buf = Buffer.from(body);
    const host = new URL(srv.url).host;
    const signed = signRequest(
      { method: 'PUT', rawPath: `/${b}`, rawQuery: 'lifecycle', headers: { host, 'x-amz-content-sha256': sha256Hex(buf), ...headers } },
      { accessKeyId: TEST_ACCESS_KEY, secretAccessKey: TEST_SECRET, region: 'us-east-1', date: new Date() },
    );
    const res = await fetch(`${srv.url}/${b}?lifecycle`, { method: 'PUT', headers: signed.request.headers as Record<string, string>, body: buf });
    return { status: res.status, text: await res.text() };
  };

  it('round-trips a configuration as the SDK (and Terraform) reads it back', async () => {
    await bucket('lc-conf');
    const sent: LifecycleRule[] = [
      { ID: 'logs', Status: 'Enabled', Filter: { Prefix: 'logs/' }, Expiration: { Days: 30 } },
      { ID: 'tagged', Status: 'Disabled', Filter: { Tag: { Key: 'tier', Value: 'tmp' } }, Expiration: { Date: new Date('2031-01-01T00:00:00Z') } },
      {
        ID: 'and',
        Status: 'Enabled',
        Filter: { And: { Prefix: 'x/', Tags: [{ Key: 'a', Value: '1' }], ObjectSizeGreaterThan: 10, ObjectSizeLessThan: 1000 } },
        NoncurrentVersionExpiration: { NoncurrentDays: 7, NewerNoncurrentVersions: 2 },
      },
      { ID: 'all', Status: 'Enabled', Filter: {}, Expiration: { ExpiredObjectDeleteMarker: true }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 3 } },
      { ID: 'big', Status: 'Enabled', Filter: { ObjectSizeGreaterThan: 1048576 }, Expiration: { Days: 1 } },
    ];
    const put = await rules('lc-conf', sent);
    expect(put.TransitionDefaultMinimumObjectSize).toBe('all_storage_classes_128K');
    const got = await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: 'lc-conf' }));
    expect(got.Rules).toEqual(sent);
    expect(got.TransitionDefaultMinimumObjectSize).toBe('all_storage_classes_128K');
    // The legacy top-level Prefix (PutBucketLifecycle's shape) comes back as sent.
    const legacy = '<LifecycleConfiguration><Rule><ID>old</ID><Prefix>p/</Prefix><Status>Enabled</Status><Expiration><Days>2</Days></Expiration></Rule></LifecycleConfiguration>';
    expect((await rawPut('lc-conf', legacy, { 'content-md5': md5B64(Buffer.from(legacy)) })).status).toBe(200);
    expect((await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: 'lc-conf' }))).Rules).toEqual([{ ID: 'old', Prefix: 'p/', Status: 'Enabled', Expiration: { Days: 2 } }]);
    await s3.send(new DeleteBucketLifecycleCommand({ Bucket: 'lc-conf' }));
    const e = await s3Error(s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: 'lc-conf' })));
    expect([e.name, e.$metadata.httpStatusCode]).toEqual(['NoSuchLifecycleConfiguration', 404]);
  });

  it('refuses bad configurations with S3 codes and changes nothing', async () => {
    await bucket('lc-bad');
    await rules('lc-bad', [{ ID: 'keep', Status: 'Enabled', Filter: { Prefix: 'k/' }, Expiration: { Days: 5 } }]);
    const r = (inner: string, id = 'r') => `<Rule><ID>${id}</ID>${inner}</Rule>`;
    const doc = (...rs: string[]) => `<LifecycleConfiguration>${rs.join('')}</LifecycleConfiguration>`;
    const days = (n: number) => `<Filter/><Status>Enabled</Status><Expiration><Days>${n}</Days></Expiration>`;
    const cases: Array<[string, string]> = [
      ['<LifecycleConfiguration><Rule><ID>x</ID>', 'MalformedXML'],
      [doc(r('<Status>Enabled</Status><Expiration><Days>1</Days></Expiration>')), 'MalformedXML'],
      [doc(r('<Filter/><Status>Enabled</Status>')), 'InvalidRequest'],
      [doc(r(days(1), 'same'), r(days(2), 'same')), 'InvalidArgument'],
      [doc(r(days(0))), 'InvalidArgument'],
      [doc(r('<Filter/><Status>Enabled</Status><Expiration><Date>2031-01-01T10:00:00Z</Date></Expiration>')), 'InvalidArgument'],
      [doc(r('<Filter/><Status>Enabled</Status><Expiration><Days>1</Days><Date>2031-01-01T00:00:00Z</Date></Expiration>')), 'MalformedXML'],
      [doc(r('<Filter/><Status>Enabled</Status><Transition><Days>30</Days><StorageClass>GLACIER</StorageClass></Transition>')), 'InvalidRequest'],
    ];
    for (const [xml, code] of cases) {
      const res = await rawPut('lc-bad', xml, { 'content-md5': md5B64(Buffer.from(xml)) });
      expect(res.status, xml).toBe(400);
      expect(res.text, xml).toContain(`<Code>${code}</Code>`);
    }
    // PUT needs a body digest, as on S3.
    const good = doc(r(days(1)));
    expect((await rawPut('lc-bad', good)).text).toContain('<Code>InvalidRequest</Code>');
    expect((await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: 'lc-bad' }))).Rules!.map((x) => x.ID)).toEqual(['keep']);
  });

  it('expires current versions of an unversioned bucket and aborts old uploads; x-amz-expiration on PUT, GET, HEAD', async () => {
    await bucket('lc-plain');
    await rules('lc-plain', [
      { ID: 'tmp rule', Status: 'Enabled', Filter: { Prefix: 'tmp/' }, Expiration: { Days: 2 } },
      { ID: 'uploads', Status: 'Enabled', Filter: {}, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } },
    ]);
    const big = Buffer.alloc(100 * 1024, 7);
    const put = await s3.send(new PutObjectCommand({ Bucket: 'lc-plain', Key: 'tmp/big', Body: big }));
    await s3.send(new PutObjectCommand({ Bucket: 'lc-plain', Key: 'tmp/small', Body: 'x' }));
    await s3.send(new PutObjectCommand({ Bucket: 'lc-plain', Key: 'keep/a', Body: 'y' }));
    const lm = (await srv.meta.objects.get((await srv.meta.buckets.get('lc-plain'))!.id, 'tmp/big'))!.lastModified;
    const expected = `expiry-date="${new Date(Math.ceil((lm + 2000) / 1000) * 1000).toUTCString()}", rule-id="tmp%20rule"`;
    expect(put.Expiration).toBe(expected);
    expect((await s3.send(new HeadObjectCommand({ Bucket: 'lc-plain', Key: 'tmp/big' }))).Expiration).toBe(expected);
    const got = await s3.send(new GetObjectCommand({ Bucket: 'lc-plain', Key: 'tmp/big' }));
    await got.Body!.transformToByteArray();
    expect(got.Expiration).toBe(expected);
    expect((await s3.send(new HeadObjectCommand({ Bucket: 'lc-plain', Key: 'keep/a' }))).Expiration).toBeUndefined();
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'lc-plain', Key: 'mp' }));
    await s3.send(new UploadPartCommand({ Bucket: 'lc-plain', Key: 'mp', UploadId, PartNumber: 1, Body: Buffer.alloc(1000, 1) }));
    const chunksBefore = await srv.meta.maintenance.countChunks();

    const dry = await pass('lc-plain', 10, true);
    expect(dry).toMatchObject({ dryRun: true, versionsExpired: 2, uploadsAborted: 1, bytesExpired: big.length + 1 + 1000 });
    expect((await versions('lc-plain')).length).toBe(3);
    // Not due yet one "day" on (Days 2, rounded up to the next midnight).
    expect((await pass('lc-plain', 0.5)).versionsExpired).toBe(0);

    const done = await pass('lc-plain', 10);
    expect(done).toMatchObject({ dryRun: false, versionsExpired: 2, markersAdded: 0, uploadsAborted: 1, bytesExpired: big.length + 1 + 1000, lockedKept: 0 });
    expect(await versions('lc-plain')).toEqual(['keep/a@null']);
    expect((await s3.send(new ListMultipartUploadsCommand({ Bucket: 'lc-plain' }))).Uploads ?? []).toEqual([]);
    // The big object's chunk and the part's are gone, as after an S3 DELETE and Abort.
    expect(await srv.meta.maintenance.countChunks()).toBeLessThan(chunksBefore);

    const stats = (await (await fetch(`${srv.adminUrl}/v1/stats`, { headers: { authorization: `Bearer ${srv.adminToken}` } })).json()) as { lifecycle: Record<string, unknown> };
    expect(stats.lifecycle).toMatchObject({ trigger: 'cli', versionsExpired: 2, uploadsAborted: 1, error: null });
    const metrics = await (await fetch(`${srv.adminUrl}/metrics`, { headers: { authorization: `Bearer ${srv.adminToken}` } })).text();
    expect(metrics).toMatch(/cairn_lifecycle_actions_total\{action="version_removed"\} 2/);
  });

  it('tag filters: a Tag rule and an And of prefix, tags and size expire only the versions that match', async () => {
    await bucket('lc-tags');
    await rules('lc-tags', [
      { ID: 'temp', Status: 'Enabled', Filter: { Tag: { Key: 'class', Value: 'temp' } }, Expiration: { Days: 1 } },
      {
        ID: 'logs',
        Status: 'Enabled',
        Filter: { And: { Prefix: 'logs/', Tags: [{ Key: 'env', Value: 'dev' }, { Key: 'keep', Value: 'no' }], ObjectSizeGreaterThan: 2 } },
        Expiration: { Days: 1 },
      },
    ]);
    const put = (Key: string, Body: string, Tagging?: string) => s3.send(new PutObjectCommand({ Bucket: 'lc-tags', Key, Body, Tagging }));
    const tagged = await put('a', 'aaa', 'class=temp');
    await put('b', 'bbb', 'class=keep');
    await put('c', 'ccc');
    await put('logs/1', 'log-one', 'env=dev&keep=no');
    await put('logs/2', 'log-two', 'env=dev');
    await put('logs/3', 'x', 'env=dev&keep=no');
    await put('other/1', 'log-one', 'env=dev&keep=no');
    // The header names the tag rule for a tagged version only.
    expect(tagged.Expiration).toMatch(/rule-id="temp"$/);
    expect((await s3.send(new HeadObjectCommand({ Bucket: 'lc-tags', Key: 'b' }))).Expiration).toBeUndefined();
    const done = await pass('lc-tags', 5);
    expect(done.versionsExpired).toBe(2);
    expect((await versions('lc-tags')).sort()).toEqual(['b@null', 'c@null', 'logs/2@null', 'logs/3@null', 'other/1@null']);
  });

  it('versioned: a delete marker over the current version, noncurrent versions, then the lone delete marker', async () => {
    await bucket('lc-ver', { versioning: 'Enabled' });
    await rules('lc-ver', [
      { ID: 'current', Status: 'Enabled', Filter: { Prefix: '' }, Expiration: { Days: 1 }, NoncurrentVersionExpiration: { NoncurrentDays: 1 } },
      { ID: 'markers', Status: 'Enabled', Filter: {}, Expiration: { ExpiredObjectDeleteMarker: true } },
    ]);
    const v1 = (await s3.send(new PutObjectCommand({ Bucket: 'lc-ver', Key: 'k', Body: 'one' }))).VersionId!;
    const v2 = (await s3.send(new PutObjectCommand({ Bucket: 'lc-ver', Key: 'k', Body: 'two!' }))).VersionId!;
    const first = await pass('lc-ver', 10);
    expect(first).toMatchObject({ markersAdded: 1, versionsExpired: 1, bytesExpired: 3 });
    const after = await versions('lc-ver');
    expect(after).toContain(`k@${v2}`);
    expect(after).not.toContain(`k@${v1}`);
    expect(after.filter((v) => v.endsWith(':marker'))).toHaveLength(1);
    // v2 became noncurrent when the marker came; a later pass removes it, then the marker left alone.
    const second = await pass('lc-ver', 20);
    expect(second).toMatchObject({ versionsExpired: 1, markersRemoved: 1, bytesExpired: 4 });
    expect(await versions('lc-ver')).toEqual([]);
  });

  it('suspended versioning: a null delete marker replaces the null version', async () => {
    await bucket('lc-susp', { versioning: 'Suspended' });
    await rules('lc-susp', [{ ID: 'r', Status: 'Enabled', Filter: {}, Expiration: { Days: 1 } }]);
    await s3.send(new PutObjectCommand({ Bucket: 'lc-susp', Key: 'k', Body: 'null version' }));
    expect(await pass('lc-susp', 10)).toMatchObject({ markersAdded: 1, bytesExpired: 12 });
    expect(await versions('lc-susp')).toEqual(['k@null:marker']);
  });

  it('object lock: a version under legal hold or retention survives its rule', async () => {
    await bucket('lc-lock', { lock: true });
    await rules('lc-lock', [{ ID: 'r', Status: 'Enabled', Filter: {}, NoncurrentVersionExpiration: { NoncurrentDays: 1 } }]);
    const held = (await s3.send(new PutObjectCommand({ Bucket: 'lc-lock', Key: 'held', Body: 'a', ObjectLockLegalHoldStatus: 'ON' }))).VersionId!;
    await s3.send(new PutObjectCommand({ Bucket: 'lc-lock', Key: 'held', Body: 'b' }));
    const retained = (await s3.send(new PutObjectCommand({
      Bucket: 'lc-lock', Key: 'kept', Body: 'c', ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: new Date(Date.now() + 86_400_000),
    }))).VersionId!;
    await s3.send(new PutObjectCommand({ Bucket: 'lc-lock', Key: 'kept', Body: 'd' }));
    const r = await pass('lc-lock', 10);
    expect(r).toMatchObject({ versionsExpired: 0, lockedKept: 2 });
    const left = await versions('lc-lock');
    expect(left).toContain(`held@${held}`);
    expect(left).toContain(`kept@${retained}`);
    // Once the hold is lifted the version goes.
    await s3.send(new PutObjectLegalHoldCommand({ Bucket: 'lc-lock', Key: 'held', VersionId: held, LegalHold: { Status: 'OFF' } }));
    expect(await pass('lc-lock', 10)).toMatchObject({ versionsExpired: 1, lockedKept: 1 });
  });
});
