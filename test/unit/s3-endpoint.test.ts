import { describe, expect, it } from 'vitest';
import { parseCopySource, parseEndpoint } from '../../src/s3/endpoint.js';
import { code } from '../helpers/errors.js';


describe('parseEndpoint: path style', () => {
  it.each<[string, { bucket?: string; key?: string }]>([
    ['/', {}],
    ['', {}],
    ['/?x-id=ListBuckets', {}],
    ['/bucket', { bucket: 'bucket' }],
    ['/bucket/', { bucket: 'bucket' }],
    ['/bucket?location', { bucket: 'bucket' }],
    ['/bucket/?list-type=2&prefix=a', { bucket: 'bucket' }],
    ['/bucket/key', { bucket: 'bucket', key: 'key' }],
    ['/bucket/a/b/c.txt', { bucket: 'bucket', key: 'a/b/c.txt' }],
    ['/bucket/with%20space', { bucket: 'bucket', key: 'with space' }],
    ['/bucket/a+b', { bucket: 'bucket', key: 'a+b' }],
    ['/bucket/a%2Bb', { bucket: 'bucket', key: 'a+b' }],
    ['/bucket/100%25', { bucket: 'bucket', key: '100%' }],
    ['/bucket/%2541', { bucket: 'bucket', key: '%41' }], // decoded exactly once
    ['/bucket/a%2Fb', { bucket: 'bucket', key: 'a/b' }],
    ['/bucket/%C3%BC%E2%82%AC%F0%9F%98%80', { bucket: 'bucket', key: 'ü€😀' }],
    ['/bucket/ü', { bucket: 'bucket', key: 'ü' }],
    ['/bucket/../x', { bucket: 'bucket', key: '../x' }],
    ['/bucket/a/../../b', { bucket: 'bucket', key: 'a/../../b' }],
    ['/bucket/./', { bucket: 'bucket', key: './' }],
    ['/bucket//x', { bucket: 'bucket', key: '/x' }],
    ['/bucket/a//b/', { bucket: 'bucket', key: 'a//b/' }],
    ['/bucket/dir/', { bucket: 'bucket', key: 'dir/' }],
    ['/bucket/k?uploadId=1&partNumber=2', { bucket: 'bucket', key: 'k' }],
    ['/bucket/a%3Fb?acl', { bucket: 'bucket', key: 'a?b' }],
  ])('%s', (path, want) => {
    expect(parseEndpoint(path, 'localhost:9000')).toEqual(want);
  });

  it('rejects bad percent-encoding', () => {
    expect(code(() => parseEndpoint('/bucket/%zz', undefined))).toBe('InvalidURI');
    expect(code(() => parseEndpoint('/bucket/%E2%82', undefined))).toBe('InvalidURI'); // truncated UTF-8
    expect(code(() => parseEndpoint('/bucket/a%', undefined))).toBe('InvalidURI');
  });
});

describe('parseEndpoint: virtual-host style', () => {
  const domain = 's3.example.test';
  it.each<[string, string | undefined, { bucket?: string; key?: string; virtualHost?: boolean }]>([
    ['/key', 'bucket.s3.example.test', { bucket: 'bucket', key: 'key', virtualHost: true }],
    ['/a%20b/c', 'bucket.s3.example.test:9000', { bucket: 'bucket', key: 'a b/c', virtualHost: true }],
    ['/', 'my.dotted.bucket.s3.example.test', { bucket: 'my.dotted.bucket', virtualHost: true }],
    ['/?list-type=2', 'Bucket.S3.Example.Test', { bucket: 'bucket', virtualHost: true }],
    ['//x', 'b1.s3.example.test', { bucket: 'b1', key: '/x', virtualHost: true }],
    // The bare domain, other hosts and a missing Host fall back to path style.
    ['/bucket/key', 's3.example.test:9000', { bucket: 'bucket', key: 'key' }],
    ['/bucket/key', '127.0.0.1:9000', { bucket: 'bucket', key: 'key' }],
    ['/bucket/key', 'evil-s3.example.test', { bucket: 'bucket', key: 'key' }],
    ['/bucket/key', undefined, { bucket: 'bucket', key: 'key' }],
  ])('%s on %s', (path, host, want) => {
    expect(parseEndpoint(path, host, domain)).toEqual(want);
  });

  it('uses path style when no domain is configured', () => {
    expect(parseEndpoint('/key', 'bucket.s3.example.test')).toEqual({ bucket: 'key' });
  });
});

describe('parseCopySource', () => {
  it.each<[string, { bucket: string; key: string; versionId?: string }]>([
    ['b/k', { bucket: 'b', key: 'k' }],
    ['/b/k', { bucket: 'b', key: 'k' }],
    ['b/dir/sub/file.txt', { bucket: 'b', key: 'dir/sub/file.txt' }],
    // rclone: path-escaped, '/' kept
    ['b/dir%20one/a%2Bb%25c', { bucket: 'b', key: 'dir one/a+b%c' }],
    // SDK / fully encoded, '/' included
    ['b%2Fdir%2Ffile%20x', { bucket: 'b', key: 'dir/file x' }],
    ['%2Fb%2Fk', { bucket: 'b', key: 'k' }],
    ['%2Fb%2F%2Fk', { bucket: 'b', key: '/k' }], // one leading '/' only
    ['b/a+b', { bucket: 'b', key: 'a+b' }],
    ['b/%C3%BC', { bucket: 'b', key: 'ü' }],
    ['b/ü', { bucket: 'b', key: 'ü' }],
    ['b//double', { bucket: 'b', key: '/double' }],
    ['//b/k', { bucket: '', key: '' }], // placeholder, rejected below
    ['b/k?versionId=3HL4kqtJlcpXroDTDmJ', { bucket: 'b', key: 'k', versionId: '3HL4kqtJlcpXroDTDmJ' }],
    ['/b/k%3Fx?versionId=null', { bucket: 'b', key: 'k?x', versionId: 'null' }],
    ['b/k%3FversionId%3D1', { bucket: 'b', key: 'k?versionId=1' }],
    ['b/k?versionId=', { bucket: 'b', key: 'k' }],
  ])('%s', (header, want) => {
    if (want.bucket === '') {
      expect(code(() => parseCopySource(header))).toBe('InvalidArgument');
      return;
    }
    expect(parseCopySource(header)).toEqual(want);
  });

  it.each(['', 'b', 'b/', '/b', '/b/', '/'])('rejects %j', (header) => {
    expect(code(() => parseCopySource(header))).toBe('InvalidArgument');
  });

  it('rejects bad percent-encoding with InvalidURI', () => {
    expect(code(() => parseCopySource('b/%zz'))).toBe('InvalidURI');
  });
});
