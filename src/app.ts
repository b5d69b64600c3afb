import Koa from 'koa';
import { randomBytes } from 'node:crypto';
import type { AppDeps, S3State, S3Context } from './http/context.js';
import { writeError } from './http/errors.js';
import { resolveOperation } from './http/router.js';
import { parseEndpoint } from './s3/endpoint.js';
import { hintObjectRead, inRequestScope } from './services/request-memo.js';
import { S3Error } from './s3/errors.js';
import { authorizeRequest, concealMissing } from './auth/access.js';
import { accessRequest } from './http/access-request.js';
import { applyCorsHeaders, preflight } from './http/handlers/cors.js';
import { sendPieces } from './http/send-pieces.js';
import { isPieceStream } from './storage/chunk-reader.js';
import { endOfTurn, turnStamp } from './http/end-of-turn.js';
import { refuseUnimplemented } from './s3/refuse-unimplemented.js';
import { parseQuery, percentDecodeBytes } from './auth/encoding.js';

export type { AppDeps } from './http/context.js';

/**
 * The server keeps at most this many header lines (server.maxHeadersCount) and node drops the
 * rest silently; a dropped If-Match or x-amz-* header would change the request's meaning, so a
 * request that reaches the limit is refused instead.
 */
export const MAX_HEADERS_COUNT = 500;

/**
 * Builds the S3 Koa app from its dependencies. It does not listen: the server and the tests
 * decide where it runs. No body parser and no compression: S3 bodies are raw streams.
 */
// Request ids: a random per-process prefix and a counter (unique without a random draw per request).
// Process-wide on purpose: servers in one process then never hand out the same id.
const ID_PREFIX = randomBytes(3).toString('hex').toUpperCase();
let idCounter = 0;
function nextRequestId(): string {
  idCounter = (idCounter + 1) % 0x10000000000;
  return ID_PREFIX + idCounter.toString(16).toUpperCase().padStart(10, '0');
}

export function createApp(deps: AppDeps): Koa<S3State> {
  const app = new Koa<S3State>();
  app.proxy = false;
  // Stream errors after headers went out reach here; the request log line already has them.
  app.on('error', (err: Error) => deps.log.debug({ err: err.message }, 'response stream error'));
  app.use(async (ctx: S3Context) => {
    const started = performance.now();
    const turn = turnStamp();
    ctx.state.requestId = nextRequestId();
    ctx.state.bytesIn = 0;
    ctx.set('x-amz-request-id', ctx.state.requestId);
    ctx.set('x-amz-id-2', ctx.state.requestId);
    ctx.set('Server', 'cairn');
    countBytesIn(ctx);
    ctx.res.once('close', () => logRequest(ctx, deps, started));
    try {
      await (deps.requestScope ? inRequestScope(() => handle(ctx, deps)) : handle(ctx, deps));
    } catch (err) {
      writeError(ctx, deps, err);
    }
    // After writeError, which clears headers: a cross-origin caller must be able to read errors too.
    await applyCorsHeaders(ctx, deps);
    // Koa answers an empty 200 with the text "OK"; S3 answers with an empty body.
    if (ctx.body === undefined && ctx.status === 200 && ctx.method !== 'HEAD') {
      ctx.body = '';
      ctx.status = 200;
      ctx.remove('Content-Type');
    }
    // Answered within the turn the request arrived in (a GET from the read cache): sent with the
    // rest of that turn's answers, when the turn ends (http/end-of-turn.ts).
    await endOfTurn(turn);
    // An object body read into reused buffers is sent here, now that every header is set.
    if (isPieceStream(ctx.body)) {
      ctx.respond = false;
      await sendPieces(ctx.res, ctx.body);
    }
  });
  return app;
}

/**
 * Counts the body's bytes as node's parser hands them over. Not with a 'data' listener: that
 * switches the body to flowing mode, and bytes arriving before a handler attaches its reader
 * (the handler awaits its lookups first) would be lost.
 */
function countBytesIn(ctx: S3Context): void {
  const req = ctx.req;
  const push = req.push;
  req.push = (chunk: unknown, encoding?: BufferEncoding) => {
    if (chunk) ctx.state.bytesIn += (chunk as Buffer).length;
    return push.call(req, chunk, encoding);
  };
}

