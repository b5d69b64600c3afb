// S3 XML bodies in (fast-xml-parser, locked down) and out (hand-built strings).
//
// Output is written by hand rather than with XMLBuilder: S3's shapes are fixed and
// small, and XMLBuilder passes control characters through raw, which yields
// documents that expat (botocore) and the SDK's parser reject.

import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { S3Error } from './errors.js';

export const S3_XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';
const DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';
/** Largest request body any caller hands us (DeleteObjects of 1000 long keys fits well within). */
export const MAX_XML_BYTES = 1024 * 1024;

export interface Owner { id: string; displayName: string }

export interface ListEntry {
  key: string;
  lastModified: Date;
  /** Already quoted, as stored. */
  etag: string;
  size: number;
  storageClass?: string;
  checksumAlgorithm?: string;
  owner?: Owner;
}

export interface ListResult {
  version: 1 | 2;
  bucket: string;
  prefix: string;
  delimiter?: string;
  maxKeys: number;
  encodingType?: 'url';
  isTruncated: boolean;
  contents: ListEntry[];
  commonPrefixes: string[];
  // v1
  marker?: string;
  nextMarker?: string;
  // v2
  continuationToken?: string;
  nextContinuationToken?: string;
  startAfter?: string;
  keyCount?: number;
  fetchOwner?: boolean;
}

// ---------------------------------------------------------------------------
// Parsing

const PREDEFINED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function isXmlChar(cp: number): boolean {
  return cp === 0x9 || cp === 0xa || cp === 0xd ||
    (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
}

/**
 * Only the five predefined entities and numeric character references exist for us:
 * the library's own decoder either skips numeric references (and CompleteMultipartUpload
 * from some clients spells ETags as `&#34;abc&#34;`) or, with htmlEntities, also expands
 * the whole HTML entity set. Anything else is not well-formed XML without a DTD, and
 * DTDs are refused outright.
 */
function decodeEntities(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(/&([^;&]*);?/g, (whole, name: string) => {
    if (!whole.endsWith(';')) throw new S3Error('MalformedXML');
    if (name in PREDEFINED) return PREDEFINED[name]!;
    const m = /^#(?:x([0-9a-fA-F]{1,6})|([0-9]{1,7}))$/.exec(name);
    if (!m) throw new S3Error('MalformedXML');
    const cp = m[1] !== undefined ? parseInt(m[1], 16) : parseInt(m[2]!, 10);
    if (!isXmlChar(cp)) throw new S3Error('MalformedXML');
    return String.fromCodePoint(cp);
  });
}

/** Shared with the element parser (xml-element.ts), which needs the same lockdown. */
export const entityDecoder = {
  setExternalEntities: () => {},
  addInputEntities: () => {
    // Unreachable while DOCTYPE is rejected up front; refuse rather than expand if it ever is.
    throw new S3Error('MalformedXML');
  },
  reset: () => {},
  decode: decodeEntities,
  setXmlVersion: () => {},
};

const parser = new XMLParser({
  ignoreAttributes: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  removeNSPrefix: true,
  // Keys are strings even when they look like numbers, and may begin or end in spaces.
  parseTagValue: false,
  trimValues: false,
  // Enabled only so text reaches entityDecoder; DTDs never get this far.
  processEntities: true,
  entityDecoder,
});

/**
 * What every body must pass before a parser sees it: the size limit, no DTD, well-formed.
 * Throws MalformedXML.
 */
export function preflightXml(body: string): void {
  if (body.length > MAX_XML_BYTES || Buffer.byteLength(body, 'utf8') > MAX_XML_BYTES) {
    throw new S3Error('MalformedXML');
  }
  // A literal '<!' can only start markup (text must escape '<'), so this cannot hit a key.
  if (/<!DOCTYPE|<!ENTITY/i.test(body)) throw new S3Error('MalformedXML');
  // The parser itself is lenient about structure (unclosed tags, ...); the validator is not.
  if (XMLValidator.validate(body) !== true) throw new S3Error('MalformedXML');
}

/**
 * Parses an S3 request body. Throws MalformedXML for anything that is not a single
 * well-formed element, for any DTD (billion laughs, external entities) and for
 * bodies beyond MAX_XML_BYTES.
 */
export function parseXml(body: string): any {
  preflightXml(body);
  let doc: any;
  try {
    doc = parser.parse(body);
  } catch (err) {
    if (err instanceof S3Error) throw err;
    throw new S3Error('MalformedXML');
  }
  const roots = Object.keys(doc ?? {}).filter((k) => k !== '#text');
  if (roots.length !== 1 || Array.isArray(doc[roots[0]!])) throw new S3Error('MalformedXML');
  return doc;
}

export function asArray<T>(v: T | T[] | undefined): T[] {
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

/** Text content of a leaf element; a nested element where text belongs is a schema error. */
export function leafText(v: unknown): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'string') return v;
  throw new S3Error('MalformedXML');
}

