import type { Handler, S3Context } from './context.js';
import { header } from './context.js';
import { S3Error } from '../s3/errors.js';
import { listBuckets } from './handlers/service.js';
import { createBucket, deleteBucket, getAcl, getBucketLocation, getBucketVersioning, headBucket } from './handlers/bucket.js';
import { deleteObject, getObject, headObject, putObject } from './handlers/object.js';
import { copyObject } from './handlers/copy.js';
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
}

const notImplemented = (name: string): Operation => ({
  name,
  handler: async () => {
    throw new S3Error('NotImplemented', {}, `${name} is not implemented by cairn.`);
  },
});

/** Sub-resources S3 has that cairn does not implement: they answer NotImplemented. */
const UNSUPPORTED = [
  'policy', 'cors', 'lifecycle', 'tagging', 'website', 'logging', 'notification', 'replication',
  'encryption', 'object-lock', 'ownershipControls', 'publicAccessBlock', 'versions', 'accelerate',
  'requestPayment', 'analytics', 'metrics', 'inventory', 'intelligent-tiering', 'retention',
  'legal-hold', 'torrent', 'restore', 'select', 'attributes', 'policyStatus', 'session',
];


export function resolveOperation(ctx: S3Context): Operation {
  const { bucket, key, query } = ctx.state;
  const method = ctx.method;
  const has = (p: string) => query.has(p);
  const unsupported = UNSUPPORTED.find(has);

  if (bucket === undefined) {
    if (method === 'GET') return { name: 'ListBuckets', handler: listBuckets };
    throw new S3Error('MethodNotAllowed');
  }

  if (key === undefined) {
    if (unsupported) return notImplemented(`Bucket ${unsupported} configuration`);
    switch (method) {
      case 'PUT':
        if (has('acl')) return notImplemented('PutBucketAcl');
        if (has('versioning')) return notImplemented('PutBucketVersioning');
        return { name: 'CreateBucket', handler: createBucket };
      case 'HEAD':
        return { name: 'HeadBucket', handler: headBucket, publicRead: true };
      case 'DELETE':
        return { name: 'DeleteBucket', handler: deleteBucket };
      case 'POST':
        if (has('delete')) return { name: 'DeleteObjects', handler: deleteObjects };
        throw new S3Error('MethodNotAllowed');
      case 'GET':
        if (has('location')) return { name: 'GetBucketLocation', handler: getBucketLocation, publicRead: true };
        if (has('versioning')) return { name: 'GetBucketVersioning', handler: getBucketVersioning };
        if (has('acl')) return { name: 'GetBucketAcl', handler: getAcl };
        if (has('uploads')) return { name: 'ListMultipartUploads', handler: listMultipartUploads };
        if (query.get('list-type') === '2') return { name: 'ListObjectsV2', handler: listObjectsV2, publicRead: true };
        return { name: 'ListObjects', handler: listObjects, publicRead: true };
      default:
        throw new S3Error('MethodNotAllowed');
    }
  }

  if (unsupported) return notImplemented(`Object ${unsupported}`);
  switch (method) {
    case 'PUT':
      if (has('acl')) return notImplemented('PutObjectAcl');
      if (has('uploadId') || has('partNumber')) {
        return header(ctx, 'x-amz-copy-source') !== undefined ? { name: 'UploadPartCopy', handler: uploadPartCopy } : { name: 'UploadPart', handler: uploadPart };
      }
      if (header(ctx, 'x-amz-copy-source') !== undefined) return { name: 'CopyObject', handler: copyObject };
      return { name: 'PutObject', handler: putObject };
    case 'GET':
      if (has('acl')) return { name: 'GetObjectAcl', handler: getAcl };
      if (has('uploadId')) return { name: 'ListParts', handler: listParts };
      return { name: 'GetObject', handler: getObject, publicRead: true };
    case 'HEAD':
      return { name: 'HeadObject', handler: headObject, publicRead: true };
    case 'DELETE':
      if (has('uploadId')) return { name: 'AbortMultipartUpload', handler: abortMultipartUpload };
      return { name: 'DeleteObject', handler: deleteObject };
    case 'POST':
      if (has('uploads')) return { name: 'CreateMultipartUpload', handler: createMultipartUpload };
      if (has('uploadId')) return { name: 'CompleteMultipartUpload', handler: completeMultipartUpload };
      throw new S3Error('MethodNotAllowed');
    default:
      throw new S3Error('MethodNotAllowed');
  }
}
