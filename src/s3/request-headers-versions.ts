// The request-header table's rows for the versioning and object lock operations (the rest of the
// table and its rules: request-headers.ts). A function, so the two modules can share helpers.
import { BODY_CHECKSUMS, EXPECTED_OWNER, OWNER_AND_PAYER, VERSION_ID, does, refused, selects, type Rows } from './request-headers.js';

export function versionOperations(): Readonly<Record<string, Rows>> {
  const bypass = does('with the root key or a bypass grant: GOVERNANCE retention may be shortened or removed');
  return {
    PutBucketVersioning: {
      '?versioning': selects,
      ...BODY_CHECKSUMS,
      'x-amz-mfa': refused('none', 'MFA delete: cairn has no MFA devices'),
      ...EXPECTED_OWNER,
    },
    ListObjectVersions: {
      '?versions': selects,
      '?prefix': does('only keys that start with it'),
      '?delimiter': does('groups keys into CommonPrefixes'),
      '?encoding-type': does('url: keys and prefixes percent-encoded in the answer'),
      '?key-marker': does('where the page starts'),
      '?version-id-marker': does('with key-marker: after that version of the key'),
      '?max-keys': does('page size, 1000 at most'),
      ...OWNER_AND_PAYER,
      'x-amz-optional-object-attributes': refused('none', 'RestoreStatus: cairn archives and restores nothing'),
    },
    PutObjectLockConfiguration: {
      '?object-lock': selects,
      ...BODY_CHECKSUMS,
      'x-amz-bucket-object-lock-token': refused('none', 'lock tokens: object lock is enabled only at creation'),
      ...OWNER_AND_PAYER,
    },
    GetObjectLockConfiguration: { '?object-lock': selects, ...EXPECTED_OWNER },
    PutObjectRetention: { '?retention': selects, ...VERSION_ID, ...BODY_CHECKSUMS, 'x-amz-bypass-governance-retention': bypass, ...OWNER_AND_PAYER },
    GetObjectRetention: { '?retention': selects, ...VERSION_ID, ...OWNER_AND_PAYER },
    PutObjectLegalHold: { '?legal-hold': selects, ...VERSION_ID, ...BODY_CHECKSUMS, ...OWNER_AND_PAYER },
    GetObjectLegalHold: { '?legal-hold': selects, ...VERSION_ID, ...OWNER_AND_PAYER },
  };
}
