// The XML of versioning and object lock: bucket configurations, ListObjectVersions, an object's
// retention and legal hold. Parsers refuse what S3 refuses (MalformedXML and the specific codes).

import { S3Error } from './errors.js';
import { el, doc, iso, leafText, ownerXml, rootOf, urlEncodeKey, type Owner } from './xml.js';
import type { LockMode, VersioningStatus } from '../store/types.js';

/** PutBucketVersioning's body. MFA delete is refused: cairn has no MFA devices. */
export function parseVersioningConfiguration(xml: string): VersioningStatus {
  const root = rootOf(xml, 'VersioningConfiguration');
  const mfa = leafText(root.MfaDelete)?.trim();
  if (mfa !== undefined && mfa !== 'Disabled') {
    if (mfa === 'Enabled') throw new S3Error('NotImplemented', { Header: 'MfaDelete' }, 'MFA delete is not implemented by cairn.');
    throw new S3Error('MalformedXML');
  }
  const status = leafText(root.Status)?.trim();
  if (status === 'Enabled' || status === 'Suspended') return status;
  if (status === undefined) throw new S3Error('IllegalVersioningConfigurationException', {}, 'The Versioning element must be specified');
  throw new S3Error('IllegalVersioningConfigurationException', {}, `The versioning status ${status} is not valid; use Enabled or Suspended.`);
}

export interface LockRule {
  mode: LockMode;
  days?: number;
  years?: number;
}

function parseMode(v: string | undefined): LockMode {
  if (v === 'GOVERNANCE' || v === 'COMPLIANCE') return v;
  throw new S3Error('MalformedXML');
}

function positiveInt(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d{1,6}$/.test(v.trim()) || Number(v) <= 0) {
    throw new S3Error('InvalidArgument', {}, 'Default retention period must be a positive integer value.');
  }
  return Number(v);
}

/** PutObjectLockConfiguration's body: ObjectLockEnabled and an optional default retention rule. */
export function parseObjectLockConfiguration(xml: string): { rule: LockRule | null } {
  const root = rootOf(xml, 'ObjectLockConfiguration');
  const enabled = leafText(root.ObjectLockEnabled)?.trim();
  if (enabled !== undefined && enabled !== 'Enabled') throw new S3Error('MalformedXML');
  if (root.Rule === undefined || root.Rule === '') return { rule: null };
  const rule = root.Rule as Record<string, unknown>;
  const dr = rule?.DefaultRetention as Record<string, unknown> | undefined;
  if (typeof rule !== 'object' || typeof dr !== 'object' || dr === null) throw new S3Error('MalformedXML');
  const mode = parseMode(leafText(dr.Mode)?.trim());
  const days = positiveInt(leafText(dr.Days));
  const years = positiveInt(leafText(dr.Years));
  if ((days === undefined) === (years === undefined)) throw new S3Error('MalformedXML');
  return { rule: { mode, days, years } };
}

export function objectLockConfigurationXml(rule: LockRule | null): string {
  let inner = el('ObjectLockEnabled', 'Enabled');
  if (rule) {
    const period = rule.years !== undefined ? el('Years', rule.years) : el('Days', rule.days ?? 0);
    inner += `<Rule><DefaultRetention>${el('Mode', rule.mode)}${period}</DefaultRetention></Rule>`;
  }
  return doc('ObjectLockConfiguration', inner);
}

/** An ISO 8601 date-time as S3 takes it (x-amz-object-lock-retain-until-date, RetainUntilDate). */
export function parseLockDate(v: string, what: string): number {
  const t = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/.test(v.trim()) ? Date.parse(v.trim()) : NaN;
  if (Number.isNaN(t)) throw new S3Error('InvalidArgument', { ArgumentName: what, ArgumentValue: v }, `The ${what} is not a valid ISO 8601 date.`);
  return t;
}

/** PutObjectRetention's body; an empty Retention removes it (only where the rules allow). */
export function parseRetention(xml: string): { mode: LockMode; until: number } | null {
  const root = rootOf(xml, 'Retention');
  const mode = leafText(root.Mode)?.trim();
  const date = leafText(root.RetainUntilDate)?.trim();
  if (mode === undefined && date === undefined) return null;
  if (mode === undefined || date === undefined) throw new S3Error('MalformedXML');
  return { mode: parseMode(mode), until: parseLockDate(date, 'RetainUntilDate') };
}

export function retentionXml(mode: LockMode, until: number): string {
  return doc('Retention', el('Mode', mode) + el('RetainUntilDate', new Date(until).toISOString()));
}

export function parseLegalHold(xml: string): boolean {
  const root = rootOf(xml, 'LegalHold');
  const status = leafText(root.Status)?.trim();
  if (status === 'ON') return true;
  if (status === 'OFF') return false;
  throw new S3Error('MalformedXML');
}

export function legalHoldXml(on: boolean): string {
  return doc('LegalHold', el('Status', on ? 'ON' : 'OFF'));
}

export interface VersionXmlEntry {
  key: string;
  owner: Owner;
  versionId: string;
  isLatest: boolean;
  deleteMarker: boolean;
  lastModified: Date;
  etag: string;
  size: number;
  storageClass: string;
  checksumAlgorithm?: string;
}

export function listVersionsXml(r: {
  bucket: string;
  prefix: string;
  delimiter?: string;
  keyMarker?: string;
  versionIdMarker?: string;
  maxKeys: number;
  encodingType?: 'url';
  isTruncated: boolean;
  nextKeyMarker?: string;
  nextVersionIdMarker?: string;
  entries: VersionXmlEntry[];
  commonPrefixes: string[];
}): string {
  const enc = (s: string) => (r.encodingType === 'url' ? urlEncodeKey(s) : s);
  let inner = el('Name', r.bucket) + el('Prefix', enc(r.prefix)) + el('KeyMarker', enc(r.keyMarker ?? '')) + el('VersionIdMarker', r.versionIdMarker ?? '');
  if (r.nextKeyMarker !== undefined) inner += el('NextKeyMarker', enc(r.nextKeyMarker));
  if (r.nextVersionIdMarker !== undefined) inner += el('NextVersionIdMarker', r.nextVersionIdMarker);
  inner += el('MaxKeys', r.maxKeys);
  if (r.delimiter !== undefined) inner += el('Delimiter', enc(r.delimiter));
  if (r.encodingType) inner += el('EncodingType', r.encodingType);
  inner += el('IsTruncated', r.isTruncated);
  for (const v of r.entries) {
    const head = el('Key', enc(v.key)) + el('VersionId', v.versionId) + el('IsLatest', v.isLatest) + el('LastModified', iso(v.lastModified));
    if (v.deleteMarker) {
      inner += `<DeleteMarker>${head}${ownerXml(v.owner)}</DeleteMarker>`;
    } else {
      const checksum = v.checksumAlgorithm ? el('ChecksumAlgorithm', v.checksumAlgorithm) : '';
      inner += `<Version>${head}${el('ETag', v.etag)}${checksum}${el('Size', v.size)}${el('StorageClass', v.storageClass)}${ownerXml(v.owner)}</Version>`;
    }
  }
  for (const cp of r.commonPrefixes) inner += `<CommonPrefixes>${el('Prefix', enc(cp))}</CommonPrefixes>`;
  return doc('ListVersionsResult', inner);
}
