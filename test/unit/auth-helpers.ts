// Shared fixtures for the auth unit tests: the example credentials of the AWS docs.
import type { AuthRequest } from '../../src/auth/types.js';

export const DOC_KEY = 'AKIAIOSFODNN7EXAMPLE';
export const DOC_SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
export const DOC_NOW = new Date('2013-05-24T00:00:00Z');
export const docLookup = (id: string): string | undefined => (id === DOC_KEY ? DOC_SECRET : undefined);

export function req(method: string, target: string, headers: AuthRequest['headers'] = {}, extra: Partial<AuthRequest> = {}): AuthRequest {
  const q = target.indexOf('?');
  return {
    method,
    rawPath: q < 0 ? target : target.slice(0, q),
    rawQuery: q < 0 ? '' : target.slice(q + 1),
    headers,
    ...extra,
  };
}

export function authHeader(signedHeaders: string, signature: string, scopeDate = '20130524', region = 'us-east-1'): string {
  return `AWS4-HMAC-SHA256 Credential=${DOC_KEY}/${scopeDate}/${region}/s3/aws4_request,SignedHeaders=${signedHeaders},Signature=${signature}`;
}

/** The S3 error code `fn` throws, or 'no error'. */
export function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
  return 'no error';
}
