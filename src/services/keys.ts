import { S3Error } from '../s3/errors.js';
import type { KeyStore } from '../store/metadata-store.js';
import type { AccessKeyInfo } from '../store/types.js';
import { KeyValidationError } from '../store/keys.js';

export { KeyValidationError };

// Access keys besides the root pair: one rule per operation for the admin API and the CLI.
// Bad input (grants, description) is KeyValidationError naming the field, which both front-ends
// answer as the caller's mistake (400 with `field`, exit 2); an unknown key is an S3Error.

export class KeyService {
  constructor(private readonly keys: KeyStore) {}

  list(): Promise<AccessKeyInfo[]> {
    return this.keys.list();
  }

  /**
   * A new key with its secret (shown once). Takes the input untyped: it comes from JSON bodies
   * and command lines, and the store checks every field (KeyValidationError).
   */
  create(opts: { description?: unknown; grants: unknown }): Promise<AccessKeyInfo & { secret: string }> {
    return this.keys.create(opts as { description?: string; grants: AccessKeyInfo['grants'] });
  }

  /** Requests signed with the key fail from now on; InvalidAccessKeyId when there is no such key. */
  async revoke(id: string): Promise<void> {
    if (!(await this.keys.revoke(id))) throw new S3Error('InvalidAccessKeyId', { AWSAccessKeyId: id });
  }
}
