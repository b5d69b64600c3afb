import { randomBytes } from 'node:crypto';
import { S3Error } from './errors.js';

// Version ids: 'null' for the version written while a bucket is unversioned or suspended, else
// 32 URL-safe random characters (S3's are opaque strings; clients only echo them back).

const VERSION_ID = /^[A-Za-z0-9_-]{32}$/;

export function newVersionId(): string {
  const id = randomBytes(24).toString('base64url');
  // Never a leading '-': command lines read `--version-id -Abc...` as an option (the aws CLI's
  // argparse refuses it), so one id in 64 could not be typed back as a plain argument.
  return id.startsWith('-') ? `_${id.slice(1)}` : id;
}

/** Whether a client-given version id can name a version here ('null' or one cairn made). */
export function isVersionId(v: string): boolean {
  return v === 'null' || VERSION_ID.test(v);
}

/** The request's versionId parameter, validated; undefined when absent. */
export function versionIdParam(query: URLSearchParams, name = 'versionId'): string | undefined {
  const v = query.get(name);
  if (v === null) return undefined;
  if (!isVersionId(v)) throw new S3Error('InvalidArgument', { ArgumentName: name, ArgumentValue: v }, 'Invalid version id specified');
  return v;
}
