import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDb, type OpenedDb } from '../../src/db/client.js';
import { KeysRepository, KeyValidationError, type Grant } from '../../src/db/keys-repository.js';

function validationError(fn: () => unknown): KeyValidationError {
  try {
    fn();
  } catch (e) {
    if (e instanceof KeyValidationError) return e;
    throw e;
  }
  throw new Error('expected a KeyValidationError');
}

describe('KeysRepository', () => {
  let dir: string;
  let db: OpenedDb;
  let keys: KeysRepository;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-keys-'));
    db = openDb(path.join(dir, 'cairn.db'), { durability: 'relaxed' });
    keys = new KeysRepository(db.db);
  });
  afterEach(() => {
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('creates a key with an AWS-shaped id, a 40-character secret and sorted grants', () => {
    const before = Date.now();
    const k = keys.create({
      description: 'backup job',
      grants: [
        { bucket: 'photos', permission: 'write' },
        { bucket: 'archive', permission: 'read' },
      ],
    });
    expect(k.id).toMatch(/^CK[A-Z0-9]{18}$/);
    expect(k.secret).toHaveLength(40);
    expect(k.secret).toMatch(/^[A-Za-z0-9]{40}$/);
    expect(k.description).toBe('backup job');
    expect(Date.parse(k.createdAt)).toBeGreaterThanOrEqual(before - 1);
    expect(new Date(k.createdAt).toISOString()).toBe(k.createdAt);
    expect(k.grants).toEqual([
      { bucket: 'archive', permission: 'read' },
      { bucket: 'photos', permission: 'write' },
    ]);
    expect(keys.secretFor(k.id)).toBe(k.secret);
    const got = keys.get(k.id);
    expect(got).toEqual({ id: k.id, accountId: k.accountId, description: 'backup job', createdAt: k.createdAt, grants: k.grants });
    expect(k.accountId).toMatch(/^[0-9a-f]{64}$/);
    expect(got).not.toHaveProperty('secret');
  });

  it('gives every key a different id and secret; description defaults to empty', () => {
    const made = Array.from({ length: 20 }, () => keys.create({ grants: [{ bucket: '*', permission: 'read' }] }));
    expect(new Set(made.map((k) => k.id)).size).toBe(20);
    expect(new Set(made.map((k) => k.secret)).size).toBe(20);
    expect(made.every((k) => k.description === '')).toBe(true);
  });

  it('lists keys oldest first with their grants and no secrets', () => {
    expect(keys.list()).toEqual([]);
    const a = keys.create({ description: 'a', grants: [{ bucket: '*', permission: 'write' }] });
    const b = keys.create({ description: 'b', grants: [{ bucket: 'bkt', permission: 'read' }, { bucket: 'other', permission: 'write' }] });
    const list = keys.list();
    expect(list.map((k) => k.id).sort()).toEqual([a.id, b.id].sort());
    const byId = new Map(list.map((k) => [k.id, k]));
    expect(byId.get(a.id)?.grants).toEqual([{ bucket: '*', permission: 'write' }]);
    expect(byId.get(b.id)?.grants).toEqual([
      { bucket: 'bkt', permission: 'read' },
      { bucket: 'other', permission: 'write' },
    ]);
    for (const k of list) expect(k).not.toHaveProperty('secret');
    // Oldest first (ties on the same millisecond broken by id).
    const times = list.map((k) => Date.parse(k.createdAt));
    expect([...times].sort((x, y) => x - y)).toEqual(times);
  });

  it('revokes a key and its grants', () => {
    const a = keys.create({ grants: [{ bucket: 'bkt', permission: 'write' }] });
    const b = keys.create({ grants: [{ bucket: 'bkt', permission: 'read' }] });
    expect(keys.revoke(a.id)).toBe(true);
    expect(keys.get(a.id)).toBeUndefined();
    expect(keys.secretFor(a.id)).toBeUndefined();
    expect(keys.list().map((k) => k.id)).toEqual([b.id]);
    const left = db.sqlite.prepare('SELECT access_key_id FROM key_grants').all() as Array<{ access_key_id: string }>;
    expect(left.map((r) => r.access_key_id)).toEqual([b.id]);
    expect(keys.revoke(a.id)).toBe(false);
    expect(keys.revoke('CKNOSUCHKEY000000000')).toBe(false);
  });

  it('returns undefined for unknown ids', () => {
    expect(keys.get('CKNOSUCHKEY000000000')).toBeUndefined();
    expect(keys.secretFor('CKNOSUCHKEY000000000')).toBeUndefined();
    expect(keys.secretFor('')).toBeUndefined();
  });

  describe('validation', () => {
    const cases: Array<[string, unknown, string]> = [
      ['not an array', 'bkt:read', 'grants'],
      ['empty', [], 'grants'],
      ['null entry', [null], 'grants[0]'],
      ['missing bucket', [{ permission: 'read' }], 'grants[0].bucket'],
      ['invalid bucket name', [{ bucket: 'Bad_Name', permission: 'read' }], 'grants[0].bucket'],
      ['too short bucket', [{ bucket: 'ab', permission: 'read' }], 'grants[0].bucket'],
      ['wildcard pattern', [{ bucket: 'logs-*', permission: 'read' }], 'grants[0].bucket'],
      ['empty bucket', [{ bucket: '', permission: 'read' }], 'grants[0].bucket'],
      ['bad permission', [{ bucket: 'bkt', permission: 'admin' }], 'grants[0].permission'],
      ['upper-case permission', [{ bucket: 'bkt', permission: 'READ' }], 'grants[0].permission'],
      ['missing permission', [{ bucket: 'bkt' }], 'grants[0].permission'],
      ['duplicate bucket', [{ bucket: 'bkt', permission: 'read' }, { bucket: 'bkt', permission: 'write' }], 'grants[1].bucket'],
    ];
    it.each(cases)('rejects grants: %s', (_name, grants, field) => {
      const e = validationError(() => keys.create({ grants: grants as Grant[] }));
      expect(e.field).toBe(field);
      expect(e.message).toMatch(/\S/);
      expect(keys.list()).toEqual([]);
    });

    it('rejects a description that is not a short string', () => {
      expect(validationError(() => keys.create({ description: 42 as unknown as string, grants: [{ bucket: '*', permission: 'read' }] })).field).toBe('description');
      expect(validationError(() => keys.create({ description: 'x'.repeat(257), grants: [{ bucket: '*', permission: 'read' }] })).field).toBe('description');
      expect(keys.list()).toEqual([]);
    });

    it("accepts '*' and every valid bucket name", () => {
      const k = keys.create({
        grants: [
          { bucket: '*', permission: 'read' },
          { bucket: 'my.bucket-1', permission: 'write' },
          { bucket: 'a'.repeat(63), permission: 'read' },
        ],
      });
      expect(k.grants.map((g) => g.bucket)).toEqual(['*', 'a'.repeat(63), 'my.bucket-1']);
    });
  });
});
