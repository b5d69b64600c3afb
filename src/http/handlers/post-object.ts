import type { TLSSocket } from 'node:tls';
import type { IncomingHttpHeaders } from 'node:http';
import type { AppDeps, BucketHandler, S3Context } from '../context.js';
import { header } from '../context.js';
import { S3Error } from '../../s3/errors.js';
import { validateKey } from '../../s3/names.js';
import { checksumFromHeaders, parseChecksumAlgorithm } from '../../s3/checksums.js';
import { checkPostPolicy, parsePostPolicy, postResponseXml, redirectLocation, type SizeRange } from '../../s3/post-policy.js';
import { OPERATIONS } from '../../s3/request-headers.js';
import { postFormFields } from '../../s3/request-headers-post.js';
import { refuseUnimplemented } from '../../s3/refuse-unimplemented.js';
import { urlEncodeKey } from '../../s3/xml.js';
import { authorizeRequest } from '../../auth/access.js';
import { accessRequest } from '../access-request.js';
import { isFormData, readFormUntilFile, type FormUpload } from '../form.js';
import { attributesFromHeaders } from '../attributes.js';
import { newObjectAccessFrom } from '../acl-headers.js';
import { isSecure, setEncryptionHeaders, writeEncryption, type HeaderRecord } from '../encryption.js';
import { parseContentMd5 } from '../body.js';
import { setVersionHeader } from '../versioning.js';
import { parseTagging, parseTaggingHeader, taggingHeaderValue } from '../../s3/tagging.js';
import type { PayloadInput } from '../../storage/receive.js';

// A browser form upload. The form carries what a PutObject carries in its URL and headers: the
// key, the credentials (a policy signed with SigV4 or SigV2), the object's headers. Its fields
// are read first (src/http/form.ts), then the request is authenticated and authorized from them
// by the same rules as any other (src/auth/access.ts), and the file streams through the same
// write path as PutObject's body (ObjectService.putObject). Choices: docs/post-object.md.

const OWN_FIELDS = new Set(Object.keys(postFormFields()).map((k) => k.toLowerCase()));
const HEADER_ROWS = new Set(Object.keys(OPERATIONS.PostObject!).map((k) => k.toLowerCase()));
/** Form fields named otherwise than the header they stand for. */
const AS_HEADER: Record<string, string> = { acl: 'x-amz-acl', tagging: 'x-amz-tagging' };

/** What the form says, once it is admitted. */
interface Admitted {
  key: string;
  headers: IncomingHttpHeaders;
  range: SizeRange;
}

/** PostObject (POST /bucket, multipart/form-data). */
export const postObject: BucketHandler = async (ctx, deps, t) => {
  if (!isFormData(header(ctx, 'content-type'))) {
    throw new S3Error('PreconditionFailed', { Condition: 'Bucket POST must be of the enclosure-type multipart/form-data' });
  }
  // Before the form is read: a client that sent Expect: 100-continue learns of a missing bucket
  // without sending its file (the signer and the policy are in the form, so they cannot be).
  const bucket = await deps.buckets.require(t.bucket);
  const abort = new AbortController();
  // A client that disconnects mid-upload must release its buffers and leave nothing behind.
  const onClose = () => {
    if (!ctx.req.complete) abort.abort(new S3Error('IncompleteBody'));
  };
  ctx.req.once('close', onClose);
  try {
    const form = await readFormUntilFile(ctx.req, abort.signal);
    const { key, headers, range } = await admit(ctx, deps, t.bucket, form);
    const encryption = writeEncryption(headers as HeaderRecord, isSecure(ctx));
    const obj = await deps.objects.putObject({
      bucket,
      key,
      body: form.body,
      attributes: attributesFromHeaders(headers),
      ...payloadChecks(headers),
      access: await newObjectAccessFrom(headers, ctx.state.principal, deps, bucket),
      tags: headers['x-amz-tagging'] === undefined ? undefined : parseTaggingHeader(headers['x-amz-tagging'] as string),
      sizeRange: range,
      encryption,
      signal: abort.signal,
    });
    setVersionHeader(ctx, bucket, obj.versionId);
    setEncryptionHeaders(ctx, obj);
    answer(ctx, form.fields, { bucket: t.bucket, key, etag: obj.etag });
  } finally {
    ctx.req.off('close', onClose);
  }
};

/**
 * Authenticates the form's signer, checks its policy, names the key, and authorizes the write as
 * app.ts authorizes every other request. Nothing of the file has been read yet.
 */
