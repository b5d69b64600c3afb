import type { AppDeps, BucketHandler, ObjectHandler, ObjectTarget, S3Context } from './context.js';
import { S3Error } from '../s3/errors.js';
import type { Access } from '../auth/authorize.js';
import { listBuckets } from './handlers/service.js';
import { createBucket, deleteBucket, getBucketLocation, headBucket } from './handlers/bucket.js';
import { getBucketAcl, getObjectAcl, putBucketAcl, putObjectAcl } from './handlers/acl.js';
import {
  deleteBucketOwnershipControls,
  deleteBucketPolicy,
  getBucketOwnershipControls,
  getBucketPolicy,
  getBucketPolicyStatus,
  putBucketOwnershipControls,
  putBucketPolicy,
} from './handlers/policy.js';
import {
  getBucketVersioning,
  getObjectLegalHold,
  getObjectLockConfiguration,
  getObjectRetention,
  listObjectVersions,
  putBucketVersioning,
  putObjectLegalHold,
  putObjectLockConfiguration,
  putObjectRetention,
} from './handlers/versions.js';
import { deleteObject, getObject, headObject, putObject } from './handlers/object.js';
import { getObjectAttributes } from './handlers/object-attributes.js';
import { copyObject } from './handlers/copy.js';
import { postObject } from './handlers/post-object.js';
import { deleteBucketCors, getBucketCors, putBucketCors } from './handlers/cors.js';
import { deleteBucketLifecycle, getBucketLifecycle, putBucketLifecycle } from './handlers/lifecycle.js';
import { deleteBucketEncryption, getBucketEncryption, putBucketEncryption } from './handlers/encryption.js';
import { deleteObjects } from './handlers/delete.js';
import { deleteBucketTagging, deleteObjectTagging, getBucketTagging, getObjectTagging, putBucketTagging, putObjectTagging } from './handlers/tagging.js';
import { listObjects, listObjectsV2 } from './handlers/list.js';
import {
  abortMultipartUpload,
  completeMultipartUpload,
  createMultipartUpload,
  listMultipartUploads,
  listParts,
  uploadPart,
  uploadPartCopy,
} from './handlers/multipart.js';

// S3 tells operations apart by method, by whether a bucket and a key are present, and by
// sub-resource query parameters, not by path shape, so the S3 side resolves one operation
// from a table instead of path patterns (which would also mangle keys).

/** What resolveOperation looks at: the request line, already split into bucket and key (parseEndpoint). */
export interface RouteInput {
  method: string;
  bucket?: string;
  key?: string;
  query: URLSearchParams;
  /** The request carries x-amz-copy-source (CopyObject, UploadPartCopy). */
  copySource: boolean;
}

export interface Operation {
  name: string;
  /** The bucket and key the operation acts on (none for service operations). */
  target: { bucket?: string; key?: string };
  /** Runs the handler on the bucket and key the operation was resolved with. */
  run: (ctx: S3Context, deps: AppDeps) => Promise<void>;
  /** What an access key needs on the request's bucket (src/auth/authorize.ts); checked in app.ts. */
  access: Access;
}

const notImplemented = (name: string, access: Access, target: Operation['target']): Operation => ({
  name,
  target,
  access,
  run: async () => {
    throw new S3Error('NotImplemented', {}, `${name} is not implemented by cairn.`);
  },
});

/** Sub-resources S3 has that cairn does not implement: they answer NotImplemented. */
export const UNSUPPORTED = [
  'website', 'logging', 'notification', 'replication',
  'publicAccessBlock', 'accelerate',
  'requestPayment', 'analytics', 'metrics', 'inventory', 'intelligent-tiering',
  'torrent', 'restore', 'select', 'session',
];

/** Sub-resources of the other kind (an object's retention asked of a bucket...): refused the same way. */
const OBJECT_ONLY = ['retention', 'legal-hold', 'attributes'];
const BUCKET_ONLY = ['lifecycle', 'encryption', 'cors', 'versioning', 'versions', 'object-lock', 'policy', 'policyStatus', 'ownershipControls'];