export function rootOf(xml: string, name: string): Record<string, unknown> {
  const doc = parseXml(xml);
  if (!(name in doc)) throw new S3Error('MalformedXML');
  const root = doc[name];
  // `<Root/>` and `<Root>  </Root>` parse to a string.
  if (typeof root === 'string') {
    if (root.trim() !== '') throw new S3Error('MalformedXML');
    return {};
  }
  return root as Record<string, unknown>;
}

/** CreateBucket body; clients send none at all, an empty one, or this document. */
export function parseCreateBucketConfiguration(xml: string): { locationConstraint?: string } {
  if (xml.trim() === '') return {};
  const root = rootOf(xml, 'CreateBucketConfiguration');
  if (Array.isArray(root.LocationConstraint)) throw new S3Error('MalformedXML');
  const lc = leafText(root.LocationConstraint)?.trim();
  return lc ? { locationConstraint: lc } : {};
}

/** S3 caps DeleteObjects at 1000 keys and answers MalformedXML beyond that. */
export const MAX_DELETE_KEYS = 1000;

export function parseDeleteObjects(xml: string): { quiet: boolean; keys: Array<{ key: string; versionId?: string }> } {
  const root = rootOf(xml, 'Delete');
  const objects = asArray(root.Object as unknown);
  if (objects.length === 0 || objects.length > MAX_DELETE_KEYS) throw new S3Error('MalformedXML');
  const keys = objects.map((o) => {
    if (typeof o !== 'object' || o === null || Array.isArray((o as any).Key) || Array.isArray((o as any).VersionId)) throw new S3Error('MalformedXML');
    const key = leafText((o as any).Key);
    if (key === undefined) throw new S3Error('MalformedXML');
    const versionId = leafText((o as any).VersionId);
    return versionId === undefined ? { key } : { key, versionId };
  });
  if (Array.isArray(root.Quiet)) throw new S3Error('MalformedXML');
  const quiet = (leafText(root.Quiet) ?? '').trim().toLowerCase() === 'true';
  return { quiet, keys };
}

// ---------------------------------------------------------------------------
// Building

/**
 * Escapes element text. Characters XML 1.0 cannot carry at all (C0 controls) become
 * numeric references so the document stays lexically well-formed; '\r' is kept as a
 * reference because parsers would otherwise normalise it to '\n' and change the key.
 */
export function escapeXml(s: string): string {
  return s.replace(/[&<>"'\u0000-\u0008\u000b\u000c\u000d\u000e-\u001f\ufffe\uffff]/g, (c) => {
    switch (c) {
      case '&': return '&amp;';
      case '<': return '&lt;';
      case '>': return '&gt;';
      case '"': return '&quot;';
      case "'": return '&apos;';
      default: return `&#x${c.charCodeAt(0).toString(16).toUpperCase()};`;
    }
  });
}

