import { describe, expect, it } from 'vitest';
import { objectAttributesXml, parseObjectAttributes, parsePartsPaging, type AttributesAnswer } from '../../src/s3/object-attributes.js';
import { withoutAwsChunked } from '../../src/http/body.js';
import { code } from '../helpers/errors.js';

const DECL = '<?xml version="1.0" encoding="UTF-8"?>\n';
const NS = 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"';

describe('x-amz-object-attributes', () => {
  it('takes the five names, comma-separated, spaces and repeats allowed', () => {
    expect([...parseObjectAttributes('ETag, Checksum,ObjectParts,StorageClass,ObjectSize,ETag')]).toEqual(['ETag', 'Checksum', 'ObjectParts', 'StorageClass', 'ObjectSize']);
  });

  it('none is InvalidRequest; an unknown or miscased name InvalidArgument', () => {
    for (const v of [undefined, '', ' , ']) expect(code(() => parseObjectAttributes(v)), String(v)).toBe('InvalidRequest');
    for (const v of ['ETags', 'etag', 'ETag,Size', 'RestoreStatus']) expect(code(() => parseObjectAttributes(v)), v).toBe('InvalidArgument');
  });
});

describe('x-amz-max-parts and x-amz-part-number-marker', () => {
  it('default to 1000 and 0; max-parts is capped at 1000', () => {
    expect(parsePartsPaging(undefined, undefined)).toEqual({ maxParts: 1000, marker: 0 });
    expect(parsePartsPaging('5000', '7')).toEqual({ maxParts: 1000, marker: 7 });
    expect(parsePartsPaging('0', '')).toEqual({ maxParts: 0, marker: 0 });
  });

  it('anything but a non-negative integer is InvalidArgument', () => {
    for (const [max, marker] of [['x', undefined], ['-1', undefined], ['1.5', undefined], [undefined, 'two'], [undefined, '99999999999']]) {
      expect(code(() => parsePartsPaging(max, marker)), `${max} ${marker}`).toBe('InvalidArgument');
    }
  });
});

describe('GetObjectAttributesResponse', () => {
  const all = parseObjectAttributes('ETag,Checksum,ObjectParts,StorageClass,ObjectSize');
  const composite: AttributesAnswer = {
    etag: '"0123456789abcdef0123456789abcdef-3"',
    size: 30,
    storageClass: 'STANDARD',
    checksum: { algorithm: 'CRC32', value: 'AAAAAA==-3', type: 'COMPOSITE' },
    parts: [1, 2, 3].map((n) => ({ partNumber: n, size: 10, checksumValue: `p${n}==` })),
  };

  it('a COMPOSITE object: ETag unquoted, the checksum without -N, a page of parts', () => {
    expect(objectAttributesXml(all, composite, { maxParts: 2, marker: 0 })).toBe(
      `${DECL}<GetObjectAttributesResponse ${NS}><ETag>0123456789abcdef0123456789abcdef-3</ETag>` +
        '<Checksum><ChecksumCRC32>AAAAAA==</ChecksumCRC32><ChecksumType>COMPOSITE</ChecksumType></Checksum>' +
        '<ObjectParts><PartsCount>3</PartsCount><PartNumberMarker>0</PartNumberMarker><NextPartNumberMarker>2</NextPartNumberMarker>' +
        '<MaxParts>2</MaxParts><IsTruncated>true</IsTruncated>' +
        '<Part><ChecksumCRC32>p1==</ChecksumCRC32><PartNumber>1</PartNumber><Size>10</Size></Part>' +
        '<Part><ChecksumCRC32>p2==</ChecksumCRC32><PartNumber>2</PartNumber><Size>10</Size></Part></ObjectParts>' +
        '<StorageClass>STANDARD</StorageClass><ObjectSize>30</ObjectSize></GetObjectAttributesResponse>',
    );
    const last = objectAttributesXml(parseObjectAttributes('ObjectParts'), composite, { maxParts: 2, marker: 2 });
    expect(last).toContain('<PartNumberMarker>2</PartNumberMarker><NextPartNumberMarker>3</NextPartNumberMarker><MaxParts>2</MaxParts><IsTruncated>false</IsTruncated><Part>');
    const past = objectAttributesXml(parseObjectAttributes('ObjectParts'), composite, { maxParts: 2, marker: 3 });
    expect(past).toContain('<PartNumberMarker>3</PartNumberMarker><MaxParts>2</MaxParts><IsTruncated>false</IsTruncated></ObjectParts>');
  });

  it('FULL_OBJECT or no checksum: PartsCount alone; a single PUT: no ObjectParts; only what is asked', () => {
    const full = { ...composite, checksum: { algorithm: 'CRC32' as const, value: 'AAAAAA==', type: 'FULL_OBJECT' } };
    expect(objectAttributesXml(all, full, { maxParts: 1000, marker: 0 })).toContain('<ObjectParts><PartsCount>3</PartsCount></ObjectParts>');
    const none = { ...composite, checksum: undefined };
    expect(objectAttributesXml(all, none, { maxParts: 1000, marker: 0 })).not.toContain('<Checksum>');
    const single = objectAttributesXml(all, { etag: '"abc"', size: 1, storageClass: 'GLACIER' }, { maxParts: 1000, marker: 0 });
    expect(single).not.toContain('ObjectParts');
    expect(objectAttributesXml(parseObjectAttributes('ObjectSize'), composite, { maxParts: 1, marker: 0 })).toBe(`${DECL}<GetObjectAttributesResponse ${NS}><ObjectSize>30</ObjectSize></GetObjectAttributesResponse>`);
  });
});

describe('Content-Encoding without aws-chunked', () => {
  it('keeps the other codings as sent', () => {
    expect(withoutAwsChunked('aws-chunked')).toBeUndefined();
    expect(withoutAwsChunked('aws-chunked, deflate, gzip')).toBe('deflate, gzip');
    expect(withoutAwsChunked('gzip,aws-chunked')).toBe('gzip');
    expect(withoutAwsChunked('deflate,  gzip')).toBe('deflate,  gzip');
    expect(withoutAwsChunked('')).toBeUndefined();
  });
});
