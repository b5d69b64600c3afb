import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { S3Error } from '../../src/s3/errors.js';
import { errorXml, escapeXml, listObjectsXml, parseCreateBucketConfiguration, parseDeleteObjects, parseXml } from '../../src/s3/xml.js';
import { parseCompleteMultipartUpload } from '../../src/s3/multipart-xml.js';
import { fuzzParams, fuzzTimeout } from './fuzz-params.js';

// Property-based fuzzing of the XML parsers (request bodies) and builders (responses): a body
// either parses or is MalformedXML, never another exception; whatever S3 lets a key hold
// survives escaping and parsing unchanged; entity references never expand beyond one
// character each; responses stay well-formed for any key.

/** Characters XML 1.0 can carry (the Char production), as any key made of them must round-trip. */
const xmlChar = fc.oneof(
  { weight: 6, arbitrary: fc.string({ unit: 'grapheme-ascii', maxLength: 1 }).filter((s) => s.length === 1) },
  { weight: 2, arbitrary: fc.constantFrom('\t', '\n', '\r', ' ', '&', '<', '>', '"', "'", ';', '#', '%', '+', '/', '\\', ']]>', '&amp;', '&#65;', '<!--', '-->', '<![CDATA[') },
  { weight: 2, arbitrary: fc.integer({ min: 0xa0, max: 0xd7ff }).map((c) => String.fromCodePoint(c)) },
  { weight: 1, arbitrary: fc.integer({ min: 0x10000, max: 0x10ffff }).map((c) => String.fromCodePoint(c)) },
  { weight: 1, arbitrary: fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '0', '1e3', 'true', 'null', '-0', '0x10') },
);
const xmlText = fc.array(xmlChar, { maxLength: 30 }).map((a) => a.join(''));
const key = xmlText.filter((k) => k.length > 0);

function outcome(fn: () => unknown): { value?: unknown; code?: string } {
  try {
    return { value: fn() };
  } catch (err) {
    expect(err, String(err)).toBeInstanceOf(S3Error);
    return { code: (err as S3Error).code };
  }
}

/** Random XML-ish text: tags, entities, declarations, CDATA, comments and stray characters. */
const xmlish = fc
  .array(
    fc.oneof(
      fc.constantFrom('<Delete>', '</Delete>', '<Object>', '</Object>', '<Key>', '</Key>', '<Quiet>', '</Quiet>', '<CompleteMultipartUpload>', '</CompleteMultipartUpload>', '<Part>', '</Part>', '<PartNumber>', '</PartNumber>', '<ETag>', '</ETag>', '<CreateBucketConfiguration>', '</CreateBucketConfiguration>', '<LocationConstraint>', '</LocationConstraint>'),
      fc.constantFrom('<?xml version="1.0"?>', '<!DOCTYPE x>', '<!ENTITY a "b">', '<![CDATA[', ']]>', '<!--', '-->', '<a/>', '<a b="c">', '</a>', '<x:y xmlns:x="u">', '</x:y>', '<Key attr=">">', '<__proto__>', '</__proto__>', '<constructor>', '</constructor>'),
      fc.constantFrom('&amp;', '&lt;', '&quot;', '&#34;', '&#x22;', '&#0;', '&#x110000;', '&#65', '&lol;', '&', '<', '>', '"', "'", '\u0000', '\uffff', '\ud800'),
      fc.string({ maxLength: 8 }),
    ),
    { maxLength: 40 },
  )
  .map((a) => a.join(''));