async function handle(ctx: S3Context, deps: AppDeps): Promise<void> {
  if (ctx.req.rawHeaders.length >= 2 * MAX_HEADERS_COUNT) {
    throw new S3Error('RequestHeaderSectionTooLarge', {}, `Your request has more than ${MAX_HEADERS_COUNT - 1} header fields.`);
  }
  // Node's own check (requireHostHeader) is off so that this answer, like every other, is S3 XML.
  if (ctx.req.headers.host === undefined && ctx.req.httpVersion === '1.1') {
    throw new S3Error('InvalidRequest', {}, 'An HTTP/1.1 request must carry a Host header.');
  }
  // Node decodes the chunked framing and nothing else: a gzip (or other) coding would be stored as is.
  const te = ctx.req.headers['transfer-encoding'];
  if (te !== undefined && te.trim().toLowerCase() !== 'chunked') {
    throw new S3Error('NotImplemented', { Header: 'Transfer-Encoding' }, 'A header you provided implies functionality that is not implemented.');
  }
  const url = ctx.req.url ?? '/';
  const q = url.indexOf('?');
  ctx.state.rawPath = q === -1 ? url : url.slice(0, q);
  ctx.state.rawQuery = q === -1 ? '' : url.slice(q + 1);
  ctx.state.query = new URLSearchParams(ctx.state.rawQuery);
  // One value per parameter: with two, the signer, a proxy and cairn could each read another.
  const seen = new Set<string>();
  for (const name of ctx.state.query.keys()) {
    if (seen.has(name)) throw new S3Error('InvalidArgument', { ArgumentName: name }, 'A query parameter was given more than once.');
    seen.add(name);
  }
  const { bucket, key, virtualHost } = parseEndpoint(ctx.state.rawPath, ctx.req.headers.host, deps.config.domain);
  ctx.state.bucket = bucket;
  ctx.state.key = key;
  if (ctx.method === 'OPTIONS') {
    // A CORS preflight carries no credentials (a presigned URL's are not checked either): the
    // bucket's CORS rules alone decide (src/http/handlers/cors.ts).
    ctx.state.auth = null;
    ctx.state.principal = null;
    ctx.state.operation = 'CorsPreflight';
    await preflight(ctx, deps, {});
    return;
  }
  // Grants are read per request with the secret: a revoked key stops at once.
  const signed = await deps.principals.authenticate(
    {
      method: ctx.method,
      rawPath: ctx.state.rawPath,
      rawQuery: ctx.state.rawQuery,
      // Distinct values: signatures join a repeated header with ',', node's joined form uses ', '.
      headers: ctx.req.headersDistinct,
      host: ctx.req.headers.host,
      // SigV2 signs '/<bucket>/...' even when the bucket came from the Host header.
      virtualHostBucket: virtualHost ? bucket : undefined,
    },
    { region: deps.config.region },
  );
  ctx.state.auth = signed?.auth ?? null;
  ctx.state.principal = signed?.principal ?? null;
  if (ctx.state.auth?.presigned) hoistQueryHeaders(ctx);
  const op = resolveOperation({ method: ctx.method, bucket, key, query: ctx.state.query, copySource: ctx.req.headers['x-amz-copy-source'] !== undefined });
  ctx.state.operation = op.name;
  // The bucket's row and the object's come in one read where the engine can (request-memo.ts).
  if ((op.name === 'GetObject' || op.name === 'HeadObject') && bucket !== undefined && key !== undefined && !ctx.state.query.has('versionId')) hintObjectRead(bucket, key);
  if (ctx.state.auth === null && op.name === 'GetObject' && [...ctx.state.query.keys()].some((k) => k.startsWith('response-'))) {
    // Overrides would let anyone serve a public object as, say, text/html.
    throw new S3Error('InvalidRequest', {}, 'Request specific response headers cannot be used for anonymous GET requests.');
  }
  // PostObject's key and signer are in its form: its handler authorizes, by the same rules, and
  // applies the refusal table to the form's fields once it has read them.
  if (op.name !== 'PostObject') {
    ctx.state.access = await authorizeRequest(accessRequest(ctx, op), deps.accessLookups);
    refuseUnimplemented(op.name, ctx.req.headers, ctx.state.query);
  }
  await op.run(ctx, deps).catch((err: unknown) => {
    throw concealMissing(err, op.name, ctx.state.access);
  });
}

// Auth parameters, and checksums: the SDK presigns the CRC32 of an empty body, so S3 does not
// enforce a checksum given in a presigned URL (S3-CLIENTS.md).
const NOT_HOISTED = /^x-amz-(algorithm|credential|date|expires|signedheaders|signature|security-token|content-sha256|checksum-.*|sdk-checksum-algorithm)$/;

/**
 * Presigners move x-amz-* headers (x-amz-meta-*, x-amz-storage-class, x-amz-acl...) into the
 * query, where they are signed; S3 applies them as if they were headers. A real header wins.
 */
function hoistQueryHeaders(ctx: S3Context): void {
  for (const p of parseQuery(ctx.state.rawQuery)) {
    const lower = p.name.toLowerCase();
    if (!lower.startsWith('x-amz-') || NOT_HOISTED.test(lower) || ctx.req.headers[lower] !== undefined) continue;
    // The bytes the URL encodes, one character per byte, as node hands over a header's: stored
    // and answered byte for byte (a character beyond Latin-1 could not be written back).
    ctx.req.headers[lower] = percentDecodeBytes(p.rawValue).toString('latin1');
  }
}

function logRequest(ctx: S3Context, deps: AppDeps, started: number): void {
  // The line's fields are gathered only when it will be written (not at CAIRN_LOG_LEVEL=warn).
  if (deps.log.isLevelEnabled('info')) deps.log.info(
    {
      reqId: ctx.state.requestId,
      op: ctx.state.operation,
      method: ctx.method,
      bucket: ctx.state.bucket,
      key: ctx.state.key,
      status: ctx.res.statusCode,
      bytesIn: ctx.state.bytesIn,
      bytesOut: ctx.res.socket?.bytesWritten !== undefined ? Number(ctx.response.length ?? 0) : 0,
      ms: Math.round((performance.now() - started) * 10) / 10,
      accessKeyId: ctx.state.auth?.accessKeyId,
      aborted: !ctx.res.writableFinished || undefined,
    },
    'request',
  );
  deps.metrics?.observeRequest({
    operation: ctx.state.operation,
    status: ctx.res.statusCode,
    seconds: (performance.now() - started) / 1000,
    bytesIn: ctx.state.bytesIn,
    bytesOut: ctx.method === 'HEAD' ? 0 : Number(ctx.response.length ?? 0),
  });
}
