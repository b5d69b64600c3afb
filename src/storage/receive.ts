import type { Readable } from 'node:stream';
import { S3Error } from '../s3/errors.js';
import type { ChecksumAlgorithm } from '../s3/checksums.js';
import type { BufferPool } from './pool.js';
import type { HashPool } from './hash-pool.js';
import type { ChunkStore } from './chunk-store.js';
import { writeChunks, type WriteResult } from './chunk-writer.js';
import type { SealSpec } from './chunk-cipher.js';

// Receiving a payload (PutObject, UploadPart): write it through the bounded chunk writer,
// then verify every digest the client declared. On return the chunks are durable and pinned;
// the caller commits its rows and then calls settle().

export interface PayloadInput {
  body: Readable | AsyncIterable<Buffer>;
  /** Declared payload length (Content-Length or x-amz-decoded-content-length), when known. */
  size?: number;
  /** Content-MD5 header, already decoded to 16 bytes. */
  contentMd5?: Buffer;
  /** Requested checksum; `expected` is read after the body ends, so a trailer value works. */
  checksum?: { algorithm: ChecksumAlgorithm; expected: () => string | undefined };
  /** Hex SHA-256 from a signed x-amz-content-sha256: verified once the body is read. */
  payloadSha256?: string;
  signal?: AbortSignal;
}

export interface ReceiveDeps {
  store: ChunkStore;
  pool: BufferPool;
  maxBuffersPerRequest: number;
  hashPool?: HashPool;
  isReferenced: (hash: string) => Promise<boolean>;
  onWarn?: (msg: string, err?: unknown) => void;
  /** Every chunk a payload wrote; `created` false = the content existed already (a dedup hit). Metrics. */
  onChunks?: (chunks: ReadonlyArray<{ size: number; created: boolean }>) => void;
}

export interface Received extends WriteResult {
  /** Base64 digests of every algorithm computed (the declared one and any asked for). */
  checksumValues: Partial<Record<ChecksumAlgorithm, string>>;
}

export async function receivePayload(deps: ReceiveDeps, input: PayloadInput, opts: { maxSize: number; alsoCompute?: ChecksumAlgorithm[]; inlineMax?: number; seal?: SealSpec }): Promise<Received> {
  if (input.size !== undefined && input.size > opts.maxSize) {
    throw new S3Error('EntityTooLarge', { ProposedSize: input.size, MaxSizeAllowed: opts.maxSize });
  }
  const algorithms = new Set<ChecksumAlgorithm>(opts.alsoCompute ?? []);
  if (input.checksum) algorithms.add(input.checksum.algorithm);
  if (input.payloadSha256) algorithms.add('SHA256');
  const written = await writeChunks(input.body, {
    pool: deps.pool,
    store: deps.store,
    maxBuffers: deps.maxBuffersPerRequest,
    hashPool: deps.hashPool,
    checksums: [...algorithms],
    expectedSize: input.size,
    maxSize: opts.maxSize,
    signal: input.signal,
    isReferenced: deps.isReferenced,
    inlineMax: opts.inlineMax,
    seal: opts.seal,
  });
  deps.onChunks?.(written.chunks);
  try {
    const checksumValues: Received['checksumValues'] = {};
    for (const [alg, digest] of Object.entries(written.checksums) as Array<[ChecksumAlgorithm, Buffer]>) checksumValues[alg] = digest.toString('base64');
    if (input.payloadSha256) {
      const actual = written.checksums.SHA256!.toString('hex');
      if (actual !== input.payloadSha256.toLowerCase()) {
        throw new S3Error('XAmzContentSHA256Mismatch', { ClientComputedContentSHA256: input.payloadSha256, S3ComputedContentSHA256: actual });
      }
    }
    if (input.contentMd5 && !input.contentMd5.equals(written.md5)) {
      throw new S3Error('BadDigest', { ExpectedDigest: input.contentMd5.toString('base64') });
    }
    if (input.checksum) {
      const expected = input.checksum.expected();
      if (expected !== undefined && expected !== checksumValues[input.checksum.algorithm]) {
        throw new S3Error('BadDigest', {}, `The ${input.checksum.algorithm} you specified did not match the calculated checksum.`);
      }
    }
    return { ...written, checksumValues };
  } catch (err) {
    await settle(deps, written.chunks, false);
    throw err;
  }
}

/**
 * How a commit that threw may have ended. SQLite reports a failed write or fsync of the WAL
 * (SQLITE_IOERR_*, SQLITE_FULL) possibly after the transaction's frames reached the file, and WAL
 * recovery at the next start replays every complete transaction it finds: the row may come back.
 * The chunks such a commit references must then stay (GC takes them if the row never appears).
 */
export function commitOutcome(err: unknown): false | 'unknown' {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && (code.startsWith('SQLITE_IOERR') || code === 'SQLITE_FULL') ? 'unknown' : false;
}

/** Unpins received chunks; when nothing committed them, removes the files this upload created. */
export async function settle(deps: ReceiveDeps, chunks: WriteResult['chunks'], committed: boolean | 'unknown'): Promise<void> {
  // Read before our unpins, which clear it with the last pin.
  const skipped = new Set(chunks.filter((c) => deps.store.removalSkipped(c.hash)).map((c) => c.hash));
  for (const c of chunks) deps.store.unpin(c.hash);
  if (committed === 'unknown') return;
  if (!committed) {
    await deps.store.discard(chunks, deps.isReferenced).catch((e) => deps.onWarn?.('discarding chunks failed', e));
    return;
  }
  // Between our commit and this unpin a concurrent request (a re-sent part, an Abort, a PUT
  // of the same key) may have dropped the last reference to our chunks; its removal skipped
  // them because we still pinned them, so the deletion falls to us (and only then: a database
  // round trip per chunk saved on every other write).
  for (const hash of skipped) {
    if (await deps.isReferenced(hash)) continue;
    await deps.store.removeIfUnpinned(hash).catch((e) => deps.onWarn?.(`removing chunk ${hash} failed`, e));
  }
}
