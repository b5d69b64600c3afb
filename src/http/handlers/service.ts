import type { Handler } from '../context.js';
import { listBucketsXml } from '../../s3/xml.js';
import { hasPermission } from '../../auth/authorize.js';

/** ListBuckets (GET /). */
export const listBuckets: Handler = async (ctx, deps) => {
  // A key sees the buckets it may read; root (and a '*' grant) sees them all.
  const principal = ctx.state.principal;
  const buckets = (await deps.buckets.list()).filter((b) => principal && hasPermission(principal, b.name, 'read')).map((b) => ({ name: b.name, created: new Date(b.createdAt), region: b.region }));
  ctx.type = 'application/xml';
  ctx.body = listBucketsXml(deps.owner, buckets);
};