describe('XML parsers (fast-check)', () => {
  it('any body parses or is MalformedXML; never another exception', () => {
    fc.assert(
      fc.property(fc.oneof(xmlish, fc.string({ maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 200 })), (body) => {
        for (const parse of [parseXml, parseDeleteObjects, parseCompleteMultipartUpload, parseCreateBucketConfiguration] as Array<(s: string) => unknown>) {
          const r = outcome(() => parse(body));
          if (r.code !== undefined && parse !== parseCreateBucketConfiguration) expect(r.code).toBe('MalformedXML');
        }
      }),
      fuzzParams(3000),
    );
  }, fuzzTimeout(60_000));

  it('DeleteObjects: every key survives escaping and parsing unchanged, in order', () => {
    fc.assert(
      fc.property(fc.array(key, { minLength: 1, maxLength: 20 }), fc.boolean(), fc.boolean(), (keys, quiet, decl) => {
        const xml = `${decl ? '<?xml version="1.0" encoding="UTF-8"?>\n' : ''}<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${quiet ? '<Quiet>true</Quiet>' : ''}${keys.map((k) => `<Object><Key>${escapeXml(k)}</Key></Object>`).join('')}</Delete>`;
        const r = parseDeleteObjects(xml);
        expect(r.keys).toEqual(keys.map((k) => ({ key: k })));
        expect(r.quiet).toBe(quiet);
      }),
      fuzzParams(1500),
    );
  }, fuzzTimeout(60_000));

  it('CompleteMultipartUpload: part numbers and ETags in the four spellings clients send', () => {
    const etag = fc.stringMatching(/^[0-9a-f]{32}(-[0-9]{1,5})?$/);
    const spelling = fc.constantFrom((e: string) => `"${e}"`, (e: string) => `&quot;${e}&quot;`, (e: string) => `&#34;${e}&#34;`, (e: string) => e, (e: string) => `&#x22;${e}&#x22;`);
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 1, max: 10000 }), etag, spelling, fc.constantFrom('', ' ', '\n  ')), { minLength: 1, maxLength: 30 }), (parts) => {
        const xml = `<CompleteMultipartUpload>${parts.map(([n, e, sp, ws]) => `<Part>${ws}<PartNumber>${n}</PartNumber>${ws}<ETag>${sp(e)}</ETag>${ws}</Part>`).join('')}</CompleteMultipartUpload>`;
        expect(parseCompleteMultipartUpload(xml)).toEqual(parts.map(([n, e]) => ({ partNumber: n, etag: e, checksums: {} })));
      }),
      fuzzParams(1000),
    );
  }, fuzzTimeout(60_000));

  it('a numeric character reference is one character: n references, n characters, linear time', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20_000 }), fc.constantFrom('&#65;', '&#x41;', '&#x1F600;', '&amp;', '&lt;'), (n, ref) => {
        const r = parseDeleteObjects(`<Delete><Object><Key>${ref.repeat(n)}</Key></Object></Delete>`);
        expect([...r.keys[0]!.key].length).toBe(n);
      }),
      fuzzParams(60),
    );
  }, fuzzTimeout(60_000));

  it('anything declaring a DTD or an entity is MalformedXML, wherever it sits', () => {
    const decl = fc.constantFrom('<!DOCTYPE Delete>', '<!doctype Delete [<!ENTITY a "b">]>', '<!ENTITY a "b">', '<!DOCTYPE Delete SYSTEM "file:///etc/passwd">', '<!DocType Delete [ <!ENTITY % p SYSTEM "http://x/"> %p; ]>');
    fc.assert(
      fc.property(decl, fc.nat({ max: 3 }), key, (d, where, k) => {
        const parts = ['<?xml version="1.0"?>', '<Delete>', `<Object><Key>${escapeXml(k)}</Key></Object>`, '</Delete>'];
        parts.splice(where, 0, d);
        expect(outcome(() => parseDeleteObjects(parts.join(''))).code).toBe('MalformedXML');
      }),
      fuzzParams(500),
    );
  });
});

describe('XML builders (fast-check)', () => {
  it('a listing of any keys is a document whose keys parse back unchanged (and URL-decoded with encoding-type=url)', () => {
    fc.assert(
      fc.property(fc.uniqueArray(key, { minLength: 1, maxLength: 10 }), fc.boolean(), (keys, url) => {
        const xml = listObjectsXml({
          version: 2,
          bucket: 'b',
          prefix: [...keys[0]!].slice(0, 1).join(''),
          maxKeys: 1000,
          encodingType: url ? 'url' : undefined,
          isTruncated: false,
          contents: keys.map((k) => ({ key: k, lastModified: new Date(0), etag: '"e"', size: 1 })),
          commonPrefixes: [],
        });
        const doc = parseXml(xml.replace(/<\?xml[^>]*\?>/, ''));
        const contents = [doc.ListBucketResult.Contents].flat();
        const parsed = contents.map((c: { Key: string }) => (url ? decodeURIComponent(c.Key) : c.Key));
        expect(parsed).toEqual(keys);
      }),
      fuzzParams(800),
    );
  }, fuzzTimeout(60_000));

  it('any key, control characters included, is escaped: no raw markup or C0 character reaches the document', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (k) => {
        const xml = errorXml({ code: 'NoSuchKey', message: 'm', requestId: 'R', resource: `/b/${k}`, details: { Key: k } });
        const body = xml.slice(xml.indexOf('<Error>'));
        // Only the markup we wrote: every '<' starts one of our tags.
        expect(body.replace(/<\/?(Error|Code|Message|Key|Resource|RequestId|HostId)>/g, '')).not.toMatch(/[<>]/);
        expect(body).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/);
      }),
      fuzzParams(1500),
    );
  });
});
