import { S3Error } from './errors.js';
import { asArray, doc, el, iso, leafText, ownerXml, rootOf, urlEncodeKey, type Owner } from './xml.js';
import { CHECKSUM_ALGORITHMS, type ChecksumAlgorithm } from './checksums.js';

// XML of the multipart operations: what CreateMultipartUpload, UploadPartCopy,
// CompleteMultipartUpload, ListParts and ListMultipartUploads answer, and the Complete body.

export interface ChecksumField {
  algorithm: ChecksumAlgorithm;
  value: string;
  type?: string;
}

function checksumXml(c: ChecksumField | undefined): string {
  if (!c) return '';
  return el(`Checksum${c.algorithm}`, c.value) + (c.type ? el('ChecksumType', c.type) : '');
}

export function initiateMultipartUploadXml(bucket: string, key: string, uploadId: string): string {
  return doc('InitiateMultipartUploadResult', el('Bucket', bucket) + el('Key', key) + el('UploadId', uploadId));
}

export function completeMultipartUploadXml(r: { location: string; bucket: string; key: string; etag: string; checksum?: ChecksumField }): string {
  return doc(
    'CompleteMultipartUploadResult',
    el('Location', r.location) + el('Bucket', r.bucket) + el('Key', r.key) + el('ETag', r.etag) + checksumXml(r.checksum),
  );
}

export function copyPartResultXml(etag: string, lastModified: Date, checksum?: ChecksumField): string {
  return doc('CopyPartResult', el('ETag', etag) + el('LastModified', iso(lastModified)) + checksumXml(checksum && { ...checksum, type: undefined }));
}

export interface PartEntry {
  partNumber: number;
  lastModified: Date;
  etag: string;
  size: number;
  checksum?: ChecksumField;
}

export function listPartsXml(r: {
  bucket: string;
  key: string;
  uploadId: string;
  owner: Owner;
  storageClass: string;
  partNumberMarker: number;
  nextPartNumberMarker?: number;
  maxParts: number;
  isTruncated: boolean;
  parts: PartEntry[];
  checksumAlgorithm?: string;
  checksumType?: string;
}): string {
  let x = el('Bucket', r.bucket) + el('Key', r.key) + el('UploadId', r.uploadId);
  x += `<Initiator>${el('ID', r.owner.id)}${el('DisplayName', r.owner.displayName)}</Initiator>` + ownerXml(r.owner);
  x += el('StorageClass', r.storageClass) + el('PartNumberMarker', r.partNumberMarker);
  if (r.nextPartNumberMarker !== undefined) x += el('NextPartNumberMarker', r.nextPartNumberMarker);
  x += el('MaxParts', r.maxParts) + el('IsTruncated', r.isTruncated);
  if (r.checksumAlgorithm) x += el('ChecksumAlgorithm', r.checksumAlgorithm);
  if (r.checksumType) x += el('ChecksumType', r.checksumType);
  for (const p of r.parts) {
    x += `<Part>${el('PartNumber', p.partNumber)}${el('LastModified', iso(p.lastModified))}${el('ETag', p.etag)}${el('Size', p.size)}${p.checksum ? el(`Checksum${p.checksum.algorithm}`, p.checksum.value) : ''}</Part>`;
  }
  return doc('ListPartsResult', x);
}

export interface UploadEntry {
  key: string;
  /** Who started it. */
  owner: Owner;
  uploadId: string;
  initiated: Date;
  storageClass: string;
  checksumAlgorithm?: string;
  checksumType?: string;
}

export function listMultipartUploadsXml(r: {
  bucket: string;
  prefix: string;
  delimiter?: string;
  keyMarker: string;
  uploadIdMarker: string;
  nextKeyMarker?: string;
  nextUploadIdMarker?: string;
  maxUploads: number;
  isTruncated: boolean;
  uploads: UploadEntry[];
  commonPrefixes: string[];
  encodingType?: 'url';
}): string {
  const enc = r.encodingType === 'url' ? urlEncodeKey : (s: string) => s;
  let x = el('Bucket', r.bucket) + el('KeyMarker', enc(r.keyMarker)) + el('UploadIdMarker', r.uploadIdMarker);
  if (r.nextKeyMarker !== undefined) x += el('NextKeyMarker', enc(r.nextKeyMarker));
  if (r.nextUploadIdMarker !== undefined) x += el('NextUploadIdMarker', r.nextUploadIdMarker);
  if (r.delimiter !== undefined) x += el('Delimiter', enc(r.delimiter));
  x += el('Prefix', enc(r.prefix)) + el('MaxUploads', r.maxUploads) + el('IsTruncated', r.isTruncated);
  if (r.encodingType) x += el('EncodingType', r.encodingType);
  for (const u of r.uploads) {
    x += '<Upload>' + el('Key', enc(u.key)) + el('UploadId', u.uploadId);
    x += `<Initiator>${el('ID', u.owner.id)}${el('DisplayName', u.owner.displayName)}</Initiator>` + ownerXml(u.owner);
    x += el('StorageClass', u.storageClass) + el('Initiated', iso(u.initiated));
    if (u.checksumAlgorithm) x += el('ChecksumAlgorithm', u.checksumAlgorithm);
    if (u.checksumType) x += el('ChecksumType', u.checksumType);
    x += '</Upload>';
  }
  for (const p of r.commonPrefixes) x += `<CommonPrefixes>${el('Prefix', enc(p))}</CommonPrefixes>`;
  return doc('ListMultipartUploadsResult', x);
}

export interface CompletePart {
  partNumber: number;
  /** Unquoted: clients send "abc", &quot;abc&quot;, &#34;abc&#34; or abc. */
  etag: string;
  checksums: Partial<Record<ChecksumAlgorithm, string>>;
}

/** CompleteMultipartUpload body: parts in the order given (the caller checks the order). */
export function parseCompleteMultipartUpload(xml: string): CompletePart[] {
  const root = rootOf(xml, 'CompleteMultipartUpload');
  const parts = asArray(root.Part as unknown);
  if (parts.length === 0) throw new S3Error('MalformedXML', {}, 'The XML you provided was not well-formed or did not validate against our published schema: no parts.');
  return parts.map((p) => {
    if (typeof p !== 'object' || p === null) throw new S3Error('MalformedXML');
    const rec = p as Record<string, unknown>;
    const num = leafText(rec.PartNumber)?.trim();
    const etag = leafText(rec.ETag)?.trim();
    if (!num || !/^\d{1,5}$/.test(num) || etag === undefined) throw new S3Error('MalformedXML');
    const checksums: CompletePart['checksums'] = {};
    for (const alg of CHECKSUM_ALGORITHMS) {
      const v = leafText(rec[`Checksum${alg}`])?.trim();
      if (v) checksums[alg] = v;
    }
    return { partNumber: Number(num), etag: etag.replace(/^"+|"+$/g, ''), checksums };
  });
}