const at = (r: RouteInput): Operation['target'] => (r.key === undefined ? { bucket: r.bucket } : { bucket: r.bucket, key: r.key });

/** The operation a request names, with its bucket and key bound to the handler (typed, never absent). */
export function resolveOperation(req: RouteInput): Operation {
  const { method, bucket, key } = req;
  if (bucket === undefined) {
    if (method === 'GET') return { name: 'ListBuckets', target: {}, run: (ctx, deps) => listBuckets(ctx, deps, {}), access: 'service' };
    throw new S3Error('MethodNotAllowed');
  }
  if (key === undefined) return bucketOperation(req, bucket);
  return objectOperation(req, { bucket, key });
}

function onBucket(bucket: string, name: string, handler: BucketHandler, access: Access): Operation {
  const target = { bucket };
  return { name, target, access, run: (ctx, deps) => handler(ctx, deps, target) };
}

function onObject(target: ObjectTarget, name: string, handler: ObjectHandler, access: Access): Operation {
  return { name, target, access, run: (ctx, deps) => handler(ctx, deps, target) };
}

/** An unimplemented sub-resource still needs a grant: reading it or changing it. */
function unsupportedOperation(req: RouteInput, kind: 'Bucket' | 'Object'): Operation | undefined {
  const unsupported = [...UNSUPPORTED, ...(kind === 'Bucket' ? OBJECT_ONLY : BUCKET_ONLY)].find((p) => req.query.has(p));
  if (!unsupported) return undefined;
  const access: Access = req.method === 'GET' || req.method === 'HEAD' ? 'read' : 'write';
  return notImplemented(kind === 'Bucket' ? `Bucket ${unsupported} configuration` : `Object ${unsupported}`, access, at(req));
}

function bucketOperation(req: RouteInput, bucket: string): Operation {
  const op = (name: string, handler: BucketHandler, access: Access) => onBucket(bucket, name, handler, access);
  const unsupported = unsupportedOperation(req, 'Bucket');
  if (unsupported) return unsupported;
  const has = (p: string) => req.query.has(p);
  switch (req.method) {
    case 'PUT':
      if (has('cors')) return op('PutBucketCors', putBucketCors, 'write');
      if (has('lifecycle')) return op('PutBucketLifecycleConfiguration', putBucketLifecycle, 'write');
      if (has('encryption')) return op('PutBucketEncryption', putBucketEncryption, 'write');
      if (has('acl')) return op('PutBucketAcl', putBucketAcl, 'write');
      if (has('policy')) return op('PutBucketPolicy', putBucketPolicy, 'write');
      if (has('ownershipControls')) return op('PutBucketOwnershipControls', putBucketOwnershipControls, 'write');
      if (has('versioning')) return op('PutBucketVersioning', putBucketVersioning, 'write');
      if (has('object-lock')) return op('PutObjectLockConfiguration', putObjectLockConfiguration, 'write');
      if (has('tagging')) return op('PutBucketTagging', putBucketTagging, 'write');
      return op('CreateBucket', createBucket, 'admin');
    case 'HEAD':
      return op('HeadBucket', headBucket, 'read');
    case 'DELETE':
      if (has('cors')) return op('DeleteBucketCors', deleteBucketCors, 'write');
      if (has('lifecycle')) return op('DeleteBucketLifecycle', deleteBucketLifecycle, 'write');
      if (has('encryption')) return op('DeleteBucketEncryption', deleteBucketEncryption, 'write');
      if (has('policy')) return op('DeleteBucketPolicy', deleteBucketPolicy, 'write');
      if (has('ownershipControls')) return op('DeleteBucketOwnershipControls', deleteBucketOwnershipControls, 'write');
      if (has('tagging')) return op('DeleteBucketTagging', deleteBucketTagging, 'write');
      return op('DeleteBucket', deleteBucket, 'admin');
    case 'POST':
      if (has('delete')) return op('DeleteObjects', deleteObjects, 'write');
      // A browser form upload: the key and the credentials are in the body (app.ts leaves its
      // authorization to the handler, which reads them first).
      return op('PostObject', postObject, 'write');
    case 'GET':
      if (has('location')) return op('GetBucketLocation', getBucketLocation, 'read');
      if (has('versioning')) return op('GetBucketVersioning', getBucketVersioning, 'read');
      if (has('versions')) return op('ListObjectVersions', listObjectVersions, 'read');
      if (has('object-lock')) return op('GetObjectLockConfiguration', getObjectLockConfiguration, 'read');
      if (has('acl')) return op('GetBucketAcl', getBucketAcl, 'read');
      if (has('policy')) return op('GetBucketPolicy', getBucketPolicy, 'read');
      if (has('policyStatus')) return op('GetBucketPolicyStatus', getBucketPolicyStatus, 'read');
      if (has('ownershipControls')) return op('GetBucketOwnershipControls', getBucketOwnershipControls, 'read');
      if (has('cors')) return op('GetBucketCors', getBucketCors, 'read');
      if (has('lifecycle')) return op('GetBucketLifecycleConfiguration', getBucketLifecycle, 'read');
      if (has('encryption')) return op('GetBucketEncryption', getBucketEncryption, 'read');
      if (has('tagging')) return op('GetBucketTagging', getBucketTagging, 'read');
      if (has('uploads')) return op('ListMultipartUploads', listMultipartUploads, 'read');
      if (req.query.get('list-type') === '2') return op('ListObjectsV2', listObjectsV2, 'read');
      return op('ListObjects', listObjects, 'read');
    default:
      throw new S3Error('MethodNotAllowed');
  }
}

