import { describe, expect, it } from 'vitest';
import {
  copyObjectResultXml,
  deleteResultXml,
  errorXml,
  listBucketsXml,
  listObjectsXml,
  locationXml,
  parseCreateBucketConfiguration,
  parseDeleteObjects,
  parseXml,
  versioningXml,
  type ListResult,
} from '../../src/s3/xml.js';
import { code } from '../helpers/errors.js';

const DECL = '<?xml version="1.0" encoding="UTF-8"?>\n';
const NS = 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"';
const owner = { id: 'abc123', displayName: 'cairn' };
const t0 = new Date('2009-10-12T17:50:30Z');


describe('parseXml safety', () => {
  it('rejects DOCTYPE and entity declarations (billion laughs, XXE)', () => {
    const laughs =
      '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">' +
      '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><Delete><Object><Key>&lol3;</Key></Object></Delete>';
    expect(code(() => parseXml(laughs))).toBe('MalformedXML');
    expect(code(() => parseDeleteObjects(laughs))).toBe('MalformedXML');
    const xxe = '<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><Delete><Object><Key>&x;</Key></Object></Delete>';
    expect(code(() => parseXml(xxe))).toBe('MalformedXML');
    expect(code(() => parseXml('<!doctype a><a/>'))).toBe('MalformedXML');
  });

  it('rejects undeclared named entities, including HTML ones', () => {
    expect(code(() => parseXml('<a>&nbsp;</a>'))).toBe('MalformedXML');
    expect(code(() => parseXml('<a>&copy;</a>'))).toBe('MalformedXML');
    expect(code(() => parseXml('<a>a & b</a>'))).toBe('MalformedXML');
    expect(code(() => parseXml('<a>&#0;</a>'))).toBe('MalformedXML');
  });

  it('decodes the five predefined entities and numeric references, once', () => {
    expect(parseXml('<a>&amp;&lt;&gt;&quot;&apos;&#34;&#x22;&#x1F600;&amp;lt;</a>')).toEqual({ a: `&<>"'""😀&lt;` });
  });

  it('leaves CDATA content undecoded', () => {
    expect(parseXml('<a><![CDATA[&amp;<x>]]></a>')).toEqual({ a: '&amp;<x>' });
  });

  it('rejects malformed documents', () => {
    for (const bad of ['', '   ', 'not xml', '<a><b></a>', '<a>', '<a/><b/>', 'junk<a/>', '<a></b>']) {
      expect(code(() => parseXml(bad)), bad).toBe('MalformedXML');
    }
  });

  it('rejects bodies above 1 MiB', () => {
    const big = `<a>${'x'.repeat(1024 * 1024)}</a>`;
    expect(code(() => parseXml(big))).toBe('MalformedXML');
    const multibyte = `<a>${'é'.repeat(600 * 1024)}</a>`; // under 1 Mi chars, over 1 MiB bytes
    expect(code(() => parseXml(multibyte))).toBe('MalformedXML');
  });

  it('keeps numeric-looking text as strings and preserves whitespace', () => {
    expect(parseXml('<a><b>007</b><c> 1e3 </c></a>')).toEqual({ a: { b: '007', c: ' 1e3 ' } });
  });
});

