// The S3 chunk backend: chunks as objects `<prefix>/ab/cd/<sha256>` in a bucket of another
// S3-compatible store (`--chunks s3://bucket/prefix`). Chunks are content-addressed, so a put
// needs no temp name and no rename: PutObject is atomic, and a second put of a hash writes the
// same bytes. "Durable" is what the remote promises once it acknowledged the PutObject.
//
// What the remote cannot do that the local disk can: rename aside atomically. deleteIfStale()
// here checks age and stillOrphan() and then deletes, with a window in between; across gateways
// the chunk claims in the metadata engine (src/store/claims.ts) close it, not this file.
import type { Readable } from 'node:stream';
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type HeadObjectCommandOutput,
} from '@aws-sdk/client-s3';
import { checkHash, chunkMissing, type ChunkBackend, type ChunkFile, type ChunkStat } from './backend.js';

export interface S3BackendOptions {
  bucket: string;
  /** Key prefix without leading or trailing slash ('' = the bucket's root). */
  prefix: string;
  endpoint?: string;
  region: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Path-style addressing (bucket in the path): the default, what most S3-compatible stores need. */
  forcePathStyle?: boolean;
}

/** Parses `s3://bucket/prefix`; throws a message naming the problem (no secrets in it). */
export function parseChunksUrl(url: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([^/]+)(?:\/(.*))?$/.exec(url);
  if (!m) throw new Error(`not an s3:// URL: "${url}" (use s3://bucket/prefix)`);
  const bucket = m[1]!;
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) throw new Error(`not a bucket name: "${bucket}"`);
  const prefix = (m[2] ?? '').replace(/^\/+|\/+$/g, '');
  return { bucket, prefix };
}

// The time of the last write or touch, in ms: Last-Modified has whole seconds only.
const TOUCHED = 'cairn-touched';
const CHUNK_KEY_RE = /^([0-9a-f]{2})\/([0-9a-f]{2})\/([0-9a-f]{64})$/;

export class S3ChunkBackend implements ChunkBackend {
  // Resolved once the remote acknowledged the PutObject: as durable as the remote makes it.
  readonly durability = 'fsync' as const;
  readonly client: S3Client;
  readonly bucket: string;
  readonly prefix: string;

  constructor(opts: S3BackendOptions) {
    this.bucket = opts.bucket;
    this.prefix = opts.prefix;
    this.client = new S3Client({
      region: opts.region,
      endpoint: opts.endpoint,
      forcePathStyle: opts.forcePathStyle ?? true,
      ...(opts.credentials ? { credentials: opts.credentials } : {}),
    });
  }

  private base(): string {
    return this.prefix === '' ? '' : `${this.prefix}/`;
  }

  key(hash: string): string {
    checkHash(hash);
    return `${this.base()}${hash.slice(0, 2)}/${hash.slice(2, 4)}/${hash}`;
  }

