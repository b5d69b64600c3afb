import type { AccountResolver } from '../../src/s3/acl.js';

// The owner of the AWS documentation's examples, and two more accounts.
export const OWNER = '75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a';
export const OTHER = '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef';
export const THIRD = 'fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210';
/** Well-formed, but no account has it. */
export const NOBODY = 'a'.repeat(64);

const accounts = new Map([
  [OWNER, { name: 'CustomersName@amazon.com', email: 'owner@example.com' }],
  [OTHER, { name: 'other <&> "name"', email: 'xyz@amazon.com' }],
  // An account without a display name.
  [THIRD, { name: undefined, email: 'Third@Example.COM' }],
]);

export const resolver: AccountResolver = {
  exists: (id) => accounts.has(id),
  byEmail: (email) => [...accounts].find(([, a]) => a.email.toLowerCase() === email.toLowerCase())?.[0],
  displayName: (id) => accounts.get(id)?.name,
};
