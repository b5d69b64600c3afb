// Range header (RFC 7233 as S3 applies it: one range only, anything unparsable ignored).

import { S3Error } from './errors.js';

/**
 * Parses a Range header against the object size. Returns undefined for absent or
 * syntactically invalid/multi-range headers (S3 ignores those and returns 200 whole).
 * Unsatisfiable -> InvalidRange (416) carrying `Content-Range: bytes *\/size`.
 * Forms: 'bytes=a-b', 'bytes=a-', 'bytes=-n'; end clamps to size-1. Nothing is
 * satisfiable on an empty object, so any valid range on size 0 is a 416 (S3 does the
 * same; clients that range-GET small objects must handle it).
 */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | undefined {
  if (header === undefined) return undefined;
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!m) return undefined;
  const [, a = '', b = ''] = m;
  if (a === '' && b === '') return undefined;

  const unsatisfiable = () =>
    new S3Error('InvalidRange', { RangeRequested: header, ActualObjectSize: size }, undefined, {
      'Content-Range': `bytes */${size}`,
    });

  if (a === '') {
    // Suffix range: the last n bytes; n = 0 asks for nothing, which cannot be satisfied.
    const n = Number(b);
    if (n === 0 || size === 0) throw unsatisfiable();
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(a);
  if (b !== '') {
    const last = Number(b);
    // last < first makes the whole header invalid, not unsatisfiable (RFC 7233 2.1). Compared as
    // digit strings: past 2^53 Number() rounds two different positions to the same value.
    if (compareDigits(b, a) < 0) return undefined;
    if (start >= size) throw unsatisfiable();
    return { start, end: Math.min(last, size - 1) };
  }
  if (start >= size) throw unsatisfiable();
  return { start, end: size - 1 };
}

/** Compares two non-negative decimal integers of any length. */
function compareDigits(x: string, y: string): number {
  const a = x.replace(/^0+(?=\d)/, '');
  const b = y.replace(/^0+(?=\d)/, '');
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}
