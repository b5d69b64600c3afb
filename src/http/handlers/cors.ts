import type { AppDeps, BucketHandler, Handler, S3Context } from '../context.js';
import { header } from '../context.js';
import { S3Error } from '../../s3/errors.js';
import { CORS_VARY, MAX_CORS_BYTES, corsConfigurationXml, isCorsMethod, matchCors, parseCorsConfiguration } from '../../s3/cors.js';
import { readSmallBody } from '../body.js';

/** PutBucketCors (PUT /bucket?cors): replaces the configuration; Content-MD5 or an x-amz-checksum-* header required. */
export const putBucketCors: BucketHandler = async (ctx, deps, t) => {
  await deps.buckets.require(t.bucket);
  const { body, payload } = await readSmallBody(ctx, MAX_CORS_BYTES);
  if (!payload.contentMd5 && !payload.checksum) {
    throw new S3Error('InvalidRequest', {}, 'Missing required header for this request: Content-Md5.');
  }
  const rules = parseCorsConfiguration(body.toString('utf8'));
  await deps.buckets.putCors(t.bucket, rules);
  ctx.status = 200;
};

/** GetBucketCors (GET /bucket?cors). */
export const getBucketCors: BucketHandler = async (ctx, deps, t) => {
  const rules = await deps.buckets.getCors(t.bucket);
  ctx.type = 'application/xml';
  ctx.body = corsConfigurationXml(rules);
};

/** DeleteBucketCors (DELETE /bucket?cors): 204 whether or not there was a configuration. */
export const deleteBucketCors: BucketHandler = async (ctx, deps, t) => {
  await deps.buckets.deleteCors(t.bucket);
  ctx.status = 204;
};

/** An Origin header worth answering: present and not empty. */
function originOf(ctx: S3Context): string | undefined {
  const origin = header(ctx, 'origin');
  return origin === undefined || origin === '' ? undefined : origin;
}

/**
 * A CORS preflight (OPTIONS on a bucket or object path). Preflights carry no credentials, so
 * app.ts answers them before authentication, a presigned URL's signature included. In S3's
 * order: no Origin is 400; an unknown bucket or one without configuration is 403 (Method: the
 * requested method, or OPTIONS); then Access-Control-Request-Method must name one of the five
 * methods (400); no matching rule is 403 AccessForbidden. The key is not looked up.
 */
export const preflight: Handler = async (ctx, deps) => {
  const origin = originOf(ctx);
  if (origin === undefined) throw new S3Error('BadRequest', {}, 'Insufficient information. Origin request header needed.');
  const requested = header(ctx, 'access-control-request-method');
  const method = requested ?? 'OPTIONS';
  const bucket = ctx.state.bucket === undefined ? undefined : await deps.buckets.find(ctx.state.bucket);
  if (!bucket) throw new S3Error('AccessForbidden', { Method: method, ResourceType: 'BUCKET' }, 'CORSResponse: Bucket not found');
  const rules = await deps.buckets.corsRules(bucket);
  if (!rules) throw new S3Error('AccessForbidden', { Method: method, ResourceType: 'BUCKET' }, 'CORSResponse: CORS is not enabled for this bucket.');
  if (requested === undefined || !isCorsMethod(requested)) {
    throw new S3Error('BadRequest', {}, `Invalid Access-Control-Request-Method: ${requested ?? 'null'}`);
  }
  const match = matchCors(rules, origin, requested, header(ctx, 'access-control-request-headers'));
  if (!match) throw new S3Error('AccessForbidden', { Method: requested, ResourceType: ctx.state.key === undefined ? 'BUCKET' : 'OBJECT' });
  for (const [name, value] of Object.entries(match.headers)) ctx.set(name, value);
  ctx.status = 200;
};

/**
 * An actual request (any method but OPTIONS) with an Origin: when a rule of the bucket's
 * configuration matches, its headers go on the response, error responses included (writeError
 * has already run, and cleared the handler's headers). Access-Control-Request-Method, when the
 * request carries one, is the method matched, as in S3. No match, no CORS headers, no Vary.
 */
export async function applyCorsHeaders(ctx: S3Context, deps: AppDeps): Promise<void> {
  const origin = originOf(ctx);
  const bucket = ctx.state.bucket;
  if (origin === undefined || bucket === undefined || ctx.method === 'OPTIONS' || ctx.headerSent) return;
  let rules;
  try {
    rules = await deps.buckets.corsRulesByName(bucket);
  } catch (err) {
    // The response itself is ready; missing CORS headers must not turn it into a failure.
    deps.log.warn({ err, reqId: ctx.state.requestId }, 'CORS lookup failed');
    return;
  }
  if (!rules) return;
  const method = header(ctx, 'access-control-request-method') ?? ctx.method;
  const match = matchCors(rules, origin, method, header(ctx, 'access-control-request-headers'));
  if (!match) return;
  for (const [name, value] of Object.entries(match.headers)) {
    if (name !== 'Vary') ctx.set(name, value);
  }
  for (const name of CORS_VARY) ctx.vary(name);
}
