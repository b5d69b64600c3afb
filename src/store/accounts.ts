import { randomBytes } from 'node:crypto';

// What every engine checks and makes for a new account: its canonical id, and the validation of
// the caller's name and email (untrusted JSON from the admin API and the CLI).

/** Bad input to accounts.create(): `field` names it; `conflict` when the name or email is taken (409). */
export class AccountValidationError extends Error {
  constructor(
    readonly field: string,
    message: string,
    readonly conflict = false,
  ) {
    super(message);
    this.name = 'AccountValidationError';
  }
}

/** S3's canonical user id: 64 lower-case hex characters (256 random bits). */
export function newCanonicalId(): string {
  return randomBytes(32).toString('hex');
}

export const CANONICAL_ID = /^[0-9a-f]{64}$/;
// A name never looks like a canonical id, so "id or name" arguments are never ambiguous.
const ACCOUNT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
// Deliberately plain: it only has to tell an address from a typo; delivery is never attempted.
const EMAIL = /^[^\s@"<>]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/;

/** The name and email of a new account, checked; the email lower-cased (S3 matches grantees' emails without case). */
export function validateNewAccount(opts: { name?: unknown; email?: unknown }): { name: string; email: string | null } {
  const { name, email } = opts;
  if (typeof name !== 'string' || !ACCOUNT_NAME.test(name) || CANONICAL_ID.test(name)) {
    throw new AccountValidationError('name', 'name must be 1 to 64 letters, digits, dots, dashes or underscores, starting with a letter or digit');
  }
  if (email === undefined || email === null || email === '') return { name, email: null };
  if (typeof email !== 'string' || email.length > 254 || !EMAIL.test(email)) throw new AccountValidationError('email', 'email is not an email address');
  return { name, email: email.toLowerCase() };
}

/** No account has that id or name (the admin API's 404, the CLI's usage error). */
export class NoSuchAccountError extends Error {
  constructor(readonly account: string) {
    super(`no such account: ${account}`);
    this.name = 'NoSuchAccountError';
  }
}
