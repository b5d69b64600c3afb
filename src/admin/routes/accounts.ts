import type Koa from 'koa';
import { describeAccounts, type AccountInfo } from '../../services/accounts.js';
import type { AccountRow } from '../../store/types.js';
import { isAdmin, requireThat } from '../console.js';
import { AdminError, readJson } from '../http.js';
import { who } from '../auth.js';
import type { AdminDeps, RegisterRoutes } from './common.js';

// Accounts, through AccountService: who owns buckets and objects, and whom keys act for. For the
// admin token and the root pair only, as keys are. An account is named by its name or canonical id.

function accountsFor(ctx: Koa.Context, deps: AdminDeps) {
  requireThat(isAdmin(who(ctx)), 'manage accounts (the admin token or the root key pair can)');
  if (!deps.accounts) throw new AdminError('NotImplemented', 'accounts are not available in this build');
  return deps.accounts;
}

/** The rows as AccountInfo: with the buckets they own and the keys acting for them. */
async function describe(deps: AdminDeps, rows: AccountRow[]): Promise<AccountInfo[]> {
  const [root, buckets, keys] = await Promise.all([deps.accounts!.root(), deps.buckets.list(), deps.keys?.list() ?? []]);
  return describeAccounts(rows, root.id, buckets, keys);
}

export const registerAccountRoutes: RegisterRoutes = (router, deps) => {
  router.get('/v1/accounts', async (ctx) => {
    const accounts = accountsFor(ctx, deps);
    ctx.body = { accounts: await describe(deps, await accounts.list()) };
  });

  router.get('/v1/accounts/:account', async (ctx) => {
    const accounts = accountsFor(ctx, deps);
    ctx.body = (await describe(deps, [await accounts.require(ctx.params.account!)]))[0];
  });

  // { name, email? } -> 201: a new canonical id; 409 when the name or the email is taken.
  router.post('/v1/accounts', async (ctx) => {
    const accounts = accountsFor(ctx, deps);
    const body = await readJson(ctx);
    const row = await accounts.create({ name: body.name, email: body.email });
    ctx.status = 201;
    ctx.body = (await describe(deps, [row]))[0];
  });

  // With its keys. 409 for the root account and for one that owns buckets; 404 for no such account.
  router.delete('/v1/accounts/:account', async (ctx) => {
    await accountsFor(ctx, deps).delete(ctx.params.account!);
    ctx.status = 204;
  });
};
