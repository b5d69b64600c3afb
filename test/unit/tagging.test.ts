import { describe, expect, it } from 'vitest';
import { decodeTags, encodeTags, parseTagging, parseTaggingHeader, taggingHeaderValue, taggingXml, validateTagSet, type TagSet } from '../../src/s3/tagging.js';
import { err } from '../helpers/errors.js';

// src/s3/tagging.ts alone: S3's limits in S3's order, the Tagging document both ways, the
// x-amz-tagging header form, the stored form.

const tags = (n: number): TagSet => Array.from({ length: n }, (_, i) => [`k${i}`, `v${i}`]);
const doc = (inner: string) => `<Tagging><TagSet>${inner}</TagSet></Tagging>`;
const tag = (k: string, v: string) => `<Tag><Key>${k}</Key><Value>${v}</Value></Tag>`;

describe('validateTagSet', () => {
  it('takes up to 10 object tags and 50 bucket tags; more is BadRequest (object) or InvalidTag (bucket), as S3', () => {
    expect(validateTagSet(tags(10), 'object')).toHaveLength(10);
    expect(err(() => validateTagSet(tags(11), 'object'))).toMatchObject({ code: 'BadRequest', status: 400 });
    expect(validateTagSet(tags(50), 'bucket')).toHaveLength(50);
    expect(err(() => validateTagSet(tags(51), 'bucket'))?.code).toBe('InvalidTag');
  });
  it('counts Unicode characters, not bytes: key 1-128, value 0-256', () => {
    expect(validateTagSet([['é'.repeat(128), 'ü'.repeat(256)]], 'object')).toHaveLength(1);
    expect(err(() => validateTagSet([['é'.repeat(129), 'v']], 'object'))?.code).toBe('InvalidTag');
    expect(err(() => validateTagSet([['k', 'ü'.repeat(257)]], 'object'))?.code).toBe('InvalidTag');
    expect(err(() => validateTagSet([['', 'v']], 'object'))?.code).toBe('InvalidTag');
    expect(validateTagSet([['k', '']], 'object')).toEqual([['k', '']]);
  });
  it('refuses the aws: prefix in any case, characters outside the tag alphabet and duplicate keys', () => {
    for (const key of ['aws:x', 'AWS:x', 'Aws:']) expect(err(() => validateTagSet([[key, 'v']], 'object'))?.code, key).toBe('InvalidTag');
    expect(validateTagSet([['awsx', 'v'], ['a b_.:/=+-@', 'Ünïcode 1']], 'object')).toHaveLength(2);
    for (const bad of ['a<b', 'a"b', 'a\u0000b', 'a*b']) expect(err(() => validateTagSet([[bad, 'v']], 'object'))?.code, bad).toBe('InvalidTag');
    expect(err(() => validateTagSet([['k', 'a&b']], 'object'))?.code).toBe('InvalidTag');
    expect(err(() => validateTagSet([['k', '1'], ['k', '2']], 'object'))?.message).toMatch(/same key/);
  });
  it('checks each tag before the count, as S3 (11 tags with a bad one: InvalidTag)', () => {
    expect(err(() => validateTagSet([...tags(10), ['aws:x', 'v']], 'object'))?.code).toBe('InvalidTag');
  });
});

describe('the Tagging document', () => {
  it('parses tags in order; an empty TagSet is no tags', () => {
    expect(parseTagging(doc(tag('b', '2') + tag('a', '')), 'object')).toEqual([['b', '2'], ['a', '']]);
    expect(parseTagging(doc(''), 'object')).toEqual([]);
    expect(parseTagging('<Tagging><TagSet/></Tagging>', 'bucket')).toEqual([]);
    expect(parseTagging(`<?xml version="1.0" encoding="UTF-8"?><Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${'<TagSet>' + tag('k', 'v') + '</TagSet>'}</Tagging>`, 'object')).toEqual([['k', 'v']]);
  });
  it('MalformedXML for what is no Tagging document', () => {
    for (const bad of [
      '',
      'not xml',
      '<Tagging/>',
      '<Other><TagSet/></Other>',
      doc('<Tag><Key>k</Key></Tag>'),
      doc('<Tag><Value>v</Value></Tag>'),
      doc('<Tag><Key>k</Key><Key>j</Key><Value>v</Value></Tag>'),
      doc('<Tag><Key>k</Key><Value>v</Value><Extra/></Tag>'),
      '<Tagging><TagSet></TagSet><TagSet></TagSet></Tagging>',
      '<Tagging><TagSet>text</TagSet></Tagging>',
    ]) {
      expect(err(() => parseTagging(bad, 'object'))?.code, bad).toBe('MalformedXML');
    }
  });
  it('applies the limits of its target', () => {
    const eleven = doc(tags(11).map(([k, v]) => tag(k, v)).join(''));
    expect(err(() => parseTagging(eleven, 'object'))?.code).toBe('BadRequest');
    expect(parseTagging(eleven, 'bucket')).toHaveLength(11);
  });
  it('writes GetObjectTagging\'s answer and reads it back', () => {
    const set: TagSet = [['a b/c', 'x=y+z'], ['k', '']];
    const xml = taggingXml(set);
    expect(xml).toContain('<Tag><Key>a b/c</Key><Value>x=y+z</Value></Tag>');
    expect(parseTagging(xml, 'object')).toEqual(set);
  });
});

describe('the x-amz-tagging header', () => {
  it('is URL-encoded k=v pairs; a key alone has an empty value; + is a space', () => {
    expect(parseTaggingHeader('a=1&b=&c&sp+ace=x%2By%3Dz')).toEqual([['a', '1'], ['b', ''], ['c', ''], ['sp ace', 'x+y=z']]);
    expect(parseTaggingHeader('')).toEqual([]);
  });
  it('InvalidArgument naming the header for a bad escape or a repeated key; the limits otherwise', () => {
    for (const bad of ['a=%ZZ', 'a=1&a=2', '%E9=1']) {
      expect(err(() => parseTaggingHeader(bad)), bad).toMatchObject({ code: 'InvalidArgument', details: { ArgumentName: 'x-amz-tagging' } });
    }
    expect(err(() => parseTaggingHeader(tags(11).map(([k, v]) => `${k}=${v}`).join('&')))?.code).toBe('BadRequest');
    expect(err(() => parseTaggingHeader('aws:k=v'))?.code).toBe('InvalidTag');
  });
  it('taggingHeaderValue writes what parseTaggingHeader reads', () => {
    const set: TagSet = [['a b', 'x=y+z'], ['é', '']];
    expect(parseTaggingHeader(taggingHeaderValue(set))).toEqual(set);
  });
});

describe('the stored form', () => {
  it('is JSON, null for no tags', () => {
    expect(encodeTags(undefined)).toBeNull();
    expect(encodeTags([])).toBeNull();
    expect(decodeTags(encodeTags([['k', 'v']]))).toEqual([['k', 'v']]);
    expect(decodeTags(null)).toEqual([]);
  });
});
