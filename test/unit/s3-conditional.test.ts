import { describe, expect, it } from 'vitest';
import { checkConditions, type ConditionalHeaders } from '../../src/s3/conditional.js';
import { S3Error } from '../../src/s3/errors.js';

const obj = { etag: '"abc123"', lastModified: new Date('2024-05-01T12:00:00.750Z') };
const BEFORE = 'Wed, 01 May 2024 11:00:00 GMT';
const SAME = 'Wed, 01 May 2024 12:00:00 GMT'; // equals lastModified truncated to the second
const AFTER = 'Wed, 01 May 2024 13:00:00 GMT';

function outcome(h: ConditionalHeaders, mode: 'read' | 'copy' = 'read'): string {
  try {
    checkConditions(h, obj, mode);
    return '200';
  } catch (e) {
    if (!(e instanceof S3Error)) throw e;
    return e.code === 'NotModified' ? '304' : e.code === 'PreconditionFailed' ? `412 ${e.details.Condition}` : e.code;
  }
}

describe('checkConditions: single headers', () => {
  it.each<[ConditionalHeaders, string]>([
    [{}, '200'],
    [{ ifMatch: '"abc123"' }, '200'],
    [{ ifMatch: 'abc123' }, '200'],
    [{ ifMatch: '*' }, '200'],
    [{ ifMatch: '"x", "abc123"' }, '200'],
    [{ ifMatch: 'W/"abc123"' }, '200'],
    [{ ifMatch: '"other"' }, '412 If-Match'],
    [{ ifMatch: '"x","y"' }, '412 If-Match'],
    [{ ifNoneMatch: '"abc123"' }, '304'],
    [{ ifNoneMatch: '*' }, '304'],
    [{ ifNoneMatch: '"x", abc123' }, '304'],
    [{ ifNoneMatch: '"other"' }, '200'],
    [{ ifModifiedSince: BEFORE }, '200'],
    [{ ifModifiedSince: SAME }, '304'],
    [{ ifModifiedSince: AFTER }, '304'],
    [{ ifUnmodifiedSince: BEFORE }, '412 If-Unmodified-Since'],
    [{ ifUnmodifiedSince: SAME }, '200'],
    [{ ifUnmodifiedSince: AFTER }, '200'],
    [{ ifModifiedSince: 'not a date' }, '200'],
    [{ ifUnmodifiedSince: 'garbage' }, '200'],
    [{ ifModifiedSince: '2024-05-01T12:00:00Z' }, '304'], // ISO dates parse too
  ])('%j -> %s', (h, want) => {
    expect(outcome(h)).toBe(want);
  });
});

describe('checkConditions: S3 documented combinations', () => {
  it.each<[string, ConditionalHeaders, string]>([
    // If-Match true + If-Unmodified-Since false -> 200 (S3 GetObject/HeadObject docs)
    ['If-Match true, If-Unmodified-Since false', { ifMatch: '"abc123"', ifUnmodifiedSince: BEFORE }, '200'],
    ['If-Match false, If-Unmodified-Since true', { ifMatch: '"x"', ifUnmodifiedSince: AFTER }, '412 If-Match'],
    ['If-Match false, If-Unmodified-Since false', { ifMatch: '"x"', ifUnmodifiedSince: BEFORE }, '412 If-Match'],
    // If-None-Match false (it matches) + If-Modified-Since true -> 304
    ['If-None-Match false, If-Modified-Since true', { ifNoneMatch: '"abc123"', ifModifiedSince: BEFORE }, '304'],
    // If-None-Match true (no match) -> If-Modified-Since is not consulted
    ['If-None-Match true, If-Modified-Since false', { ifNoneMatch: '"x"', ifModifiedSince: AFTER }, '200'],
    ['If-None-Match true, If-Modified-Since true', { ifNoneMatch: '"x"', ifModifiedSince: BEFORE }, '200'],
    // 412 conditions win over 304 conditions
    ['If-Match false, If-None-Match false', { ifMatch: '"x"', ifNoneMatch: '"abc123"' }, '412 If-Match'],
    ['If-Unmodified-Since false, If-Modified-Since false', { ifUnmodifiedSince: BEFORE, ifModifiedSince: AFTER }, '412 If-Unmodified-Since'],
    ['If-Match true, If-None-Match false', { ifMatch: '"abc123"', ifNoneMatch: '"abc123"' }, '304'],
    ['If-Match true, If-Modified-Since false', { ifMatch: '"abc123"', ifModifiedSince: AFTER }, '304'],
    ['all four true', { ifMatch: '"abc123"', ifUnmodifiedSince: AFTER, ifNoneMatch: '"x"', ifModifiedSince: BEFORE }, '200'],
    // The aws CLI's ranged GETs echo the HEAD ETag in If-Match.
    ['aws CLI ranged If-Match', { ifMatch: '"abc123"' }, '200'],
  ])('%s', (_name, h, want) => {
    expect(outcome(h)).toBe(want);
  });
});

describe('checkConditions: copy source', () => {
  it.each<[ConditionalHeaders, string]>([
    [{ ifMatch: '"abc123"' }, '200'],
    [{ ifMatch: '"x"' }, '412 x-amz-copy-source-If-Match'],
    [{ ifUnmodifiedSince: BEFORE }, '412 x-amz-copy-source-If-Unmodified-Since'],
    [{ ifMatch: '"abc123"', ifUnmodifiedSince: BEFORE }, '200'],
    [{ ifNoneMatch: '"abc123"' }, '412 x-amz-copy-source-If-None-Match'],
    [{ ifModifiedSince: AFTER }, '412 x-amz-copy-source-If-Modified-Since'],
    // CopyObject docs: If-None-Match false + If-Modified-Since true -> 412
    [{ ifNoneMatch: '"abc123"', ifModifiedSince: BEFORE }, '412 x-amz-copy-source-If-None-Match'],
    [{ ifNoneMatch: '"x"', ifModifiedSince: AFTER }, '200'],
  ])('%j -> %s', (h, want) => {
    expect(outcome(h, 'copy')).toBe(want);
  });
});
