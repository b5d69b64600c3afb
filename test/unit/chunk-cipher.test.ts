import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_OVERHEAD, open, parseHeader, seal, sealedSize, serverKeys, type SealSpec } from '../../src/storage/chunk-cipher.js';
import { HashPool } from '../../src/storage/hash-pool.js';
import { ChunkStore } from '../../src/storage/chunk-store.js';
import { loadServerKeys, parseKeyFile } from '../../src/storage/keyring.js';
import { ConfigError } from '../../src/config.js';

const serverKey = randomBytes(32);
const server = serverKeys('k1', serverKey);
const serverOpen = { server: (id: string) => (id === 'k1' ? server.dataKey : (() => { throw new Error(`no key ${id}`); })()) };
const customer: SealSpec = { mode: 2, customerKey: randomBytes(32) };

describe('chunk cipher', () => {
  it('round-trips SSE-S3 and SSE-C chunks, empty ones included', () => {
    for (const plain of [Buffer.alloc(0), Buffer.from('hello'), randomBytes(300_000)]) {
      const s = seal(plain, server);
      expect(s.length).toBe(sealedSize(plain.length, server));
      expect(s.length - plain.length).toBeLessThanOrEqual(MAX_OVERHEAD);
      expect(open(s, serverOpen, 'h').equals(plain)).toBe(true);
      const c = seal(plain, customer);
      expect(open(c, { customerKey: (customer as { customerKey: Uint8Array }).customerKey }, 'h').equals(plain)).toBe(true);
    }
  });

  it('detects a flipped byte in the header, the ciphertext and the tag', () => {
    const plain = randomBytes(4096);
    const s = seal(plain, server);
    const header = parseHeader(s, 'h');
    for (const at of [5, 8, header.length - 1, header.length, header.length + 2000, s.length - 17, s.length - 16, s.length - 1]) {
      const bad = Buffer.from(s);
      bad[at]! ^= 0x01;
      expect(() => open(bad, serverOpen, 'h'), `byte ${at}`).toThrow(/chunk corrupt|no key|not sealed/);
    }
  });

  it('SSE-S3: equal plaintext under one key seals to equal bytes (dedup); SSE-C never repeats', () => {
    const plain = randomBytes(10_000);
    expect(seal(plain, server).equals(seal(plain, server))).toBe(true);
    expect(seal(plain, server).equals(seal(plain, serverKeys('k2', randomBytes(32))))).toBe(false);
    expect(seal(plain, customer).equals(seal(plain, customer))).toBe(false);
    expect(seal(Buffer.from('a'), server).subarray(7, 19).equals(seal(Buffer.from('b'), server).subarray(7, 19))).toBe(false);
  });

  it('a wrong SSE-C key fails the tag; a missing server key id is a clear error', () => {
    const c = seal(Buffer.from('secret'), customer);
    expect(() => open(c, { customerKey: randomBytes(32) }, 'h')).toThrow(/authentication failed/);
    const s = seal(Buffer.from('x'), serverKeys('gone', randomBytes(32)));
    expect(() => open(s, serverOpen, 'h')).toThrow(/no key gone/);
  });

  it('the hash threads seal in place what the main thread seals, and the chunk store reads it back decrypted', async () => {
    const pool = new HashPool(1);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-cipher-'));
    try {
      const plain = Buffer.from(new SharedArrayBuffer(1024 * 1024));
      randomBytes(plain.length).copy(plain);
      const out = Buffer.from(new SharedArrayBuffer(plain.length + MAX_OVERHEAD));
      const d = await pool.sealChunk(plain, out, server);
      expect(out.subarray(0, d.length).equals(seal(plain, server))).toBe(true);
      const store = new ChunkStore({ dataDir: dir, durability: 'relaxed', hashPool: pool });
      await store.init();
      const ref = await store.put(plain, server);
      expect(ref.hash).toBe(d.hash);
      expect(ref.storedSize).toBe(d.length);
      const pieces: Buffer[] = [];
      for await (const p of store.readPieces(ref, 100_000, undefined, serverOpen)) pieces.push(Buffer.from(p));
      expect(Buffer.concat(pieces).equals(plain)).toBe(true);
      // The stored file is what scrub verifies, with no key.
      await store.read({ hash: ref.hash, size: ref.storedSize!, crc32c: ref.crc32c }, { verifyHash: true });
      // A flipped ciphertext byte on disk errors the read before it ends.
      const file = store.chunkPath(ref.hash);
      const bytes = fs.readFileSync(file);
      bytes[500_000]! ^= 1;
      fs.writeFileSync(file, bytes);
      await expect((async () => { for await (const _ of store.readPieces(ref, 100_000, undefined, serverOpen)) void _; })()).rejects.toThrow(/chunk corrupt/);
    } finally {
      await pool.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a sealed read checks tag and CRC32C before its last piece: a flipped byte or a swapped chunk never yields it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-cipher-'));
    try {
      const store = new ChunkStore({ dataDir: dir, durability: 'relaxed' });
      await store.init();
      const plainA = randomBytes(350_000);
      const a = await store.put(plainA, server);
      const b = await store.put(randomBytes(350_000), server);
      const read = async (ref: typeof a) => {
        const got: number[] = [];
        const err = await (async () => { for await (const p of store.readPieces(ref, 100_000, undefined, serverOpen)) got.push(p.length); })().catch((e: Error) => e);
        return { got, err };
      };
      expect((await read(a)).got).toEqual([100_000, 100_000, 100_000, 50_000]);
      const whole: Buffer[] = [];
      for await (const p of store.readPieces(a, 100_000, undefined, serverOpen)) whole.push(Buffer.from(p));
      expect(Buffer.concat(whole).equals(plainA)).toBe(true);
      // Another valid sealed chunk of the same size under the same key opens cleanly (the tag does
      // not bind a chunk to its name): the row's CRC32C catches it.
      fs.copyFileSync(store.chunkPath(b.hash), store.chunkPath(a.hash));
      const swapped = await read(a);
      expect(String(swapped.err)).toMatch(/chunk corrupt/);
      expect(swapped.got).toEqual([100_000, 100_000, 100_000]);
      const bytes = fs.readFileSync(store.chunkPath(b.hash));
      bytes[150_000]! ^= 1;
      fs.writeFileSync(store.chunkPath(b.hash), bytes);
      const flipped = await read(b);
      expect(String(flipped.err)).toMatch(/authentication failed/);
      expect(flipped.got).toEqual([100_000, 100_000, 100_000]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('server key file', () => {
  const k = () => randomBytes(32).toString('base64');
  it('the last line is the active key, earlier ones still open', () => {
    const ring = parseKeyFile(`# keys\nold ${k()}\n\nnew ${k()}\n`, 'f');
    expect(ring.active.keyId).toBe('new');
    expect(ring.ids).toEqual(['old', 'new']);
    expect(() => ring.dataKey('other')).toThrow(/"other" is not in the server's keys/);
  });
  it('malformed, empty, duplicate or unreadable files stop start-up naming the setting', () => {
    for (const text of ['', 'k1 notbase64', `k1 ${k()}\nk1 ${k()}`, `${'x'.repeat(65)} ${k()}`]) {
      expect(() => parseKeyFile(text, 'f')).toThrow(ConfigError);
      expect(() => parseKeyFile(text, 'f')).toThrow(/encryptionKeyFile/);
    }
    expect(() => loadServerKeys({ encryptionKeyFile: '/nonexistent/keys' })).toThrow(/encryptionKeyFile.*cannot read/);
    expect(() => loadServerKeys({ encryptAll: true })).toThrow(/encryptAll/);
    expect(loadServerKeys({ encryptionKey: k() })!.active.keyId).toBe('env');
    expect(loadServerKeys({})).toBeUndefined();
  });
});