export function el(name: string, text: string | number | boolean): string {
  const s = escapeXml(String(text));
  return s === '' ? `<${name}></${name}>` : `<${name}>${s}</${name}>`;
}

export function doc(root: string, inner: string, xmlns = true): string {
  const open = xmlns ? `<${root} xmlns="${S3_XMLNS}">` : `<${root}>`;
  return `${DECLARATION}${open}${inner}</${root}>`;
}

/**
 * S3 writes whole seconds ('...:30.000Z'), as in the HTTP Last-Modified of the same object.
 * Milliseconds here would differ from the mtime the aws CLI sets from them on download, and
 * `sync --exact-timestamps` would fetch everything again.
 */
export function iso(d: Date): string {
  return new Date(Math.floor(d.getTime() / 1000) * 1000).toISOString();
}

export function ownerXml(owner: Owner): string {
  return `<Owner>${el('ID', owner.id)}${el('DisplayName', owner.displayName)}</Owner>`;
}

const XML_NAME = /^[A-Za-z_][A-Za-z0-9._-]*$/;

export function errorXml(e: {
  code: string;
  message: string;
  requestId: string;
  resource?: string;
  hostId?: string;
  details?: Record<string, string | number | undefined>;
}): string {
  let inner = el('Code', e.code) + el('Message', e.message);
  for (const [name, value] of Object.entries(e.details ?? {})) {
    // Detail names come from code, but a bad one must not be able to break the document.
    if (value === undefined || !XML_NAME.test(name)) continue;
    inner += el(name, value);
  }
  if (e.resource !== undefined) inner += el('Resource', e.resource);
  inner += el('RequestId', e.requestId) + el('HostId', e.hostId ?? e.requestId);
  return doc('Error', inner, false);
}

/** ListBuckets: ContinuationToken when the page is cut short, Prefix when the request gave one. */
export function listBucketsXml(
  owner: Owner,
  buckets: Array<{ name: string; created: Date; region: string }>,
  page: { continuationToken?: string; prefix?: string } = {},
): string {
  const items = buckets
    .map((b) => `<Bucket>${el('Name', b.name)}${el('CreationDate', iso(b.created))}${el('BucketRegion', b.region)}</Bucket>`)
    .join('');
  let inner = `${ownerXml(owner)}<Buckets>${items}</Buckets>`;
  if (page.continuationToken !== undefined) inner += el('ContinuationToken', page.continuationToken);
  if (page.prefix !== undefined) inner += el('Prefix', page.prefix);
  return doc('ListAllMyBucketsResult', inner);
}

/** S3 answers us-east-1 buckets with an empty LocationConstraint (the pre-region default). */
export function locationXml(region: string): string {
  if (region === '' || region === 'us-east-1') return `${DECLARATION}<LocationConstraint xmlns="${S3_XMLNS}"/>`;
  return doc('LocationConstraint', escapeXml(region));
}

/** A bucket that never had versioning enabled has no Status element at all. */
export function versioningXml(status?: 'Enabled' | 'Suspended' | null): string {
  if (!status) return `${DECLARATION}<VersioningConfiguration xmlns="${S3_XMLNS}"/>`;
  return doc('VersioningConfiguration', el('Status', status) + el('MfaDelete', 'Disabled'));
}

export function copyObjectResultXml(
  etag: string,
  lastModified: Date,
  checksum?: { header: string; value: string },
): string {
  let inner = el('LastModified', iso(lastModified)) + el('ETag', etag);
  if (checksum && XML_NAME.test(checksum.header)) inner += el(checksum.header, checksum.value);
  return doc('CopyObjectResult', inner);
}

/**
 * Deleted: VersionId when the request named one; DeleteMarker and DeleteMarkerVersionId when
 * a marker was added, or the version removed was one.
 */
