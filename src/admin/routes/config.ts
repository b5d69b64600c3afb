import { canManageBuckets, isAdmin, requireThat } from '../console.js';
import { who } from '../auth.js';
import { AdminAccess } from '../access.js';
import { s3UrlFor, type RegisterRoutes } from './common.js';

// Server-wide reads: what the console needs after signing in, store totals, Prometheus metrics.
// Totals and metrics cover every bucket: an access key needs a '*' grant, and an account that may
// read every bucket (src/admin/access.ts).

const SEE_ALL = "read store-wide totals (it needs a grant on every bucket, '*', and an account that may read every bucket)";

export const registerConfigRoutes: RegisterRoutes = (router, deps) => {
  router.get('/metrics', async (ctx) => {
    requireThat(await new AdminAccess(ctx, deps).seesAll(), SEE_ALL.replace('store-wide totals', 'server-wide metrics'));
    ctx.type = deps.metrics.contentType;
    ctx.body = await deps.metrics.text();
  });

  // Where S3 is, and what this principal may do.
  router.get('/v1/config', async (ctx) => {
    const p = who(ctx);
    const account = p.kind === 'admin' ? undefined : await deps.accounts?.resolver().then((r) => ({ id: p.accountId, name: r.displayName(p.accountId) ?? null }));
    ctx.body = {
      s3Url: s3UrlFor(deps, ctx),
      region: deps.region,
      principal: p.kind === 'key' ? { kind: 'key', accessKeyId: p.accessKeyId, grants: p.grants, account } : { kind: p.kind, ...(p.kind === 'root' ? { accessKeyId: p.accessKeyId, account } : {}) },
      can: { admin: isAdmin(p), manageBuckets: canManageBuckets(p), seeAll: await new AdminAccess(ctx, deps).seesAll() },
      chunkSize: deps.pool.bufferSize,
    };
  });

  router.get('/v1/stats', async (ctx) => {
    requireThat(await new AdminAccess(ctx, deps).seesAll(), SEE_ALL);
    const stats = await deps.records.stats();
    const p = deps.pool.stats();
    const lifecycle = (await deps.lastLifecycleRun?.()) ?? null;
    const gateways = (await deps.gateways?.()) ?? [];
    ctx.body = { ...stats, pool: { total: p.total, free: p.free, inUse: p.inUse, waiters: p.waiters, bufferSize: deps.pool.bufferSize }, lifecycle, engine: deps.engine ?? 'sqlite', gateways };
  });
};
