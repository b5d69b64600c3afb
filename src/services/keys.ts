import { S3Error } from '../s3/errors.js';
import type { KeyStore } from '../store/metadata-store.js';
import type { AccessKeyInfo } from '../store/types.js';
import { KeyValidationError } from '../store/keys.js';
import { NoSuchAccountError } from '../store/accounts.js';
import type { AccountService } from './accounts.js';

export { KeyValidationError };

// Access keys besides the root pair: one rule per operation for the admin API and the CLI.
// Bad input (grants, description, an imported pair, an unknown account) is KeyValidationError
// naming the field, which both front-ends answer as the caller's mistake (400 with `field`, exit 2;
// a taken id is 409 / exit 2); an unknown key is an S3Error.

export interface KeyServiceOptions {
  /** Resolves `account` (a name or canonical id); without it keys are the root account's. */
  accounts?: AccountService;
  /** Ids no key may take: the root pair's (a key with it would never be reached). */
  reserved?: (accessKeyId: string) => boolean;
}

/** What a caller asks for: untyped, it comes from JSON bodies and command lines. */
export interface NewKeyRequest {
  /** The account the key acts for, by name or canonical id; default the root account. */
  account?: unknown;
  description?: unknown;
  grants: unknown;
  /** Key import: a pair made elsewhere (another S3 server), kept as given. */
  accessKeyId?: unknown;
  secretAccessKey?: unknown;
}

export class KeyService {
  constructor(
    private readonly keys: KeyStore,
    private readonly opts: KeyServiceOptions = {},
  ) {}

  /** Every key, or those of one account (name or canonical id; KeyValidationError when there is none). */
  async list(account?: string): Promise<AccessKeyInfo[]> {
    if (account === undefined) return this.keys.list();
    return this.keys.list(await this.accountId(account));
  }

  /**
   * A new key with its secret (shown once), or an imported pair. The store checks every field
   * (KeyValidationError); a taken id, the root pair's included, is a conflict.
   */
  async create(req: NewKeyRequest): Promise<AccessKeyInfo & { secret: string }> {
    if (typeof req.accessKeyId === 'string' && this.opts.reserved?.(req.accessKeyId)) {
      throw new KeyValidationError('accessKeyId', `access key ${req.accessKeyId} exists (the root key pair)`, true);
    }
    const accountId = req.account === undefined ? undefined : await this.accountId(req.account);
    return this.keys.create({
      accountId,
      description: req.description as string | undefined,
      grants: req.grants as AccessKeyInfo['grants'],
      accessKeyId: req.accessKeyId as string | undefined,
      secretAccessKey: req.secretAccessKey as string | undefined,
    });
  }

  /** Requests signed with the key fail from now on; InvalidAccessKeyId when there is no such key. */
  async revoke(id: string): Promise<void> {
    if (!(await this.keys.revoke(id))) throw new S3Error('InvalidAccessKeyId', { AWSAccessKeyId: id });
  }

  private async accountId(account: unknown): Promise<string> {
    if (typeof account !== 'string' || account === '') throw new KeyValidationError('account', 'account must be an account name or canonical id');
    if (!this.opts.accounts) throw new KeyValidationError('account', 'accounts are not available here');
    try {
      return (await this.opts.accounts.require(account)).id;
    } catch (err) {
      if (err instanceof NoSuchAccountError) throw new KeyValidationError('account', err.message);
      throw err;
    }
  }
}
