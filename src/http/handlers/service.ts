import type { Handler } from '../context.js';
import { S3Error } from '../../s3/errors.js';
import { listBucketsXml } from '../../s3/xml.js';
import { hasPermission } from '../../auth/authorize.js';

const MAX_BUCKETS = 10_000;

/**
 * ListBuckets (GET /): the caller's account's buckets that its key may read, by name;
 * `prefix`, and pages of `max-buckets` with an opaque `continuation-token` (the last name given).
 */
export const listBuckets: Handler = async (ctx, deps) => {
  const principal = ctx.state.principal!;
  const q = ctx.state.query;
  const prefix = q.get('prefix') ?? undefined;
  const max = maxBuckets(q.get('max-buckets'));
  const after = continuationAfter(q.get('continuation-token'));
  const mine = (await deps.buckets.listOwned(principal.accountId)).filter(
    (b) => hasPermission(principal, b.name, 'read') && (prefix === undefined || b.name.startsWith(prefix)) && (after === undefined || b.name > after),
  );
  const page = mine.slice(0, max);
  const next = mine.length > max ? Buffer.from(page[page.length - 1]!.name).toString('base64url') : undefined;
  ctx.type = 'application/xml';
  ctx.body = listBucketsXml(
    await deps.accounts.owner(principal.accountId),
    page.map((b) => ({ name: b.name, created: new Date(b.createdAt), region: b.region })),
    { continuationToken: next, prefix },
  );
};

function maxBuckets(v: string | null): number {
  if (v === null) return MAX_BUCKETS;
  if (!/^\d{1,5}$/.test(v) || Number(v) < 1 || Number(v) > MAX_BUCKETS) {
    throw new S3Error('InvalidArgument', { ArgumentName: 'max-buckets', ArgumentValue: v }, `max-buckets must be an integer from 1 to ${MAX_BUCKETS}.`);
  }
  return Number(v);
}

function continuationAfter(token: string | null): string | undefined {
  if (token === null) return undefined;
  const name = Buffer.from(token, 'base64url').toString('utf8');
  if (token === '' || !/^[a-z0-9.-]{1,63}$/.test(name) || Buffer.from(name).toString('base64url') !== token) {
    throw new S3Error('InvalidArgument', { ArgumentName: 'continuation-token', ArgumentValue: token }, 'The continuation token provided is incorrect.');
  }
  return name;
}
