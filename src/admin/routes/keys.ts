import type Koa from 'koa';
import { isAdmin, requireThat } from '../console.js';
import { AdminError, readJson } from '../http.js';
import { who } from '../auth.js';
import type { AdminDeps, RegisterRoutes } from './common.js';

// Access keys, through KeyService: for the admin token and the root pair only.

function keysFor(ctx: Koa.Context, deps: AdminDeps) {
  requireThat(isAdmin(who(ctx)), 'manage access keys (the admin token or the root key pair can)');
  if (!deps.keys) throw new AdminError('NotImplemented', 'access keys are not available in this build');
  return deps.keys;
}

export const registerKeyRoutes: RegisterRoutes = (router, deps) => {
  router.get('/v1/keys', async (ctx) => {
    ctx.body = { keys: await keysFor(ctx, deps).list() };
  });

  router.post('/v1/keys', async (ctx) => {
    const keys = keysFor(ctx, deps);
    const body = await readJson(ctx);
    ctx.body = await keys.create({ description: body.description, grants: body.grants });
    ctx.status = 201;
  });

  router.delete('/v1/keys/:id', async (ctx) => {
    await keysFor(ctx, deps).revoke(ctx.params.id!);
    ctx.status = 204;
  });
};