describe('parseDeleteObjects', () => {
  it('parses keys with escapes, Quiet, and xmlns', () => {
    const xml =
      `<?xml version="1.0" encoding="UTF-8"?>\n<Delete ${NS}>\n  <Quiet>true</Quiet>\n` +
      '  <Object><Key>a &amp; b &lt;c&gt; &quot;d&quot; &apos;e&apos;</Key></Object>\n' +
      '  <Object><Key>&#34;q&#34;/100%</Key><VersionId>null</VersionId></Object>\n' +
      '  <Object><Key> spaced </Key></Object>\n' +
      '  <Object><Key>0123</Key></Object>\n</Delete>';
    expect(parseDeleteObjects(xml)).toEqual({
      quiet: true,
      keys: [{ key: `a & b <c> "d" 'e'` }, { key: '"q"/100%', versionId: 'null' }, { key: ' spaced ' }, { key: '0123' }],
    });
  });

  it('defaults Quiet to false and accepts a single Object', () => {
    expect(parseDeleteObjects('<Delete><Object><Key>k</Key></Object></Delete>')).toEqual({ quiet: false, keys: [{ key: 'k' }] });
    expect(parseDeleteObjects('<Delete><Quiet>false</Quiet><Object><Key>k</Key></Object></Delete>').quiet).toBe(false);
  });

  it('rejects no objects, a missing Key, a wrong root', () => {
    expect(code(() => parseDeleteObjects('<Delete></Delete>'))).toBe('MalformedXML');
    expect(code(() => parseDeleteObjects('<Delete/>'))).toBe('MalformedXML');
    expect(code(() => parseDeleteObjects('<Delete><Quiet>true</Quiet></Delete>'))).toBe('MalformedXML');
    expect(code(() => parseDeleteObjects('<Delete><Object><VersionId>1</VersionId></Object></Delete>'))).toBe('MalformedXML');
    expect(code(() => parseDeleteObjects('<Remove><Object><Key>k</Key></Object></Remove>'))).toBe('MalformedXML');
    expect(code(() => parseDeleteObjects('<Delete><Object><Key><x/></Key></Object></Delete>'))).toBe('MalformedXML');
  });

  it('accepts 1000 keys and rejects 1001', () => {
    const body = (n: number) =>
      `<Delete>${Array.from({ length: n }, (_, i) => `<Object><Key>k${i}</Key></Object>`).join('')}</Delete>`;
    expect(parseDeleteObjects(body(1000)).keys).toHaveLength(1000);
    expect(code(() => parseDeleteObjects(body(1001)))).toBe('MalformedXML');
  });
});

describe('parseCreateBucketConfiguration', () => {
  it('handles empty bodies and the configuration document', () => {
    expect(parseCreateBucketConfiguration('')).toEqual({});
    expect(parseCreateBucketConfiguration('  \n')).toEqual({});
    expect(
      parseCreateBucketConfiguration(
        `<CreateBucketConfiguration ${NS}><LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>`,
      ),
    ).toEqual({ locationConstraint: 'eu-west-1' });
    expect(parseCreateBucketConfiguration(`<CreateBucketConfiguration ${NS}/>`)).toEqual({});
    expect(parseCreateBucketConfiguration('<CreateBucketConfiguration><LocationConstraint/></CreateBucketConfiguration>')).toEqual({});
  });

  it('rejects other documents', () => {
    expect(code(() => parseCreateBucketConfiguration('<Foo/>'))).toBe('MalformedXML');
    expect(code(() => parseCreateBucketConfiguration('<CreateBucketConfiguration>'))).toBe('MalformedXML');
  });
});

