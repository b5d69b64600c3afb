import { z } from 'zod';
import { validateBucketName } from '../../s3/names.js';
import { MAX_PRESIGN_SECONDS, presignUrl } from '../../services/presign.js';
import { isAdmin, requireThat } from '../console.js';
import { AdminError, readJson } from '../http.js';
import { who } from '../auth.js';
import { parseBody, s3UrlFor, type RegisterRoutes } from './common.js';

// Presigned S3 URLs for the console (uploads, downloads, multipart calls) and `cairn presign --url`.

const RESERVED_QUERY = /^(x-amz-(algorithm|credential|date|expires|signedheaders|signature|security-token)|awsaccesskeyid|signature|expires)$/i;
// x-amz-* headers the URL's request will send (x-amz-copy-source for a CopyObject), signed into it.
const SIGNABLE_HEADER = /^x-amz-(?!(date|content-sha256|security-token)$)[a-z0-9-]+$/;

const presignBody = z.object({
  bucket: z.string(),
  key: z.string().min(1, 'must not be empty'),
  expires: z.number().int().min(1, 'at least 1 second').max(MAX_PRESIGN_SECONDS, `at most ${MAX_PRESIGN_SECONDS} seconds (7 days)`).default(3600),
  // The console uploads, deletes and runs multipart uploads through presigned URLs.
  method: z.enum(['GET', 'HEAD', 'PUT', 'POST', 'DELETE']).default('GET'),
  query: z.record(z.string().refine((n) => !RESERVED_QUERY.test(n), 'signature parameters are added by the server'), z.string()).optional(),
  headers: z.record(z.string().regex(SIGNABLE_HEADER, 'an x-amz-* header name in lower case (not x-amz-date, x-amz-content-sha256, x-amz-security-token)'), z.string()).optional(),
});

export const registerPresignRoutes: RegisterRoutes = (router, deps) => {
  router.post('/v1/presign', async (ctx) => {
    // Signed with the root credentials: a URL outlives a revoked key, so keys sign their own.
    requireThat(isAdmin(who(ctx)), 'presign with the root credentials (sign the URL with the access key itself)');
    const body = parseBody(presignBody, await readJson(ctx));
    try {
      validateBucketName(body.bucket);
    } catch {
      throw new AdminError('BadRequest', `not a valid bucket name: "${body.bucket}"`, 'bucket');
    }
    const url = presignUrl({
      credentials: deps.credentials,
      region: deps.region,
      endpoint: new URL(s3UrlFor(deps, ctx)),
      bucket: body.bucket,
      key: body.key,
      method: body.method,
      query: body.query,
      headers: body.headers,
      expiresSeconds: body.expires,
    });
    ctx.body = { url };
  });
};
