import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, GetBucketTaggingCommand, GetObjectTaggingCommand, PutBucketVersioningCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { hasClient, run } from '../helpers/clients.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// Tagging with the real aws CLI (s3api) against the real server (#21): what botocore sends for
// each operation (its checksums included) and parses back. One CLI start costs 1-2 s: a handful
// of calls, each checking several things.

describe.skipIf(!hasClient('aws'))('aws CLI: tagging', () => {
  let srv: TestServer;
  let work: string;
  let env: NodeJS.ProcessEnv;
  let s3: S3Client;

  const exec = (args: string[]) => run('aws', ['--endpoint-url', srv.url, 's3api', ...args, '--output', 'json'], { env, timeoutMs: 60_000 });
  const api = async (args: string[]): Promise<Record<string, any>> => {
    const r = await exec(args);
    if (r.code !== 0) throw new Error(`aws s3api ${args.join(' ')} exited ${r.code}\n${r.stderr}`);
    return r.stdout.trim() === '' ? {} : (JSON.parse(r.stdout) as Record<string, any>);
  };
  const fails = async (args: string[], code: string) => {
    const r = await exec(args);
    expect([254, 255], r.stderr).toContain(r.code);
    expect(r.stderr).toContain(`(${code})`);
  };
  const tagging = (pairs: Array<[string, string]>) => JSON.stringify({ TagSet: pairs.map(([Key, Value]) => ({ Key, Value })) });

  beforeAll(async () => {
    srv = await startTestServer();
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-tagging-awscli-'));
    const cfg = path.join(work, 'config');
    fs.writeFileSync(cfg, '[default]\nregion = us-east-1\ns3 =\n  addressing_style = path\n');
    env = { ...srv.env, AWS_CONFIG_FILE: cfg, AWS_PAGER: '', AWS_MAX_ATTEMPTS: '1' };
    fs.writeFileSync(path.join(work, 'body'), 'tagged bytes');
    s3 = srv.client();
    await s3.send(new CreateBucketCommand({ Bucket: 'tagb' }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: 'tagb', VersioningConfiguration: { Status: 'Enabled' } }));
  });
  afterAll(async () => {
    await srv?.stop();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it('put-object --tagging, get/put/delete-object-tagging per version, get-object counts them, 11 tags refused', async () => {
    const v1 = (await api(['put-object', '--bucket', 'tagb', '--key', 'k', '--body', path.join(work, 'body'), '--tagging', 'team=storage&tier=gold'])).VersionId as string;
    expect((await api(['get-object-tagging', '--bucket', 'tagb', '--key', 'k', '--version-id', v1])).TagSet).toEqual([{ Key: 'team', Value: 'storage' }, { Key: 'tier', Value: 'gold' }]);
    const v2 = (await s3.send(new PutObjectCommand({ Bucket: 'tagb', Key: 'k', Body: 'two' }))).VersionId!;
    expect((await api(['put-object-tagging', '--bucket', 'tagb', '--key', 'k', '--tagging', tagging([['current', 'yes']])])).VersionId).toBe(v2);
    expect((await api(['get-object', '--bucket', 'tagb', '--key', 'k', '--version-id', v1, path.join(work, 'out')])).TagCount).toBe(2);
    await api(['delete-object-tagging', '--bucket', 'tagb', '--key', 'k', '--version-id', v1]);
    expect((await s3.send(new GetObjectTaggingCommand({ Bucket: 'tagb', Key: 'k', VersionId: v1 }))).TagSet).toEqual([]);
    const eleven = tagging(Array.from({ length: 11 }, (_, i) => [`k${i}`, 'v'] as [string, string]));
    await fails(['put-object-tagging', '--bucket', 'tagb', '--key', 'k', '--tagging', eleven], 'BadRequest');
    expect((await s3.send(new GetObjectTaggingCommand({ Bucket: 'tagb', Key: 'k' }))).TagSet).toEqual([{ Key: 'current', Value: 'yes' }]);
    // copy-object REPLACE takes --tagging (COPY, the default, is the SDK test's).
    await api(['copy-object', '--bucket', 'tagb', '--key', 'c2', '--copy-source', 'tagb/k', '--tagging-directive', 'REPLACE', '--tagging', 'b=2']);
    expect((await s3.send(new GetObjectTaggingCommand({ Bucket: 'tagb', Key: 'c2' }))).TagSet).toEqual([{ Key: 'b', Value: '2' }]);
  });

  it('put-bucket-tagging (with the checksum botocore sends), get-bucket-tagging, delete-bucket-tagging; 51 tags refused', async () => {
    await api(['put-bucket-tagging', '--bucket', 'tagb', '--tagging', tagging([['cost-center', '42'], ['env', 'prod']])]);
    expect((await api(['get-bucket-tagging', '--bucket', 'tagb'])).TagSet).toEqual([{ Key: 'cost-center', Value: '42' }, { Key: 'env', Value: 'prod' }]);
    const fiftyOne = tagging(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v'] as [string, string]));
    await fails(['put-bucket-tagging', '--bucket', 'tagb', '--tagging', fiftyOne], 'InvalidTag');
    expect((await s3.send(new GetBucketTaggingCommand({ Bucket: 'tagb' }))).TagSet).toHaveLength(2);
    await api(['delete-bucket-tagging', '--bucket', 'tagb']);
    await fails(['get-bucket-tagging', '--bucket', 'tagb'], 'NoSuchTagSet');
  });
});