  /** Nothing to sweep (no temp objects); checks the bucket answers, so a bad setting stops start-up. */
  async init(): Promise<{ sweptTmpFiles: number }> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch (err) {
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      const code = (err as Error).name;
      throw new Error(`the chunk bucket "${this.bucket}" is not usable: ${status === 404 ? 'no such bucket' : status === 403 ? 'access denied (check the chunk store credentials)' : code}`);
    }
    return { sweptTmpFiles: 0 };
  }

  async put(hash: string, data: Buffer): Promise<void> {
    await this.client.send(
      new PutObjectCommand({ Bucket: this.bucket, Key: this.key(hash), Body: data, ContentLength: data.length, Metadata: { [TOUCHED]: String(Date.now()) } }),
    );
  }

  async reuse(hash: string, size: number): Promise<boolean> {
    const st = await this.stat(hash);
    return !!st && st.size === size && (await this.touch(hash));
  }

  async get(hash: string, range?: { offset: number; length: number }): Promise<Buffer> {
    const key = this.key(hash);
    if (range && range.length <= 0) {
      if (!(await this.stat(hash))) throw chunkMissing(hash);
      return Buffer.alloc(0);
    }
    const Range = range ? `bytes=${range.offset}-${range.offset + range.length - 1}` : undefined;
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key, Range }));
      const bytes = await out.Body!.transformToByteArray();
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    } catch (err) {
      if (missing(err)) throw chunkMissing(hash, err);
      // A range starting at or past the end: fewer bytes than asked, here none.
      if (statusOf(err) === 416) return Buffer.alloc(0);
      throw err;
    }
  }

  /** Reads stream from the position asked; a read elsewhere starts a new ranged GET. */
  async open(hash: string): Promise<ChunkFile> {
    const st = await this.stat(hash);
    if (!st) throw chunkMissing(hash);
    return new S3ChunkFile(this, hash, st.size);
  }

  async stat(hash: string): Promise<ChunkStat | undefined> {
    const head = await this.head(this.key(hash));
    return head && { size: head.ContentLength ?? 0, mtimeMs: touchedAt(head) };
  }

  /** A copy onto itself with new metadata: the only way S3 has to mark an object just used. */
  async touch(hash: string): Promise<boolean> {
    const key = this.key(hash);
    try {
      await this.client.send(
        new CopyObjectCommand({
          Bucket: this.bucket,
          Key: key,
          CopySource: `${this.bucket}/${encodeURIComponent(key).replace(/%2F/g, '/')}`,
          MetadataDirective: 'REPLACE',
          Metadata: { [TOUCHED]: String(Date.now()) },
        }),
      );
      return true;
    } catch (err) {
      if (missing(err)) return false;
      throw err;
    }
  }

  async delete(hash: string): Promise<boolean> {
    const key = this.key(hash);
    // DeleteObject answers 204 whether or not the key existed.
    if (!(await this.head(key))) return false;
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    return true;
  }

  async deleteIfStale(hash: string, opts: { graceMs: number; stillOrphan: () => Promise<boolean> }): Promise<{ removed: boolean; size: number }> {
    const cutoff = Date.now() - opts.graceMs;
    const before = await this.stat(hash);
    if (!before || before.mtimeMs > cutoff) return { removed: false, size: 0 };
    if (!(await opts.stillOrphan())) return { removed: false, size: 0 };
    // Looked at again after the row check: a reuse() in between shows as a fresh touch.
    const after = await this.stat(hash);
    if (!after || after.mtimeMs > cutoff) return { removed: false, size: 0 };
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.key(hash) }));
    return { removed: true, size: after.size };
  }

  /** Copies the chunk to `<prefix>/quarantine/<sha256>[.<ms>]` and deletes it; `dir` (a local folder) does not apply. */
  async quarantine(hash: string, _dir: string): Promise<string> {
    const key = this.key(hash);
    let dest = `${this.base()}quarantine/${hash}`;
    if (await this.head(dest)) dest = `${dest}.${Date.now()}`;
    const source = `${this.bucket}/${encodeURIComponent(key).replace(/%2F/g, '/')}`;
    try {
      await this.client.send(new CopyObjectCommand({ Bucket: this.bucket, Key: dest, CopySource: source }));
    } catch (err) {
      if (missing(err)) throw chunkMissing(hash, err);
      throw err;
    }
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    return `s3://${this.bucket}/${dest}`;
  }

  async *list(): AsyncGenerator<string, void, undefined> {
    const base = this.base();
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: base, ContinuationToken: token }));
      for (const o of page.Contents ?? []) {
        const m = CHUNK_KEY_RE.exec((o.Key ?? '').slice(base.length));
        if (m && m[3]!.startsWith(m[1]! + m[2]!)) yield m[3]!;
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  private async head(key: string): Promise<HeadObjectCommandOutput | undefined> {
    try {
      return await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (err) {
      if (missing(err)) return undefined;
      throw err;
    }
  }

  /** A GET of bytes from `position` to the end, as a stream. */
  async stream(hash: string, position: number): Promise<Readable> {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key(hash), Range: `bytes=${position}-` }));
      return out.Body as Readable;
    } catch (err) {
      if (missing(err)) throw chunkMissing(hash, err);
      throw err;
    }
  }

  close(): void {
    this.client.destroy();
  }
}

/**
 * An open chunk on S3: sequential reads (the read path's) consume one streamed GET into the
 * caller's buffers, so memory stays the caller's pieces plus the socket's buffer; a read at
 * another position drops the stream and starts a new one there.
 */
class S3ChunkFile implements ChunkFile {
  private body?: Readable;
  private pos = -1;
  private ended = false;

  constructor(
    private readonly backend: S3ChunkBackend,
    private readonly hash: string,
    readonly size: number,
  ) {}

  async read(into: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }> {
    if (length <= 0 || position >= this.size) return { bytesRead: 0 };
    if (!this.body || position !== this.pos) {
      this.drop();
      this.body = await this.backend.stream(this.hash, position);
      this.pos = position;
      this.ended = false;
    }
    const n = await readInto(this.body, into, offset, length, () => (this.ended = true));
    this.pos += n;
    if (n === 0 && this.ended) this.drop();
    return { bytesRead: n };
  }

  async close(): Promise<void> {
    this.drop();
  }

  private drop(): void {
    this.body?.destroy();
    this.body = undefined;
  }
}

/** Up to `length` bytes from a paused stream into `into`; a bigger piece's rest goes back (unshift). */
async function readInto(body: Readable, into: Buffer, offset: number, length: number, onEnd: () => void): Promise<number> {
  let got = 0;
  while (got < length) {
    const piece = body.read() as Buffer | null;
    if (piece === null) {
      if (body.readableEnded) {
        onEnd();
        break;
      }
      if (got > 0) break;
      await new Promise<void>((resolve, reject) => {
        const done = () => {
          body.off('readable', done).off('end', done).off('error', fail);
          resolve();
        };
        const fail = (err: Error) => {
          body.off('readable', done).off('end', done).off('error', fail);
          reject(err);
        };
        body.once('readable', done).once('end', done).once('error', fail);
      });
      if (body.readableEnded && body.readableLength === 0) {
        onEnd();
        break;
      }
      continue;
    }
    const take = Math.min(piece.length, length - got);
    piece.copy(into, offset + got, 0, take);
    got += take;
    if (take < piece.length) body.unshift(piece.subarray(take));
  }
  return got;
}

function statusOf(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

function missing(err: unknown): boolean {
  const name = (err as Error).name;
  return name === 'NoSuchKey' || name === 'NotFound' || statusOf(err) === 404;
}

function touchedAt(head: HeadObjectCommandOutput): number {
  const ms = Number(head.Metadata?.[TOUCHED]);
  return Number.isFinite(ms) && ms > 0 ? ms : (head.LastModified?.getTime() ?? 0);
}
