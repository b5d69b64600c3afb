import type { Handler, S3Context } from './context.js';
import { header } from './context.js';
import { S3Error } from '../s3/errors.js';
import type { Access } from '../auth/authorize.js';
import { listBuckets } from './handlers/service.js';
import { createBucket, deleteBucket, getAcl, getBucketLocation, getBucketVersioning, headBucket } from './handlers/bucket.js';
import { deleteObject, getObject, headObject, putObject } from './handlers/object.js';
import { copyObject } from './handlers/copy.js';
import { deleteBucketCors, getBucketCors, putBucketCors } from './handlers/cors.js';
import { deleteObjects } from './handlers/delete.js';
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

export interface Operation {
  name: string;
  handler: Handler;
  /** Allowed without credentials on a bucket made public-read on purpose. */
  publicRead?: boolean;
  /** What an access key needs on the request's bucket (src/auth/authorize.ts); checked in app.ts. */
  access: Access;
}

const notImplemented = (name: string, access: Access): Operation => ({
  name,
  access,
  handler: async () => {
    throw new S3Error('NotImplemented', {}, `${name} is not implemented by cairn.`);
  },
});

/** Sub-resources S3 has that cairn does not implement: they answer NotImplemented. */
const UNSUPPORTED = [
  'policy', 'lifecycle', 'tagging', 'website', 'logging', 'notification', 'replication',
  'encryption', 'object-lock', 'ownershipControls', 'publicAccessBlock', 'versions', 'accelerate',
  'requestPayment', 'analytics', 'metrics', 'inventory', 'intelligent-tiering', 'retention',
  'legal-hold', 'torrent', 'restore', 'select', 'attributes', 'policyStatus', 'session',
];


export function resolveOperation(ctx: S3Context): Operation {
  const { bucket, key, query } = ctx.state;
  const method = ctx.method;
  const has = (p: string) => query.has(p);
  const unsupported = UNSUPPORTED.find(has);
  // An unimplemented sub-resource still needs a grant: reading it or changing it.
  const unsupportedAccess: Access = method === 'GET' || method === 'HEAD' ? 'read' : 'write';

  if (bucket === undefined) {
    if (method === 'GET') return { name: 'ListBuckets', handler: listBuckets, access: 'service' };
    throw new S3Error('MethodNotAllowed');
  }

  if (key === undefined) {
    if (unsupported) return notImplemented(`Bucket ${unsupported} configuration`, unsupportedAccess);
    switch (method) {
      case 'PUT':
        if (has('cors')) return { name: 'PutBucketCors', handler: putBucketCors, access: 'write' };
        if (has('acl')) return notImplemented('PutBucketAcl', 'write');
        if (has('versioning')) return notImplemented('PutBucketVersioning', 'write');
        return { name: 'CreateBucket', handler: createBucket, access: 'admin' };
      case 'HEAD':
        return { name: 'HeadBucket', handler: headBucket, publicRead: true, access: 'read' };
      case 'DELETE':
        if (has('cors')) return { name: 'DeleteBucketCors', handler: deleteBucketCors, access: 'write' };
        return { name: 'DeleteBucket', handler: deleteBucket, access: 'admin' };
      case 'POST':
        if (has('delete')) return { name: 'DeleteObjects', handler: deleteObjects, access: 'write' };
        throw new S3Error('MethodNotAllowed');
      case 'GET':
        if (has('location')) return { name: 'GetBucketLocation', handler: getBucketLocation, publicRead: true, access: 'read' };
        if (has('versioning')) return { name: 'GetBucketVersioning', handler: getBucketVersioning, access: 'read' };
        if (has('acl')) return { name: 'GetBucketAcl', handler: getAcl, access: 'read' };
        if (has('cors')) return { name: 'GetBucketCors', handler: getBucketCors, access: 'read' };
        if (has('uploads')) return { name: 'ListMultipartUploads', handler: listMultipartUploads, access: 'read' };
        if (query.get('list-type') === '2') return { name: 'ListObjectsV2', handler: listObjectsV2, publicRead: true, access: 'read' };
        return { name: 'ListObjects', handler: listObjects, publicRead: true, access: 'read' };
      default:
        throw new S3Error('MethodNotAllowed');
    }
  }

  if (unsupported) return notImplemented(`Object ${unsupported}`, unsupportedAccess);
  // CORS is a bucket sub-resource only.
  if (has('cors')) return notImplemented('Object cors', unsupportedAccess);
  switch (method) {
    case 'PUT':
      if (has('acl')) return notImplemented('PutObjectAcl', 'write');
      if (has('uploadId') || has('partNumber')) {
        return header(ctx, 'x-amz-copy-source') !== undefined ? { name: 'UploadPartCopy', handler: uploadPartCopy, access: 'write' } : { name: 'UploadPart', handler: uploadPart, access: 'write' };
      }
      if (header(ctx, 'x-amz-copy-source') !== undefined) return { name: 'CopyObject', handler: copyObject, access: 'write' };
      return { name: 'PutObject', handler: putObject, access: 'write' };
    case 'GET':
      if (has('acl')) return { name: 'GetObjectAcl', handler: getAcl, access: 'read' };
      if (has('uploadId')) return { name: 'ListParts', handler: listParts, access: 'read' };
      return { name: 'GetObject', handler: getObject, publicRead: true, access: 'read' };
    case 'HEAD':
      return { name: 'HeadObject', handler: headObject, publicRead: true, access: 'read' };
    case 'DELETE':
      if (has('uploadId')) return { name: 'AbortMultipartUpload', handler: abortMultipartUpload, access: 'write' };
      return { name: 'DeleteObject', handler: deleteObject, access: 'write' };
    case 'POST':
      if (has('uploads')) return { name: 'CreateMultipartUpload', handler: createMultipartUpload, access: 'write' };
      if (has('uploadId')) return { name: 'CompleteMultipartUpload', handler: completeMultipartUpload, access: 'write' };
      throw new S3Error('MethodNotAllowed');
    default:
      throw new S3Error('MethodNotAllowed');
  }
}
