import { describe, expect, it } from 'vitest';
import { extractUserMetadata, validateBucketName, validateKey } from '../../src/s3/names.js';
import { err } from '../helpers/errors.js';


describe('validateBucketName', () => {
  const valid = ['abc', 'my-bucket', 'my.bucket.name', '123', 'a1b2c3', 'a'.repeat(63), 'x-n--y', 'a-s3alias-b', '1.2.3', '1.2.3.4.5', 'xn-ok'];
  const invalid = [
    'ab', 'a'.repeat(64), '', 'My-Bucket', 'my_bucket', '-bucket', 'bucket-', '.bucket', 'bucket.', 'my..bucket',
    '192.168.5.4', '10.0.0.1', 'xn--bucket', 'bucket-s3alias', 'sthree-bucket', 'amzn-s3-demo-bucket', 'b--ol-s3',
    'b.mrap', 'bucket--x-s3', 'b--table-s3', 'bu cket', 'bücket', 'bucket/', 'b%41c',
  ];
  it.each(valid)('accepts %s', (name) => {
    expect(() => validateBucketName(name)).not.toThrow();
  });
  it.each(invalid)('rejects %s', (name) => {
    const e = err(() => validateBucketName(name));
    expect(e?.code).toBe('InvalidBucketName');
    expect(e?.details).toEqual({ BucketName: name });
    expect(e?.status).toBe(400);
  });
});

describe('validateKey', () => {
  it('counts UTF-8 bytes, not characters', () => {
    expect(() => validateKey('a'.repeat(1024))).not.toThrow();
    expect(err(() => validateKey('a'.repeat(1025)))?.code).toBe('KeyTooLongError');
    // 'é' is 2 bytes, '€' 3 bytes, '😀' 4 bytes (2 UTF-16 units).
    expect(() => validateKey('é'.repeat(512))).not.toThrow();
    expect(err(() => validateKey('é'.repeat(512) + 'a'))?.code).toBe('KeyTooLongError');
    expect(() => validateKey('€'.repeat(341) + 'a')).not.toThrow(); // 1024 bytes
    expect(err(() => validateKey('€'.repeat(342)))?.code).toBe('KeyTooLongError'); // 1026 bytes, 342 chars
    expect(() => validateKey('😀'.repeat(256))).not.toThrow();
    expect(err(() => validateKey('😀'.repeat(256) + 'a'))?.code).toBe('KeyTooLongError');
  });
  it('rejects the empty key', () => {
    expect(err(() => validateKey(''))?.code).toBe('InvalidArgument');
  });
  it('accepts keys S3 accepts', () => {
    for (const k of ['../x', '/lead', 'a//b', ' ', '+', '%', 'a\nb']) expect(() => validateKey(k)).not.toThrow();
  });
});

describe('extractUserMetadata', () => {
  it('collects x-amz-meta-* case-insensitively without the prefix', () => {
    expect(
      extractUserMetadata({
        'x-amz-meta-mtime': '1700000000.5',
        'X-Amz-Meta-Md5chksum': 'abc',
        'x-amz-meta-s3cmd-attrs': 'uid:0',
        'content-type': 'text/plain',
        'x-amz-metadata-directive': 'REPLACE',
        'x-amz-meta-': 'nameless',
        'x-amz-meta-gone': undefined,
        'x-amz-meta-multi': ['a', 'b'],
      }),
    ).toEqual({ mtime: '1700000000.5', md5chksum: 'abc', 's3cmd-attrs': 'uid:0', multi: 'a,b' });
  });

  it('limits names plus values to 2048 UTF-8 bytes', () => {
    // name 'k' (1 byte) + value.
    expect(() => extractUserMetadata({ 'x-amz-meta-k': 'v'.repeat(2047) })).not.toThrow();
    const e = err(() => extractUserMetadata({ 'x-amz-meta-k': 'v'.repeat(2048) }));
    expect(e?.code).toBe('MetadataTooLarge');
    expect(() => extractUserMetadata({ 'x-amz-meta-a': 'x'.repeat(1000), 'x-amz-meta-b': 'x'.repeat(1046) })).not.toThrow();
    expect(err(() => extractUserMetadata({ 'x-amz-meta-a': 'x'.repeat(1000), 'x-amz-meta-b': 'x'.repeat(1047) }))?.code).toBe(
      'MetadataTooLarge',
    );
    // Multibyte values count in bytes.
    expect(err(() => extractUserMetadata({ 'x-amz-meta-k': 'é'.repeat(1024) }))?.code).toBe('MetadataTooLarge');
    expect(() => extractUserMetadata({ 'x-amz-meta-k': 'é'.repeat(1023) })).not.toThrow();
  });

  it('is not fooled by prototype-like names', () => {
    const m = extractUserMetadata({ 'x-amz-meta-__proto__': 'x', 'x-amz-meta-constructor': 'y' });
    expect(Object.keys(m).sort()).toEqual(['__proto__', 'constructor']);
    expect(m.constructor).toBe('y');
  });
});
