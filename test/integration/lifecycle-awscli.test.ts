import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  CreateBucketCommand,
  GetBucketLifecycleConfigurationCommand,
  ListObjectVersionsCommand,
  PutBucketLifecycleConfigurationCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { s3Error } from '../helpers/sdk.js';
import { hasClient, run } from '../helpers/clients.js';
import { CLI } from '../helpers/process.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// The aws CLI's put/get/delete-bucket-lifecycle-configuration (what the Terraform provider's
// read-back compares: the JSON must come back as sent), and `cairn lifecycle run` against the
// server (--url) and on the data dir beside it (--data-dir), with a one-second lifecycle day.

function cairn(args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout, err: stderr });
    });
  });
}

describe.skipIf(!hasClient('aws'))('lifecycle: aws CLI and cairn lifecycle run', () => {
  let srv: TestServer;
  let s3: S3Client;
  let work: string;
  const aws = (args: string[]) => run('aws', ['--endpoint-url', srv.url, 's3api', ...args, '--output', 'json'], { env: srv.env, timeoutMs: 60_000 });

  beforeAll(async () => {
    srv = await startTestServer({ lifecycleDaySeconds: 1, lifecycleInterval: 0 });
    s3 = srv.client();
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-lc-cli-'));
    await s3.send(new CreateBucketCommand({ Bucket: 'lc-cli' }));
  });
  afterAll(async () => {
    await srv?.stop();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it('put, get (compared as JSON), bad input, delete', async () => {
    const config = {
      Rules: [
        { ID: 'logs', Status: 'Enabled', Filter: { Prefix: 'logs/' }, Expiration: { Days: 30 } },
        { ID: 'noncurrent', Status: 'Enabled', Filter: { And: { Prefix: 'v/', Tags: [{ Key: 'k', Value: 'v' }] } }, NoncurrentVersionExpiration: { NoncurrentDays: 10, NewerNoncurrentVersions: 2 } },
        { ID: 'uploads', Status: 'Enabled', Filter: {}, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 } },
        { ID: 'dated', Status: 'Disabled', Filter: { ObjectSizeLessThan: 100 }, Expiration: { Date: '2031-01-01T00:00:00+00:00' } },
      ],
    };
    const file = path.join(work, 'lc.json');
    fs.writeFileSync(file, JSON.stringify(config));
    const put = await aws(['put-bucket-lifecycle-configuration', '--bucket', 'lc-cli', '--lifecycle-configuration', `file://${file}`]);
    expect(put.code, put.stderr).toBe(0);
    const got = await aws(['get-bucket-lifecycle-configuration', '--bucket', 'lc-cli']);
    expect(got.code, got.stderr).toBe(0);
    // Dates compared as instants: the CLI prints the wire's ISO 8601 form (S3 sends ...T00:00:00.000Z).
    const rulesBack = (JSON.parse(got.stdout) as { Rules: Array<{ Expiration?: { Date?: string } }> }).Rules;
    const instants = (rs: Array<{ Expiration?: { Date?: string } }>) => rs.map((r) => (r.Expiration?.Date ? { ...r, Expiration: { Date: Date.parse(r.Expiration.Date) } } : r));
    expect(instants(rulesBack)).toEqual(instants(config.Rules));

    fs.writeFileSync(file, JSON.stringify({ Rules: [{ ID: 'zero', Status: 'Enabled', Filter: {}, Expiration: { Days: 0 } }] }));
    const bad = await aws(['put-bucket-lifecycle-configuration', '--bucket', 'lc-cli', '--lifecycle-configuration', `file://${file}`]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('(InvalidArgument)');
    // Read back through the SDK (one CLI start costs seconds): unchanged.
    expect((await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: 'lc-cli' }))).Rules!.map((r) => r.ID)).toEqual(['logs', 'noncurrent', 'uploads', 'dated']);

    expect((await aws(['delete-bucket-lifecycle', '--bucket', 'lc-cli'])).code).toBe(0);
    expect((await s3Error(s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: 'lc-cli' })))).name).toBe('NoSuchLifecycleConfiguration');
  });

  it('cairn lifecycle run: a dry run over the admin API, then a pass on the data dir', async () => {
    const rules = [{ ID: 'all', Status: 'Enabled' as const, Filter: { Prefix: 'old/' }, Expiration: { Days: 1 } }];
    await s3.send(new PutBucketLifecycleConfigurationCommand({ Bucket: 'lc-cli', LifecycleConfiguration: { Rules: rules } }));
    for (const key of ['old/a', 'old/b', 'new/c']) await s3.send(new PutObjectCommand({ Bucket: 'lc-cli', Key: key, Body: key }));
    const at = new Date(Date.now() + 10_000).toISOString();

    const table = await cairn(['lifecycle', 'run', '--url', srv.adminUrl, '--token', srv.adminToken, '--dry-run', '--at', at, '--bucket', 'lc-cli', '--no-progress']);
    expect(table.out).toMatch(/Versions would be removed:\s+2/);
    expect(table.out).toMatch(/lc-cli\s+old\/a\s+expire-current/);

    const real = await cairn(['lifecycle', 'run', '--data-dir', srv.dataDir, '--at', at, '--json', '--no-progress'], { CAIRN_LIFECYCLE_DAY_SECONDS: '1' });
    expect(real.code, real.err).toBe(0);
    expect(JSON.parse(real.out)).toMatchObject({ dryRun: false, versionsExpired: 2 });
    expect(((await s3.send(new ListObjectVersionsCommand({ Bucket: 'lc-cli' }))).Versions ?? []).map((v) => v.Key)).toEqual(['new/c']);
    const stats = await cairn(['stats', '--url', srv.adminUrl, '--token', srv.adminToken]);
    expect(stats.out).toMatch(/Last lifecycle pass:.*\(cli\): 2 versions removed/);
    const badAt = await cairn(['lifecycle', 'run', '--url', srv.adminUrl, '--token', srv.adminToken, '--at', 'tomorrow']);
    expect(badAt.code).toBe(2);
    expect(badAt.err).toContain('--at: not a date');
  });
});
