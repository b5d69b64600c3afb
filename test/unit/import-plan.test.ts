// What `cairn migrate-metadata` copies (src/db/pg/import-plan.ts): every table of the schema but
// the runtime ones, parents before children, and each SQLite value converted or refused.
import { describe, expect, it } from 'vitest';
import { getTableConfig, PgTable } from 'drizzle-orm/pg-core';
import { is } from 'drizzle-orm';
import * as pgSchema from '../../src/db/pg/schema.js';
import { convertValue, copyPlan, SKIPPED_TABLES } from '../../src/db/pg/import-plan.js';
import { rowDigest } from '../../src/db/pg/import-verify.js';

describe('the copy plan', () => {
  const plans = copyPlan();

  it('holds every table but the runtime state, each once', () => {
    const all = (Object.values(pgSchema) as unknown[]).filter((t): t is PgTable => is(t, PgTable)).map((t) => getTableConfig(t).name);
    expect(plans.map((p) => p.name).sort()).toEqual(all.filter((n) => !SKIPPED_TABLES.has(n)).sort());
  });

  it('puts every table after the tables it references', () => {
    const at = new Map(plans.map((p, i) => [p.name, i]));
    for (const p of plans) for (const parent of p.parents) expect(at.get(parent)!, `${parent} before ${p.name}`).toBeLessThan(at.get(p.name)!);
    expect(plans.find((p) => p.name === 'objects')!.serial).toBe('id');
    expect(plans.find((p) => p.name === 'object_chunks')!.primaryKey).toEqual(['object_id', 'seq']);
  });
});

describe('converting SQLite values', () => {
  const col = (kind: 'int' | 'bool' | 'text' | 'bytes', notNull = true) => ({ name: 'c', kind, notNull });

  it('keeps integers, turns 0/1 into booleans and keeps blobs', () => {
    expect(convertValue('t', col('int'), 2 ** 40)).toBe(2 ** 40);
    expect(convertValue('t', col('int'), 7n)).toBe(7);
    expect(convertValue('t', col('bool'), 1)).toBe(true);
    expect(convertValue('t', col('bool'), 0)).toBe(false);
    expect(convertValue('t', col('bytes'), Buffer.from('ab'))).toEqual(Buffer.from('ab'));
    expect(convertValue('t', col('text', false), null)).toBeNull();
  });

  it('refuses what it would have to guess at', () => {
    expect(() => convertValue('t', col('bool'), 2)).toThrow(/0 or 1/);
    expect(() => convertValue('t', col('int'), '12')).toThrow(/an integer/);
    expect(() => convertValue('t', col('int'), 1.5)).toThrow(/an integer/);
    expect(() => convertValue('t', col('text'), Buffer.from('x'))).toThrow(/blob where text/);
    expect(() => convertValue('objects', { name: 'key', kind: 'text', notNull: true }, 'a\u0000b')).toThrow(/objects.key holds a NUL/);
    expect(() => convertValue('t', col('text'), null)).toThrow(/NOT NULL/);
  });
});

describe('the verification digest', () => {
  it('is engine-neutral: a boolean and its 0/1 digest alike', () => {
    expect(rowDigest([1, 'k', true])).toBe(rowDigest([1, 'k', 1]));
  });

  it('tells apart values that print alike', () => {
    expect(rowDigest([null])).not.toBe(rowDigest(['']));
    expect(rowDigest(['ab', 'c'])).not.toBe(rowDigest(['a', 'bc']));
    expect(rowDigest([1])).not.toBe(rowDigest(['1']));
    expect(rowDigest([Buffer.from('x')])).not.toBe(rowDigest(['x']));
  });
});
