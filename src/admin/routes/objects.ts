import { S3Error } from '../../s3/errors.js';
import { encodeContinuationToken, parseListParams } from '../../s3/list-params.js';
import { AdminError } from '../http.js';
import { isSha256, parseObjectQuery, QueryError } from '../../db/records/index.js';
import { AdminAccess } from '../access.js';
import { objectAclAnswer } from './acl.js';
import { objectPath, queryParams, requireBucket, type RegisterRoutes } from './common.js';

// Object and chunk records (the records queries), and the console's folder listing. An access key
// reads the buckets its grants and its account may list (src/admin/access.ts).

const LIST_PARAMS = ['bucket', 'prefix', 'delimiter', 'cursor', 'limit'];

export const registerObjectRoutes: RegisterRoutes = (router, deps) => {
  router.get('/v1/objects', async (ctx) => {
    const q = parseObjectQuery(queryParams(ctx.querystring));
    const access = new AdminAccess(ctx, deps);
    if (!(await access.seesAll())) {
      if (q.bucket === undefined) throw new AdminError('Forbidden', 'an access key limited to some buckets must name one (bucket=)', 'bucket');
      await access.require('ListObjects', q.bucket, `read bucket ${q.bucket}`);
    }
    ctx.body = await deps.records.findObjects(q);
  });

  // The key is the rest of the raw path, decoded once: router params would mangle '/', '%2F', '+'.
  // With ?acl: the version's owner and ACL instead of its record (acl.ts).
  router.get(/^\/v1\/objects\/[^/]+\/./, async (ctx) => {
    const { bucket, key } = objectPath(ctx.path);
    const params = queryParams(ctx.querystring);
    for (const name of Object.keys(params)) if (name !== 'versionId' && name !== 'acl') throw new QueryError(name, `unknown parameter "${name}"`);
    if (params.versionId === '') throw new QueryError('versionId', 'must not be empty');
    if (params.acl !== undefined) {
      if (params.acl !== '') throw new QueryError('acl', 'takes no value (?acl)');
      ctx.body = await objectAclAnswer(ctx, deps, bucket, key, params.versionId);
      return;
    }
    await new AdminAccess(ctx, deps).require('ListObjects', bucket, `read bucket ${bucket}`);
    const record = await deps.records.object(bucket, key, params.versionId);
    if (!record) throw new AdminError('NotFound', params.versionId === undefined ? 'no such object' : 'no such version');
    ctx.body = record;
  });

  router.get('/v1/chunks/:sha256', async (ctx) => {
    const hash = ctx.params.sha256!.toLowerCase();
    if (!isSha256(hash)) throw new QueryError('sha256', 'a SHA-256 in hex (64 digits)');
    const record = await deps.records.chunk(hash);
    if (!record) throw new AdminError('NotFound', 'no such chunk');
    const readable = await new AdminAccess(ctx, deps).readable();
    if (readable) {
      // Only the references this key may read; a chunk none of them use is not its business.
      record.objects = record.objects.filter((o) => readable.has(o.bucket));
      record.uploads = record.uploads.filter((u) => readable.has(u.bucket));
      if (record.objects.length === 0 && record.uploads.length === 0) throw new AdminError('NotFound', 'no such chunk');
    }
    ctx.body = record;
  });

  // Folder-style listing (delimiter), the S3 ListObjectsV2 walk as JSON: one index seek per page.
  router.get('/v1/list', async (ctx) => {
    const params = queryParams(ctx.querystring);
    for (const name of Object.keys(params)) if (!LIST_PARAMS.includes(name)) throw new QueryError(name, 'unknown parameter');
    if (!params.bucket) throw new QueryError('bucket', 'required');
    await new AdminAccess(ctx, deps).require('ListObjects', params.bucket, `read bucket ${params.bucket}`);
    const bucket = await requireBucket(deps, params.bucket);
    if (params.limit !== undefined && !/^\d{1,4}$/.test(params.limit)) throw new QueryError('limit', 'an integer 1..1000');
    const maxKeys = String(Math.max(1, Math.min(Number(params.limit ?? 1000), 1000)));
    const q = new URLSearchParams({ 'list-type': '2', prefix: params.prefix ?? '', delimiter: params.delimiter ?? '', 'max-keys': maxKeys });
    if (params.cursor) q.set('continuation-token', params.cursor);
    let lp;
    try {
      lp = parseListParams(q, 2);
    } catch (err) {
      if (err instanceof S3Error) throw new QueryError('cursor', 'not a cursor of this listing');
      throw err;
    }
    const page = await deps.objects.list(bucket, lp);
    ctx.body = {
      bucket: bucket.name,
      prefix: lp.prefix,
      prefixes: page.commonPrefixes,
      objects: page.contents.map((o) => ({
        key: o.key,
        size: o.size,
        etag: o.etag,
        lastModified: new Date(o.lastModified).toISOString(),
        contentType: o.contentType ?? 'binary/octet-stream',
      })),
      ...(page.isTruncated && page.lastKey !== undefined ? { nextCursor: encodeContinuationToken(page.lastKey) } : {}),
    };
  });
};
