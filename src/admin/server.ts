import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import Router from '@koa/router';
import { consoleMiddleware, findConsoleDir } from './console.js';
import { errorMiddleware } from './http.js';
import { AdminJobs } from './jobs.js';
import { authMiddleware } from './auth.js';
import { s3UrlFor, type AdminDeps, type RegisterRoutes } from './routes/common.js';
import { registerBucketRoutes } from './routes/buckets.js';
import { registerObjectRoutes } from './routes/objects.js';
import { registerTagRoutes } from './routes/tags.js';
import { registerKeyRoutes } from './routes/keys.js';
import { registerAccountRoutes } from './routes/accounts.js';
import { registerAclRoutes } from './routes/acl.js';
import { registerPresignRoutes } from './routes/presign.js';
import { registerJobRoutes } from './routes/jobs.js';
import { registerConfigRoutes } from './routes/config.js';
import { closeServer, schemeOf, trackHandshakes, type HttpServer } from '../http/listener.js';
import type { TlsPem } from '../http/tls.js';

export type { AdminDeps } from './routes/common.js';

// The admin listener: a JSON API over the records (docs/admin-contract.md), /metrics and
// /health, on its own port (loopback by default) behind a bearer token or a SigV4 signature.
// The routes live in routes/, one file per resource; changes go through the domain services.

const ROUTES: RegisterRoutes[] = [
  registerConfigRoutes,
  registerBucketRoutes,
  registerAclRoutes,
  registerTagRoutes,
  registerObjectRoutes,
  registerKeyRoutes,
  registerAccountRoutes,
  registerPresignRoutes,
  registerJobRoutes,
];

export function createAdminApp(deps: AdminDeps, jobs = new AdminJobs()): Koa {
  const app = new Koa();
  app.proxy = false;
  app.on('error', (err: Error) => deps.log.debug({ err: err.message }, 'admin response stream error'));
  app.use(async (ctx, next) => {
    const started = performance.now();
    await next();
    deps.log.debug({ admin: true, method: ctx.method, path: ctx.path, status: ctx.status, ms: Math.round((performance.now() - started) * 10) / 10 }, 'admin request');
  });
  app.use(errorMiddleware(deps.log));
  // The console's files need no token (they hold no data); the API below does.
  const consoleDir = deps.consoleDir === undefined ? findConsoleDir() : (deps.consoleDir ?? undefined);
  app.use(
    consoleMiddleware(consoleDir, (ctx) => {
      const s3 = new URL(s3UrlFor(deps, ctx)).origin;
      return `default-src 'self'; connect-src 'self' ${s3}; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'`;
    }),
  );
  app.use(authMiddleware({ principals: deps.principals, token: deps.token, region: deps.region }));
  const router = new Router();
  for (const register of ROUTES) register(router, deps, jobs);
  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}

export interface AdminServer {
  url: string;
  port: number;
  /** An https.Server when the admin listener has a certificate (opts.tls). */
  server: HttpServer;
  close(): Promise<void>;
}

export async function startAdminServer(deps: AdminDeps, opts: { port: number; host: string; tls?: TlsPem }): Promise<AdminServer> {
  const jobs = new AdminJobs();
  const callback = createAdminApp(deps, jobs).callback();
  const server: HttpServer = opts.tls ? https.createServer({ ...opts.tls }, callback) : http.createServer(callback);
  if (opts.tls) trackHandshakes(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const shownHost = opts.host === '0.0.0.0' || opts.host === '::' ? '127.0.0.1' : opts.host;
  return {
    url: `${schemeOf(server)}://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${port}`,
    port,
    server,
    close: async () => {
      await closeServer(server);
      await jobs.close();
    },
  };
}
