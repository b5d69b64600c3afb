import { randomBytes, randomInt } from 'node:crypto';
import { asc, eq } from 'drizzle-orm';
import type { Db } from './client.js';
import { accessKeys, keyGrants } from './schema.js';
import { validateBucketName } from '../s3/names.js';

// Access keys besides the root pair (docs/admin-contract.md). The S3 layer asks secretFor() to
// verify signatures and get() for the grants, on every request: a revoked key stops at once.

import type { AccessKeyInfo, Grant } from '../store/types.js';

export type { AccessKeyInfo, Grant, Permission } from '../store/types.js';

/** Bad input to create(): `field` names it (e.g. 'grants[1].bucket'), for a 400 from the admin API. */
export class KeyValidationError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'KeyValidationError';
  }
}

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
export const MAX_DESCRIPTION_LENGTH = 256;

/** 'CK' + 18 uppercase letters/digits: the shape of an AWS access key id (20 characters). */
export function newAccessKeyId(): string {
  let id = 'CK';
  for (let i = 0; i < 18; i++) id += ID_ALPHABET[randomInt(ID_ALPHABET.length)];
  return id;
}

/** 40 characters from 30 random bytes (240 bits), base64 without '+' and '/' like the root secret. */
export function newSecret(): string {
  return randomBytes(30).toString('base64').replace(/[+/]/g, (c) => (c === '+' ? 'x' : 'y'));
}

/** Checks grants given as untrusted JSON; throws KeyValidationError. Returns them sorted by bucket. */
export function validateGrants(grants: unknown): Grant[] {
  if (!Array.isArray(grants)) throw new KeyValidationError('grants', 'grants must be an array of { bucket, permission }');
  if (grants.length === 0) throw new KeyValidationError('grants', 'a key needs at least one grant');
  const seen = new Set<string>();
  const out: Grant[] = [];
  grants.forEach((g: unknown, i) => {
    const field = `grants[${i}]`;
    if (typeof g !== 'object' || g === null) throw new KeyValidationError(field, `${field} must be an object { bucket, permission }`);
    const { bucket, permission } = g as Record<string, unknown>;
    if (typeof bucket !== 'string') throw new KeyValidationError(`${field}.bucket`, `${field}.bucket must be a bucket name or '*'`);
    if (bucket !== '*') {
      try {
        validateBucketName(bucket);
      } catch {
        throw new KeyValidationError(`${field}.bucket`, `${field}.bucket: '${bucket}' is not a valid bucket name (or '*')`);
      }
    }
    if (permission !== 'read' && permission !== 'write') {
      throw new KeyValidationError(`${field}.permission`, `${field}.permission must be 'read' or 'write'`);
    }
    if (seen.has(bucket)) throw new KeyValidationError(`${field}.bucket`, `${field}.bucket: '${bucket}' is granted more than once`);
    seen.add(bucket);
    out.push({ bucket, permission });
  });
  return out.sort((a, b) => (a.bucket < b.bucket ? -1 : a.bucket > b.bucket ? 1 : 0));
}

type KeyRow = typeof accessKeys.$inferSelect;

export class KeysRepository {
  constructor(readonly db: Db) {}

  /** Creates a key with a new id and secret. The secret is returned here and by secretFor() only. */
  create(opts: { description?: string; grants: Grant[] }): AccessKeyInfo & { secret: string } {
    const description = opts.description ?? '';
    if (typeof description !== 'string') throw new KeyValidationError('description', 'description must be a string');
    if (description.length > MAX_DESCRIPTION_LENGTH) {
      throw new KeyValidationError('description', `description is longer than ${MAX_DESCRIPTION_LENGTH} characters`);
    }
    const grants = validateGrants(opts.grants);
    const row: KeyRow = { id: newAccessKeyId(), secret: newSecret(), description, createdAt: Date.now() };
    this.db.transaction((tx) => {
      tx.insert(accessKeys).values(row).run();
      tx.insert(keyGrants)
        .values(grants.map((g) => ({ accessKeyId: row.id, bucket: g.bucket, permission: g.permission })))
        .run();
    }, { behavior: 'immediate' });
    return { ...info(row, grants), secret: row.secret };
  }

  /** Every key, oldest first, without secrets. */
  list(): AccessKeyInfo[] {
    const rows = this.db.select().from(accessKeys).orderBy(asc(accessKeys.createdAt), asc(accessKeys.id)).all();
    const byKey = new Map<string, Grant[]>();
    for (const g of this.db.select().from(keyGrants).orderBy(asc(keyGrants.bucket)).all()) {
      let list = byKey.get(g.accessKeyId);
      if (!list) byKey.set(g.accessKeyId, (list = []));
      list.push({ bucket: g.bucket, permission: g.permission });
    }
    return rows.map((r) => info(r, byKey.get(r.id) ?? []));
  }

  get(id: string): AccessKeyInfo | undefined {
    const row = this.db.select().from(accessKeys).where(eq(accessKeys.id, id)).get();
    if (!row) return undefined;
    const grants = this.db
      .select({ bucket: keyGrants.bucket, permission: keyGrants.permission })
      .from(keyGrants)
      .where(eq(keyGrants.accessKeyId, id))
      .orderBy(asc(keyGrants.bucket))
      .all();
    return info(row, grants);
  }

  secretFor(id: string): string | undefined {
    return this.db.select({ secret: accessKeys.secret }).from(accessKeys).where(eq(accessKeys.id, id)).get()?.secret;
  }

  /** Deletes the key and its grants; false when there was no such key. */
  revoke(id: string): boolean {
    return this.db.transaction((tx) => {
      // The foreign key cascades too; deleting explicitly does not depend on PRAGMA foreign_keys.
      tx.delete(keyGrants).where(eq(keyGrants.accessKeyId, id)).run();
      return tx.delete(accessKeys).where(eq(accessKeys.id, id)).run().changes > 0;
    }, { behavior: 'immediate' });
  }
}

function info(row: KeyRow, grants: Grant[]): AccessKeyInfo {
  return { id: row.id, description: row.description, createdAt: new Date(row.createdAt).toISOString(), grants };
}