describe('XML builders', () => {
  it('errorXml', () => {
    expect(
      errorXml({
        code: 'NoSuchKey',
        message: 'The specified key does not exist.',
        requestId: 'R1',
        resource: '/b/a&b',
        details: { Key: 'a&b<"\'>', Skipped: undefined, 'bad name': 'x', Size: 5 },
      }),
    ).toBe(
      `${DECL}<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message>` +
        '<Key>a&amp;b&lt;&quot;&apos;&gt;</Key><Size>5</Size><Resource>/b/a&amp;b</Resource>' +
        '<RequestId>R1</RequestId><HostId>R1</HostId></Error>',
    );
  });

  it('listBucketsXml', () => {
    expect(listBucketsXml(owner, [{ name: 'b1', created: t0, region: 'us-east-1' }])).toBe(
      `${DECL}<ListAllMyBucketsResult ${NS}><Owner><ID>abc123</ID><DisplayName>cairn</DisplayName></Owner>` +
        '<Buckets><Bucket><Name>b1</Name><CreationDate>2009-10-12T17:50:30.000Z</CreationDate>' +
        '<BucketRegion>us-east-1</BucketRegion></Bucket></Buckets></ListAllMyBucketsResult>',
    );
    expect(listBucketsXml(owner, [])).toContain('<Buckets></Buckets>');
  });

  it('locationXml', () => {
    expect(locationXml('us-east-1')).toBe(`${DECL}<LocationConstraint ${NS}/>`);
    expect(locationXml('eu-west-1')).toBe(`${DECL}<LocationConstraint ${NS}>eu-west-1</LocationConstraint>`);
  });

  it('versioningXml', () => {
    expect(versioningXml()).toBe(`${DECL}<VersioningConfiguration ${NS}/>`);
  });

  it('copyObjectResultXml', () => {
    expect(copyObjectResultXml('"9b2cf535f27731c974343645a3985328"', t0)).toBe(
      `${DECL}<CopyObjectResult ${NS}><LastModified>2009-10-12T17:50:30.000Z</LastModified>` +
        '<ETag>&quot;9b2cf535f27731c974343645a3985328&quot;</ETag></CopyObjectResult>',
    );
    expect(copyObjectResultXml('"x"', t0, { header: 'ChecksumCRC32', value: '3CYOvg==' })).toBe(
      `${DECL}<CopyObjectResult ${NS}><LastModified>2009-10-12T17:50:30.000Z</LastModified>` +
        '<ETag>&quot;x&quot;</ETag><ChecksumCRC32>3CYOvg==</ChecksumCRC32></CopyObjectResult>',
    );
  });

  it('deleteResultXml', () => {
    expect(deleteResultXml([{ key: 'a&b' }], [{ key: '<k>', code: 'AccessDenied', message: 'Access Denied' }])).toBe(
      `${DECL}<DeleteResult ${NS}><Deleted><Key>a&amp;b</Key></Deleted>` +
        '<Error><Key>&lt;k&gt;</Key><Code>AccessDenied</Code><Message>Access Denied</Message></Error></DeleteResult>',
    );
    expect(deleteResultXml([], [])).toBe(`${DECL}<DeleteResult ${NS}></DeleteResult>`);
  });

  it('escapes control characters as references and round-trips through the parser', () => {
    const key = 'a\x01b\rc\nd\te&f';
    const xml = deleteResultXml([{ key }], []);
    expect(xml).toContain('<Key>a&#x1;b&#xD;c\nd\te&amp;f</Key>');
    // The document is not parseable by our strict parser (XML 1.0 forbids &#x1;), but \r survives.
    expect(parseXml(deleteResultXml([{ key: 'x\ry' }], [])).DeleteResult.Deleted.Key).toBe('x\ry');
  });
});

