import { canManageBuckets, isAdmin, requireThat, seesAll } from '../console.js';
import { who } from '../auth.js';
import { s3UrlFor, type RegisterRoutes } from './common.js';

// Server-wide reads: what the console needs after signing in, store totals, Prometheus metrics.

export const registerConfigRoutes: RegisterRoutes = (router, deps, jobs) => {
  router.get('/metrics', async (ctx) => {
    requireThat(seesAll(who(ctx)), "read server-wide metrics (it needs a grant on every bucket, '*')");
    ctx.type = deps.metrics.contentType;
    ctx.body = await deps.metrics.text();
  });

  // Where S3 is, and what this principal may do.
  router.get('/v1/config', (ctx) => {
    const p = who(ctx);
    ctx.body = {
      s3Url: s3UrlFor(deps, ctx),
      region: deps.region,
      principal: p.kind === 'key' ? { kind: 'key', accessKeyId: p.accessKeyId, grants: p.grants } : { kind: p.kind, ...(p.kind === 'root' ? { accessKeyId: p.accessKeyId } : {}) },
      can: { admin: isAdmin(p), manageBuckets: canManageBuckets(p), seeAll: seesAll(p) },
      chunkSize: deps.pool.bufferSize,
    };
  });

  router.get('/v1/stats', async (ctx) => {
    requireThat(seesAll(who(ctx)), "read store-wide totals (it needs a grant on every bucket, '*')");
    const stats = await deps.records.stats();
    const p = deps.pool.stats();
    ctx.body = { ...stats, pool: { total: p.total, free: p.free, inUse: p.inUse, waiters: p.waiters, bufferSize: deps.pool.bufferSize } };
  });
};
