import { describe, expect, it } from 'vitest';
import { resolveOperation } from '../../src/http/router.js';
import { parseEndpoint } from '../../src/s3/endpoint.js';

// The router's table: method x path x query (x x-amz-copy-source) -> operation, its target and
// what it needs. Paths and queries are those of the S3 API reference's examples, path style and
// virtual-hosted style (domain s3.example.test).

const DOMAIN = 's3.example.test';

function route(method: string, url: string, opts: { host?: string; copySource?: boolean } = {}) {
  const q = url.indexOf('?');
  const rawPath = q === -1 ? url : url.slice(0, q);
  const query = new URLSearchParams(q === -1 ? '' : url.slice(q + 1));
  const { bucket, key } = parseEndpoint(rawPath, opts.host ?? DOMAIN, DOMAIN);
  const op = resolveOperation({ method, bucket, key, query, copySource: opts.copySource ?? false });
  return { name: op.name, target: op.target, access: op.access };
}

type Row = [method: string, url: string, name: string, target: { bucket?: string; key?: string }, access: string, extra?: { host?: string; copySource?: boolean }];

const vhost = 'amzn-s3-demo-bucket.s3.example.test';
const UPLOAD = 'VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA';

const TABLE: Row[] = [
  // Service
  ['GET', '/', 'ListBuckets', {}, 'service'],
  ['GET', '/?x-id=ListBuckets', 'ListBuckets', {}, 'service'],
  // Buckets, path style
  ['PUT', '/amzn-s3-demo-bucket', 'CreateBucket', { bucket: 'amzn-s3-demo-bucket' }, 'admin'],
  ['PUT', '/amzn-s3-demo-bucket/', 'CreateBucket', { bucket: 'amzn-s3-demo-bucket' }, 'admin'],
  ['HEAD', '/amzn-s3-demo-bucket', 'HeadBucket', { bucket: 'amzn-s3-demo-bucket' }, 'read'],
  ['DELETE', '/amzn-s3-demo-bucket', 'DeleteBucket', { bucket: 'amzn-s3-demo-bucket' }, 'admin'],
  ['GET', '/amzn-s3-demo-bucket?list-type=2&prefix=photos/2006/&delimiter=/', 'ListObjectsV2', { bucket: 'amzn-s3-demo-bucket' }, 'read'],
  ['GET', '/amzn-s3-demo-bucket?prefix=N&marker=Ned&max-keys=40', 'ListObjects', { bucket: 'amzn-s3-demo-bucket' }, 'read'],
  ['GET', '/amzn-s3-demo-bucket?location', 'GetBucketLocation', { bucket: 'amzn-s3-demo-bucket' }, 'read'],
  ['GET', '/amzn-s3-demo-bucket?versioning', 'GetBucketVersioning', { bucket: 'amzn-s3-demo-bucket' }, 'read'],
  ['PUT', '/amzn-s3-demo-bucket?versioning', 'PutBucketVersioning', { bucket: 'amzn-s3-demo-bucket' }, 'write'],
  ['GET', '/amzn-s3-demo-bucket?acl', 'GetBucketAcl', { bucket: 'amzn-s3-demo-bucket' }, 'read'],
  ['PUT', '/amzn-s3-demo-bucket?acl', 'PutBucketAcl', { bucket: 'amzn-s3-demo-bucket' }, 'write'],
  ['GET', '/amzn-s3-demo-bucket?cors', 'GetBucketCors', { bucket: 'amzn-s3-demo-bucket' }, 'read'],
  ['PUT', '/amzn-s3-demo-bucket?cors', 'PutBucketCors', { bucket: 'amzn-s3-demo-bucket' }, 'write'],
  ['DELETE', '/amzn-s3-demo-bucket?cors', 'DeleteBucketCors', { bucket: 'amzn-s3-demo-bucket' }, 'write'],
  ['GET', '/amzn-s3-demo-bucket?uploads&max-uploads=3', 'ListMultipartUploads', { bucket: 'amzn-s3-demo-bucket' }, 'read'],
  ['GET', '/amzn-s3-demo-bucket/?uploads=', 'ListMultipartUploads', { bucket: 'amzn-s3-demo-bucket' }, 'read'],
  ['POST', '/amzn-s3-demo-bucket?delete', 'DeleteObjects', { bucket: 'amzn-s3-demo-bucket' }, 'write'],
  // A browser form upload: the key is in the body.
  ['POST', '/amzn-s3-demo-bucket', 'PostObject', { bucket: 'amzn-s3-demo-bucket' }, 'write'],
  ['POST', '/amzn-s3-demo-bucket/', 'PostObject', { bucket: 'amzn-s3-demo-bucket' }, 'write'],
  ['GET', '/amzn-s3-demo-bucket?lifecycle', 'GetBucketLifecycleConfiguration', { bucket: 'amzn-s3-demo-bucket' }, 'read'],
  ['PUT', '/amzn-s3-demo-bucket?policy', 'PutBucketPolicy', { bucket: 'amzn-s3-demo-bucket' }, 'write'],
  ['GET', '/amzn-s3-demo-bucket?policyStatus', 'GetBucketPolicyStatus', { bucket: 'amzn-s3-demo-bucket' }, 'read'],
  ['DELETE', '/amzn-s3-demo-bucket?ownershipControls', 'DeleteBucketOwnershipControls', { bucket: 'amzn-s3-demo-bucket' }, 'write'],
  ['PUT', '/b/k?acl', 'PutObjectAcl', { bucket: 'b', key: 'k' }, 'write'],
  ['PUT', '/b/k?policy', 'Object policy', { bucket: 'b', key: 'k' }, 'write'],
  ['GET', '/amzn-s3-demo-bucket?versions', 'ListObjectVersions', { bucket: 'amzn-s3-demo-bucket' }, 'read'],
  ['GET', '/b?versions&prefix=a&key-marker=k', 'ListObjectVersions', { bucket: 'b' }, 'read'],
  ['PUT', '/b?versioning', 'PutBucketVersioning', { bucket: 'b' }, 'write'],
  ['GET', '/b?versioning', 'GetBucketVersioning', { bucket: 'b' }, 'read'],
  ['PUT', '/b?object-lock', 'PutObjectLockConfiguration', { bucket: 'b' }, 'write'],
  ['GET', '/b?object-lock', 'GetObjectLockConfiguration', { bucket: 'b' }, 'read'],
  ['GET', '/b?retention', 'Bucket retention configuration', { bucket: 'b' }, 'read'],
  ['GET', '/b/k?versions', 'Object versions', { bucket: 'b', key: 'k' }, 'read'],
  ['GET', '/b/my-image.jpg?retention&versionId=null', 'GetObjectRetention', { bucket: 'b', key: 'my-image.jpg' }, 'read'],
  ['PUT', '/b/my-image.jpg?legal-hold', 'PutObjectLegalHold', { bucket: 'b', key: 'my-image.jpg' }, 'write'],
  ['GET', '/b/my-image.jpg?legal-hold', 'GetObjectLegalHold', { bucket: 'b', key: 'my-image.jpg' }, 'read'],
  // Buckets, virtual-hosted style
  ['PUT', '/', 'CreateBucket', { bucket: 'amzn-s3-demo-bucket' }, 'admin', { host: vhost }],
  ['GET', '/?list-type=2', 'ListObjectsV2', { bucket: 'amzn-s3-demo-bucket' }, 'read', { host: vhost }],
  ['GET', '/?location', 'GetBucketLocation', { bucket: 'amzn-s3-demo-bucket' }, 'read', { host: vhost }],
  // Objects
  ['PUT', '/amzn-s3-demo-bucket/my-image.jpg', 'PutObject', { bucket: 'amzn-s3-demo-bucket', key: 'my-image.jpg' }, 'write'],
  ['PUT', '/my-image.jpg', 'PutObject', { bucket: 'amzn-s3-demo-bucket', key: 'my-image.jpg' }, 'write', { host: vhost }],
  ['PUT', '/b/photos/2006/Jan/sample.jpg', 'CopyObject', { bucket: 'b', key: 'photos/2006/Jan/sample.jpg' }, 'write', { copySource: true }],
  ['GET', '/b/my-image.jpg', 'GetObject', { bucket: 'b', key: 'my-image.jpg' }, 'read'],
  ['GET', '/b/my-image.jpg?response-content-type=text/plain', 'GetObject', { bucket: 'b', key: 'my-image.jpg' }, 'read'],
  ['GET', '/b/my-image.jpg?partNumber=2', 'GetObject', { bucket: 'b', key: 'my-image.jpg' }, 'read'],
  ['HEAD', '/b/my-image.jpg', 'HeadObject', { bucket: 'b', key: 'my-image.jpg' }, 'read'],
  ['DELETE', '/b/my-second-image.jpg', 'DeleteObject', { bucket: 'b', key: 'my-second-image.jpg' }, 'write'],
  ['GET', '/b/my-image.jpg?acl', 'GetObjectAcl', { bucket: 'b', key: 'my-image.jpg' }, 'read'],
  ['PUT', '/b/my-image.jpg?acl', 'PutObjectAcl', { bucket: 'b', key: 'my-image.jpg' }, 'write'],
  ['GET', '/b/my-image.jpg?tagging', 'GetObjectTagging', { bucket: 'b', key: 'my-image.jpg' }, 'read'],
  ['PUT', '/b/my-image.jpg?tagging&versionId=v', 'PutObjectTagging', { bucket: 'b', key: 'my-image.jpg' }, 'write'],
  ['DELETE', '/b/my-image.jpg?tagging', 'DeleteObjectTagging', { bucket: 'b', key: 'my-image.jpg' }, 'write'],
  ['GET', '/b?tagging', 'GetBucketTagging', { bucket: 'b' }, 'read'],
  ['PUT', '/b?tagging', 'PutBucketTagging', { bucket: 'b' }, 'write'],
  ['DELETE', '/b?tagging', 'DeleteBucketTagging', { bucket: 'b' }, 'write'],
  ['PUT', '/b/my-image.jpg?retention', 'PutObjectRetention', { bucket: 'b', key: 'my-image.jpg' }, 'write'],
  ['GET', '/b/my-image.jpg?cors', 'Object cors', { bucket: 'b', key: 'my-image.jpg' }, 'read'],
  ['GET', '/b/my-image.jpg?attributes', 'GetObjectAttributes', { bucket: 'b', key: 'my-image.jpg' }, 'read'],
  ['GET', '/b/my-image.jpg?attributes&versionId=null', 'GetObjectAttributes', { bucket: 'b', key: 'my-image.jpg' }, 'read'],
  ['PUT', '/b/my-image.jpg?attributes', 'Object attributes', { bucket: 'b', key: 'my-image.jpg' }, 'write'],
  ['HEAD', '/b/my-image.jpg?attributes', 'Object attributes', { bucket: 'b', key: 'my-image.jpg' }, 'read'],
  ['GET', '/b?attributes', 'Bucket attributes configuration', { bucket: 'b' }, 'read'],
  // Keys keep what a path router would mangle.
  ['GET', '/b/a%2Fb/..//c+d%20e', 'GetObject', { bucket: 'b', key: 'a/b/..//c+d e' }, 'read'],
  ['GET', '/b//leading', 'GetObject', { bucket: 'b', key: '/leading' }, 'read'],
  // Multipart
  ['POST', '/b/example-object?uploads', 'CreateMultipartUpload', { bucket: 'b', key: 'example-object' }, 'write'],
  ['PUT', `/b/my-movie.m2ts?partNumber=1&uploadId=${UPLOAD}`, 'UploadPart', { bucket: 'b', key: 'my-movie.m2ts' }, 'write'],
  ['PUT', `/b/example-object?partNumber=1&uploadId=${UPLOAD}`, 'UploadPartCopy', { bucket: 'b', key: 'example-object' }, 'write', { copySource: true }],
  ['POST', `/b/example-object?uploadId=${UPLOAD}`, 'CompleteMultipartUpload', { bucket: 'b', key: 'example-object' }, 'write'],
  ['DELETE', `/b/example-object?uploadId=${UPLOAD}`, 'AbortMultipartUpload', { bucket: 'b', key: 'example-object' }, 'write'],
  ['GET', `/b/example-object?uploadId=${UPLOAD}&max-parts=2&part-number-marker=1`, 'ListParts', { bucket: 'b', key: 'example-object' }, 'read'],
];

describe('router: method x path x query -> operation', () => {
  it.each(TABLE)('%s %s -> %s', (method, url, name, target, access, extra = {}) => {
    const got = route(method, url, extra);
    expect(got).toEqual({ name, target, access });
  });

  it.each([
    ['POST', '/'],
    ['PUT', '/'],
    ['DELETE', '/'],
    ['PATCH', '/b'],
    ['POST', '/b/key'],
    ['PATCH', '/b/key'],
  ])('%s %s: MethodNotAllowed', (method, url) => {
    expect(() => route(method, url, { host: 'localhost' })).toThrow(expect.objectContaining({ code: 'MethodNotAllowed' }));
  });

  it('an unimplemented sub-resource answers NotImplemented when run', async () => {
    const op = resolveOperation({ method: 'GET', bucket: 'b', key: 'k', query: new URLSearchParams('torrent'), copySource: false });
    await expect(op.run({} as never, {} as never)).rejects.toMatchObject({ code: 'NotImplemented' });
  });
});
