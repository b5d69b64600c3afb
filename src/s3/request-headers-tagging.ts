// The request-header table's rows for tagging and lifecycle (the rest of the table and its rules:
// request-headers.ts). A function, so the two modules can share helpers.
import { BODY_CHECKSUMS, EXPECTED_OWNER, OWNER_AND_PAYER, VERSION_ID, does, selects, type Rows } from './request-headers.js';

export function taggingLifecycleOperations(): Readonly<Record<string, Rows>> {
  return {
    PutBucketLifecycleConfiguration: {
      '?lifecycle': selects,
      ...BODY_CHECKSUMS,
      ...EXPECTED_OWNER,
      'x-amz-transition-default-minimum-object-size': does('validated, stored and echoed (no transition happens: one storage class)'),
    },
    GetBucketLifecycleConfiguration: { '?lifecycle': selects, ...EXPECTED_OWNER },
    DeleteBucketLifecycle: { '?lifecycle': selects, ...EXPECTED_OWNER },
    GetObjectTagging: { '?tagging': selects, ...VERSION_ID, ...OWNER_AND_PAYER },
    PutObjectTagging: { '?tagging': selects, ...VERSION_ID, ...BODY_CHECKSUMS, ...OWNER_AND_PAYER },
    DeleteObjectTagging: { '?tagging': selects, ...VERSION_ID, ...EXPECTED_OWNER },
    GetBucketTagging: { '?tagging': selects, ...EXPECTED_OWNER },
    PutBucketTagging: { '?tagging': selects, ...BODY_CHECKSUMS, ...EXPECTED_OWNER },
    DeleteBucketTagging: { '?tagging': selects, ...EXPECTED_OWNER },
  };
}
