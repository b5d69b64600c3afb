import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type Koa from 'koa';
import { hasPermission, type Principal } from '../auth/authorize.js';
import { AdminError } from './http.js';

// The web console (console/, built by Vite into dist/console) served by the admin listener, and
// who is asking: the admin token, or an access key pair (SigV4-signed admin requests, grants).

// ---- principals ----

/** The admin token, or a SigV4 key: the root pair (may do everything) or an access key with grants. */
export type AdminPrincipal = { kind: 'admin' } | Principal;

// What a key's grants allow; what its account may do on each bucket is access.ts.

/** Token holders and the root key pair: keys, accounts, GC, verify, presigning with the root credentials. */
export function isAdmin(p: AdminPrincipal): boolean {
  return p.kind === 'admin' || p.kind === 'root';
}

export function canWrite(p: AdminPrincipal, bucket: string): boolean {
  return p.kind !== 'key' || hasPermission(p, bucket, 'write');
}

/** Creating, deleting, publishing buckets: as on the S3 side, a key needs '*' write. */
export function canManageBuckets(p: AdminPrincipal): boolean {
  return p.kind !== 'key' || p.grants.some((g) => g.bucket === '*' && g.permission === 'write');
}

export function requireThat(ok: boolean, what: string): void {
  if (!ok) throw new AdminError('Forbidden', `this access key may not ${what}`);
}

// ---- static files ----

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.woff2': 'font/woff2',
};
const COMPRESSIBLE = new Set(['.html', '.js', '.mjs', '.css', '.json', '.svg', '.map', '.txt', '.webmanifest']);

/** Where the built console is: beside the compiled server (dist/admin -> dist/console), or dist/console from src/admin (tests, tsx). */
export function findConsoleDir(): string | undefined {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const dir of [path.resolve(here, '../console'), path.resolve(here, '../../dist/console')]) {
    if (fs.existsSync(path.join(dir, 'index.html'))) return dir;
  }
  return undefined;
}

interface CachedFile {
  mtimeMs: number;
  size: number;
  body: Buffer;
  gzip?: Buffer;
  etag: string;
}

/** Paths the API owns; every other GET is the console (files, else index.html for client-side routes). */
export function isApiPath(p: string): boolean {
  return p === '/v1' || p.startsWith('/v1/') || p === '/metrics' || p === '/health';
}

/** A console file, read again only when its size or mtime changed (and gzipped once). */
function loadCached(cache: Map<string, CachedFile>, file: string): CachedFile | undefined {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch {
    return undefined;
  }
  if (!st.isFile()) return undefined;
  const hit = cache.get(file);
  if (hit && hit.mtimeMs === st.mtimeMs && hit.size === st.size) return hit;
  const body = fs.readFileSync(file);
  const entry: CachedFile = {
    mtimeMs: st.mtimeMs,
    size: st.size,
    body,
    gzip: COMPRESSIBLE.has(path.extname(file)) && body.length > 512 ? gzipSync(body, { level: 9 }) : undefined,
    etag: `W/"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`,
  };
  cache.set(file, entry);
  return entry;
}

/**
 * Serves the console's files without a token: hashed assets (/assets/*) cached for a year,
 * everything else revalidated (ETag). Unknown paths get index.html (client-side routes) when the
 * client asks for HTML.
 * `csp` gives the Content-Security-Policy of the page (its S3 endpoint depends on the request).
 */
export function consoleMiddleware(dir: string | undefined, csp: (ctx: Koa.Context) => string): Koa.Middleware {
  const cache = new Map<string, CachedFile>();
  const load = (file: string) => loadCached(cache, file);
  return async (ctx, next) => {
    if ((ctx.method !== 'GET' && ctx.method !== 'HEAD') || isApiPath(ctx.path)) return next();
    if (!dir) {
      ctx.status = 404;
      ctx.type = 'text/plain; charset=utf-8';
      ctx.body = 'The web console is not built: run `npm run build` (it writes dist/console).\n';
      return;
    }
    let rel: string;
    try {
      rel = decodeURIComponent(ctx.path);
    } catch {
      rel = '/';
    }
    const resolved = path.resolve(dir, '.' + path.posix.normalize(rel));
    const inside = resolved === dir || resolved.startsWith(dir + path.sep);
    let file = inside && rel !== '/' ? resolved : path.join(dir, 'index.html');
    let entry = load(file);
    if (!entry) {
      // A missing hashed asset is a real 404 (a stale page after an upgrade), not the app shell.
      if (rel.startsWith('/assets/')) {
        ctx.status = 404;
        ctx.type = 'text/plain; charset=utf-8';
        ctx.body = 'not found\n';
        return;
      }
      // The app shell only for page loads (browsers send Accept: text/html); an API client that
      // strays outside /v1 still gets the API's JSON 404.
      if (!ctx.get('accept').includes('text/html')) return next();
      file = path.join(dir, 'index.html');
      entry = load(file);
      if (!entry) return next();
    }
    const ext = path.extname(file);
    const isIndex = file === path.join(dir, 'index.html');
    ctx.set('Cache-Control', rel.startsWith('/assets/') && !isIndex ? 'public, max-age=31536000, immutable' : 'no-cache');
    ctx.set('ETag', entry.etag);
    ctx.set('X-Content-Type-Options', 'nosniff');
    // Presigned links must not leak to other sites through Referer.
    ctx.set('Referrer-Policy', 'no-referrer');
    ctx.vary('Accept-Encoding');
    if (isIndex) {
      ctx.set('Content-Security-Policy', csp(ctx));
      ctx.set('X-Frame-Options', 'DENY');
    }
    ctx.type = TYPES[ext] ?? 'application/octet-stream';
    if (ctx.get('if-none-match') === entry.etag) {
      ctx.status = 304;
      return;
    }
    if (entry.gzip && ctx.acceptsEncodings('gzip', 'identity') === 'gzip') {
      ctx.set('Content-Encoding', 'gzip');
      ctx.body = entry.gzip;
    } else {
      ctx.body = entry.body;
    }
  };
}
