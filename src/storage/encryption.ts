// What encryption a write gets and what key a read needs: S3's rules for SSE-S3 and SSE-C, for
// the object and multipart services. The HTTP side parses the headers (src/http/encryption.ts);
// the cipher itself is chunk-cipher.ts. Choices between S3 behaviours: docs/encryption.md.
import { createHash } from 'node:crypto';
import { S3Error } from '../s3/errors.js';
import type { BucketRow, EncryptionColumns } from '../store/types.js';
import type { OpenKeys, SealSpec } from './chunk-cipher.js';
import type { ServerKeyring } from './keyring.js';

/** A client's SSE-C key, checked against its MD5 (src/http/encryption.ts). */
export interface CustomerKey {
  key: Buffer;
  /** Base64 MD5 of the key, as the client sent it. */
  keyMd5: string;
}

/** What a write asked for: SSE-S3 (`AES256`) or SSE-C; absent = the bucket's default or none. */
export type WriteEncryption = { kind: 'AES256' } | { kind: 'SSE-C'; customer: CustomerKey };

/** The server's encryption settings the services apply. */
export interface EncryptionSettings {
  keys?: ServerKeyring;
  /** Every new write without SSE-C is SSE-S3. */
  encryptAll?: boolean;
}

export const NO_SERVER_KEY = 'Server-side encryption with server keys (SSE-S3) is not configured on this server: start it with encryptionKeyFile or encryptionKey.';

/** The columns of the new version and the seal of its chunks. */
export interface ResolvedWrite {
  columns: EncryptionColumns;
  seal?: SealSpec;
}

/**
 * The encryption of a new write: SSE-C as asked; else SSE-S3 when asked, when the bucket's
 * default says so, or under encryptAll; else none. SSE-S3 without a server key is refused
 * NotImplemented (501): the request is valid S3, this server is not set up for it.
 */
export function resolveWrite(settings: EncryptionSettings, bucket: BucketRow, asked: WriteEncryption | undefined): ResolvedWrite {
  if (asked?.kind === 'SSE-C') {
    return { columns: { encryption: 'SSE-C', sseCustomerKeyMd5: asked.customer.keyMd5 }, seal: { mode: 2, customerKey: asked.customer.key } };
  }
  if (asked?.kind === 'AES256' || bucket.defaultEncryption === 'AES256' || settings.encryptAll) {
    if (!settings.keys) throw new S3Error('NotImplemented', asked?.kind === 'AES256' ? { Header: 'x-amz-server-side-encryption' } : {}, NO_SERVER_KEY);
    return { columns: { encryption: 'AES256', sseCustomerKeyMd5: null }, seal: settings.keys.active };
  }
  return { columns: { encryption: null, sseCustomerKeyMd5: null } };
}

/** The seal of the chunks of a write whose encryption is already decided (an upload's parts). */
export function sealFor(settings: EncryptionSettings, columns: EncryptionColumns, customer: CustomerKey | undefined): SealSpec | undefined {
  if (columns.encryption === 'SSE-C') return { mode: 2, customerKey: customer!.key };
  if (columns.encryption === 'AES256') {
    // Written while keys were configured; a restart without them cannot add to it.
    if (!settings.keys) throw new Error('an SSE-S3 upload continues on a server started without encryption keys');
    return settings.keys.active;
  }
  return undefined;
}

/**
 * Checks the SSE-C key a request brings against what the version (or upload) was written with,
 * as S3 answers: an SSE-C object needs its key (400 InvalidRequest without one, 403 AccessDenied
 * with another); a key given for anything else is 400 InvalidRequest.
 */
export function checkCustomerKey(columns: EncryptionColumns, given: CustomerKey | undefined, what: 'object' | 'upload' = 'object'): void {
  if (columns.encryption === 'SSE-C') {
    if (!given) {
      throw new S3Error('InvalidRequest', {}, what === 'object'
        ? 'The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.'
        : 'The multipart upload initiate requested encryption. Subsequent part requests must include the appropriate encryption parameters.');
    }
    if (given.keyMd5 !== columns.sseCustomerKeyMd5) {
      if (what === 'upload') throw new S3Error('InvalidArgument', {}, 'The provided encryption parameters did not match the ones used originally.');
      throw new S3Error('AccessDenied');
    }
  } else if (given) {
    throw new S3Error('InvalidRequest', {}, what === 'object'
      ? 'The encryption parameters are not applicable to this object.'
      : 'The multipart upload initiate did not request encryption: the part request may not carry encryption parameters.');
  }
}

/** The keys that open a version's chunks (after checkCustomerKey); undefined for a plain one. */
export function openKeys(settings: EncryptionSettings, columns: EncryptionColumns, given: CustomerKey | undefined): OpenKeys | undefined {
  if (columns.encryption === 'SSE-C') return { customerKey: given!.key };
  if (columns.encryption === 'AES256') {
    const keys = settings.keys;
    return {
      server: (id) => {
        if (!keys) throw new Error(`an SSE-S3 object is read on a server started without encryption keys (key id "${id}")`);
        return keys.dataKey(id);
      },
    };
  }
  return undefined;
}

/**
 * The ETag of an SSE-C object or part. S3's is not the MD5 of the data there, and an MD5 of
 * the plaintext would let anyone who reads the metadata confirm a guessed file: so it is the MD5
 * of the stored chunks' names, which changes with the data and says nothing about the plaintext.
 */
export function customerEtag(chunkHashes: string[]): string {
  const md5 = createHash('md5');
  for (const h of chunkHashes) md5.update(h);
  return `"${md5.digest('hex')}"`;
}
