// cairn migrate-metadata, run as the built CLI (dist/cli.js): a SQLite store written through the
// real server (every table holds rows), moved into a fresh PostgreSQL database of the test
// cluster, verified table by table; then the refusals (non-empty target, live server, NUL keys,
// bad URLs) and a verification that catches a changed row.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  CreateBucketCommand,
  GetBucketCorsCommand,
  GetObjectCommand,
  GetObjectRetentionCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectVersionsCommand,
  ListPartsCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import pg from 'pg';
import { CLI } from '../helpers/process.js';
import { describePg, freshPgDatabase } from '../helpers/pg.js';
import { startGateways } from '../helpers/gateways.js';
import { startTestServer } from '../helpers/server.js';
import { populateStore, type StoreFixture } from '../helpers/store-fixture.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[]): Promise<Run> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('CAIRN_')) env[k] = v;
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0, stdout, stderr });
    });
  });
}

async function sql<T = Record<string, unknown>>(url: string, text: string, values: unknown[] = []): Promise<T[]> {
  const c = new pg.Client(url);
  await c.connect();
  try {
    return (await c.query(text, values)).rows as T[];
  } finally {
    await c.end();
  }
}

/** A data dir made by the real server, which is then stopped (its files stay). */
async function storeDir(fill: (srv: Awaited<ReturnType<typeof startTestServer>>) => Promise<void>): Promise<string> {
  const srv = await startTestServer();
  try {
    await fill(srv);
  } finally {
    await srv.close();
  }
  return srv.dataDir;
}

