// The chunk backend contract against the S3 backend, with a second cairn on loopback as the
// remote store (real sockets, the real SDK). One remote for the file, a fresh prefix per test.
import { randomBytes, createHash } from 'node:crypto';
import { CreateBucketCommand, DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { loadConfig } from '../../src/config.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseChunksUrl, S3ChunkBackend } from '../../src/storage/s3-backend.js';
import { ChunkStore } from '../../src/storage/chunk-store.js';
import { chunkBackendContract } from '../helpers/chunk-backend-contract.js';
import { startTestServer, tmpFiles, type TestServer } from '../helpers/server.js';

let remote: TestServer;
const BUCKET = 'chunks';

beforeAll(async () => {
  remote = await startTestServer();
  await remote.client().send(new CreateBucketCommand({ Bucket: BUCKET }));
});
afterAll(async () => {
  await remote?.stop();
});

function backendAt(prefix: string): S3ChunkBackend {
  const { accessKeyId, secretAccessKey } = remote.credentials;
  return new S3ChunkBackend({ bucket: BUCKET, prefix, endpoint: remote.url, region: 'us-east-1', credentials: { accessKeyId, secretAccessKey } });
}

chunkBackendContract('S3 (a second cairn on loopback)', async () => {
  const backend = backendAt(`t-${randomBytes(4).toString('hex')}/nested`);
  await backend.init();
  return {
    backend,
    // PutObject is atomic: nothing half-written can show; the remote's own temp files must be gone too.
    leftovers: async () => tmpFiles(remote),
    quarantineDir: '/unused',
    cleanup: async () => backend.close(),
  };
});

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('S3ChunkBackend', () => {
  it('parses s3://bucket/prefix and refuses other URLs', () => {
    expect(parseChunksUrl('s3://my-bucket/a/b/')).toEqual({ bucket: 'my-bucket', prefix: 'a/b' });
    expect(parseChunksUrl('s3://my-bucket')).toEqual({ bucket: 'my-bucket', prefix: '' });
    expect(() => parseChunksUrl('http://x/y')).toThrow(/not an s3:\/\/ URL/);
    expect(() => parseChunksUrl('s3://A_B/x')).toThrow(/not a bucket name/);
  });

  it('keeps chunks at <prefix>/ab/cd/<hash> and lists only those', async () => {
    const backend = backendAt('layout');
    const data = randomBytes(5000);
    const hash = sha256(data);
    await backend.put(hash, data);
    expect(backend.key(hash)).toBe(`layout/${hash.slice(0, 2)}/${hash.slice(2, 4)}/${hash}`);
    await backend.quarantine(hash, '/unused');
    await backend.put(hash, data);
    const seen: string[] = [];
    for await (const h of backend.list()) seen.push(h);
    expect(seen).toEqual([hash]);
    backend.close();
  });

  it('a missing bucket or wrong credentials stop init with a clear message', async () => {
    const nobucket = new S3ChunkBackend({ bucket: 'no-such-bucket', prefix: '', endpoint: remote.url, region: 'us-east-1', credentials: remote.credentials });
    await expect(nobucket.init()).rejects.toThrow(/"no-such-bucket" is not usable: no such bucket/);
    const badKey = new S3ChunkBackend({ bucket: BUCKET, prefix: '', endpoint: remote.url, region: 'us-east-1', credentials: { accessKeyId: 'WRONGKEY0000', secretAccessKey: 'wrong-secret-0000' } });
    await expect(badKey.init()).rejects.toThrow(/access denied/);
    nobucket.close();
    badKey.close();
  });

  it('a ChunkStore over it reads an object in pieces (streamed ranged GETs)', async () => {
    const store = new ChunkStore({ backend: backendAt('store') });
    const data = randomBytes(3 * 1024 * 1024 + 17);
    const ref = await store.put(data);
    store.unpin(ref.hash);
    const pieces: Buffer[] = [];
    for await (const p of store.readPieces(ref, 256 * 1024)) pieces.push(Buffer.from(p));
    expect(Buffer.concat(pieces).equals(data)).toBe(true);
    expect((await store.read(ref, { verifyHash: true })).equals(data)).toBe(true);
  });
});

describe('a gateway with --chunks s3://', () => {
  it('stores chunk files as objects of the other store, reads them back, and GC collects its orphans', async () => {
    const { accessKeyId, secretAccessKey } = remote.credentials;
    const gw = await startTestServer({ chunks: `s3://${BUCKET}/gw1`, chunksEndpoint: remote.url, chunksAccessKeyId: accessKeyId, chunksSecretAccessKey: secretAccessKey, chunkSize: 64 * 1024 });
    try {
      const s3 = gw.client();
      await s3.send(new CreateBucketCommand({ Bucket: 'data' }));
      const body = randomBytes(200_000);
      await s3.send(new PutObjectCommand({ Bucket: 'data', Key: 'big', Body: body }));
      const back = await s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'big', Range: 'bytes=70000-150000' }));
      expect(Buffer.from(await back.Body!.transformToByteArray()).equals(body.subarray(70_000, 150_001))).toBe(true);
      const listed = await remote.client().send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'gw1/' }));
      expect(listed.KeyCount).toBe(4);
      // Small objects stay inline in the metadata engine: nothing more on the remote.
      await s3.send(new PutObjectCommand({ Bucket: 'data', Key: 'small', Body: 'tiny' }));
      expect((await remote.client().send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'gw1/' }))).KeyCount).toBe(4);
      // Shared mode (chunks on S3): freed chunks wait for the collector, which takes them after the grace period.
      await s3.send(new DeleteObjectCommand({ Bucket: 'data', Key: 'big' }));
      expect((await remote.client().send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'gw1/' }))).KeyCount).toBe(4);
      const { runGc } = await import('../../src/storage/gc.js');
      const r = await runGc({ dataDir: gw.dataDir, meta: gw.meta, store: gw.store }, { graceMs: 0, multipartExpiryMs: 86_400_000 });
      expect(r.orphanChunks).toBe(0);
      await gw.meta.claims.expire(Date.now() + 86_400_000);
      const r2 = await runGc({ dataDir: gw.dataDir, meta: gw.meta, store: gw.store }, { graceMs: 0, multipartExpiryMs: 86_400_000 });
      expect(r2.orphanChunks).toBe(4);
      expect((await remote.client().send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'gw1/' }))).KeyCount ?? 0).toBe(0);
    } finally {
      await gw.stop();
    }
  });

  it('a bad URL or missing credentials stop start-up with the setting named', () => {
    expect(() => loadConfig({ chunks: 's3://Bad_Bucket/x', chunksAccessKeyId: 'k', chunksSecretAccessKey: 's' }, {})).toThrow(/CAIRN_CHUNKS \(--chunks\): use s3:\/\/bucket\/prefix/);
    expect(() => loadConfig({ chunks: 's3://good-bucket/x' }, {})).toThrow(/needs CAIRN_CHUNKS_ACCESS_KEY_ID and CAIRN_CHUNKS_SECRET_ACCESS_KEY/);
    expect(() => loadConfig({ chunks: 's3://good-bucket/x', chunksAccessKeyId: 'k', chunksSecretAccessKey: 'supersecret' }, {})).not.toThrow();
    expect(() => loadConfig({ chunks: 's3://good-bucket', chunksEndpoint: 'not a url', chunksAccessKeyId: 'k', chunksSecretAccessKey: 'supersecret' }, {})).toThrow(/CAIRN_CHUNKS_ENDPOINT/);
    const config = loadConfig({ chunks: '/mnt/shared' }, {});
    expect(config.chunks).toBe('/mnt/shared');
  });

  it('an unreachable chunk bucket stops start-up clearly', async () => {
    const { accessKeyId, secretAccessKey } = remote.credentials;
    await expect(startTestServer({ chunks: 's3://missing-bucket/x', chunksEndpoint: remote.url, chunksAccessKeyId: accessKeyId, chunksSecretAccessKey: secretAccessKey })).rejects.toThrow(/"missing-bucket" is not usable: no such bucket/);
  });
});
