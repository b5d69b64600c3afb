// The XML of object ownership controls and of a bucket policy's status.

import { S3Error } from './errors.js';
import { doc, el, leafText, rootOf } from './xml.js';
import type { ObjectOwnership } from '../store/types.js';

const OWNERSHIPS: readonly ObjectOwnership[] = ['BucketOwnerEnforced', 'BucketOwnerPreferred', 'ObjectWriter'];

/** x-amz-object-ownership on CreateBucket: one of S3's three values (InvalidArgument otherwise). */
export function parseObjectOwnership(value: string): ObjectOwnership {
  const v = value.trim();
  if ((OWNERSHIPS as readonly string[]).includes(v)) return v as ObjectOwnership;
  throw new S3Error('InvalidArgument', { ArgumentName: 'x-amz-object-ownership', ArgumentValue: v }, `Invalid x-amz-object-ownership header: ${v}`);
}

/** PutBucketOwnershipControls' body: exactly one Rule with an ObjectOwnership. */
export function parseOwnershipControls(xml: string): ObjectOwnership {
  const root = rootOf(xml, 'OwnershipControls');
  const rule = root.Rule as Record<string, unknown> | undefined;
  if (typeof rule !== 'object' || rule === null || Array.isArray(rule)) throw new S3Error('MalformedXML');
  const value = leafText(rule.ObjectOwnership)?.trim();
  if (value === undefined || !(OWNERSHIPS as readonly string[]).includes(value)) throw new S3Error('MalformedXML');
  return value as ObjectOwnership;
}

export function ownershipControlsXml(ownership: ObjectOwnership): string {
  return doc('OwnershipControls', `<Rule>${el('ObjectOwnership', ownership)}</Rule>`);
}

/**
 * XML booleans go out in lower case, as S3 sends them: the API reference's prose says TRUE, but
 * botocore (aws CLI, boto3) reads anything but `true` as false.
 */
export function policyStatusXml(isPublic: boolean): string {
  return doc('PolicyStatus', el('IsPublic', String(isPublic)));
}
