import type { BucketHandler, BucketTarget, S3Context, AppDeps } from '../context.js';
import { encodeContinuationToken, parseListParams } from '../../s3/list-params.js';
import { listObjectsXml, type ListEntry } from '../../s3/xml.js';

/** ListObjects (v1, marker paging: rclone's and s3cmd's default). */
export const listObjects: BucketHandler = async (ctx, deps, t) => list(ctx, deps, t, 1);

/** ListObjectsV2 (continuation tokens: every `aws s3` command and the SDK). */
export const listObjectsV2: BucketHandler = async (ctx, deps, t) => list(ctx, deps, t, 2);

async function list(ctx: S3Context, deps: AppDeps, t: BucketTarget, version: 1 | 2): Promise<void> {
  const bucket = await deps.buckets.require(t.bucket);
  const p = parseListParams(ctx.state.query, version);
  // Each batch is one index seek on (bucket_id, key); common prefixes are skipped by seeking.
  const page = await deps.objects.list(bucket, p);
  const withOwner = version === 1 || p.fetchOwner;
  const ownerOf = withOwner ? await deps.accounts.namer() : undefined;
  const contents: ListEntry[] = page.contents.map((o) => ({
    key: o.key,
    lastModified: new Date(o.lastModified),
    etag: o.etag,
    size: o.size,
    storageClass: o.storageClass,
    checksumAlgorithm: o.checksumAlgorithm ?? undefined,
    owner: ownerOf?.(o.ownerId ?? bucket.ownerId),
  }));
  const truncatedAt = page.isTruncated ? page.lastKey : undefined;
  ctx.type = 'application/xml';
  ctx.body = listObjectsXml({
    version,
    bucket: bucket.name,
    prefix: p.prefix,
    delimiter: p.delimiter,
    maxKeys: p.maxKeys,
    encodingType: p.encodingType,
    isTruncated: page.isTruncated,
    contents,
    commonPrefixes: page.commonPrefixes,
    marker: p.marker,
    nextMarker: version === 1 && p.delimiter !== undefined ? truncatedAt : undefined,
    continuationToken: p.continuationToken,
    nextContinuationToken: version === 2 && truncatedAt !== undefined ? encodeContinuationToken(truncatedAt) : undefined,
    startAfter: p.startAfter,
    keyCount: contents.length + page.commonPrefixes.length,
    fetchOwner: p.fetchOwner,
  });
}