describe('listObjectsXml', () => {
  const entry = { key: `a&b<c>"d"'e'.txt`, lastModified: t0, etag: '"fba9dede5f27731c9771645a39863328"', size: 434234 };

  it('v1 with delimiter, truncated: NextMarker and owner', () => {
    const r: ListResult = {
      version: 1,
      bucket: 'bucket',
      prefix: '',
      delimiter: '/',
      maxKeys: 2,
      isTruncated: true,
      marker: '',
      nextMarker: 'photos/',
      contents: [{ ...entry, owner }],
      commonPrefixes: ['photos/'],
    };
    expect(listObjectsXml(r)).toBe(
      `${DECL}<ListBucketResult ${NS}><Name>bucket</Name><Prefix></Prefix><Marker></Marker>` +
        '<NextMarker>photos/</NextMarker><MaxKeys>2</MaxKeys><Delimiter>/</Delimiter><IsTruncated>true</IsTruncated>' +
        '<Contents><Key>a&amp;b&lt;c&gt;&quot;d&quot;&apos;e&apos;.txt</Key><LastModified>2009-10-12T17:50:30.000Z</LastModified>' +
        '<ETag>&quot;fba9dede5f27731c9771645a39863328&quot;</ETag><Size>434234</Size>' +
        '<Owner><ID>abc123</ID><DisplayName>cairn</DisplayName></Owner><StorageClass>STANDARD</StorageClass></Contents>' +
        '<CommonPrefixes><Prefix>photos/</Prefix></CommonPrefixes></ListBucketResult>',
    );
  });

  it('v1 omits NextMarker without a delimiter or when not truncated', () => {
    const base: ListResult = { version: 1, bucket: 'b', prefix: 'p', maxKeys: 1, isTruncated: true, contents: [entry], commonPrefixes: [], nextMarker: 'x' };
    expect(listObjectsXml(base)).not.toContain('NextMarker');
    expect(listObjectsXml({ ...base, delimiter: '/', isTruncated: false })).not.toContain('NextMarker');
    // Falls back to the page's last item when the caller did not say.
    const { nextMarker: _, ...noNext } = base;
    expect(listObjectsXml({ ...noNext, delimiter: '/', commonPrefixes: ['zzz/'] })).toContain('<NextMarker>zzz/</NextMarker>');
  });

  it('v2 with url encoding, tokens, KeyCount, StartAfter', () => {
    const r: ListResult = {
      version: 2,
      bucket: 'bucket',
      prefix: 'dir one/',
      delimiter: '/',
      maxKeys: 1000,
      encodingType: 'url',
      isTruncated: true,
      continuationToken: 'tok1',
      nextContinuationToken: 'tok2',
      startAfter: 'dir one/a+b',
      contents: [{ ...entry, key: 'dir one/100% a+b&c/ü?.txt', checksumAlgorithm: 'CRC32', storageClass: 'STANDARD', owner }],
      commonPrefixes: ['dir one/sub dir/'],
    };
    expect(listObjectsXml(r)).toBe(
      `${DECL}<ListBucketResult ${NS}><Name>bucket</Name><Prefix>dir%20one/</Prefix>` +
        '<ContinuationToken>tok1</ContinuationToken><NextContinuationToken>tok2</NextContinuationToken>' +
        '<KeyCount>2</KeyCount><MaxKeys>1000</MaxKeys><Delimiter>/</Delimiter><IsTruncated>true</IsTruncated>' +
        '<EncodingType>url</EncodingType><StartAfter>dir%20one/a%2Bb</StartAfter>' +
        '<Contents><Key>dir%20one/100%25%20a%2Bb%26c/%C3%BC%3F.txt</Key><LastModified>2009-10-12T17:50:30.000Z</LastModified>' +
        '<ETag>&quot;fba9dede5f27731c9771645a39863328&quot;</ETag><ChecksumAlgorithm>CRC32</ChecksumAlgorithm>' +
        '<Size>434234</Size><StorageClass>STANDARD</StorageClass></Contents>' +
        '<CommonPrefixes><Prefix>dir%20one/sub%20dir/</Prefix></CommonPrefixes></ListBucketResult>',
    );
  });

  it('v2 includes Owner only with fetch-owner, and no NextContinuationToken when complete', () => {
    const r: ListResult = {
      version: 2, bucket: 'b', prefix: '', maxKeys: 1000, isTruncated: false, nextContinuationToken: 'x',
      contents: [{ ...entry, owner }], commonPrefixes: [],
    };
    expect(listObjectsXml(r)).not.toContain('<Owner>');
    expect(listObjectsXml(r)).not.toContain('NextContinuationToken');
    expect(listObjectsXml(r)).toContain('<KeyCount>1</KeyCount>');
    expect(listObjectsXml({ ...r, fetchOwner: true })).toContain('<Owner><ID>abc123</ID>');
  });

  it('v1 url encoding covers Marker, NextMarker and Delimiter, not the top-level Prefix (what botocore decodes)', () => {
    const xml = listObjectsXml({
      version: 1, bucket: 'b', prefix: 'a b', delimiter: ' ', maxKeys: 1, encodingType: 'url', isTruncated: true,
      marker: 'm&n', nextMarker: 'a b c ', contents: [], commonPrefixes: ['a b c '],
    });
    expect(xml).toContain('<Prefix>a b</Prefix><Marker>m%26n</Marker><NextMarker>a%20b%20c%20</NextMarker>');
    expect(xml).toContain('<Delimiter>%20</Delimiter>');
    expect(xml).toContain('<CommonPrefixes><Prefix>a%20b%20c%20</Prefix></CommonPrefixes>');
  });

  it('round-trips through the parser, keys intact', () => {
    const keys = [`&<>"'`, ' lead', '007', 'x/y'];
    const xml = listObjectsXml({
      version: 2, bucket: 'b', prefix: '', maxKeys: 1000, isTruncated: false,
      contents: keys.map((key) => ({ ...entry, key })), commonPrefixes: [],
    });
    const parsed = parseXml(xml).ListBucketResult.Contents.map((c: any) => c.Key);
    expect(parsed).toEqual(keys);
  });
});
