// The chunk backend contract against the S3 backend, with a second cairn on loopback as the
// remote store (real sockets, the real SDK). One remote for the file, a fresh prefix per test.
import { randomBytes, createHash } from 'node:crypto';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
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
