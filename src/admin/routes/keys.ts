import type Koa from 'koa';
import { QueryError } from '../../db/records/index.js';
import { isAdmin, requireThat } from '../console.js';
import { AdminError, readJson } from '../http.js';
import { who } from '../auth.js';
import { queryParams, type AdminDeps, type RegisterRoutes } from './common.js';

// Access keys, through KeyService: for the admin token and the root pair only. A key acts for an
// account (`account`: its name or canonical id, default the root account); `accessKeyId` and
// `secretAccessKey` import a pair made elsewhere instead of generating one.

function keysFor(ctx: Koa.Context, deps: AdminDeps) {
  requireThat(isAdmin(who(ctx)), 'manage access keys (the admin token or the root key pair can)');
  if (!deps.keys) throw new AdminError('NotImplemented', 'access keys are not available in this build');
  return deps.keys;
}

export const registerKeyRoutes: RegisterRoutes = (router, deps) => {
  router.get('/v1/keys', async (ctx) => {
    const keys = keysFor(ctx, deps);
    const params = queryParams(ctx.querystring);
    for (const name of Object.keys(params)) if (name !== 'account') throw new QueryError(name, `unknown parameter "${name}"`);
    if (params.account === undefined) {
      ctx.body = { keys: await keys.list() };
      return;
    }
    try {
      ctx.body = { keys: await keys.list(params.account) };
    } catch (err) {
      // A filter naming no account is the caller's mistake, named like the other filters'.
      if ((err as { field?: string }).field === 'account') throw new QueryError('account', (err as Error).message);
      throw err;
    }
  });

  router.post('/v1/keys', async (ctx) => {
    const keys = keysFor(ctx, deps);
    const body = await readJson(ctx);
    ctx.body = await keys.create({
      account: body.account,
      description: body.description,
      grants: body.grants,
      accessKeyId: body.accessKeyId,
      secretAccessKey: body.secretAccessKey,
    });
    ctx.status = 201;
  });

  router.delete('/v1/keys/:id', async (ctx) => {
    await keysFor(ctx, deps).revoke(ctx.params.id!);
    ctx.status = 204;
  });
};
