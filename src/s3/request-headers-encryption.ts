// The rows of the refusal table (request-headers.ts) for server-side encryption headers:
// SSE-S3 and SSE-C are implemented (docs/encryption.md), KMS is refused.
import type { Rows, Rule } from './request-headers.js';

// Not request-headers.ts's helpers: that module imports this one, so they are not defined yet
// when these rows are built.
const does = (how: string): Rule => ({ status: 'implemented', does: how });
const refused = (lift: 'none', why: string): Rule => ({ status: 'refused', lift, why });

const KMS = 'cairn has no KMS: SSE-S3 (AES256) and SSE-C only';

export const SSE_C: Rows = {
  'x-amz-server-side-encryption-customer-algorithm': does('SSE-C: AES256 (InvalidEncryptionAlgorithmError otherwise); TLS only (src/http/encryption.ts)'),
  'x-amz-server-side-encryption-customer-key': does('SSE-C: the client\'s key, base64 of 32 bytes; never stored (docs/encryption.md)'),
  'x-amz-server-side-encryption-customer-key-MD5': does('SSE-C: must match the key (InvalidArgument); stored to check later requests'),
};
export const COPY_SOURCE_SSE_C: Rows = {
  'x-amz-copy-source-server-side-encryption-customer-algorithm': does('the SSE-C source\'s algorithm (AES256)'),
  'x-amz-copy-source-server-side-encryption-customer-key': does('the SSE-C source\'s key'),
  'x-amz-copy-source-server-side-encryption-customer-key-MD5': does('must match the key and the source\'s (403 AccessDenied for another key)'),
};
export const ENCRYPTION: Rows = {
  'x-amz-server-side-encryption': {
    status: 'by-value',
    accept: { AES256: 'SSE-S3 with the server key (docs/encryption.md); NotImplemented when the server has none' },
    refuse: ['aws:kms', 'aws:kms:dsse'],
    lift: 'none',
    why: KMS,
    unknown: 'InvalidArgument',
  },
  ...SSE_C,
  'x-amz-server-side-encryption-aws-kms-key-id': refused('none', KMS),
  'x-amz-server-side-encryption-context': refused('none', KMS),
  'x-amz-server-side-encryption-bucket-key-enabled': refused('none', 'an S3 Bucket Key is a KMS feature'),
};
/** S3 refuses x-amz-server-side-encryption on reads (400): the object says how it is encrypted. */
export const NO_SSE_ON_READ: Rows = {
  'x-amz-server-side-encryption': { status: 'by-value', accept: {}, refuse: [], lift: 'none', why: 'a read names no encryption', unknown: 'InvalidArgument' },
};

