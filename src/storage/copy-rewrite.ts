// CopyObject between encryption modes: the bytes cannot be shared (a sealed chunk opens only
// under its own key and mode), so the source is read, decrypted as it streams, and written again
// through the bounded chunk writer under the destination's encryption. docs/encryption.md.
import type { ChecksumAlgorithm } from '../s3/checksums.js';
import type { BucketRow, ObjectRow } from '../store/types.js';
import type { CustomerKey, ResolvedWrite } from './encryption.js';
import type { ObjectAttributes, ObjectService, WriteRequest } from './object-service.js';
import type { WriteEncryption } from './encryption.js';

/** Whether a copy from `src` under the destination's `resolved` encryption may share chunks. */
export function canShare(src: Pick<ObjectRow, 'encryption'>, resolved: ResolvedWrite): boolean {
  const to = resolved.columns.encryption;
  return src.encryption !== 'SSE-C' && to !== 'SSE-C' && src.encryption === to;
}

/** The attributes a COPY directive keeps, from the source's row. */
export function attributesOf(row: ObjectRow, storageClass: string | undefined): ObjectAttributes {
  return {
    contentType: row.contentType,
    contentEncoding: row.contentEncoding,
    contentDisposition: row.contentDisposition,
    contentLanguage: row.contentLanguage,
    cacheControl: row.cacheControl,
    expires: row.expires,
    storageClass: storageClass ?? 'STANDARD',
    userMetadata: JSON.parse(row.userMetadata) as Record<string, string>,
  };
}

/** Reads `source` (with its SSE-C key, if any) and writes it as a new version of dst/dstKey. */
export async function copyRewrite(
  objects: ObjectService,
  opts: WriteRequest & {
    source: ObjectRow;
    sourceKey?: CustomerKey;
    dst: BucketRow;
    dstKey: string;
    encryption?: WriteEncryption;
    replace?: ObjectAttributes;
    storageClass?: string;
  },
): Promise<ObjectRow> {
  const { source } = opts;
  const body = source.size === 0 ? Buffer.alloc(0) : await objects.openRead(source, 0, source.size - 1, opts.sourceKey);
  // A whole-object checksum is recomputed and held to the source's; a composite one cannot be.
  const alg = source.checksumType === 'FULL_OBJECT' && source.checksumAlgorithm ? (source.checksumAlgorithm as ChecksumAlgorithm) : undefined;
  try {
    return await objects.putObject({
      bucket: opts.dst,
      key: opts.dstKey,
      body: Buffer.isBuffer(body) ? (async function* () { if (body.length > 0) yield body; })() : body,
      size: source.size,
      attributes: opts.replace ? { ...opts.replace, storageClass: opts.storageClass ?? 'STANDARD' } : attributesOf(source, opts.storageClass),
      checksum: alg ? { algorithm: alg, expected: () => source.checksumValue ?? undefined } : undefined,
      encryption: opts.encryption,
      condition: opts.condition,
      lock: opts.lock,
      bypassGovernance: opts.bypassGovernance,
      access: opts.access,
      tags: opts.tags,
    });
  } finally {
    if (!Buffer.isBuffer(body)) body.destroy();
  }
}
