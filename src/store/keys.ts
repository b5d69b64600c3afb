import { randomBytes, randomInt } from 'node:crypto';
import { validateBucketName } from '../s3/names.js';
import type { AccessKeyInfo, Grant } from './types.js';

// What every engine checks and makes for a new access key: its id, its secret, and the
// validation of the caller's description and grants (untrusted JSON from the admin API and CLI).

/** Bad input to create(): `field` names it (e.g. 'grants[1].bucket'), for a 400 from the admin API; `conflict` (409) when the id is taken. */
export class KeyValidationError extends Error {
  constructor(
    readonly field: string,
    message: string,
    readonly conflict = false,
  ) {
    super(message);
    this.name = 'KeyValidationError';
  }
}

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
export const MAX_DESCRIPTION_LENGTH = 256;

/** 'CK' + 18 uppercase letters/digits: the shape of an AWS access key id (20 characters). */
export function newAccessKeyId(): string {
  let id = 'CK';
  for (let i = 0; i < 18; i++) id += ID_ALPHABET[randomInt(ID_ALPHABET.length)];
  return id;
}

/** 40 characters from 30 random bytes (240 bits), base64 without '+' and '/' like the root secret. */
export function newSecret(): string {
  return randomBytes(30).toString('base64').replace(/[+/]/g, (c) => (c === '+' ? 'x' : 'y'));
}

/** Checks grants given as untrusted JSON; throws KeyValidationError. Returns them sorted by bucket. */
export function validateGrants(grants: unknown): Grant[] {
  if (!Array.isArray(grants)) throw new KeyValidationError('grants', 'grants must be an array of { bucket, permission }');
  if (grants.length === 0) throw new KeyValidationError('grants', 'a key needs at least one grant');
  const seen = new Set<string>();
  const out: Grant[] = [];
  grants.forEach((g: unknown, i) => {
    const field = `grants[${i}]`;
    if (typeof g !== 'object' || g === null) throw new KeyValidationError(field, `${field} must be an object { bucket, permission }`);
    const { bucket, permission } = g as Record<string, unknown>;
    if (typeof bucket !== 'string') throw new KeyValidationError(`${field}.bucket`, `${field}.bucket must be a bucket name or '*'`);
    if (bucket !== '*') {
      try {
        validateBucketName(bucket);
      } catch {
        throw new KeyValidationError(`${field}.bucket`, `${field}.bucket: '${bucket}' is not a valid bucket name (or '*')`);
      }
    }
    if (permission !== 'read' && permission !== 'write' && permission !== 'bypass') {
      throw new KeyValidationError(`${field}.permission`, `${field}.permission must be 'read', 'write' or 'bypass' (write, and may bypass GOVERNANCE retention)`);
    }
    if (seen.has(bucket)) throw new KeyValidationError(`${field}.bucket`, `${field}.bucket: '${bucket}' is granted more than once`);
    seen.add(bucket);
    out.push({ bucket, permission });
  });
  return out.sort((a, b) => (a.bucket < b.bucket ? -1 : a.bucket > b.bucket ? 1 : 0));
}

/** The description and grants of a new key, checked (KeyValidationError naming the field). */
export function validateNewKey(opts: { description?: unknown; grants: unknown }): { description: string; grants: Grant[] } {
  const description = opts.description ?? '';
  if (typeof description !== 'string') throw new KeyValidationError('description', 'description must be a string');
  if (description.length > MAX_DESCRIPTION_LENGTH) {
    throw new KeyValidationError('description', `description is longer than ${MAX_DESCRIPTION_LENGTH} characters`);
  }
  return { description, grants: validateGrants(opts.grants) };
}

// Imported pairs (keys made by another S3 server): the shapes AWS and MinIO give, kept to
// characters that survive a shell, a URL and a config file unquoted.
const IMPORTED_ID = /^[A-Za-z0-9]{3,128}$/;
const IMPORTED_SECRET = /^[A-Za-z0-9+/=._~-]{8,128}$/;

/** An access key pair given by the caller (key import), checked; undefined when none was given. */
export function validateImportedPair(opts: { accessKeyId?: unknown; secretAccessKey?: unknown }): { id: string; secret: string } | undefined {
  const { accessKeyId, secretAccessKey } = opts;
  if (accessKeyId === undefined && secretAccessKey === undefined) return undefined;
  if (typeof accessKeyId !== 'string' || !IMPORTED_ID.test(accessKeyId)) {
    throw new KeyValidationError('accessKeyId', 'accessKeyId must be 3 to 128 letters and digits');
  }
  if (typeof secretAccessKey !== 'string' || !IMPORTED_SECRET.test(secretAccessKey)) {
    throw new KeyValidationError('secretAccessKey', 'secretAccessKey must be 8 to 128 characters: letters, digits and + / = . _ ~ -');
  }
  return { id: accessKeyId, secret: secretAccessKey };
}

/** A key's row as the store gives it (no secret; createdAt in ISO 8601). */
export function keyInfo(row: { id: string; accountId: string; description: string; createdAt: number }, grants: Grant[]): AccessKeyInfo {
  return { id: row.id, accountId: row.accountId, description: row.description, createdAt: new Date(row.createdAt).toISOString(), grants };
}
