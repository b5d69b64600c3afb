import type { AuthResult } from './types.js';
import type { Principal } from './authorize.js';

// The values of the condition keys a bucket policy may test (src/auth/policy), for one request.
// Read when a statement asks, never built ahead: most requests meet no condition at all.

export interface ConditionSource {
  principal: Principal | null;
  auth: AuthResult | null;
  headers: Record<string, string | string[] | undefined>;
  query: URLSearchParams;
  /** The peer's address as the socket reports it. */
  remoteAddress: string | undefined;
  /** TLS: the protocol version ('TLSv1.3'), undefined over plain HTTP. */
  tlsVersion: string | undefined;
  /** The bucket owner's account (s3:ResourceAccount). */
  resourceAccount: string;
}

const header = (s: ConditionSource, name: string): string | undefined => {
  const v = s.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
};

/** The value of condition key `key` (lower case) for the request, undefined when it has none. */
export function conditionValue(s: ConditionSource, key: string, now: number): string | undefined {
  switch (key) {
    case 'aws:sourceip':
      // An IPv4 peer on a dual-stack socket reads '::ffff:127.0.0.1'; policies name it as IPv4.
      return s.remoteAddress?.startsWith('::ffff:') ? s.remoteAddress.slice(7) : s.remoteAddress;
    case 'aws:securetransport':
      return s.tlsVersion !== undefined ? 'true' : 'false';
    case 's3:tlsversion':
      return s.tlsVersion?.replace(/^TLSv/, '');
    case 'aws:currenttime':
      return new Date(now).toISOString();
    case 'aws:epochtime':
      return String(Math.floor(now / 1000));
    case 'aws:principalaccount':
      return s.principal?.accountId;
    case 'aws:principalarn':
      return s.principal ? `arn:aws:iam::${s.principal.accountId}:user/${s.principal.accessKeyId}` : undefined;
    case 'aws:principaltype':
      return s.principal === null ? 'Anonymous' : s.principal.kind === 'root' ? 'Account' : 'User';
    case 'aws:userid':
    case 'aws:username':
      return s.principal?.accessKeyId;
    case 'aws:useragent':
      return header(s, 'user-agent');
    case 'aws:referer':
      return header(s, 'referer');
    case 's3:prefix':
    case 's3:delimiter':
    case 's3:max-keys':
      return s.query.get(key.slice(3)) ?? undefined;
    case 's3:versionid':
      return s.query.get('versionId') ?? undefined;
    case 's3:signatureversion':
      return s.auth === null ? undefined : s.auth.signatureVersion === 'v4' ? 'AWS4-HMAC-SHA256' : 'AWS';
    case 's3:authtype':
      return s.auth === null ? undefined : s.auth.form ? 'POST' : s.auth.presigned ? 'REST-QUERY-STRING' : 'REST-HEADER';
    case 's3:resourceaccount':
      return s.resourceAccount;
    case 's3:object-lock-remaining-retention-days': {
      const until = Date.parse(header(s, 'x-amz-object-lock-retain-until-date') ?? '');
      return Number.isNaN(until) ? undefined : String(Math.max(0, Math.ceil((until - now) / 86_400_000)));
    }
    case 's3:object-lock-retain-until-date':
    case 's3:object-lock-mode':
    case 's3:object-lock-legal-hold':
      return header(s, `x-amz-${key.slice(3)}`);
    default:
      // s3:x-amz-acl, s3:x-amz-content-sha256, s3:x-amz-grant-*, s3:x-amz-copy-source, ...: the header.
      return key.startsWith('s3:x-amz-') ? header(s, key.slice(3)) : undefined;
  }
}
