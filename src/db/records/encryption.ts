// How the records name a version's encryption, and the words every front-end prints for it
// (cairn ls/find/inspect, the console): one rule, so the CLI and the page never disagree. Pure,
// with no value imports: the console bundles it (as it does filters.ts).
import type { EncryptionInfo } from './shapes.js';

/** The metadata's columns (objects.encryption: 'AES256' = SSE-S3, 'SSE-C'; null = none) as the records' shape. */
export function encryptionInfo(r: { encryption: 'AES256' | 'SSE-C' | null; sseCustomerKeyMd5: string | null }): EncryptionInfo {
  if (r.encryption === 'AES256') return { mode: 'SSE-S3', algorithm: 'AES256', customerKeyMd5: null };
  if (r.encryption === 'SSE-C') return { mode: 'SSE-C', algorithm: 'AES256', customerKeyMd5: r.sseCustomerKeyMd5 };
  return { mode: 'none', algorithm: null, customerKeyMd5: null };
}

/** "none", "SSE-S3 (AES256, server key)", "SSE-C (AES256, customer key MD5 <md5>)". */
export function encryptionWords(e: EncryptionInfo): string {
  if (e.mode === 'SSE-S3') return 'SSE-S3 (AES256, server key)';
  if (e.mode === 'SSE-C') return `SSE-C (AES256, customer key MD5 ${e.customerKeyMd5 ?? '?'})`;
  return 'none';
}

/** A short column value for tables: "-", "SSE-S3", "SSE-C". */
export function encryptionTag(e: EncryptionInfo): string {
  return e.mode === 'none' ? '-' : e.mode;
}
