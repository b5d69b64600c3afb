// The one table of what cairn does with every request header and query parameter S3 documents
// for the operations it serves (AWS's API reference, as the SDK models carry it). A row is
// implemented (and says how), or refused: "never accept and ignore",
// so a client never believes it got a lock, an ACL, tags or encryption that it did not get.
// Undocumented x-amz-* headers (SDKs add their own) are not refused. Applied by
// src/s3/refuse-unimplemented.ts; docs/s3-compatibility.md points here.
import type { S3ErrorCode } from './errors.js';
import { versionOperations } from './request-headers-versions.js';
import { postOperations } from './request-headers-post.js';
import { taggingLifecycleOperations } from './request-headers-tagging.js';
import { COPY_SOURCE_SSE_C, ENCRYPTION, NO_SSE_ON_READ, SSE_C } from './request-headers-encryption.js';

/** The issue that will lift a refusal; 'none' when no issue plans it. */
export type Lift = '#19' | '#20' | '#21' | 'none';

export type Rule =
  | { status: 'implemented'; does: string; gap?: string }
  /** Answered NotImplemented whatever its value. */
  | { status: 'refused'; lift: Lift; why: string }
  /** Accepted values say why; `refuse` values answer NotImplemented; any other value is S3's `unknown` error. */
  | { status: 'by-value'; accept: Record<string, string>; refuse: readonly string[]; lift: Lift; why: string; unknown: S3ErrorCode };

/**
 * Header names as S3 documents them; query parameters start with '?'; 'x-amz-meta-*' is a family;
 * 'x-amz-copy-source versionId' is the version inside that header.
 */
export type Rows = Readonly<Record<string, Rule>>;

export const does = (how: string, gap?: string): Rule => (gap ? { status: 'implemented', does: how, gap } : { status: 'implemented', does: how });
export const refused = (lift: Lift, why: string): Rule => ({ status: 'refused', lift, why });

export const selects = does('names the operation (src/http/router.ts)');
export const EXPECTED_OWNER: Rows = { 'x-amz-expected-bucket-owner': does('AccessDenied unless the bucket belongs to this canonical account id (src/auth/access.ts)') };
const REQUEST_PAYER: Rows = { 'x-amz-request-payer': refused('none', 'no Requester Pays: cairn bills no one') };
export const OWNER_AND_PAYER: Rows = { ...EXPECTED_OWNER, ...REQUEST_PAYER };

const grant = (what: string) => does(`grants ${what} (id=, uri= AllUsers/AuthenticatedUsers, emailAddress=; src/s3/acl.ts); not with x-amz-acl`);
export const OBJECT_GRANTS: Rows = {
  'x-amz-grant-full-control': grant('every permission on the object'),
  'x-amz-grant-read': grant('reading the object'),
  'x-amz-grant-read-acp': grant('reading its ACL'),
  'x-amz-grant-write-acp': grant('changing its ACL'),
};
const BUCKET_GRANTS: Rows = {
  'x-amz-grant-full-control': grant('every permission on the bucket'),
  'x-amz-grant-read': grant('listing the bucket'),
  'x-amz-grant-read-acp': grant('reading its ACL'),
  'x-amz-grant-write': grant('writing and deleting objects in it'),
  'x-amz-grant-write-acp': grant('changing its ACL'),
};

// Canned ACLs (S3's list); a value outside it is S3's 400 InvalidArgument. With BucketOwnerEnforced
// ownership every value but private and bucket-owner-full-control is AccessControlListNotSupported.
const CANNED: Record<string, string> = {
  private: 'the owner alone (FULL_CONTROL)',
  'public-read': 'and everyone may read',
  'public-read-write': 'and everyone may read and write (a bucket)',
  'authenticated-read': 'and every signed request may read',
  'bucket-owner-read': 'and the bucket owner may read (an object)',
  'bucket-owner-full-control': 'and the bucket owner has FULL_CONTROL (an object; hands it over under BucketOwnerPreferred)',
  'log-delivery-write': 'and the LogDelivery group may write (a bucket; cairn delivers no logs)',
};
export const OBJECT_ACL: Rule = {
  status: 'by-value',
  accept: CANNED,
  refuse: ['aws-exec-read'],
  lift: 'none',
  why: 'aws-exec-read: there is no EC2 to read',
  unknown: 'InvalidArgument',
};
const BUCKET_ACL: Rule = OBJECT_ACL;