export function deleteResultXml(
  deleted: Array<{ key: string; versionId?: string; deleteMarker?: boolean; deleteMarkerVersionId?: string }>,
  errors: Array<{ key: string; versionId?: string; code: string; message: string }>,
): string {
  const d = deleted
    .map((x) => {
      let inner = el('Key', x.key);
      if (x.versionId !== undefined) inner += el('VersionId', x.versionId);
      if (x.deleteMarker) inner += el('DeleteMarker', 'true');
      if (x.deleteMarkerVersionId !== undefined) inner += el('DeleteMarkerVersionId', x.deleteMarkerVersionId);
      return `<Deleted>${inner}</Deleted>`;
    })
    .join('');
  const e = errors
    .map((x) => `<Error>${el('Key', x.key)}${x.versionId !== undefined ? el('VersionId', x.versionId) : ''}${el('Code', x.code)}${el('Message', x.message)}</Error>`)
    .join('');
  return doc('DeleteResult', d + e);
}

/**
 * encoding-type=url: S3 escapes like encodeURIComponent but leaves '/' alone. The aws
 * CLI decodes with unquote_plus, so a literal '+' must go out as %2B (it does) and
 * spaces as %20 (never '+'); the JS SDK leaves decoding to the caller, who uses
 * decodeURIComponent, which handles the same form.
 */
export function urlEncodeKey(s: string): string {
  return encodeURIComponent(s).replace(/%2F/g, '/');
}

export function listObjectsXml(r: ListResult): string {
  const enc = r.encodingType === 'url' ? urlEncodeKey : (s: string) => s;
  const showOwner = r.version === 1 || r.fetchOwner === true;
  // v1 encodes Marker, NextMarker, Delimiter, Key and CommonPrefixes' Prefix, not the top-level
  // Prefix: botocore's decode_list_object decodes exactly those (v2's decodes Prefix and StartAfter too).
  let head = el('Name', r.bucket) + el('Prefix', r.version === 1 ? r.prefix : enc(r.prefix));
  if (r.version === 1) {
    head += el('Marker', enc(r.marker ?? ''));
    // S3 sends NextMarker only with a delimiter; without one the client pages from the last Key.
    if (r.isTruncated && r.delimiter !== undefined) {
      const next = r.nextMarker ?? lastListed(r);
      if (next !== undefined) head += el('NextMarker', enc(next));
    }
  } else {
    if (r.continuationToken !== undefined) head += el('ContinuationToken', r.continuationToken);
    if (r.isTruncated && r.nextContinuationToken !== undefined) head += el('NextContinuationToken', r.nextContinuationToken);
    head += el('KeyCount', r.keyCount ?? r.contents.length + r.commonPrefixes.length);
  }
  head += el('MaxKeys', r.maxKeys);
  if (r.delimiter !== undefined) head += el('Delimiter', enc(r.delimiter));
  head += el('IsTruncated', r.isTruncated);
  if (r.encodingType === 'url') head += el('EncodingType', 'url');
  if (r.version === 2 && r.startAfter !== undefined) head += el('StartAfter', enc(r.startAfter));

  const contents = r.contents
    .map((c) => {
      let x = el('Key', enc(c.key)) + el('LastModified', iso(c.lastModified)) + el('ETag', c.etag);
      if (c.checksumAlgorithm) x += el('ChecksumAlgorithm', c.checksumAlgorithm);
      x += el('Size', c.size);
      if (showOwner && c.owner) x += ownerXml(c.owner);
      x += el('StorageClass', c.storageClass ?? 'STANDARD');
      return `<Contents>${x}</Contents>`;
    })
    .join('');
  const prefixes = r.commonPrefixes.map((p) => `<CommonPrefixes>${el('Prefix', enc(p))}</CommonPrefixes>`).join('');
  return doc('ListBucketResult', head + contents + prefixes);
}

/** Contents and CommonPrefixes are separate lists, so the page's last item is the larger of their tails. */
function lastListed(r: ListResult): string | undefined {
  const a = r.contents.at(-1)?.key;
  const b = r.commonPrefixes.at(-1);
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')) >= 0 ? a : b;
}
