// The Principal / NotPrincipal element in cairn's forms. Accounts are 64-hex canonical ids;
// access keys play IAM users, so "arn:aws:iam::<account>:user/<access key id>" names one key and
// "arn:aws:iam::<account>:root" the whole account.

import { PolicyError, type PolicyPrincipal, type PrincipalSet } from './types.js';

const ACCOUNT_ID = /^[0-9a-f]{64}$/i;
const IAM_ARN = /^arn:aws:iam::([^:]*):(.*)$/;
// IAM user names' characters; cairn's key ids are letters and digits.
const KEY_ID = /^[A-Za-z0-9+=,.@_-]{1,128}$/;

const INVALID = 'Invalid principal in policy';

export function parsePrincipal(element: unknown, isAccount: (id: string) => boolean): PrincipalSet {
  if (element === '*') return { anyone: true, accounts: new Set(), keys: new Map() };
  if (typeof element === 'string') throw new PolicyError(`${INVALID}: a principal string must be "*"; name accounts and keys with {"AWS": ...}`);
  if (!isPlainObject(element) || Object.keys(element).length === 0) throw new PolicyError(`${INVALID}: expected "*" or an object such as {"AWS": ...}`);
  let anyone = false;
  const accounts = new Set<string>();
  const keys = new Map<string, Set<string>>();
  const account = (id: string): string => {
    const lower = id.toLowerCase();
    if (!ACCOUNT_ID.test(id)) throw new PolicyError(`${INVALID}: ${id} is not a 64-hex canonical account id`);
    if (!isAccount(lower)) throw new PolicyError(`${INVALID}: no account has the id ${id}`);
    return lower;
  };
  for (const [type, value] of Object.entries(element)) {
    const values = typeof value === 'string' ? [value] : value;
    if (!Array.isArray(values) || values.length === 0 || values.some((v) => typeof v !== 'string')) {
      throw new PolicyError(`${INVALID}: ${type} must be a string or a non-empty array of strings`);
    }
    for (const v of values as string[]) {
      if (type === 'AWS') {
        if (v === '*') anyone = true;
        else addAws(v, account, accounts, keys);
      } else if (type === 'CanonicalUser') {
        accounts.add(account(v));
      } else {
        throw new PolicyError(`${INVALID}: principal type ${type} is not supported (use AWS or CanonicalUser)`);
      }
    }
  }
  return { anyone, accounts, keys };
}

function addAws(v: string, account: (id: string) => string, accounts: Set<string>, keys: Map<string, Set<string>>): void {
  if (ACCOUNT_ID.test(v)) {
    accounts.add(account(v));
    return;
  }
  const arn = IAM_ARN.exec(v);
  if (!arn) throw new PolicyError(`${INVALID}: ${v} is neither an account id nor an arn:aws:iam:: ARN`);
  const id = account(arn[1]);
  if (arn[2] === 'root') {
    accounts.add(id);
    return;
  }
  const user = /^user\/(.*)$/.exec(arn[2]);
  if (!user || !KEY_ID.test(user[1])) throw new PolicyError(`${INVALID}: ${v} must end in :root or :user/<access key id>`);
  let set = keys.get(id);
  if (!set) keys.set(id, (set = new Set()));
  set.add(user[1]);
}

/** Whether the set names the caller; anonymous callers match only "*". */
export function principalMatches(set: PrincipalSet, who: PolicyPrincipal | null): boolean {
  if (set.anyone) return true;
  if (who === null) return false;
  if (set.accounts.has(who.accountId)) return true;
  return set.keys.get(who.accountId)?.has(who.accessKeyId) ?? false;
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
