import type { S3Context, AppDeps } from './context.js';
import { S3Error } from '../s3/errors.js';
import { errorXml } from '../s3/xml.js';

// The one place that writes error responses. Unknown errors become InternalError: the log
// keeps the detail (with the request id); the client never sees paths, stacks or secrets.

export function writeError(ctx: S3Context, deps: AppDeps, err: unknown): void {
  let e: S3Error;
  if (err instanceof S3Error) {
    e = err;
  } else if (clientWentAway(ctx, err)) {
    // Not our failure, and nobody will read the answer: no error-level log with a stack.
    deps.log.info({ reqId: ctx.state.requestId, reason: (err as Error)?.message }, 'client closed the connection mid-request');
    e = new S3Error('IncompleteBody');
  } else if (isOutOfSpace(err)) {
    deps.log.error({ err, reqId: ctx.state.requestId }, 'out of disk space: request refused');
    e = new S3Error('InsufficientStorage');
  } else {
    // EIO and every other failure (a failed fsync included) is an InternalError: the write is lost.
    deps.log.error({ err, reqId: ctx.state.requestId }, 'internal error');
    e = new S3Error('InternalError');
  }
  // Headers a handler set before failing (Content-Length, ETag...) belong to the lost response.
  for (const name of ctx.res.getHeaderNames()) {
    if (name !== 'x-amz-request-id' && name !== 'x-amz-id-2') ctx.res.removeHeader(name);
  }
  if (!ctx.req.complete) lingerThenClose(ctx);
  // 304 and HEAD responses carry no body (HEAD errors are status-only in S3 too). Koa turns a
  // null body into 204, so the status is set after the body.
  if (e.status === 304 || ctx.method === 'HEAD') {
    ctx.body = null;
    ctx.status = e.status;
    for (const [k, v] of Object.entries(e.headers)) ctx.set(k, v);
    return;
  }
  const resource = ctx.state.rawPath ? safeDecode(ctx.state.rawPath) : '/';
  ctx.body = errorXml({
    code: e.code,
    message: e.message,
    requestId: ctx.state.requestId,
    resource,
    details: { ...defaultDetails(ctx, e), ...e.details },
  });
  ctx.type = 'application/xml';
  ctx.status = e.status;
  for (const [k, v] of Object.entries(e.headers)) ctx.set(k, v);
}

/** The request failed because its client hung up (a reset or an aborted body), not because of us. */
function clientWentAway(ctx: S3Context, err: unknown): boolean {
  const code = (err as { code?: unknown } | undefined)?.code;
  const aborted = code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE' || (err as Error | undefined)?.message === 'aborted';
  return aborted && (ctx.req.destroyed || ctx.req.socket?.destroyed === true);
}

/** A full disk or quota: from a chunk write (errno) or an SQLite commit (better-sqlite3's code). */
function isOutOfSpace(err: unknown): boolean {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 3; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (code === 'ENOSPC' || code === 'EDQUOT' || code === 'SQLITE_FULL') return true;
  }
  return false;
}

/** How long the rest of a refused request body is read and thrown away before the socket is cut. */
// Long enough for a client on a busy machine to finish pushing ~100 MB over loopback and read
// the answer; still bounded, so a refused request holds its socket for seconds, not minutes.
const LINGER_MS = 10_000;

/**
 * The chunk writer stops reading a failed upload without draining it. Closing the socket right
 * after the answer would leave the client's unread bytes behind, and the kernel answers those
 * with a reset that can destroy our answer before the client reads it (an SDK then sees EPIPE,
 * not the S3 error). So the rest of the body is read and discarded after the answer, and the
 * connection is cut only when it has not ended LINGER_MS later: nobody reads a 5 GiB body to
 * store nothing.
 */
function lingerThenClose(ctx: S3Context): void {
  const { req, res } = ctx;
  // A client that sent `Connection: close` (Node's agent: false, curl -H) would otherwise have
  // its socket destroyed by Node right after our answer (destroySoon), while it is still sending:
  // its next write gets EPIPE/RST, which can overtake the answer it has not read yet. Keeping the
  // connection open lets the drain below run; the client closes once it has read the answer.
  res.shouldKeepAlive = true;
  res.once('finish', () => {
    if (req.complete || req.destroyed) return;
    const socket = req.socket;
    const timer = setTimeout(() => socket.destroy(), LINGER_MS);
    // The connection may carry more requests once this body has ended: leave nothing on it.
    const stop = () => {
      clearTimeout(timer);
      req.off('end', stop);
      socket.off('close', stop);
    };
    req.once('end', stop);
    socket.once('close', stop);
    // Whatever still holds the request (an aws-chunked decoder) lets go of it; then it flows.
    req.unpipe();
    req.resume();
  });
}

function defaultDetails(ctx: S3Context, e: S3Error): Record<string, string | undefined> {
  if (e.code === 'NoSuchBucket' || e.code === 'BucketNotEmpty' || e.code === 'BucketAlreadyOwnedByYou' || e.code === 'NoSuchCORSConfiguration') return { BucketName: ctx.state.bucket };
  if (e.code === 'NoSuchKey') return { Key: ctx.state.key };
  return {};
}

function safeDecode(p: string): string {
  try {
    return decodeURIComponent(p);
  } catch {
    return p;
  }
}
