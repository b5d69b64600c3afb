// GetObjectAttributes: the request's attribute list and paging headers, and the answer's XML.
// Pure, no I/O. What S3 answers, where its documentation says less (captures of S3 published by
// other implementations, docs/s3-compatibility.md):
// - the ETag is unquoted here (HeadObject and listings quote it);
// - a COMPOSITE checksum comes without its "-N" part count (HeadObject has it);
// - ObjectParts appears for multipart objects only; its Part elements (and the paging fields)
//   only when the object has per-part checksums (a COMPOSITE upload), else just PartsCount.
import { S3Error } from './errors.js';
import { doc, el } from './xml.js';
import type { ChecksumAlgorithm } from './checksums.js';

export const OBJECT_ATTRIBUTES = ['ETag', 'Checksum', 'ObjectParts', 'StorageClass', 'ObjectSize'] as const;
export type ObjectAttribute = (typeof OBJECT_ATTRIBUTES)[number];

/** The x-amz-object-attributes header (comma-separated; repeated headers arrive joined by node). */
export function parseObjectAttributes(raw: string | undefined): Set<ObjectAttribute> {
  const names = (raw ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (names.length === 0) {
    throw new S3Error('InvalidRequest', {}, 'The x-amz-object-attributes header specifying the attributes to be retrieved is either missing or empty');
  }
  const out = new Set<ObjectAttribute>();
  for (const name of names) {
    const known = OBJECT_ATTRIBUTES.find((a) => a === name);
    if (!known) throw new S3Error('InvalidArgument', { ArgumentName: 'x-amz-object-attributes', ArgumentValue: name }, 'Invalid attribute name specified.');
    out.add(known);
  }
  return out;
}

const MAX_PARTS = 1000;

/** x-amz-max-parts (default and cap 1000, as ListParts) and x-amz-part-number-marker (default 0). */
export function parsePartsPaging(maxRaw: string | undefined, markerRaw: string | undefined): { maxParts: number; marker: number } {
  const int = (name: string, raw: string | undefined, fallback: number): number => {
    if (raw === undefined || raw.trim() === '') return fallback;
    if (!/^\d{1,10}$/.test(raw.trim()) || Number(raw.trim()) > 2147483647) {
      throw new S3Error('InvalidArgument', { ArgumentName: name, ArgumentValue: raw }, `Argument ${name} must be an integer between 0 and 2147483647`);
    }
    return Number(raw.trim());
  };
  return { maxParts: Math.min(int('x-amz-max-parts', maxRaw, MAX_PARTS), MAX_PARTS), marker: int('x-amz-part-number-marker', markerRaw, 0) };
}

export interface AttributesPart {
  partNumber: number;
  size: number;
  checksumValue: string | null;
}

export interface AttributesAnswer {
  etag: string;
  size: number;
  storageClass: string;
  checksum?: { algorithm: ChecksumAlgorithm; value: string; type: string | null };
  /** Multipart objects only: every part, in part order. */
  parts?: AttributesPart[];
}

/** The GetObjectAttributesResponse document, with only the attributes asked for. */
export function objectAttributesXml(asked: Set<ObjectAttribute>, a: AttributesAnswer, paging: { maxParts: number; marker: number }): string {
  let x = '';
  if (asked.has('ETag')) x += el('ETag', a.etag.replace(/^"|"$/g, ''));
  if (asked.has('Checksum') && a.checksum) {
    const c = a.checksum;
    x += `<Checksum>${el(`Checksum${c.algorithm}`, c.value.replace(/-\d+$/, ''))}${c.type ? el('ChecksumType', c.type) : ''}</Checksum>`;
  }
  if (asked.has('ObjectParts') && a.parts) x += objectPartsXml(a, paging);
  if (asked.has('StorageClass')) x += el('StorageClass', a.storageClass);
  if (asked.has('ObjectSize')) x += el('ObjectSize', a.size);
  return doc('GetObjectAttributesResponse', x);
}

function objectPartsXml(a: AttributesAnswer, paging: { maxParts: number; marker: number }): string {
  const parts = a.parts!;
  let x = el('PartsCount', parts.length);
  const alg = a.checksum?.algorithm;
  if (a.checksum?.type !== 'COMPOSITE' || !alg || !parts.every((p) => p.checksumValue)) return `<ObjectParts>${x}</ObjectParts>`;
  const after = parts.filter((p) => p.partNumber > paging.marker);
  const page = after.slice(0, paging.maxParts);
  const truncated = after.length > page.length;
  x += el('PartNumberMarker', paging.marker);
  if (page.length > 0) x += el('NextPartNumberMarker', page[page.length - 1]!.partNumber);
  x += el('MaxParts', paging.maxParts) + el('IsTruncated', truncated);
  for (const p of page) x += `<Part>${el(`Checksum${alg}`, p.checksumValue!)}${el('PartNumber', p.partNumber)}${el('Size', p.size)}</Part>`;
  return `<ObjectParts>${x}</ObjectParts>`;
}
