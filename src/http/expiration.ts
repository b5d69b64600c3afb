import type { AppDeps, S3Context } from './context.js';
import type { BucketRow, ObjectRow } from '../store/types.js';
import { expirationFor, expirationHeader, expiryNeedsTags, storedLifecycle } from '../s3/lifecycle.js';

/**
 * x-amz-expiration on PUT, GET and HEAD of a current version that an Enabled Expiration rule
 * (Days or Date) selects. Costs nothing on a bucket without lifecycle rules (the bucket row is
 * cached and says so); the rules are parsed once per configuration (storedLifecycle); the tags
 * are read only when a rule filters on them and the version has some.
 */
export async function setExpirationHeader(ctx: S3Context, deps: AppDeps, bucket: BucketRow, obj: ObjectRow): Promise<void> {
  if (bucket.lifecycle === null || !obj.isCurrent) return;
  const config = storedLifecycle(bucket.lifecycle)!;
  const tags = obj.tagCount > 0 && expiryNeedsTags(config) ? await deps.tagging.tagsOf(obj) : undefined;
  const e = expirationFor(config, obj, deps.config.lifecycleDaySeconds * 1000, tags);
  if (e) ctx.set('x-amz-expiration', expirationHeader(e));
}
