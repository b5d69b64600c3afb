import { describe, expect, it } from 'vitest';
import { parseRange } from '../../src/s3/range.js';
import { err } from '../helpers/errors.js';


describe('parseRange', () => {
  it.each([
    ['bytes=0-0', 10, { start: 0, end: 0 }],
    ['bytes=0-9', 10, { start: 0, end: 9 }],
    ['bytes=2-5', 10, { start: 2, end: 5 }],
    ['bytes=9-9', 10, { start: 9, end: 9 }],
    ['bytes=5-100', 10, { start: 5, end: 9 }], // end clamps
    ['bytes=0-99999999999999999999', 10, { start: 0, end: 9 }],
    ['bytes=3-', 10, { start: 3, end: 9 }],
    ['bytes=0-', 10, { start: 0, end: 9 }],
    ['bytes=-3', 10, { start: 7, end: 9 }],
    ['bytes=-10', 10, { start: 0, end: 9 }],
    ['bytes=-100', 10, { start: 0, end: 9 }], // suffix longer than object: whole object
    ['Bytes=1-2', 10, { start: 1, end: 2 }],
    [' bytes = 1 - 2 ', 10, { start: 1, end: 2 }],
    ['bytes=8388608-16777215', 20_000_000, { start: 8388608, end: 16777215 }],
  ] as const)('%s of %i', (header, size, want) => {
    expect(parseRange(header, size)).toEqual(want);
  });

  it.each([
    [undefined],
    [''],
    ['bytes='],
    ['bytes=-'],
    ['bytes=5-2'], // last < first: invalid, not unsatisfiable
    ['bytes=0-1,3-4'], // multi-range: S3 ignores it
    ['bytes=a-b'],
    ['bytes=1.5-2'],
    ['bytes=--1'],
    ['items=0-1'],
    ['0-1'],
    ['bytes 0-1'],
    ['bytes=+1-2'],
  ])('ignores %s', (header) => {
    expect(parseRange(header, 10)).toBeUndefined();
  });

  it.each([
    ['bytes=10-', 10],
    ['bytes=10-20', 10],
    ['bytes=11-11', 10],
    ['bytes=-0', 10],
    ['bytes=0-0', 0],
    ['bytes=0-', 0],
    ['bytes=-1', 0],
    ['bytes=-0', 0],
  ] as const)('%s of %i is unsatisfiable', (header, size) => {
    const e = err(() => parseRange(header, size));
    expect(e?.code).toBe('InvalidRange');
    expect(e?.status).toBe(416);
    expect(e?.details).toEqual({ RangeRequested: header, ActualObjectSize: size });
    expect(e?.headers).toEqual({ 'Content-Range': `bytes */${size}` });
  });

  it('still ignores invalid syntax on an empty object', () => {
    expect(parseRange('bytes=5-2', 0)).toBeUndefined();
    expect(parseRange('bytes=0-1,2-3', 0)).toBeUndefined();
  });
});
