import { timingSafeEqual } from 'node:crypto';
import { authenticate, type AuthOptions } from '../auth/authenticate.js';
import type { AuthRequest, AuthResult, SecretLookup } from '../auth/types.js';
import { verifyPostSignature } from '../auth/post-signature.js';
import type { Principal } from '../auth/authorize.js';
import { S3Error } from '../s3/errors.js';
import type { KeyStore } from '../store/metadata-store.js';
import type { AccessKeyInfo } from '../store/types.js';

// Who signed a request: the root pair (from the configuration or <data-dir>/credentials.json,
// held in memory) or an access key of the metadata store. One lookup for the S3 listener and
// the admin API; access key ids are compared in constant time.

export interface Authenticated {
  auth: AuthResult;
  principal: Principal;
}

/** Thrown by the first verification pass when it needs a secret the store must be asked for. */
const NEEDS_SECRET = Symbol('needs a secret');

export class Principals {
  private readonly rootId: Buffer;
  /** Where isRoot copies the id it is given (no allocation per request). */
  private readonly scratch: Buffer;
  private readonly rootPrincipal: Principal;
  /** The id the first verification pass asked for (set and read within one synchronous call). */
  private wanted: string | undefined;
  private readonly firstPass = (id: string): string => {
    if (this.isRoot(id)) return this.root.secretAccessKey;
    this.wanted = id;
    throw NEEDS_SECRET;
  };

  /** rootAccountId: the account the root key acts for (the store's first account). */
  constructor(
    private readonly root: { accessKeyId: string; secretAccessKey: string },
    private readonly keys: KeyStore,
    readonly rootAccountId: string,
  ) {
    this.rootId = Buffer.from(root.accessKeyId);
    this.scratch = Buffer.alloc(this.rootId.length);
    this.rootPrincipal = Object.freeze({ kind: 'root', accessKeyId: root.accessKeyId, accountId: rootAccountId });
  }

  /** Constant-time in the id's bytes: only its length is compared first. */
  isRoot(accessKeyId: string): boolean {
    if (Buffer.byteLength(accessKeyId) !== this.rootId.length) return false;
    this.scratch.write(accessKeyId);
    return timingSafeEqual(this.scratch, this.rootId);
  }

  /**
   * Verifies a request's signature (null: anonymous; S3Error: refused). The verifiers are
   * synchronous: a signature by the root key verifies in one pass; for another key the first
   * pass stops where it needs the secret, the store is asked, and the request is verified again.
   */
  authenticate(req: AuthRequest, opts: Omit<AuthOptions, 'lookup'>): Promise<Authenticated | null> {
    return this.verify((lookup) => authenticate(req, { region: opts.region, now: opts.now, maxSkewMs: opts.maxSkewMs, lookup }));
  }

  /** A browser form's signature (PostObject: src/auth/post-signature.ts), by the same two passes. */
  authenticateForm(fields: ReadonlyMap<string, string>, opts: { region: string }): Promise<Authenticated | null> {
    return this.verify((lookup) => verifyPostSignature(fields, { region: opts.region, lookup }));
  }

  private async keyAndSecret(id: string): Promise<[string | undefined, AccessKeyInfo | undefined]> {
    if (!this.keys.withSecret) return Promise.all([this.keys.secretFor(id), this.keys.get(id)]);
    const got = await this.keys.withSecret(id);
    return [got?.secret, got?.key];
  }

  private async verify(check: (lookup: SecretLookup) => AuthResult | null): Promise<Authenticated | null> {
    let auth: AuthResult | null;
    this.wanted = undefined;
    try {
      auth = check(this.firstPass);
    } catch (err) {
      const id = this.wanted;
      if (err !== NEEDS_SECRET || id === undefined) throw err;
      const [secret, key] = await this.keyAndSecret(id);
      auth = check((asked) => (asked === id ? secret : undefined));
      if (!auth) return null;
      // Revoked between the two reads: unknown now.
      if (!key) throw new S3Error('InvalidAccessKeyId', { AWSAccessKeyId: id });
      return { auth, principal: { kind: 'key', accessKeyId: id, accountId: key.accountId, grants: key.grants } };
    }
    if (!auth) return null;
    return { auth, principal: this.rootPrincipal };
  }
}
