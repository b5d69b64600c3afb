import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, DeleteBucketCommand, DeleteBucketPolicyCommand, DeleteObjectCommand, GetObjectCommand, HeadBucketCommand, HeadObjectCommand, ListObjectsV2Command, PutBucketPolicyCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import pino from 'pino';
import { ConfigError, loadConfig } from '../../src/config.js';
import { startServer, type RunningServer } from '../../src/server.js';
import type { GatewayView } from '../../src/gateway/registry.js';
import { describePg, freshPgDatabase } from '../helpers/pg.js';
import { startGateways, GATEWAY_ADMIN_TOKEN, type Gateways } from '../helpers/gateways.js';

// Several gateways on one PostgreSQL database: the registry (/v1/stats, /metrics), the
// configuration's start-up errors, and the shared settings gateways agree on.

type Stats = { engine: string; gateways: GatewayView[] };

/** One sample of a Prometheus text, e.g. value(text, 'cairn_gateways', 'state="alive"'). */
function sample(text: string, name: string, labels: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return line === undefined ? NaN : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describePg('gateway registry', () => {
  let gw: Gateways;
  beforeAll(async () => {
    gw = await startGateways(3, { gatewayTimeout: '2s' });
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('lists the three gateways, alive, in every gateway\'s /v1/stats and /metrics', async () => {
    for (const i of [0, 1, 2]) {
      const { status, body } = await gw.admin<Stats>(i, '/v1/stats');
      expect(status).toBe(200);
      expect(body.engine).toBe('postgres');
      expect(body.gateways.map((g) => [g.id, g.state, g.s3Url, g.adminUrl])).toEqual(gw.servers.map((s, j) => [`gw-${j}`, 'alive', s.url, s.adminUrl]));
      expect(body.gateways.every((g) => g.pid === process.pid && g.version !== '' && g.heartbeatAt >= g.startedAt)).toBe(true);
      const metrics = (await gw.admin(i, '/metrics')).text;
      expect([sample(metrics, 'cairn_gateways', 'state="alive"'), sample(metrics, 'cairn_gateways', 'state="dead"')]).toEqual([3, 0]);
      expect(sample(metrics, 'cairn_metadata_engine_info', 'engine="postgres"')).toBe(1);
      expect(metrics).toMatch(/cairn_metadata_retries_total\{reason="serialization"\} \d+/);
      expect(metrics).toMatch(/cairn_metadata_retries_total\{reason="deadlock"\} \d+/);
    }
  });

  it('heartbeats keep the rows fresh (four per timeout)', async () => {
    const before = (await gw.admin<Stats>(0, '/v1/stats')).body.gateways;
    await new Promise((r) => setTimeout(r, 1200));
    const after = (await gw.admin<Stats>(0, '/v1/stats')).body.gateways;
    for (const [i, g] of after.entries()) expect(g.heartbeatAt).toBeGreaterThan(before[i]!.heartbeatAt);
  });

  it('a gateway that stops cleanly leaves the registry; one whose heartbeat stopped is dead', async () => {
    await gw.stop(2);
    // What a killed gateway leaves behind: a row whose heartbeat stopped.
    const now = Date.now();
    await gw.servers[0]!.meta.gateways.heartbeat({ id: 'gw-killed', host: 'elsewhere', pid: 1, s3Url: 'http://10.0.0.9:9000', adminUrl: '', version: '0.1.0', startedAt: now - 60_000, heartbeatAt: now - 10_000 });
    const { body } = await gw.admin<Stats>(1, '/v1/stats');
    expect(body.gateways.map((g) => [g.id, g.state])).toEqual([['gw-0', 'alive'], ['gw-1', 'alive'], ['gw-killed', 'dead']]);
    const metrics = (await gw.admin(0, '/metrics')).text;
    expect([sample(metrics, 'cairn_gateways', 'state="alive"'), sample(metrics, 'cairn_gateways', 'state="dead"')]).toEqual([2, 1]);
  });
});

describePg('gateway configuration', () => {
  const base = { port: 0, host: '127.0.0.1', adminPort: 0, durability: 'relaxed', logLevel: 'silent', hashThreads: 0 } as const;
  const start = async (overrides: Record<string, unknown>): Promise<RunningServer> => {
    const config = loadConfig({ ...base, dataDir: `/tmp/cairn-gw-config-${process.pid}`, ...overrides }, {});
    return startServer(config, { log: pino({ level: 'silent' }) });
  };
  const configError = (flags: Record<string, unknown>, env: Record<string, string> = {}) => {
    try {
      loadConfig(flags, env);
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      return (err as Error).message;
    }
    throw new Error('no ConfigError');
  };

  it('refuses a metadata URL that is not PostgreSQL, naming the setting and hiding the password', () => {
    const msg = configError({}, { CAIRN_METADATA_URL: 'mysql://cairn:hunter2secret@db/cairn' });
    expect(msg).toContain('CAIRN_METADATA_URL (--metadata)');
    expect(msg).toContain('postgres://');
    expect(msg).not.toContain('hunter2secret');
    expect(configError({ metadata: 'not a url with:pw@host' })).not.toContain('pw@');
  });

  it('refuses bad pool sizes, gateway ids and timeouts', () => {
    expect(configError({ metadataPool: 0 })).toContain('CAIRN_METADATA_POOL (--metadata-pool)');
    expect(configError({ gatewayId: 'has space' })).toContain('CAIRN_GATEWAY_ID (--gateway-id)');
    expect(configError({ gatewayTimeout: '1s' })).toContain('CAIRN_GATEWAY_TIMEOUT (--gateway-timeout)');
    const ok = loadConfig({ metadata: 'postgresql://u:p@db.example:5432/cairn' }, {});
    expect([ok.metadataPool, ok.gatewayTimeout, ok.gatewayId]).toEqual([10, 30_000, undefined]);
  });

  it('an unreachable database stops start-up at once, without the password', async () => {
    const t0 = Date.now();
    const err = await start({ metadata: 'postgres://cairn:hunter2secret@127.0.0.1:1/cairn' }).then(
      (s) => s.close().then(() => undefined),
      (e: unknown) => e as Error,
    );
    expect(err?.message).toMatch(/cannot use the metadata database postgres:\/\/cairn:\*\*\*@127\.0\.0\.1:1\/cairn: .*ECONNREFUSED/);
    expect(err?.message).not.toContain('hunter2secret');
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('a database that does not exist stops start-up naming it', async () => {
    const db = await freshPgDatabase('gwcfg');
    await db.drop();
    const err = await start({ metadata: db.url }).then(
      (s) => s.close().then(() => undefined),
      (e: unknown) => e as Error,
    );
    expect(err?.message).toContain(`database "${db.name}" does not exist`);
  });
});

describePg('shared settings', () => {
  it('three gateways starting at once on an empty database agree on the root pair and the admin token', async () => {
    // An empty database (no schema): the three also race to apply the migrations.
    const db = await freshPgDatabase('gwset');
    const dataDir = `/tmp/cairn-gw-settings-${process.pid}`;
    const configs = [0, 1, 2].map((i) =>
      loadConfig({ port: 0, host: '127.0.0.1', adminPort: 0, dataDir, metadata: db.url, gatewayId: `s-${i}`, durability: 'relaxed', logLevel: 'silent', hashThreads: 0 }, {}),
    );
    const servers = await Promise.all(configs.map((c) => startServer(c, { log: pino({ level: 'silent' }) })));
    try {
      const pairs = servers.map((s) => `${s.credentials.accessKeyId}:${s.credentials.secretAccessKey}`);
      expect(new Set(pairs).size).toBe(1);
      expect(servers.filter((s) => s.credentials.generated)).toHaveLength(1);
      const generators = servers.filter((s) => s.adminTokenGenerated);
      expect(generators).toHaveLength(1);
      const token = generators[0]!.adminToken!;
      // The others know only its hash, and accept it.
      expect(servers.filter((s) => s.adminToken === undefined)).toHaveLength(2);
      for (const s of servers) {
        expect((await fetch(`${s.adminUrl}/v1/stats`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
        expect((await fetch(`${s.adminUrl}/v1/stats`, { headers: { authorization: `Bearer ${GATEWAY_ADMIN_TOKEN}` } })).status).toBe(401);
      }
      // The database keeps the pair and the token's hash, never the token.
      const c = new pg.Client(db.url);
      await c.connect();
      try {
        const rows = (await c.query('select name, value from settings order by name')).rows as Array<{ name: string; value: string }>;
        expect(rows.map((r) => r.name)).toEqual(['admin-token-sha256', 'root-credentials']);
        expect(rows.some((r) => r.value.includes(token))).toBe(false);
      } finally {
        await c.end();
      }
    } finally {
      await Promise.all(servers.map((s) => s.close()));
      await db.drop();
    }
  });
});

const ROOT = path.resolve(import.meta.dirname, '../..');

/** The CLI from source (tsx), with no CAIRN_* from this process's environment. */
function cairn(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CAIRN_')));
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli.ts'), ...args], { env: { ...clean, ...env }, cwd: ROOT, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describePg('cairn migrate and the CLI on PostgreSQL', () => {
  it('applies the pending migrations once and says which (PostgreSQL)', async () => {
    const db = await freshPgDatabase('gwmig');
    try {
      const first = await cairn(['migrate', '--metadata', db.url, '--json']);
      expect(first.code, first.stderr).toBe(0);
      const report = JSON.parse(first.stdout) as { engine: string; applied: string[]; total: number };
      expect(report).toMatchObject({ engine: 'postgres', applied: expect.arrayContaining(['0000_init']) });
      expect(report.applied).toHaveLength(report.total);
      const again = await cairn(['migrate'], { CAIRN_METADATA_URL: db.url });
      expect(again.stdout).toMatch(/^postgres postgres:\/\/.*: up to date \(\d+ migrations\)/);
    } finally {
      await db.drop();
    }
  });

  it('applies them on SQLite too', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-migrate-'));
    try {
      const first = JSON.parse((await cairn(['migrate', '--data-dir', dir, '--json'])).stdout) as { engine: string; applied: string[]; total: number };
      expect(first.engine).toBe('sqlite');
      expect(first.applied.length).toBe(first.total);
      expect((await cairn(['migrate', '--data-dir', dir])).stdout).toContain('up to date');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an unreachable database: exit 1, no password in the message', async () => {
    const r = await cairn(['migrate', '--metadata', 'postgres://cairn:hunter2secret@127.0.0.1:1/cairn']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('postgres://cairn:***@127.0.0.1:1/cairn');
    expect(r.stderr).not.toContain('hunter2secret');
  });

  it('cairn stats --metadata lists the gateways', async () => {
    const gw = await startGateways(2);
    try {
      const r = await cairn(['stats', '--metadata', gw.dbUrl, '--data-dir', gw.dataDir]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/Metadata engine:\s+postgres/);
      expect(r.stdout).toMatch(/gw-0\s+alive/);
      expect(r.stdout).toMatch(/gw-1\s+alive/);
      const json = JSON.parse((await cairn(['stats', '--json'], { CAIRN_METADATA_URL: gw.dbUrl })).stdout) as Stats;
      expect(json.gateways.map((g) => g.id)).toEqual(['gw-0', 'gw-1']);
    } finally {
      await gw.close();
    }
  });
});

describePg('read-after-write across gateways', () => {
  let gw: Gateways;
  beforeAll(async () => {
    gw = await startGateways(3);
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('PUT, overwrite and DELETE on A are seen at once by GET, HEAD and LIST on B and C', async () => {
    const [a, b, c] = gw.urls.map((u) => gw.client(u));
    const readers = [b!, c!];
    await a!.send(new CreateBucketCommand({ Bucket: 'raw' }));
    for (const r of readers) expect((await r.send(new HeadBucketCommand({ Bucket: 'raw' })).then(() => 200, (e: { $metadata?: { httpStatusCode?: number } }) => e.$metadata?.httpStatusCode))).toBe(200);
    // Small (inline in the row) and larger (chunk files in the shared data dir) bodies.
    for (const size of [100, 300 * 1024]) {
      const key = `k-${size}`;
      for (const round of [1, 2]) {
        const body = randomBytes(size);
        const put = await a!.send(new PutObjectCommand({ Bucket: 'raw', Key: key, Body: body }));
        for (const r of readers) {
          const got = await r.send(new GetObjectCommand({ Bucket: 'raw', Key: key }));
          expect(Buffer.from(await got.Body!.transformToByteArray()).equals(body), `round ${round}`).toBe(true);
          expect(got.ETag).toBe(put.ETag);
          expect((await r.send(new HeadObjectCommand({ Bucket: 'raw', Key: key }))).ContentLength).toBe(size);
          const listed = await r.send(new ListObjectsV2Command({ Bucket: 'raw', Prefix: key }));
          expect(listed.Contents?.map((o) => [o.Key, o.Size, o.ETag])).toEqual([[key, size, put.ETag]]);
        }
      }
      await a!.send(new DeleteObjectCommand({ Bucket: 'raw', Key: key }));
      for (const r of readers) {
        await expect(r.send(new GetObjectCommand({ Bucket: 'raw', Key: key }))).rejects.toMatchObject({ name: 'NoSuchKey' });
        await expect(r.send(new HeadObjectCommand({ Bucket: 'raw', Key: key }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
        expect((await r.send(new ListObjectsV2Command({ Bucket: 'raw', Prefix: key }))).KeyCount).toBe(0);
      }
    }
  });

  // A GET or HEAD reads its bucket (policy, ACL) with its object in one statement: both as of the request.
  it('a bucket policy set or removed on A, and the bucket deleted on A, govern the next GET and HEAD on B', async () => {
    const [a, b] = gw.urls.map((u) => gw.client(u));
    await a!.send(new CreateBucketCommand({ Bucket: 'pol' }));
    await a!.send(new PutObjectCommand({ Bucket: 'pol', Key: 'k', Body: 'public now' }));
    const anonymous = async (method: 'GET' | 'HEAD') => (await fetch(`${gw.urls[1]}/pol/k`, { method })).status;
    expect([await anonymous('GET'), await anonymous('HEAD')]).toEqual([403, 403]);
    const policy = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::pol/*' }] };
    await a!.send(new PutBucketPolicyCommand({ Bucket: 'pol', Policy: JSON.stringify(policy) }));
    expect([await anonymous('GET'), await anonymous('HEAD')]).toEqual([200, 200]);
    await a!.send(new DeleteBucketPolicyCommand({ Bucket: 'pol' }));
    expect([await anonymous('GET'), await anonymous('HEAD')]).toEqual([403, 403]);
    await a!.send(new DeleteObjectCommand({ Bucket: 'pol', Key: 'k' }));
    await a!.send(new DeleteBucketCommand({ Bucket: 'pol' }));
    await expect(b!.send(new GetObjectCommand({ Bucket: 'pol', Key: 'k' }))).rejects.toMatchObject({ name: 'NoSuchBucket' });
    expect(await anonymous('GET')).toBe(404);
  });

  it('through the round-robin proxy, each request on the next gateway', async () => {
    const s3 = gw.client();
    const before = [...gw.proxy.counts];
    const body = randomBytes(70 * 1024);
    await s3.send(new PutObjectCommand({ Bucket: 'raw', Key: 'via-proxy', Body: body }));
    for (let i = 0; i < 3; i++) {
      const got = await s3.send(new GetObjectCommand({ Bucket: 'raw', Key: 'via-proxy' }));
      expect(Buffer.from(await got.Body!.transformToByteArray()).equals(body)).toBe(true);
    }
    // Four requests in turn over three gateways: every one served some.
    const served = gw.proxy.counts.map((n, i) => n - before[i]!);
    expect(served.reduce((x, y) => x + y, 0)).toBe(4);
    expect(served.every((n) => n >= 1)).toBe(true);
  });
});