export const OBJECT_LOCK: Rows = {
  'x-amz-object-lock-mode': does('retention mode of the new version (src/http/versioning.ts); needs the bucket\'s object lock and a body digest'),
  'x-amz-object-lock-retain-until-date': does('retain-until date of the new version, with the mode'),
  'x-amz-object-lock-legal-hold': does('legal hold (ON/OFF) of the new version'),
  'x-amz-object-lock-event-hold': refused('none', 'event holds: a lock kind cairn does not model'),
  'x-amz-object-lock-event-hold-duration-days': refused('none', 'event holds: a lock kind cairn does not model'),
  'x-amz-object-lock-event-hold-duration-years': refused('none', 'event holds: a lock kind cairn does not model'),
};

export const STORED_ATTRIBUTES: Rows = {
  'Cache-Control': does('stored and returned (src/http/attributes.ts)'),
  'Content-Disposition': does('stored and returned'),
  'Content-Encoding': does('stored and returned; aws-chunked is decoded and removed (src/http/body.ts)'),
  'Content-Language': does('stored and returned'),
  'Content-Type': does('stored and returned (binary/octet-stream when absent)'),
  Expires: does('stored and returned'),
  'x-amz-meta-*': does('user metadata, stored and returned; 2 KB at most (MetadataTooLarge)'),
  'x-amz-storage-class': does('validated (InvalidStorageClass), recorded and returned; every class lives on the same disks'),
  'x-amz-website-redirect-location': refused('none', 'no static website hosting'),
  'x-amz-tagging': does('the new version\'s tags, URL-encoded k=v&k2=v2 (src/s3/tagging.ts): InvalidArgument, InvalidTag or BadRequest as S3'),
};

/** The checksum of a request body (src/http/body.ts, src/s3/checksums.ts). */
export const BODY_CHECKSUMS: Rows = {
  'Content-MD5': does('verified against the body (BadDigest)'),
  'x-amz-sdk-checksum-algorithm': does('the algorithm of the checksum header or trailer; must agree with it'),
  'x-amz-checksum-crc32': does('verified against the body (BadDigest)'),
  'x-amz-checksum-crc32c': does('verified against the body (BadDigest)'),
  'x-amz-checksum-crc64nvme': does('verified against the body (BadDigest)'),
  'x-amz-checksum-sha1': does('verified against the body (BadDigest)'),
  'x-amz-checksum-sha256': does('verified against the body (BadDigest)'),
  'x-amz-checksum-sha512': refused('none', 'an algorithm cairn does not compute'),
  'x-amz-checksum-md5': refused('none', 'an algorithm cairn does not compute'),
  'x-amz-checksum-xxhash64': refused('none', 'an algorithm cairn does not compute'),
  'x-amz-checksum-xxhash3': refused('none', 'an algorithm cairn does not compute'),
  'x-amz-checksum-xxhash128': refused('none', 'an algorithm cairn does not compute'),
};

const READ_CONDITIONS: Rows = {
  'If-Match': does('412 PreconditionFailed unless the ETag matches (src/s3/conditional.ts)'),
  'If-None-Match': does('304 NotModified when the ETag matches'),
  'If-Modified-Since': does('304 NotModified when not modified since'),
  'If-Unmodified-Since': does('412 PreconditionFailed when modified since'),
};
const COPY_CONDITIONS: Rows = {
  'x-amz-copy-source': does('the source bucket and key (src/s3/endpoint.ts parseCopySource)'),
  'x-amz-copy-source versionId': does('the source version (NoSuchVersion; a delete marker is InvalidRequest)'),
  'x-amz-copy-source-if-match': does('412 PreconditionFailed unless the source ETag matches'),
  'x-amz-copy-source-if-none-match': does('412 PreconditionFailed when the source ETag matches'),
  'x-amz-copy-source-if-modified-since': does('412 PreconditionFailed when the source is not modified since'),
  'x-amz-copy-source-if-unmodified-since': does('412 PreconditionFailed when the source is modified since'),
  'x-amz-source-expected-bucket-owner': does('AccessDenied unless the source bucket belongs to this canonical account id'),
};
export const VERSION_ID: Rows = { '?versionId': does('the version the operation acts on (InvalidArgument when malformed, NoSuchVersion when absent)') };
const LIST_PAGING = (marker: string): Rows => ({
  '?prefix': does('only keys that start with it'),
  '?delimiter': does('groups keys into CommonPrefixes; empty means none'),
  '?encoding-type': does('url: keys and prefixes percent-encoded in the answer; other values InvalidArgument'),
  [marker]: does('where the page starts'),
});

