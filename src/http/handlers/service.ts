import type { Handler } from '../context.js';
import { listBucketsXml } from '../../s3/xml.js';

/** ListBuckets (GET /). */
export const listBuckets: Handler = async (ctx, deps) => {
  const buckets = deps.repo.listBuckets().map((b) => ({ name: b.name, created: new Date(b.createdAt), region: b.region }));
  ctx.type = 'application/xml';
  ctx.body = listBucketsXml(deps.owner, buckets);
};