async function admit(ctx: S3Context, deps: AppDeps, bucket: string, form: FormUpload): Promise<Admitted> {
  const fields = form.fields;
  const rawKey = fields.get('key');
  if (rawKey === undefined) {
    throw new S3Error('InvalidArgument', { ArgumentName: 'key', ArgumentValue: '' }, "Bucket POST must contain a field named 'key'.  If it is specified, please check the order of the fields.");
  }
  const named = fields.get('bucket');
  if (named !== undefined && named !== bucket) {
    throw new S3Error('InvalidArgument', { ArgumentName: 'bucket', ArgumentValue: named }, 'The bucket field must name the bucket the form is posted to.');
  }
  const signed = await deps.principals.authenticateForm(fields, { region: deps.config.region });
  ctx.state.auth = signed?.auth ?? null;
  ctx.state.principal = signed?.principal ?? null;
  const policy = fields.get('policy');
  const range = policy === undefined ? {} : checkPostPolicy(parsePostPolicy(policy), fields, bucket, Date.now());
  // The policy saw the field as sent; the object takes the file's name in place of ${filename}.
  const key = rawKey.replaceAll('${filename}', form.file.filename);
  validateKey(key);
  ctx.state.key = key;
  const headers = formHeaders(fields);
  const req = { ...accessRequest(ctx, { name: 'PostObject', access: 'write' }), headers };
  ctx.state.access = await authorizeRequest(req, deps.accessLookups);
  refuseUnimplemented('PostObject', headers, ctx.state.query);
  return { key, headers, range };
}

/**
 * The form's fields as the headers a PutObject would carry (lower-case names), for the same
 * parsing and refusals. A field that is neither one of the form's own nor a header PutObject
 * knows is refused.
 */
function formHeaders(fields: ReadonlyMap<string, string>): IncomingHttpHeaders {
  const headers: IncomingHttpHeaders = {};
  for (const [name, value] of fields) {
    if (OWN_FIELDS.has(name) || name.startsWith('x-ignore-')) continue;
    const as = AS_HEADER[name] ?? name;
    if (!HEADER_ROWS.has(as) && !as.startsWith('x-amz-meta-')) {
      throw new S3Error('NotImplemented', { ArgumentName: name }, `A form field you provided implies functionality that is not implemented: ${name}.`);
    }
    // As a header carries it: the bytes sent (a browser sends UTF-8), one character per byte, so
    // the value is stored and answered byte for byte as for PutObject (and a character beyond
    // Latin-1 can still be written back as a header).
    // S3's form carries a Tagging XML document; as the header it is the query-string form.
    headers[as] = name === 'tagging' ? taggingHeaderValue(parseTagging(value, 'object')) : Buffer.from(value, 'utf8').toString('latin1');
  }
  return headers;
}

/** Content-MD5 and x-amz-checksum-* fields, verified against the file as PutObject verifies its body. */
function payloadChecks(headers: IncomingHttpHeaders): Pick<PayloadInput, 'contentMd5' | 'checksum'> {
  const one = (name: string) => headers[name] as string | undefined;
  const given = checksumFromHeaders(headers);
  const declared = parseChecksumAlgorithm(one('x-amz-checksum-algorithm') ?? one('x-amz-sdk-checksum-algorithm'));
  if (given && declared && given.algorithm !== declared) {
    throw new S3Error('InvalidRequest', {}, 'Value for x-amz-checksum-algorithm is invalid.');
  }
  const checksum = given ? { algorithm: given.algorithm, expected: () => given.expected } : declared ? { algorithm: declared, expected: () => undefined } : undefined;
  return { contentMd5: parseContentMd5(one('content-md5')), checksum };
}

/**
 * success_action_redirect (303), else success_action_status: 200 and 204 empty, 201 with the
 * PostResponse XML, any other value 204, as S3 answers.
 */
function answer(ctx: S3Context, fields: ReadonlyMap<string, string>, r: { bucket: string; key: string; etag: string }): void {
  const location = objectUrl(ctx, r.bucket, r.key);
  ctx.set('ETag', r.etag);
  ctx.set('Location', location);
  const redirect = fields.get('success_action_redirect') ?? fields.get('redirect');
  const to = redirect === undefined ? undefined : redirectLocation(redirect, r);
  if (to !== undefined) {
    ctx.set('Location', to);
    ctx.status = 303;
    ctx.body = '';
    return;
  }
  const status = fields.get('success_action_status');
  if (status === '201') {
    ctx.type = 'application/xml';
    ctx.body = postResponseXml({ location, ...r });
    ctx.status = 201;
  } else if (status === '200') {
    ctx.body = '';
    ctx.status = 200;
  } else {
    ctx.status = 204;
  }
}

/** The new object's URL, in the style (path or virtual host) the form was posted with. */
function objectUrl(ctx: S3Context, bucket: string, key: string): string {
  const scheme = (ctx.req.socket as TLSSocket).encrypted ? 'https' : 'http';
  const host = header(ctx, 'host') ?? 'localhost';
  const virtualHost = ctx.state.rawPath === '/' || ctx.state.rawPath === '';
  return `${scheme}://${host}/${virtualHost ? '' : `${bucket}/`}${urlEncodeKey(key)}`;
}
