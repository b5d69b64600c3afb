import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { hasClient, rcloneEnv, runOk } from '../helpers/clients.js';
import { describePg, freshPgDatabase } from '../helpers/pg.js';
import { clientEnv, startTestServer, type TestServer } from '../helpers/server.js';
import { startGateways, type Gateways } from '../helpers/gateways.js';

// The S3 clients against the PostgreSQL engine: one gateway, then three gateways on one database
// and one shared chunk folder behind a round-robin proxy (every request may land on another
// gateway: each part of a multipart upload, each page of a listing, the HEAD rclone sends after
// its PUT). The SDK, the aws CLI and rclone, each through the operations they lean on most.

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
const MiB = 1024 * 1024;

interface Endpoint {
  url: string;
  env: NodeJS.ProcessEnv;
  credentials: { accessKeyId: string; secretAccessKey: string };
  client(): S3Client;
}

function clientSuite(name: string, start: () => Promise<{ endpoint: Endpoint; stop(): Promise<void> }>) {
  describe(name, () => {
    let ep: Endpoint;
    let stop: () => Promise<void>;
    let s3: S3Client;
    let work: string;
    beforeAll(async () => {
      ({ endpoint: ep, stop } = await start());
      s3 = ep.client();
      work = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-pgclients-'));
    }, 120_000);
    afterAll(async () => {
      s3?.destroy();
      await stop?.();
      if (work) fs.rmSync(work, { recursive: true, force: true });
    });

    it('SDK: objects, multipart, listings, copies, batch deletes', async () => {
      await s3.send(new CreateBucketCommand({ Bucket: 'sdk' }));
      const small = randomBytes(3000);
      const put = await s3.send(new PutObjectCommand({ Bucket: 'sdk', Key: 'dir/small ü.bin', Body: small, Metadata: { who: 'pg' } }));
      expect(put.ETag).toBe(`"${md5(small)}"`);
      const head = await s3.send(new HeadObjectCommand({ Bucket: 'sdk', Key: 'dir/small ü.bin' }));
      expect(head.ContentLength).toBe(3000);
      expect(head.Metadata).toEqual({ who: 'pg' });
      // 20 MiB in 5 MiB parts: through the proxy, the parts land on different gateways.
      const big = randomBytes(20 * MiB);
      await new Upload({ client: s3, params: { Bucket: 'sdk', Key: 'big.bin', Body: big }, partSize: 5 * MiB, queueSize: 3 }).done();
      const got = Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: 'sdk', Key: 'big.bin' }))).Body!.transformToByteArray());
      expect(md5(got)).toBe(md5(big));
      const ranged = await s3.send(new GetObjectCommand({ Bucket: 'sdk', Key: 'big.bin', Range: `bytes=${9 * MiB - 10}-${9 * MiB + 9}` }));
      expect(Buffer.from(await ranged.Body!.transformToByteArray()).equals(big.subarray(9 * MiB - 10, 9 * MiB + 10))).toBe(true);
      for (let i = 0; i < 25; i++) await s3.send(new PutObjectCommand({ Bucket: 'sdk', Key: `many/${String(i).padStart(2, '0')}`, Body: `n${i}` }));
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const page = await s3.send(new ListObjectsV2Command({ Bucket: 'sdk', Prefix: 'many/', MaxKeys: 7, ContinuationToken: token }));
        keys.push(...(page.Contents ?? []).map((c) => c.Key!));
        token = page.NextContinuationToken;
      } while (token);
      expect(keys).toEqual(Array.from({ length: 25 }, (_, i) => `many/${String(i).padStart(2, '0')}`));
      const top = await s3.send(new ListObjectsV2Command({ Bucket: 'sdk', Delimiter: '/' }));
      expect(top.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['dir/', 'many/']);
      await s3.send(new CopyObjectCommand({ Bucket: 'sdk', Key: 'copy.bin', CopySource: 'sdk/big.bin' }));
      expect((await s3.send(new HeadObjectCommand({ Bucket: 'sdk', Key: 'copy.bin' }))).ContentLength).toBe(20 * MiB);
      const del = await s3.send(new DeleteObjectsCommand({ Bucket: 'sdk', Delete: { Objects: keys.slice(0, 10).map((Key) => ({ Key })) } }));
      expect(del.Deleted).toHaveLength(10);
      expect((await s3.send(new ListObjectsV2Command({ Bucket: 'sdk', Prefix: 'many/' }))).KeyCount).toBe(15);
    });

    it('SDK: versions, delete markers and If-None-Match: exactly one of eight racing creators wins', async () => {
      await s3.send(new CreateBucketCommand({ Bucket: 'ver' }));
      await s3.send(new PutBucketVersioningCommand({ Bucket: 'ver', VersioningConfiguration: { Status: 'Enabled' } }));
      const v1 = await s3.send(new PutObjectCommand({ Bucket: 'ver', Key: 'state', Body: 'one' }));
      const v2 = await s3.send(new PutObjectCommand({ Bucket: 'ver', Key: 'state', Body: 'two' }));
      await s3.send(new DeleteObjectCommand({ Bucket: 'ver', Key: 'state' }));
      await expect(s3.send(new HeadObjectCommand({ Bucket: 'ver', Key: 'state' }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
      const old = await s3.send(new GetObjectCommand({ Bucket: 'ver', Key: 'state', VersionId: v1.VersionId }));
      expect(await old.Body!.transformToString()).toBe('one');
      const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: 'ver', Prefix: 'state' }));
      expect(versions.Versions?.map((v) => v.VersionId)).toEqual([v2.VersionId, v1.VersionId]);
      expect(versions.DeleteMarkers).toHaveLength(1);
      const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => s3.send(new PutObjectCommand({ Bucket: 'ver', Key: 'lock', Body: `holder ${i}`, IfNoneMatch: '*' }))));
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      for (const r of results) if (r.status === 'rejected') expect([409, 412]).toContain((r.reason as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode);
    });

    it('aws CLI: cp (multipart), sync, ls, list-object-versions', async () => {
      if (!hasClient('aws')) return expect.unreachable('aws CLI missing');
      const aws = (args: string[]) => runOk('aws', ['--endpoint-url', ep.url, ...args], { env: ep.env, timeoutMs: 90_000 });
      await aws(['s3', 'mb', 's3://cli']);
      const file = path.join(work, 'cli.bin');
      const data = randomBytes(12 * MiB);
      fs.writeFileSync(file, data);
      await aws(['s3', 'cp', file, 's3://cli/up/cli.bin']);
      const tree = path.join(work, 'tree');
      for (const [k, v] of Object.entries({ 'a.txt': 'a', 'sub/b.txt': 'bb', 'sub/deeper/c.txt': 'ccc' })) {
        fs.mkdirSync(path.dirname(path.join(tree, k)), { recursive: true });
        fs.writeFileSync(path.join(tree, k), v);
        // S3 times are whole seconds: a file written in the second of its upload would look newer
        // than its copy to a second sync (the aws CLI compares mtimes), as on AWS.
        const past = new Date(Date.now() - 10_000);
        fs.utimesSync(path.join(tree, k), past, past);
      }
      await aws(['s3', 'sync', tree, 's3://cli/tree/']);
      const ls = await aws(['s3', 'ls', '--recursive', 's3://cli/']);
      expect(ls.stdout).toContain('up/cli.bin');
      expect(ls.stdout).toContain('tree/sub/deeper/c.txt');
      const back = path.join(work, 'back.bin');
      await aws(['s3', 'cp', 's3://cli/up/cli.bin', back]);
      expect(md5(fs.readFileSync(back))).toBe(md5(data));
      const again = await aws(['s3', 'sync', tree, 's3://cli/tree/']);
      expect(again.stdout.trim()).toBe('');
      const versions = JSON.parse((await aws(['s3api', 'list-object-versions', '--bucket', 'cli', '--prefix', 'tree/'])).stdout) as { Versions: Array<{ Key: string; VersionId: string }> };
      expect(versions.Versions.map((v) => v.Key).sort()).toEqual(['tree/a.txt', 'tree/sub/b.txt', 'tree/sub/deeper/c.txt']);
      expect(versions.Versions.every((v) => v.VersionId === 'null')).toBe(true);
    }, 180_000);

    it('rclone: copy, check, lsjson', async () => {
      if (!hasClient('rclone', ['version'])) return expect.unreachable('rclone missing');
      const env = rcloneEnv(ep, path.join(work, 'rclone.conf'));
      fs.writeFileSync(path.join(work, 'rclone.conf'), '');
      const src = path.join(work, 'rsrc');
      const files: Record<string, Buffer> = { 'x y.txt': Buffer.from('spaces'), 'n/ünï.txt': randomBytes(5000), 'n/big.bin': randomBytes(9 * MiB) };
      for (const [k, v] of Object.entries(files)) {
        fs.mkdirSync(path.dirname(path.join(src, k)), { recursive: true });
        fs.writeFileSync(path.join(src, k), v);
      }
      await runOk('rclone', ['mkdir', 'cairn:rcl'], { env });
      await runOk('rclone', ['copy', src, 'cairn:rcl/in', '--s3-upload-cutoff', '5M', '--s3-chunk-size', '5M'], { env, timeoutMs: 90_000 });
      await runOk('rclone', ['check', src, 'cairn:rcl/in'], { env, timeoutMs: 90_000 });
      const listed = JSON.parse((await runOk('rclone', ['lsjson', '-R', '--files-only', 'cairn:rcl/in'], { env })).stdout) as Array<{ Path: string; Size: number }>;
      expect(listed.map((e) => `${e.Path}:${e.Size}`).sort()).toEqual(Object.entries(files).map(([k, v]) => `${k}:${v.length}`).sort());
    }, 120_000);
  });
}

describePg('S3 clients on PostgreSQL', () => {
  clientSuite('one gateway', async () => {
    const db = await freshPgDatabase('clients', { migrated: true });
    let srv: TestServer;
    try {
      srv = await startTestServer({ metadata: db.url });
    } catch (err) {
      await db.drop();
      throw err;
    }
    return {
      endpoint: { url: srv.url, env: srv.env, credentials: srv.credentials, client: () => srv.client() },
      stop: async () => {
        await srv.stop();
        await db.drop();
      },
    };
  });

  clientSuite('three gateways behind a round-robin proxy', async () => {
    const gw: Gateways = await startGateways(3);
    const credentials = gw.servers[0]!.credentials;
    const env = clientEnv(credentials);
    return {
      endpoint: { url: gw.proxyUrl, env, credentials, client: () => gw.client() },
      stop: () => gw.close(),
    };
  });
});
