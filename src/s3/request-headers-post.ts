// The request-header table's rows for PostObject (the rest of the table and its rules:
// request-headers.ts). A browser form carries in its fields what a PUT carries in headers: the
// handler (src/http/handlers/post-object.ts) turns the fields into a header record (`acl` becomes
// x-amz-acl, `tagging` x-amz-tagging) and applies these rows to it; the rows with form names
// (key, policy, success_action_status...) are the fields that are no header. A field in neither
// is refused (NotImplemented), as an unknown form field cannot be told from a misspelt one.
import { ENCRYPTION } from './request-headers-encryption.js';
import {
  BODY_CHECKSUMS,
  OBJECT_ACL,
  OBJECT_GRANTS,
  OBJECT_LOCK,
  STORED_ATTRIBUTES,
  does,
  refused,
  type Rows,
} from './request-headers.js';

/** The form fields that are no header: what the handler reads itself. A function: see the versions' rows. */
export const postFormFields = (): Rows => ({
  key: does('the object key; ${filename} is replaced by the file\'s name (src/http/handlers/post-object.ts)'),
  file: does('the object\'s bytes, streamed through the chunk writer; fields after it are ignored, as S3 does'),
  policy: does('base64 JSON: expiration and conditions, checked before anything is stored (src/s3/post-policy.ts)'),
  'x-amz-algorithm': does('AWS4-HMAC-SHA256 (src/auth/post-signature.ts)'),
  'x-amz-credential': does('access key / day / region / s3 / aws4_request'),
  'x-amz-date': does('the signing time, of the credential\'s day'),
  'x-amz-signature': does('hex HMAC-SHA256 of the policy under the day\'s signing key'),
  AWSAccessKeyId: does('SigV2: the access key'),
  signature: does('SigV2: base64 HMAC-SHA1 of the policy'),
  'x-amz-security-token': does('accepted (a condition must cover it); cairn keys are long-lived and need no token'),
  bucket: does('must name the request\'s bucket (InvalidArgument otherwise)'),
  success_action_status: does('200 or 204 (empty), 201 (PostResponse XML); any other value 204, as S3'),
  success_action_redirect: does('303 to the URL with bucket, key and etag added; not an http(s) URL: ignored, as S3'),
  redirect: does('the older name of success_action_redirect'),
  'x-ignore-*': does('ignored, and exempt from the policy, as S3'),
});

export function postOperations(): Readonly<Record<string, Rows>> {
  return {
    PostObject: {
      ...postFormFields(),
      'Content-Type': does('the request\'s: multipart/form-data (412 otherwise); the field: the object\'s, as PutObject\'s header'),
      ...STORED_ATTRIBUTES,
      'x-amz-acl': OBJECT_ACL,
      ...OBJECT_GRANTS,
      // SSE fields are parsed by PutObject's own function (writeEncryption) in post-object.ts.
      ...ENCRYPTION,
      ...BODY_CHECKSUMS,
      'x-amz-checksum-algorithm': does('the checksum computed and stored (with no value: not checked)'),
      // Fields S3 does not document for POST, refused rather than ignored.
      'x-amz-object-lock-mode': refused('none', 'object lock fields in a form'),
      'x-amz-object-lock-retain-until-date': refused('none', 'object lock fields in a form'),
      'x-amz-object-lock-legal-hold': refused('none', 'object lock fields in a form'),
      ...Object.fromEntries(Object.keys(OBJECT_LOCK).filter((k) => k.includes('event-hold')).map((k) => [k, OBJECT_LOCK[k]!])),
    },
  };
}