/**
 * Every operation resolveOperation (src/http/router.ts) can name, with the headers and query
 * parameters S3 documents for it. A new operation needs its rows here (test/unit/request-headers.test.ts).
 */
export const OPERATIONS: Readonly<Record<string, Rows>> = {
  ...versionOperations(),
  ...postOperations(),
  ...taggingLifecycleOperations(),
  ListBuckets: {
    '?max-buckets': does('page size, 1 to 10000 (InvalidArgument otherwise)'),
    '?continuation-token': does('where the page starts (the ContinuationToken of the page before)'),
    '?prefix': does('only bucket names that start with it'),
    '?bucket-region': refused('none', 'ListBuckets filtering'),
  },
  CreateBucket: {
    'x-amz-acl': BUCKET_ACL,
    ...BUCKET_GRANTS,
    'x-amz-object-ownership': does('BucketOwnerEnforced, BucketOwnerPreferred or ObjectWriter (the default: docs/policies.md)'),
    'x-amz-bucket-object-lock-enabled': does('true: object lock on, versioning Enabled for good'),
    'x-amz-bucket-namespace': refused('none', 'bucket namespaces: one namespace per server'),
  },
  HeadBucket: { ...EXPECTED_OWNER },
  DeleteBucket: { ...EXPECTED_OWNER },
  GetBucketLocation: { '?location': selects, ...EXPECTED_OWNER },
  GetBucketVersioning: { '?versioning': selects, ...EXPECTED_OWNER },
  GetBucketAcl: { '?acl': selects, ...EXPECTED_OWNER },
  PutBucketAcl: { '?acl': selects, 'x-amz-acl': BUCKET_ACL, ...BUCKET_GRANTS, ...BODY_CHECKSUMS, ...EXPECTED_OWNER },
  PutObjectAcl: { '?acl': selects, ...VERSION_ID, 'x-amz-acl': OBJECT_ACL, ...OBJECT_GRANTS, 'x-amz-grant-write': grant('nothing on an object (S3 accepts it)'), ...BODY_CHECKSUMS, ...OWNER_AND_PAYER },
  GetBucketPolicy: { '?policy': selects, ...EXPECTED_OWNER },
  PutBucketPolicy: {
    '?policy': selects,
    ...BODY_CHECKSUMS,
    'x-amz-confirm-remove-self-bucket-access': refused('none', 'the owner\'s administrator keys can always change the bucket policy, so there is no lock-out to confirm'),
    ...EXPECTED_OWNER,
  },
  DeleteBucketPolicy: { '?policy': selects, ...EXPECTED_OWNER },
  GetBucketPolicyStatus: { '?policyStatus': selects, ...EXPECTED_OWNER },
  GetBucketOwnershipControls: { '?ownershipControls': selects, ...EXPECTED_OWNER },
  PutBucketOwnershipControls: { '?ownershipControls': selects, ...BODY_CHECKSUMS, ...EXPECTED_OWNER },
  DeleteBucketOwnershipControls: { '?ownershipControls': selects, ...EXPECTED_OWNER },
  GetObjectAcl: { '?acl': selects, ...VERSION_ID, ...OWNER_AND_PAYER },
  PutBucketCors: { '?cors': selects, ...BODY_CHECKSUMS, ...EXPECTED_OWNER },
  GetBucketCors: { '?cors': selects, ...EXPECTED_OWNER },
  DeleteBucketCors: { '?cors': selects, ...EXPECTED_OWNER },
  PutBucketEncryption: { '?encryption': selects, ...BODY_CHECKSUMS, ...EXPECTED_OWNER },
  GetBucketEncryption: { '?encryption': selects, ...EXPECTED_OWNER },
  DeleteBucketEncryption: { '?encryption': selects, ...EXPECTED_OWNER },
  DeleteObjects: {
    '?delete': selects,
    ...BODY_CHECKSUMS,
    'x-amz-mfa': refused('none', 'MFA delete: cairn has no MFA devices'),
    'x-amz-bypass-governance-retention': does('removes GOVERNANCE-locked versions: the root key or a bypass grant, else AccessDenied'),
    ...OWNER_AND_PAYER,
  },
  ListObjects: {
    ...LIST_PAGING('?marker'),
    '?encoding-type': does('url: Key, Marker, NextMarker, Delimiter and CommonPrefixes percent-encoded, not the top-level Prefix (what botocore decodes); other values InvalidArgument'),
    '?max-keys': does('page size, 1000 at most'),
    ...OWNER_AND_PAYER,
    'x-amz-optional-object-attributes': refused('none', 'RestoreStatus: cairn archives and restores nothing'),
  },
  ListObjectsV2: {
    '?list-type': does('2 selects ListObjectsV2'),
    ...LIST_PAGING('?continuation-token'),
    '?start-after': does('where the first page starts'),
    '?max-keys': does('page size, 1000 at most'),
    '?fetch-owner': does('true: each entry carries its Owner'),
    ...OWNER_AND_PAYER,
    'x-amz-optional-object-attributes': refused('none', 'RestoreStatus: cairn archives and restores nothing'),
  },
  ListMultipartUploads: {
    '?uploads': selects,
    ...LIST_PAGING('?key-marker'),
    '?upload-id-marker': does('with key-marker: where the page starts'),
    '?max-uploads': does('page size, 1000 at most'),
    ...OWNER_AND_PAYER,
  },
  PutObject: {
    'Content-Length': does('the body length; required unless aws-chunked or HTTP chunked'),
    ...BODY_CHECKSUMS,
    ...STORED_ATTRIBUTES,
    'x-amz-acl': OBJECT_ACL,
    ...OBJECT_GRANTS,
    ...ENCRYPTION,
    'If-Match': does('412 unless the current ETag matches (404 when none), checked again at commit (409)'),
    'If-None-Match': does('* only: 412 when a current version exists, checked again at commit (409); other values NotImplemented'),
    'If-Modified-Since': refused('none', 'S3 takes no date conditions on writes'),
    'If-Unmodified-Since': refused('none', 'S3 takes no date conditions on writes'),
    ...OBJECT_LOCK,
    'x-amz-write-offset-bytes': refused('none', 'appends (directory buckets)'),
    ...OWNER_AND_PAYER,
  },
  CopyObject: {
    ...COPY_CONDITIONS,
    'x-amz-metadata-directive': does('COPY keeps the source attributes, REPLACE takes them from the request; others InvalidArgument'),
    ...STORED_ATTRIBUTES,
    'x-amz-tagging-directive': does('COPY (default): the source version\'s tags; REPLACE: x-amz-tagging\'s, or none; others InvalidArgument'),
    'x-amz-tagging': does('with the REPLACE tagging directive: the copy\'s tags; with COPY it is not used, as on S3'),
    'x-amz-object-annotation-directive': refused('none', 'object annotations'),
    'x-amz-checksum-algorithm': refused('none', 'the copy keeps the source checksum; another would mean reading the bytes'),
    'x-amz-acl': OBJECT_ACL,
    ...OBJECT_GRANTS,
    ...ENCRYPTION,
    ...COPY_SOURCE_SSE_C,
    'If-Match': does('412 unless the current ETag matches (404 when none), checked again at commit (409)'),
    'If-None-Match': does('* only: 412 when a current version exists, checked again at commit (409); other values NotImplemented'),
    ...OBJECT_LOCK,
    ...OWNER_AND_PAYER,
  },
  GetObject: {
    ...READ_CONDITIONS,
    Range: does('one byte range, 206 (src/s3/range.ts); a multi-range or unparsable one gives the whole object, as in S3'),
    '?partNumber': does('the bytes of that part (a plain object has one)'),
    '?response-cache-control': does('overrides the answer header (not for anonymous requests)'),
    '?response-content-disposition': does('overrides the answer header (not for anonymous requests)'),
    '?response-content-encoding': does('overrides the answer header (not for anonymous requests)'),
    '?response-content-language': does('overrides the answer header (not for anonymous requests)'),
    '?response-content-type': does('overrides the answer header (not for anonymous requests)'),
    '?response-expires': does('overrides the answer header (not for anonymous requests)'),
    'x-amz-checksum-mode': does('ENABLED: the whole-object checksum on a 200; with ?partNumber, the part\'s checksum (COMPOSITE objects)'),
    ...VERSION_ID,
    ...SSE_C,
    ...NO_SSE_ON_READ,
    ...OWNER_AND_PAYER,
  },
  HeadObject: {
    ...READ_CONDITIONS,
    Range: does('one byte range, 206 (src/s3/range.ts)'),
    '?partNumber': does('the size of that part'),
    '?response-cache-control': does('overrides the answer header'),
    '?response-content-disposition': does('overrides the answer header'),
    '?response-content-encoding': does('overrides the answer header'),
    '?response-content-language': does('overrides the answer header'),
    '?response-content-type': does('overrides the answer header'),
    '?response-expires': does('overrides the answer header'),
    'x-amz-checksum-mode': does('ENABLED: the whole-object checksum on a 200; with ?partNumber, the part\'s checksum (COMPOSITE objects)'),
    ...VERSION_ID,
    ...SSE_C,
    ...NO_SSE_ON_READ,
    ...OWNER_AND_PAYER,
  },
  GetObjectAttributes: {
    '?attributes': selects,
    'x-amz-object-attributes': does('ETag, Checksum, ObjectParts, StorageClass, ObjectSize (src/s3/object-attributes.ts); missing: InvalidRequest, unknown: InvalidArgument'),
    'x-amz-max-parts': does('ObjectParts page size, 1000 at most (InvalidArgument when not an integer)'),
    'x-amz-part-number-marker': does('ObjectParts start after this part (InvalidArgument when not an integer)'),
    ...VERSION_ID,
    ...SSE_C,
    ...OWNER_AND_PAYER,
  },
  DeleteObject: {
    ...VERSION_ID,
    'x-amz-mfa': refused('none', 'MFA delete: cairn has no MFA devices'),
    'x-amz-bypass-governance-retention': does('removes GOVERNANCE-locked versions: the root key or a bypass grant, else AccessDenied'),
    'If-Match': refused('none', 'conditional deletes'),
    'x-amz-if-match-last-modified-time': refused('none', 'conditional deletes'),
    'x-amz-if-match-size': refused('none', 'conditional deletes'),
    ...OWNER_AND_PAYER,
  },
  CreateMultipartUpload: {
    '?uploads': selects,
    'x-amz-checksum-algorithm': does('the parts\' checksum algorithm, echoed'),
    'x-amz-checksum-type': does('COMPOSITE or FULL_OBJECT (src/s3/multipart-checksums.ts)'),
    ...STORED_ATTRIBUTES,
    'x-amz-acl': OBJECT_ACL,
    ...OBJECT_GRANTS,
    ...ENCRYPTION,
    ...OBJECT_LOCK,
    ...OWNER_AND_PAYER,
  },
  UploadPart: {
    '?partNumber': does('1..10000'),
    '?uploadId': does('the upload (NoSuchUpload)'),
    'Content-Length': does('the part length; required unless aws-chunked or HTTP chunked'),
    ...BODY_CHECKSUMS,
    ...SSE_C,
    ...OWNER_AND_PAYER,
  },
  UploadPartCopy: {
    '?partNumber': does('1..10000'),
    '?uploadId': does('the upload (NoSuchUpload)'),
    ...COPY_CONDITIONS,
    'x-amz-copy-source-range': does('bytes=first-last of the source; InvalidRange outside it'),
    ...SSE_C,
    ...COPY_SOURCE_SSE_C,
    ...OWNER_AND_PAYER,
  },
  CompleteMultipartUpload: {
    '?uploadId': does('the upload (NoSuchUpload)'),
    'Content-MD5': does('verified against the XML body'),
    'x-amz-checksum-crc32': does('the whole object\'s checksum, compared with the combined parts (BadDigest)'),
    'x-amz-checksum-crc32c': does('the whole object\'s checksum, compared with the combined parts (BadDigest)'),
    'x-amz-checksum-crc64nvme': does('the whole object\'s checksum, compared with the combined parts (BadDigest)'),
    'x-amz-checksum-sha1': does('the whole object\'s checksum, compared with the composite, "<base64>-<N>" or without -N (BadDigest; another algorithm InvalidRequest)'),
    'x-amz-checksum-sha256': does('the whole object\'s checksum, compared with the composite, "<base64>-<N>" or without -N (BadDigest; another algorithm InvalidRequest)'),
    'x-amz-checksum-sha512': refused('none', 'an algorithm cairn does not compute'),
    'x-amz-checksum-md5': refused('none', 'an algorithm cairn does not compute'),
    'x-amz-checksum-xxhash64': refused('none', 'an algorithm cairn does not compute'),
    'x-amz-checksum-xxhash3': refused('none', 'an algorithm cairn does not compute'),
    'x-amz-checksum-xxhash128': refused('none', 'an algorithm cairn does not compute'),
    'x-amz-checksum-type': does('must be the type chosen at CreateMultipartUpload (BadDigest otherwise; lib-storage repeats it)'),
    'x-amz-mp-object-size': refused('none', 'the expected total size is not checked'),
    'If-Match': does('412 unless the current ETag matches (404 when none), checked again at commit (409)'),
    'If-None-Match': does('* only: 412 when a current version exists, checked again at commit (409)'),
    ...SSE_C,
    ...OWNER_AND_PAYER,
  },
  AbortMultipartUpload: {
    '?uploadId': does('the upload (NoSuchUpload)'),
    'x-amz-if-match-initiated-time': refused('none', 'conditional aborts'),
    ...OWNER_AND_PAYER,
  },
  ListParts: {
    '?uploadId': does('the upload (NoSuchUpload)'),
    '?part-number-marker': does('where the page starts'),
    '?max-parts': does('page size, 1000 at most'),
    ...SSE_C,
    ...OWNER_AND_PAYER,
  },
  // OPTIONS answers before authentication (src/app.ts), from the bucket's CORS rules alone.
  CorsPreflight: {
    Origin: does('matched against the bucket\'s CORS rules (src/http/handlers/cors.ts)'),
    'Access-Control-Request-Method': does('matched against the rules'),
    'Access-Control-Request-Headers': does('matched against the rules'),
  },
};

