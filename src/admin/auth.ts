import type Koa from 'koa';
import { S3Error } from '../s3/errors.js';
import type { Principals } from '../services/principals.js';
import type { AdminPrincipal } from './console.js';
import { sendError } from './http.js';
import { bearerMatches, type TokenCheck } from './token.js';

// Who is asking the admin API: the bearer token (admin), or an access key pair that signed the
// request with SigV4 as S3 checks it (the console signs in with one). Keys are looked up through
// the Principals service, the S3 listener's own constant-time lookup. /health needs neither.

export function authMiddleware(opts: { principals: Principals; token: TokenCheck; region: string }): Koa.Middleware {
  return async (ctx, next) => {
    if (ctx.path === '/health') {
      ctx.body = { status: 'ok' };
      return;
    }
    const authorization = ctx.get('authorization');
    if (authorization.startsWith('AWS4-HMAC-SHA256 ')) {
      let signed;
      try {
        signed = await opts.principals.authenticate(
          { method: ctx.method, rawPath: (ctx.req.url ?? '/').split('?')[0]!, rawQuery: ctx.querystring, headers: ctx.req.headersDistinct, host: ctx.req.headers.host },
          { region: opts.region },
        );
      } catch (err) {
        if (!(err instanceof S3Error)) throw err;
        return sendError(ctx, 'Unauthorized', `the access key signature was refused: ${err.message} (${err.code})`);
      }
      if (!signed) return sendError(ctx, 'Unauthorized', 'unknown access key');
      // The body is read later (readJson): it must match the hash the signature covers.
      if (signed.auth.payload.kind === 'sha256') ctx.state.bodySha256 = signed.auth.payload.expectedHex;
      ctx.state.principal = signed.principal satisfies AdminPrincipal;
      // Bucket policies may test how the request was signed (src/admin/access.ts).
      ctx.state.auth = signed.auth;
      return next();
    }
    if (!bearerMatches(authorization, opts.token)) {
      ctx.set('WWW-Authenticate', 'Bearer realm="cairn-admin"');
      return sendError(ctx, 'Unauthorized', 'a valid bearer token is required (Authorization: Bearer <CAIRN_ADMIN_TOKEN>), or a request signed with an access key (SigV4)');
    }
    ctx.state.principal = { kind: 'admin' } satisfies AdminPrincipal;
    await next();
  };
}

/** The principal the auth middleware found. */
export function who(ctx: Koa.Context): AdminPrincipal {
  return ctx.state.principal as AdminPrincipal;
}
