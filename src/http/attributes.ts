import { S3Error } from '../s3/errors.js';
import { extractUserMetadata } from '../s3/names.js';
import type { ObjectRow } from '../db/repository.js';
import type { ObjectAttributes } from '../storage/object-service.js';
import type { S3Context } from './context.js';

// Object headers in (PutObject, CopyObject REPLACE) and out (GetObject, HeadObject).

const STORAGE_CLASSES = new Set([
  'STANDARD', 'REDUCED_REDUNDANCY', 'STANDARD_IA', 'ONEZONE_IA', 'INTELLIGENT_TIERING',
  'GLACIER', 'DEEP_ARCHIVE', 'GLACIER_IR', 'OUTPOSTS', 'SNOW', 'EXPRESS_ONEZONE',
]);

export const DEFAULT_CONTENT_TYPE = 'binary/octet-stream';

type HeaderRecord = Record<string, string | string[] | undefined>;
const one = (headers: HeaderRecord, name: string): string | undefined => {
  const v = headers[name];
  return Array.isArray(v) ? v.join(',') : v;
};

/** x-amz-storage-class, validated; undefined when the request names none. */
export function storageClassFromRequest(ctx: S3Context): string | undefined {
  return storageClassFrom(ctx.req.headers);
}

function storageClassFrom(headers: HeaderRecord): string | undefined {
  const storageClass = one(headers, 'x-amz-storage-class');
  if (storageClass !== undefined && !STORAGE_CLASSES.has(storageClass)) throw new S3Error('InvalidStorageClass', { StorageClassRequested: storageClass });
  return storageClass;
}

export function attributesFromRequest(ctx: S3Context, contentEncoding?: string): ObjectAttributes {
  return attributesFromHeaders(ctx.req.headers, contentEncoding);
}

/** The same from a header record (lower-case names): PostObject builds one from its form fields. */
export function attributesFromHeaders(headers: HeaderRecord, contentEncoding?: string): ObjectAttributes {
  const storageClass = storageClassFrom(headers);
  return {
    contentType: one(headers, 'content-type'),
    contentEncoding,
    contentDisposition: one(headers, 'content-disposition'),
    contentLanguage: one(headers, 'content-language'),
    cacheControl: one(headers, 'cache-control'),
    expires: one(headers, 'expires'),
    // Every object lives on the same disks; the class is recorded and echoed, not acted on.
    storageClass: storageClass ?? 'STANDARD',
    userMetadata: extractUserMetadata(headers),
  };
}

const OVERRIDES: Array<[string, string]> = [
  ['response-content-type', 'Content-Type'],
  ['response-content-language', 'Content-Language'],
  ['response-expires', 'Expires'],
  ['response-cache-control', 'Cache-Control'],
  ['response-content-disposition', 'Content-Disposition'],
  ['response-content-encoding', 'Content-Encoding'],
];

/**
 * The stored headers of a row, worked out once per row object: the read cache hands the same
 * row to every GET of an unchanged object, and formatting the date and parsing the metadata
 * JSON again for each was measurable under a small-GET load.
 */
const storedHeaders = new WeakMap<ObjectRow, Array<[string, string]>>();

function storedHeadersOf(obj: ObjectRow): Array<[string, string]> {
  let list = storedHeaders.get(obj);
  if (list) return list;
  list = [
    ['ETag', obj.etag],
    ['Last-Modified', new Date(obj.lastModified).toUTCString()],
    ['Accept-Ranges', 'bytes'],
    ['Content-Type', obj.contentType ?? DEFAULT_CONTENT_TYPE],
  ];
  if (obj.contentEncoding) list.push(['Content-Encoding', obj.contentEncoding]);
  if (obj.contentDisposition) list.push(['Content-Disposition', obj.contentDisposition]);
  if (obj.contentLanguage) list.push(['Content-Language', obj.contentLanguage]);
  if (obj.cacheControl) list.push(['Cache-Control', obj.cacheControl]);
  if (obj.expires) list.push(['Expires', obj.expires]);
  if (obj.storageClass !== 'STANDARD') list.push(['x-amz-storage-class', obj.storageClass]);
  const meta = JSON.parse(obj.userMetadata) as Record<string, string>;
  for (const [name, value] of Object.entries(meta)) list.push([`x-amz-meta-${name}`, value]);
  storedHeaders.set(obj, list);
  return list;
}

export function writeObjectHeaders(ctx: S3Context, obj: ObjectRow): void {
  for (const [name, value] of storedHeadersOf(obj)) ctx.set(name, value);
  for (const [param, name] of OVERRIDES) {
    const v = ctx.state.query.get(param);
    if (v !== null) ctx.set(name, v);
  }
}