function objectOperation(req: RouteInput, target: ObjectTarget): Operation {
  const op = (name: string, handler: ObjectHandler, access: Access) => onObject(target, name, handler, access);
  const has = (p: string) => req.query.has(p);
  const unsupported = unsupportedOperation(req, 'Object');
  if (unsupported) return unsupported;
  // ?attributes names an operation on GET only; with another method it is refused, never ignored.
  if (has('attributes') && req.method !== 'GET') return notImplemented('Object attributes', req.method === 'HEAD' ? 'read' : 'write', at(req));
  switch (req.method) {
    case 'PUT':
      if (has('acl')) return op('PutObjectAcl', putObjectAcl, 'write');
      if (has('retention')) return op('PutObjectRetention', putObjectRetention, 'write');
      if (has('legal-hold')) return op('PutObjectLegalHold', putObjectLegalHold, 'write');
      if (has('tagging')) return op('PutObjectTagging', putObjectTagging, 'write');
      if (has('uploadId') || has('partNumber')) return req.copySource ? op('UploadPartCopy', uploadPartCopy, 'write') : op('UploadPart', uploadPart, 'write');
      if (req.copySource) return op('CopyObject', copyObject, 'write');
      return op('PutObject', putObject, 'write');
    case 'GET':
      if (has('acl')) return op('GetObjectAcl', getObjectAcl, 'read');
      if (has('retention')) return op('GetObjectRetention', getObjectRetention, 'read');
      if (has('legal-hold')) return op('GetObjectLegalHold', getObjectLegalHold, 'read');
      if (has('attributes')) return op('GetObjectAttributes', getObjectAttributes, 'read');
      if (has('tagging')) return op('GetObjectTagging', getObjectTagging, 'read');
      if (has('uploadId')) return op('ListParts', listParts, 'read');
      return op('GetObject', getObject, 'read');
    case 'HEAD':
      return op('HeadObject', headObject, 'read');
    case 'DELETE':
      if (has('uploadId')) return op('AbortMultipartUpload', abortMultipartUpload, 'write');
      if (has('tagging')) return op('DeleteObjectTagging', deleteObjectTagging, 'write');
      return op('DeleteObject', deleteObject, 'write');
    case 'POST':
      if (has('uploads')) return op('CreateMultipartUpload', createMultipartUpload, 'write');
      if (has('uploadId')) return op('CompleteMultipartUpload', completeMultipartUpload, 'write');
      throw new S3Error('MethodNotAllowed');
    default:
      throw new S3Error('MethodNotAllowed');
  }
}