describePg('cairn migrate-metadata (SQLite data dir -> PostgreSQL)', () => {
  let dataDir: string;
  let fixture: StoreFixture;
  const dbs: Array<{ url: string; drop(): Promise<void> }> = [];
  const freshDb = async () => {
    const db = await freshPgDatabase('mig');
    dbs.push(db);
    return db;
  };
  const dirs: string[] = [];
  let moved = '';

  beforeAll(async () => {
    dataDir = await storeDir(async (srv) => {
      fixture = await populateStore(srv);
    });
    dirs.push(dataDir);
    // A lifecycle pass from the CLI leaves a lifecycle_runs row.
    const lc = await cli(['lifecycle', 'run', '--data-dir', dataDir, '--no-progress']);
    expect(lc.code, lc.stderr).toBe(0);
  });
  afterAll(async () => {
    for (const db of dbs) await db.drop();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  it('copies every table, continues the ids and verifies each table', async () => {
    const db = await freshDb();
    moved = db.url;
    const r = await cli(['migrate-metadata', '--from', dataDir, '--to', db.url, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary.ok).toBe(true);
    expect(summary.skipped.sort()).toEqual(['chunk_claims', 'gateways', 'leases']);
    const byTable = Object.fromEntries(summary.tables.map((t: { table: string }) => [t.table, t]));
    for (const t of ['accounts', 'buckets', 'objects', 'chunks', 'object_chunks', 'object_parts', 'object_tags', 'multipart_uploads', 'upload_parts', 'part_chunks', 'completed_uploads', 'access_keys', 'key_grants', 'bucket_cors', 'lifecycle_runs']) {
      expect(byTable[t]?.rows, t).toBeGreaterThan(0);
      expect(byTable[t].copied, t).toBe(byTable[t].rows);
      expect(byTable[t].verify, t).toMatchObject({ ok: true, sourceRows: byTable[t].rows, targetRows: byTable[t].rows });
      expect(byTable[t].verify.sourceChecksum).toBe(byTable[t].verify.targetChecksum);
    }
    expect(summary.to).not.toContain('password');
    // The data dir's admin token (a file) is kept as the settings row PostgreSQL gateways read.
    expect(summary.settingsAdded).toBe(1);
    expect(byTable.settings.verify).toMatchObject({ ok: true, targetRows: 1 });
    // Types converted: booleans, bigints, inline chunk bytes.
    const [doc] = await sql<{ n: number }>(db.url, `select count(*)::int as n from objects where key = 'doc' and delete_marker`);
    expect(doc!.n).toBe(1);
    const [locked] = await sql<{ lock_mode: string; legal_hold: boolean }>(db.url, `select lock_mode, legal_hold from objects where version_id = $1`, [fixture.lockedVersion]);
    expect(locked).toMatchObject({ lock_mode: 'GOVERNANCE', legal_hold: false });
    const [hold] = await sql<{ legal_hold: boolean }>(db.url, `select legal_hold from objects where version_id = $1`, [fixture.versions[1]]);
    expect(hold!.legal_hold).toBe(true);
    const [inline] = await sql<{ data: Buffer }>(db.url, `select c.data from objects o join object_chunks oc on oc.object_id = o.id join chunks c on c.hash = oc.chunk_hash where o.key = 'small.txt'`);
    expect(inline!.data.toString()).toBe('inline object');
    const [upload] = await sql<{ key: string }>(db.url, `select key from multipart_uploads where id = $1`, [fixture.openUploadId]);
    expect(upload!.key).toBe('mp/open');
    // The indexes dropped for the load are back, as the migrations make them.
    const indexes = `select indexname, indexdef from pg_indexes where schemaname = 'public' order by indexname`;
    const reference = await freshPgDatabase('ref', { migrated: true });
    dbs.push(reference);
    expect(await sql(db.url, indexes)).toEqual(await sql(reference.url, indexes));
    // New rows get ids past every copied one.
    const [next] = await sql<{ max: string; nextval: string }>(db.url, `select (select max(id) from objects) as max, nextval(pg_get_serial_sequence('objects', 'id')) as nextval`);
    expect(Number(next!.nextval)).toBeGreaterThan(Number(next!.max));

    // The text report of a verification alone.
    const v = await cli(['migrate-metadata', '--from', dataDir, '--to', db.url, '--verify-only', '--no-progress']);
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout).toMatch(/verified in .*: all \d+ tables match/);
    expect(v.stdout).toMatch(/^objects\s+\d+\s+-\s+-\s+\d+\s+ok\s+[0-9a-f]{32}$/m);
  });

  it('serves the moved store from PostgreSQL gateways using the data dir as their chunk folder', async () => {
    expect(moved).not.toBe('');
    // No admin token configured: the gateways take the data dir's, moved into the settings table.
    const gw = await startGateways(2, { dataDir, adminToken: undefined, gcInterval: 0, scrubInterval: 0, lifecycleInterval: 0 }, { dbUrl: moved });
    try {
      const s3 = gw.client();
      const text = async (r: { Body?: { transformToString(): Promise<string> } }) => r.Body!.transformToString();
      expect(await text(await s3.send(new GetObjectCommand({ Bucket: 'plain', Key: 'small.txt' })))).toBe('inline object');
      const large = await s3.send(new GetObjectCommand({ Bucket: 'plain', Key: 'dir/large.bin' }));
      expect(Buffer.from(await large.Body!.transformToByteArray()).equals(Buffer.alloc(200 * 1024, 7))).toBe(true);
      const mp = await s3.send(new HeadObjectCommand({ Bucket: 'plain', Key: 'mp/done' }));
      expect(mp.ETag).toBe(fixture.multipartEtag);
      expect(mp.ContentLength).toBe(5 * 1024 * 1024 + 4);
      const tags = await s3.send(new GetObjectTaggingCommand({ Bucket: 'plain', Key: 'small.txt' }));
      expect(tags.TagSet).toEqual([{ Key: 'env', Value: 'prod' }, { Key: 'team', Value: 'a' }]);
      const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: 'locked' }));
      expect(versions.Versions!.map((v) => v.VersionId).reverse()).toEqual(fixture.versions.slice(0, 3));
      expect(versions.DeleteMarkers!.map((m) => m.VersionId)).toEqual([fixture.versions[3]]);
      const retention = await s3.send(new GetObjectRetentionCommand({ Bucket: 'locked', Key: 'doc', VersionId: fixture.lockedVersion }));
      expect(retention.Retention!.Mode).toBe('GOVERNANCE');
      const parts = await s3.send(new ListPartsCommand({ Bucket: 'plain', Key: 'mp/open', UploadId: fixture.openUploadId }));
      expect(parts.Parts!.map((p) => p.PartNumber)).toEqual([1]);
      const cors = await s3.send(new GetBucketCorsCommand({ Bucket: 'plain' }));
      expect(cors.CORSRules![0]!.AllowedOrigins).toEqual(['https://example.com']);
      // Alice's key still works and sees her bucket; the old admin token still opens the admin API.
      const alice = await gw.servers[0]!.meta.keys.secretFor(fixture.accessKeyId);
      const asAlice = new S3Client({ endpoint: gw.proxyUrl, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: fixture.accessKeyId, secretAccessKey: alice! } });
      expect((await asAlice.send(new ListBucketsCommand({}))).Buckets!.map((b) => b.Name)).toEqual(['alices']);
      const token = fs.readFileSync(path.join(dataDir, 'admin-token'), 'utf8').trim();
      const stats = await fetch(`${gw.servers[1]!.adminUrl}/v1/stats`, { headers: { authorization: `Bearer ${token}` } });
      expect(stats.status).toBe(200);
      // And the store takes new writes, ids continuing past the copied ones.
      await s3.send(new PutObjectCommand({ Bucket: 'plain', Key: 'after-move', Body: 'new' }));
      expect(await text(await s3.send(new GetObjectCommand({ Bucket: 'plain', Key: 'after-move' })))).toBe('new');
    } finally {
      await gw.close();
    }
  });

  it('refuses a target that holds cairn data unless --force, and reports a changed row', async () => {
    const db = await freshDb();
    expect((await cli(['migrate-metadata', '--from', dataDir, '--to', db.url, '--no-progress'])).code).toBe(0);
    const again = await cli(['migrate-metadata', '--from', dataDir, '--to', db.url, '--no-progress']);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already holds cairn data \(.*objects \d+.*\).*--force/);
    const forced = await cli(['migrate-metadata', '--from', dataDir, '--to', db.url, '--force', '--json', '--no-progress']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(JSON.parse(forced.stdout).replaced.objects).toBeGreaterThan(0);

    await sql(db.url, `update objects set etag = 'changed' where key = 'small.txt'`);
    const v = await cli(['migrate-metadata', '--from', dataDir, '--to', db.url, '--verify-only', '--json']);
    expect(v.code).toBe(1);
    const bad = JSON.parse(v.stdout).tables.filter((t: { verify: { ok: boolean } }) => !t.verify.ok);
    expect(bad.map((t: { table: string }) => t.table)).toEqual(['objects']);
    expect(bad[0].verify.sourceRows).toBe(bad[0].verify.targetRows);
  });

  it('refuses a data dir a running server holds open', async () => {
    const db = await freshDb();
    const srv = await startTestServer({}, { existingDataDir: dataDir });
    try {
      const r = await cli(['migrate-metadata', '--from', dataDir, '--to', db.url]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`is open in another process (pid ${process.pid})`);
    } finally {
      await srv.close();
    }
    // Refused before the target was touched: not even migrated.
    const [t] = await sql<{ t: string | null }>(db.url, `select to_regclass('objects')::text as t`);
    expect(t!.t).toBeNull();
  });

  it('refuses a store with a NUL in a key, naming the object, and copies nothing', async () => {
    const dir = await storeDir(async (srv) => {
      await srv.client().send(new CreateBucketCommand({ Bucket: 'nul-keys' }));
      await srv.client().send(new PutObjectCommand({ Bucket: 'nul-keys', Key: 'bad\u0000key', Body: 'x' }));
      await srv.client().send(new PutObjectCommand({ Bucket: 'nul-keys', Key: 'fine', Body: 'y' }));
    });
    dirs.push(dir);
    const db = await freshDb();
    const r = await cli(['migrate-metadata', '--from', dir, '--to', db.url]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('NUL character');
    expect(r.stderr).toContain('"bucket":"nul-keys","key":"bad\\u0000key"');
    const [t] = await sql<{ t: string | null }>(db.url, `select to_regclass('objects')::text as t`);
    expect(t!.t).toBeNull();
  });

  it('answers bad targets and sources with their reasons', async () => {
    const http = await cli(['migrate-metadata', '--from', dataDir, '--to', 'http://example.com/db']);
    expect(http.code).toBe(2);
    expect(http.stderr).toContain('expected a postgres:// URL');
    const noDb = await cli(['migrate-metadata', '--from', dataDir, '--to', 'postgres://u@127.0.0.1:5432']);
    expect(noDb.code).toBe(2);
    expect(noDb.stderr).toContain('names no database');
    const missing = await cli(['migrate-metadata', '--from', dataDir]);
    expect(missing.code).toBe(2);
    const closed = await cli(['migrate-metadata', '--from', dataDir, '--to', 'postgres://u:secretpw@127.0.0.1:1/cairn']);
    expect(closed.code).toBe(1);
    expect(closed.stderr).toMatch(/cannot connect to PostgreSQL at postgres:\/\/u:\*\*\*@127\.0\.0\.1:1\/cairn/);
    expect(closed.stderr).not.toContain('secretpw');
    const noDir = await cli(['migrate-metadata', '--from', '/nonexistent/cairn-data', '--to', 'postgres://u@127.0.0.1:1/cairn']);
    expect(noDir.code).toBe(1);
    expect(noDir.stderr).toContain('does not exist');
  });
});
