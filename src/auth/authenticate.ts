// Entry point of the auth layer: decides which scheme a request uses and verifies it.
import { S3Error } from '../s3/errors.js';
import { parseQuery } from './encoding.js';
import { verifyHeaderV2, verifyQueryV2 } from './sigv2.js';
import { ALGORITHM } from './sigv4.js';
import { verifyHeaderV4, verifyPresignedV4 } from './sigv4-verify.js';
import type { AuthRequest, AuthResult, SecretLookup } from './types.js';

export interface AuthOptions {
  lookup: SecretLookup;
  region: string;
  now?: Date;
  /** Default 15 minutes, as S3. */
  maxSkewMs?: number;
}

export const DEFAULT_MAX_SKEW_MS = 15 * 60 * 1000;

/** Returns null when the request carries no credentials at all (anonymous); throws S3Error on any bad/invalid auth. */
export function authenticate(req: AuthRequest, opts: AuthOptions): AuthResult | null {
  const now = opts.now ?? new Date();
  const maxSkewMs = opts.maxSkewMs ?? DEFAULT_MAX_SKEW_MS;
  const rawAuth = req.headers['authorization'];
  const authorization = (Array.isArray(rawAuth) ? rawAuth[0] : rawAuth)?.trim();

  const names = new Set(parseQuery(req.rawQuery).map((p) => p.name));
  const v4Query = names.has('X-Amz-Algorithm') || names.has('X-Amz-Credential') || names.has('X-Amz-Signature');
  const v2Query = names.has('AWSAccessKeyId') || (names.has('Signature') && names.has('Expires'));

  if (authorization) {
    if (v4Query || v2Query) {
      throw new S3Error('InvalidArgument', {}, 'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified');
    }
    if (authorization.startsWith(ALGORITHM + ' ')) {
      return verifyHeaderV4(req, authorization, { lookup: opts.lookup, region: opts.region, service: 's3', now, maxSkewMs });
    }
    if (authorization.startsWith('AWS ')) {
      return verifyHeaderV2(req, authorization, { lookup: opts.lookup, now, maxSkewMs });
    }
    throw new S3Error('InvalidArgument', {}, 'Unsupported Authorization Type');
  }
  if (v4Query) return verifyPresignedV4(req, { lookup: opts.lookup, region: opts.region, service: 's3', now, maxSkewMs });
  if (v2Query) return verifyQueryV2(req, { lookup: opts.lookup, now, maxSkewMs });
  return null;
}
