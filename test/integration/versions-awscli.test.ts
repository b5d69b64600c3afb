import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GetObjectCommand, ListObjectVersionsCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { hasClient, run, type RunResult } from '../helpers/clients.js';
import { bodyOf } from '../helpers/sdk.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// The real aws CLI (s3api) against the real server for versions, conditional writes and object
// lock: every answer is what botocore parsed from cairn's XML and headers, every refusal an exit
// code and an error code on stderr. Setup and read-backs that are not what a test is about go
// through the SDK: one CLI start costs 1-2 s on a shared machine.

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
/** A date the CLI takes for --retention / --object-lock-retain-until-date, `days` from now. */
const inDays = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().replace(/\.\d+Z$/, 'Z');

interface VersionEntry {
  Key: string;
  VersionId: string;
  IsLatest: boolean;
  ETag?: string;
  Size?: number;
  LastModified: string;
}

describe.skipIf(!hasClient('aws'))('aws CLI: versions, conditional writes, object lock', () => {
  let srv: TestServer;
  let work: string;
  let env: NodeJS.ProcessEnv;
  let s3: S3Client;

  const exec = (args: string[], e: NodeJS.ProcessEnv = env) => run('aws', ['--endpoint-url', srv.url, ...args], { env: e, timeoutMs: 60_000 });
  /** Runs s3api and parses its JSON answer (an empty answer is {}). */
  const api = async (args: string[], e?: NodeJS.ProcessEnv): Promise<Record<string, any>> => {
    const r = await exec(['s3api', ...args, '--output', 'json'], e);
    if (r.code !== 0) throw new Error(`aws s3api ${args.join(' ')} exited ${r.code}\n${r.stderr}`);
    return r.stdout.trim() === '' ? {} : (JSON.parse(r.stdout) as Record<string, any>);
  };
  /** Runs s3api expecting a service error: the CLI's exit code for one (v1 255, v2 254) and the code on stderr. */
  const apiFails = async (args: string[], code: string, e?: NodeJS.ProcessEnv): Promise<RunResult> => {
    const r = await exec(['s3api', ...args], e);
    expect(r.code, `aws s3api ${args.join(' ')} should fail with ${code}\n${r.stdout}\n${r.stderr}`).not.toBe(0);
    expect([254, 255], r.stderr).toContain(r.code);
    expect(r.stderr).toContain(`(${code})`);
    return r;
  };
  const file = (name: string, data: Buffer) => {
    const p = path.join(work, name);
    fs.writeFileSync(p, data);
    return p;
  };
  const put = (bucket: string, key: string, data: Buffer, extra: string[] = []) =>
    api(['put-object', '--bucket', bucket, '--key', key, '--body', file(`body-${randomBytes(4).toString('hex')}`, data), ...extra]);
  const getBytes = async (bucket: string, key: string, extra: string[] = []) => {
    const out = path.join(work, `out-${randomBytes(4).toString('hex')}`);
    const res = await api(['get-object', '--bucket', bucket, '--key', key, ...extra, out]);
    return { res, bytes: fs.readFileSync(out) };
  };
  const versions = async (bucket: string, prefix: string) => {
    const r = await api(['list-object-versions', '--bucket', bucket, '--prefix', prefix]);
    return { versions: (r.Versions ?? []) as VersionEntry[], markers: (r.DeleteMarkers ?? []) as VersionEntry[] };
  };
  /** Setup through the SDK: a new version, its id. */
  const sdkPut = async (Bucket: string, Key: string, Body: string, extra: Partial<ConstructorParameters<typeof PutObjectCommand>[0]> = {}) =>
    (await s3.send(new PutObjectCommand({ Bucket, Key, Body, ...extra }))).VersionId!;
  const sdkGet = async (Bucket: string, Key: string, VersionId?: string) => bodyOf(await s3.send(new GetObjectCommand({ Bucket, Key, VersionId })));
  const sdkVersionIds = async (Bucket: string, Prefix: string) =>
    ((await s3.send(new ListObjectVersionsCommand({ Bucket, Prefix }))).Versions ?? []).map((v) => v.VersionId);

  beforeAll(async () => {
    srv = await startTestServer();
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-versions-awscli-'));
    const cfg = path.join(work, 'config');
    fs.writeFileSync(cfg, '[default]\nregion = us-east-1\ns3 =\n  addressing_style = path\n');
    env = { ...srv.env, AWS_CONFIG_FILE: cfg, AWS_PAGER: '', AWS_MAX_ATTEMPTS: '1' };
    s3 = srv.client();
    await Promise.all([api(['create-bucket', '--bucket', 'vers']), api(['create-bucket', '--bucket', 'locked', '--object-lock-enabled-for-bucket'])]);
  });
  afterAll(async () => {
    await srv?.stop();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it('create-bucket --object-lock-enabled-for-bucket makes a versioned bucket with object lock; a plain bucket has neither', async () => {
    const [lockedVersioning, lockConfig, plainVersioning] = await Promise.all([
      api(['get-bucket-versioning', '--bucket', 'locked']),
      api(['get-object-lock-configuration', '--bucket', 'locked']),
      api(['get-bucket-versioning', '--bucket', 'vers']),
    ]);
    expect(lockedVersioning.Status).toBe('Enabled');
    expect(lockConfig.ObjectLockConfiguration).toEqual({ ObjectLockEnabled: 'Enabled' });
    // Never configured: no Status at all.
    expect(plainVersioning.Status).toBeUndefined();
    await Promise.all([
      apiFails(['get-object-lock-configuration', '--bucket', 'vers'], 'ObjectLockConfigurationNotFoundError'),
      // Versioning cannot be suspended on a bucket with object lock.
      apiFails(['put-bucket-versioning', '--bucket', 'locked', '--versioning-configuration', 'Status=Suspended'], 'InvalidBucketState'),
    ]);
  });

  describe('a versioned bucket', () => {
    const bodies = [randomBytes(1000), randomBytes(2000), Buffer.from('third and current\n')];
    const ids: string[] = [];

    it('put-bucket-versioning Enabled, three put-objects of one key: list-object-versions lists three ids newest first, the last IsLatest', async () => {
      await api(['put-bucket-versioning', '--bucket', 'vers', '--versioning-configuration', 'Status=Enabled']);
      expect((await api(['get-bucket-versioning', '--bucket', 'vers'])).Status).toBe('Enabled');
      for (const b of bodies) {
        const r = await put('vers', 'doc.txt', b);
        expect(r.ETag).toBe(`"${md5(b)}"`);
        expect(typeof r.VersionId).toBe('string');
        expect(r.VersionId).not.toBe('null');
        ids.push(r.VersionId as string);
      }
      expect(new Set(ids).size).toBe(3);
      const { versions: vs, markers } = await versions('vers', 'doc.txt');
      expect(markers).toEqual([]);
      expect(vs.map((v) => v.VersionId)).toEqual([...ids].reverse());
      expect(vs.map((v) => v.IsLatest)).toEqual([true, false, false]);
      expect(vs.map((v) => v.ETag)).toEqual([...bodies].reverse().map((b) => `"${md5(b)}"`));
      expect(vs.map((v) => v.Size)).toEqual([...bodies].reverse().map((b) => b.length));
      expect(vs.every((v) => v.Key === 'doc.txt')).toBe(true);
    });

    it('get-object and head-object --version-id answer an old version (bytes, id, ETag); copy-object copies a source version', async () => {
      const [old, head, current, copy] = await Promise.all([
        getBytes('vers', 'doc.txt', ['--version-id', ids[0]!]),
        api(['head-object', '--bucket', 'vers', '--key', 'doc.txt', '--version-id', ids[1]!]),
        getBytes('vers', 'doc.txt'),
        api(['copy-object', '--bucket', 'vers', '--key', 'copy-of-v1.txt', '--copy-source', `vers/doc.txt?versionId=${ids[0]}`]),
      ]);
      expect(old.bytes.equals(bodies[0]!)).toBe(true);
      expect(old.res.VersionId).toBe(ids[0]);
      expect(old.res.ETag).toBe(`"${md5(bodies[0]!)}"`);
      expect(head.VersionId).toBe(ids[1]);
      expect(head.ContentLength).toBe(bodies[1]!.length);
      expect(current.bytes.equals(bodies[2]!)).toBe(true);
      expect(current.res.VersionId).toBe(ids[2]);
      expect(copy.CopySourceVersionId).toBe(ids[0]);
      expect(copy.CopyObjectResult.ETag).toBe(`"${md5(bodies[0]!)}"`);
      expect((await sdkGet('vers', 'copy-of-v1.txt')).equals(bodies[0]!)).toBe(true);
    });

    it('copy-object of a version onto its own key is a new current version (old or current version named); with none named it is refused', async () => {
      const key = 'restore-me.txt';
      const [a, b] = [Buffer.from('restore: first\n'), Buffer.from('restore: second\n')];
      const va = await sdkPut('vers', key, a.toString());
      const vb = await sdkPut('vers', key, b.toString());
      const [restored] = await Promise.all([
        // An old version named: restored as a new current version (how S3 restores a version).
        api(['copy-object', '--bucket', 'vers', '--key', key, '--copy-source', `vers/${key}?versionId=${va}`]),
        // No version named, nothing changed: a copy onto itself is refused.
        apiFails(['copy-object', '--bucket', 'vers', '--key', key, '--copy-source', `vers/${key}`], 'InvalidRequest'),
      ]);
      expect(restored.CopySourceVersionId).toBe(va);
      expect([va, vb]).not.toContain(restored.VersionId);
      expect((await sdkGet('vers', key)).equals(a)).toBe(true);
      // The current version named: a regular copy too (S3 and MinIO accept it), one more version.
      const current = await api(['copy-object', '--bucket', 'vers', '--key', key, '--copy-source', `vers/${key}?versionId=${restored.VersionId}`]);
      expect(current.CopySourceVersionId).toBe(restored.VersionId);
      expect(await sdkVersionIds('vers', key)).toEqual([current.VersionId, restored.VersionId, vb, va]);
      expect((await sdkGet('vers', key)).equals(a)).toBe(true);
    });

    it('delete-object adds a delete marker; delete-object --version-id <marker> brings the key back', async () => {
      const del = await api(['delete-object', '--bucket', 'vers', '--key', 'doc.txt']);
      expect(del.DeleteMarker).toBe(true);
      const marker = del.VersionId as string;
      expect(typeof marker).toBe('string');
      expect(ids).not.toContain(marker);

      const [head, during] = await Promise.all([
        exec(['s3api', 'head-object', '--bucket', 'vers', '--key', 'doc.txt']),
        versions('vers', 'doc.txt'),
        apiFails(['get-object', '--bucket', 'vers', '--key', 'doc.txt', path.join(work, 'gone')], 'NoSuchKey'),
      ]);
      expect(head.code).not.toBe(0);
      expect(head.stderr).toMatch(/\(404\)/);
      // The old versions are all still there, under the marker.
      expect(during.markers.map((m) => [m.VersionId, m.IsLatest])).toEqual([[marker, true]]);
      expect(during.versions.map((v) => [v.VersionId, v.IsLatest])).toEqual([...ids].reverse().map((id) => [id, false]));

      const undo = await api(['delete-object', '--bucket', 'vers', '--key', 'doc.txt', '--version-id', marker]);
      expect(undo.VersionId).toBe(marker);
      expect(undo.DeleteMarker).toBe(true);
      const [back, after] = await Promise.all([getBytes('vers', 'doc.txt'), versions('vers', 'doc.txt')]);
      expect(back.bytes.equals(bodies[2]!)).toBe(true);
      expect(back.res.VersionId).toBe(ids[2]);
      expect(after.markers).toEqual([]);
      expect(after.versions.map((v) => [v.VersionId, v.IsLatest])).toEqual([...ids].reverse().map((id, i) => [id, i === 0]));
    });

    it('delete-object --version-id of an old version removes just that one', async () => {
      const del = await api(['delete-object', '--bucket', 'vers', '--key', 'doc.txt', '--version-id', ids[1]!]);
      expect(del.VersionId).toBe(ids[1]);
      expect(del.DeleteMarker).toBeUndefined();
      expect(await sdkVersionIds('vers', 'doc.txt')).toEqual([ids[2], ids[0]]);
      await apiFails(['get-object', '--bucket', 'vers', '--key', 'doc.txt', '--version-id', ids[1]!, path.join(work, 'gone')], 'NoSuchVersion');
    });

    it('Suspended: put-object answers VersionId "null", and a second put replaces that version', async () => {
      await api(['put-bucket-versioning', '--bucket', 'vers', '--versioning-configuration', 'Status=Suspended']);
      expect((await api(['get-bucket-versioning', '--bucket', 'vers'])).Status).toBe('Suspended');
      const a = await put('vers', 'doc.txt', Buffer.from('null one'));
      const b = await put('vers', 'doc.txt', Buffer.from('null two'));
      expect([a.VersionId, b.VersionId]).toEqual(['null', 'null']);
      const { versions: vs } = await versions('vers', 'doc.txt');
      expect(vs.map((v) => [v.VersionId, v.IsLatest])).toEqual([['null', true], [ids[2], false], [ids[0], false]]);
      expect((await sdkGet('vers', 'doc.txt', 'null')).toString()).toBe('null two');
      await api(['put-bucket-versioning', '--bucket', 'vers', '--versioning-configuration', 'Status=Enabled']);
    });
  });

  describe('conditional writes', () => {
    it('put-object --if-none-match "*": the first creates, the second fails 412 PreconditionFailed and changes nothing; after a delete marker it creates again', async () => {
      const first = Buffer.from('lock holder 1');
      const r = await put('vers', 'tf.lock', first, ['--if-none-match', '*']);
      expect(r.ETag).toBe(`"${md5(first)}"`);
      await apiFails(['put-object', '--bucket', 'vers', '--key', 'tf.lock', '--body', file('lock2', Buffer.from('lock holder 2')), '--if-none-match', '*'], 'PreconditionFailed');
      expect((await sdkGet('vers', 'tf.lock')).equals(first)).toBe(true);
      expect(await sdkVersionIds('vers', 'tf.lock')).toEqual([r.VersionId]);
      // A delete marker counts as absent (Terraform's lock file is deleted that way on a versioned bucket).
      await api(['delete-object', '--bucket', 'vers', '--key', 'tf.lock']);
      const again = Buffer.from('lock holder 3');
      await put('vers', 'tf.lock', again, ['--if-none-match', '*']);
      expect((await sdkGet('vers', 'tf.lock')).equals(again)).toBe(true);
    });

    it('put-object --if-match <etag>: the current ETag succeeds, a stale one fails 412, an absent key 404 NoSuchKey', async () => {
      const v1 = Buffer.from('lease v1');
      const v2 = Buffer.from('lease v2');
      await sdkPut('vers', 'lease', v1.toString());
      const second = await put('vers', 'lease', v2, ['--if-match', `"${md5(v1)}"`]);
      expect(second.ETag).toBe(`"${md5(v2)}"`);
      await Promise.all([
        // v1's ETag is stale now.
        apiFails(['put-object', '--bucket', 'vers', '--key', 'lease', '--body', file('lease3', Buffer.from('lease v3')), '--if-match', `"${md5(v1)}"`], 'PreconditionFailed'),
        apiFails(['put-object', '--bucket', 'vers', '--key', 'no-such-lease', '--body', file('lease4', v1), '--if-match', `"${md5(v1)}"`], 'NoSuchKey'),
      ]);
      expect((await sdkGet('vers', 'lease')).equals(v2)).toBe(true);
    });

    it('complete-multipart-upload --if-none-match "*" on an existing key fails 412; on a new key it completes', async () => {
      const part = randomBytes(100_000);
      const complete = async (key: string) => {
        const { UploadId } = await api(['create-multipart-upload', '--bucket', 'vers', '--key', key]);
        const { ETag } = await api(['upload-part', '--bucket', 'vers', '--key', key, '--upload-id', UploadId, '--part-number', '1', '--body', file(`part-${key}`, part)]);
        const mpu = JSON.stringify({ Parts: [{ PartNumber: 1, ETag }] });
        return { UploadId, args: ['complete-multipart-upload', '--bucket', 'vers', '--key', key, '--upload-id', UploadId, '--multipart-upload', mpu, '--if-none-match', '*'] };
      };
      const [fresh, taken] = await Promise.all([complete('mpu-new'), complete('lease')]);
      const [done] = await Promise.all([api(fresh.args), apiFails(taken.args, 'PreconditionFailed')]);
      expect(done.ETag).toMatch(/-1"$/);
      expect((await sdkGet('vers', 'mpu-new')).equals(part)).toBe(true);
      expect((await sdkGet('vers', 'lease')).toString()).toBe('lease v2');
      await api(['abort-multipart-upload', '--bucket', 'vers', '--key', 'lease', '--upload-id', taken.UploadId]);
    });
  });

  describe('object lock', () => {
    it('put-object-retention / get-object-retention; GOVERNANCE blocks delete-object --version-id until --bypass-governance-retention', async () => {
      const v = await sdkPut('locked', 'gov.txt', 'governed');
      // No retention yet.
      await apiFails(['get-object-retention', '--bucket', 'locked', '--key', 'gov.txt', '--version-id', v], 'NoSuchObjectLockConfiguration');
      const until = inDays(1);
      await api(['put-object-retention', '--bucket', 'locked', '--key', 'gov.txt', '--version-id', v, '--retention', `Mode=GOVERNANCE,RetainUntilDate=${until}`]);
      const [got, head] = await Promise.all([
        api(['get-object-retention', '--bucket', 'locked', '--key', 'gov.txt', '--version-id', v]),
        api(['head-object', '--bucket', 'locked', '--key', 'gov.txt', '--version-id', v]),
        apiFails(['delete-object', '--bucket', 'locked', '--key', 'gov.txt', '--version-id', v], 'AccessDenied'),
        // Shortening GOVERNANCE needs the bypass too.
        apiFails(['put-object-retention', '--bucket', 'locked', '--key', 'gov.txt', '--version-id', v, '--retention', `Mode=GOVERNANCE,RetainUntilDate=${inDays(0.5)}`], 'AccessDenied'),
      ]);
      expect(got.Retention.Mode).toBe('GOVERNANCE');
      expect(Date.parse(got.Retention.RetainUntilDate)).toBe(Date.parse(until));
      expect(head.ObjectLockMode).toBe('GOVERNANCE');
      expect(Date.parse(head.ObjectLockRetainUntilDate)).toBe(Date.parse(until));
      // A delete without a version id only adds a marker: allowed, and the version stays.
      const marker = await api(['delete-object', '--bucket', 'locked', '--key', 'gov.txt']);
      expect(marker.DeleteMarker).toBe(true);
      expect((await sdkGet('locked', 'gov.txt', v)).toString()).toBe('governed');

      const del = await api(['delete-object', '--bucket', 'locked', '--key', 'gov.txt', '--version-id', v, '--bypass-governance-retention']);
      expect(del.VersionId).toBe(v);
      expect(await sdkVersionIds('locked', 'gov.txt')).toEqual([]);
    });

    it('COMPLIANCE retention: no delete-object --version-id, not even with --bypass-governance-retention; it can only be extended', async () => {
      const v = await sdkPut('locked', 'comp.txt', 'compliant');
      const until = inDays(1);
      await api(['put-object-retention', '--bucket', 'locked', '--key', 'comp.txt', '--version-id', v, '--retention', `Mode=COMPLIANCE,RetainUntilDate=${until}`]);
      await Promise.all([
        apiFails(['delete-object', '--bucket', 'locked', '--key', 'comp.txt', '--version-id', v], 'AccessDenied'),
        apiFails(['delete-object', '--bucket', 'locked', '--key', 'comp.txt', '--version-id', v, '--bypass-governance-retention'], 'AccessDenied'),
        apiFails(['put-object-retention', '--bucket', 'locked', '--key', 'comp.txt', '--version-id', v, '--retention', `Mode=GOVERNANCE,RetainUntilDate=${until}`, '--bypass-governance-retention'], 'AccessDenied'),
      ]);
      const later = inDays(2);
      await api(['put-object-retention', '--bucket', 'locked', '--key', 'comp.txt', '--version-id', v, '--retention', `Mode=COMPLIANCE,RetainUntilDate=${later}`]);
      const got = await api(['get-object-retention', '--bucket', 'locked', '--key', 'comp.txt', '--version-id', v]);
      expect(got.Retention.Mode).toBe('COMPLIANCE');
      expect(Date.parse(got.Retention.RetainUntilDate)).toBe(Date.parse(later));
    });

    it('put-object with --object-lock-mode/--object-lock-retain-until-date locks the new version; refused on a bucket without object lock', async () => {
      const until = inDays(1);
      const [r] = await Promise.all([
        put('locked', 'born-locked.txt', Buffer.from('born locked'), ['--object-lock-mode', 'COMPLIANCE', '--object-lock-retain-until-date', until]),
        apiFails(['put-object', '--bucket', 'vers', '--key', 'x', '--body', file('x', Buffer.from('x')), '--object-lock-mode', 'GOVERNANCE', '--object-lock-retain-until-date', until], 'InvalidRequest'),
      ]);
      const [got] = await Promise.all([
        api(['get-object-retention', '--bucket', 'locked', '--key', 'born-locked.txt', '--version-id', r.VersionId]),
        apiFails(['delete-object', '--bucket', 'locked', '--key', 'born-locked.txt', '--version-id', r.VersionId], 'AccessDenied'),
      ]);
      expect(got.Retention.Mode).toBe('COMPLIANCE');
      expect(Date.parse(got.Retention.RetainUntilDate)).toBe(Date.parse(until));
    });

    it('put-object-legal-hold / get-object-legal-hold; a held version cannot be deleted, even with the bypass, until the hold is off', async () => {
      const v = await sdkPut('locked', 'held.txt', 'held');
      expect((await api(['get-object-legal-hold', '--bucket', 'locked', '--key', 'held.txt', '--version-id', v])).LegalHold).toEqual({ Status: 'OFF' });
      await api(['put-object-legal-hold', '--bucket', 'locked', '--key', 'held.txt', '--version-id', v, '--legal-hold', 'Status=ON']);
      const [hold, head] = await Promise.all([
        api(['get-object-legal-hold', '--bucket', 'locked', '--key', 'held.txt', '--version-id', v]),
        api(['head-object', '--bucket', 'locked', '--key', 'held.txt']),
        apiFails(['delete-object', '--bucket', 'locked', '--key', 'held.txt', '--version-id', v], 'AccessDenied'),
        apiFails(['delete-object', '--bucket', 'locked', '--key', 'held.txt', '--version-id', v, '--bypass-governance-retention'], 'AccessDenied'),
      ]);
      expect(hold.LegalHold).toEqual({ Status: 'ON' });
      expect(head.ObjectLockLegalHoldStatus).toBe('ON');
      await api(['put-object-legal-hold', '--bucket', 'locked', '--key', 'held.txt', '--version-id', v, '--legal-hold', 'Status=OFF']);
      expect((await api(['delete-object', '--bucket', 'locked', '--key', 'held.txt', '--version-id', v])).VersionId).toBe(v);
    });

    it('--bypass-governance-retention needs the root key or a bypass grant: a write-only key is refused, a bypass key may', async () => {
      const keyEnv = async (permission: 'write' | 'bypass') => {
        const k = await srv.keys.create({ description: `aws ${permission}`, grants: [{ bucket: 'locked', permission }] });
        return { ...env, AWS_ACCESS_KEY_ID: k.id, AWS_SECRET_ACCESS_KEY: k.secret };
      };
      const [writer, bypasser] = await Promise.all([keyEnv('write'), keyEnv('bypass')]);
      const v = await sdkPut('locked', 'gov2.txt', 'governed 2', { ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: new Date(inDays(1)), ChecksumAlgorithm: 'CRC32' });
      const del = ['delete-object', '--bucket', 'locked', '--key', 'gov2.txt', '--version-id', v, '--bypass-governance-retention'];
      await Promise.all([
        apiFails(del, 'AccessDenied', writer),
        apiFails(['delete-object', '--bucket', 'locked', '--key', 'gov2.txt', '--version-id', v], 'AccessDenied', bypasser),
      ]);
      expect((await api(del, bypasser)).VersionId).toBe(v);
    });

    it('put-object-lock-configuration sets a default retention that new versions get; get-object-lock-configuration returns it', async () => {
      await api(['put-object-lock-configuration', '--bucket', 'locked', '--object-lock-configuration', 'ObjectLockEnabled=Enabled,Rule={DefaultRetention={Mode=GOVERNANCE,Days=1}}']);
      const before = Date.now();
      const v = await sdkPut('locked', 'defaulted.txt', 'defaulted');
      const after = Date.now();
      const [cfg, got] = await Promise.all([
        api(['get-object-lock-configuration', '--bucket', 'locked']),
        api(['get-object-retention', '--bucket', 'locked', '--key', 'defaulted.txt', '--version-id', v]),
        apiFails(['delete-object', '--bucket', 'locked', '--key', 'defaulted.txt', '--version-id', v], 'AccessDenied'),
      ]);
      expect(cfg.ObjectLockConfiguration).toEqual({ ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 1 } } });
      expect(got.Retention.Mode).toBe('GOVERNANCE');
      const until = Date.parse(got.Retention.RetainUntilDate);
      expect(until).toBeGreaterThanOrEqual(before + 86_400_000 - 1000);
      expect(until).toBeLessThanOrEqual(after + 86_400_000 + 1000);

      // Years, then the rule removed: new versions carry no retention.
      await api(['put-object-lock-configuration', '--bucket', 'locked', '--object-lock-configuration', 'ObjectLockEnabled=Enabled,Rule={DefaultRetention={Mode=COMPLIANCE,Years=1}}']);
      expect((await api(['get-object-lock-configuration', '--bucket', 'locked'])).ObjectLockConfiguration.Rule).toEqual({ DefaultRetention: { Mode: 'COMPLIANCE', Years: 1 } });
      await api(['put-object-lock-configuration', '--bucket', 'locked', '--object-lock-configuration', 'ObjectLockEnabled=Enabled']);
      const free = await sdkPut('locked', 'free.txt', 'free');
      const [none] = await Promise.all([
        api(['get-object-lock-configuration', '--bucket', 'locked']),
        apiFails(['get-object-retention', '--bucket', 'locked', '--key', 'free.txt', '--version-id', free], 'NoSuchObjectLockConfiguration'),
      ]);
      expect(none.ObjectLockConfiguration).toEqual({ ObjectLockEnabled: 'Enabled' });
      expect((await api(['delete-object', '--bucket', 'locked', '--key', 'free.txt', '--version-id', free])).VersionId).toBe(free);
    });
  });
});
