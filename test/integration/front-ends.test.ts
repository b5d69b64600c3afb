import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { CreateMultipartUploadCommand, HeadBucketCommand, PutObjectCommand, UploadPartCommand } from '@aws-sdk/client-s3';
import { CLI } from '../helpers/process.js';
import { startTestServer, TEST_ACCESS_KEY, type TestServer } from '../helpers/server.js';
import { s3Error } from '../helpers/sdk.js';

// One rule per operation whichever front-end asks (issue 17): the admin API and the CLI (with
// --data-dir and with --url) delete buckets by S3's DeleteBucket rule, and the CLI reads its
// CAIRN_* settings through src/config.ts. The CLI runs built (dist/cli.js).

let server: TestServer;
const local = (...args: string[]) => [...args, '--data-dir', server.dataDir];
const remote = (...args: string[]) => [...args, '--url', server.adminUrl, '--token', server.adminToken];

function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const clean: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('CAIRN_')) clean[k] = v;
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...clean, ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0, stdout, stderr });
    });
  });
}

async function admin(path: string, method = 'GET', body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(server.adminUrl + path, { method, headers: { authorization: `Bearer ${server.adminToken}` }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** A bucket holding only an upload in progress with one part (a chunk of its own). */
async function bucketWithUpload(name: string): Promise<void> {
  const s3 = server.client();
  expect((await admin('/v1/buckets', 'POST', { name })).status).toBe(201);
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: name, Key: 'in-progress' }));
  await s3.send(new UploadPartCommand({ Bucket: name, Key: 'in-progress', UploadId, PartNumber: 1, Body: randomBytes(100 * 1024) }));
}

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

describe('DeleteBucket: uploads in progress are aborted with the bucket, objects keep it', () => {
  it('through the admin API', async () => {
    const before = (await admin('/v1/stats')).body;
    await bucketWithUpload('admin-uploads');
    expect((await admin('/v1/stats')).body).toMatchObject({ multipartUploads: before.multipartUploads + 1, chunks: before.chunks + 1 });
    expect((await admin('/v1/buckets/admin-uploads', 'DELETE')).status).toBe(204);
    expect((await s3Error(server.client().send(new HeadBucketCommand({ Bucket: 'admin-uploads' })))).$metadata.httpStatusCode).toBe(404);
    // The upload's part and its chunk went with it.
    expect((await admin('/v1/stats')).body).toMatchObject({ multipartUploads: before.multipartUploads, chunks: before.chunks });

    await admin('/v1/buckets', 'POST', { name: 'admin-objects' });
    await server.client().send(new PutObjectCommand({ Bucket: 'admin-objects', Key: 'k', Body: 'x' }));
    expect(await admin('/v1/buckets/admin-objects', 'DELETE')).toMatchObject({
      status: 409,
      body: { error: { code: 'Conflict', message: 'bucket admin-objects is not empty (objects remain)' } },
    });
  });

  it('through the CLI, with --data-dir and with --url', async () => {
    for (const [mode, name] of [
      [local, 'cli-local-uploads'],
      [remote, 'cli-remote-uploads'],
    ] as const) {
      await bucketWithUpload(name);
      const r = await cli(mode('bucket', 'delete', name, '--json'));
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual({ bucket: name, deleted: true });
      expect((await s3Error(server.client().send(new HeadBucketCommand({ Bucket: name })))).$metadata.httpStatusCode).toBe(404);
    }
    expect((await admin('/v1/stats')).body.multipartUploads).toBe(0);
  });
});

describe('the CLI reads CAIRN_* settings through src/config.ts', () => {
  it('a bad value is a configuration error naming the setting (exit 2)', async () => {
    const badDurability = await cli(local('ls'), { CAIRN_DURABILITY: 'sometimes' });
    expect(badDurability).toMatchObject({ code: 2 });
    expect(badDurability.stderr).toContain('CAIRN_DURABILITY');
    const badRegion = await cli(local('bucket', 'create', 'never-made'), { CAIRN_REGION: 'Not A Region' });
    expect(badRegion).toMatchObject({ code: 2 });
    expect(badRegion.stderr).toContain('CAIRN_REGION');
    const halfPair = await cli(['presign', 'b/k', '--endpoint', server.url], { CAIRN_ACCESS_KEY_ID: TEST_ACCESS_KEY });
    expect(halfPair).toMatchObject({ code: 2 });
    expect(halfPair.stderr).toContain('must be set together');
    const badGrace = await cli(local('gc', '--dry-run', '--grace', 'soon'));
    expect(badGrace).toMatchObject({ code: 2 });
    expect(badGrace.stderr).toContain('--grace');
  });

  it('CAIRN_REGION is the region of buckets created with --data-dir', async () => {
    const r = await cli(local('bucket', 'create', 'eu-made', '--json'), { CAIRN_REGION: 'eu-west-1' });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ name: 'eu-made', region: 'eu-west-1' });
  });
});