/** Operations the router refuses whole (NotImplemented whatever the request carries). */
export const REFUSED_OPERATIONS: Readonly<Record<string, Lift>> = {
  'Object cors': 'none',
};

/** The names router.ts gives its UNSUPPORTED sub-resources (NotImplemented). */
export const UNSUPPORTED_SUBRESOURCE_NAME = /^(Bucket \S+ configuration|Object \S+)$/;

/** On every request, whatever the operation. */
export const COMMON: Rows = {
  Authorization: does('SigV4 or SigV2 (src/auth/authenticate.ts)'),
  Host: does('required on HTTP/1.1; a virtual-host bucket (src/s3/endpoint.ts)'),
  Date: does('the signing time when x-amz-date is absent'),
  'x-amz-date': does('the signing time; 15 minutes of skew at most'),
  'x-amz-content-sha256': does('the payload hash (verified) or mode: UNSIGNED-PAYLOAD, STREAMING-*'),
  'x-amz-security-token': does('signed like any x-amz-* header; cairn keys are long-lived and need no token'),
  'Content-Length': does('the body length'),
  'Transfer-Encoding': does('chunked is decoded; any other coding is refused NotImplemented (src/app.ts)'),
  'Content-Encoding': does('aws-chunked is decoded (src/auth/aws-chunked.ts)'),
  'x-amz-decoded-content-length': does('the payload length inside aws-chunked'),
  'x-amz-trailer': does('the checksum trailer of an aws-chunked body'),
  Expect: does('100-continue: written when the handler first reads the body (src/http/listener.ts); other values ignored, as S3 does'),
  'User-Agent': does('changes nothing'),
  'x-amz-user-agent': does('SDK information; changes nothing'),
  'amz-sdk-invocation-id': does('SDK information; changes nothing'),
  'amz-sdk-request': does('SDK information; changes nothing'),
  Origin: does('CORS headers on the answer when a rule matches'),
  '?x-id': does('the SDK\'s operation name; ignored, as S3 does'),
  '?X-Amz-Signature': does('presigned SigV4 (with X-Amz-Algorithm, -Credential, -Date, -Expires, -SignedHeaders); other x-amz-* parameters count as headers'),
  '?Signature': does('presigned SigV2 (with AWSAccessKeyId, Expires)'),
};

/** Whether the table says something about an operation name the router gives. */
export function isCovered(operation: string): boolean {
  return operation in OPERATIONS || operation in REFUSED_OPERATIONS || UNSUPPORTED_SUBRESOURCE_NAME.test(operation);
}
