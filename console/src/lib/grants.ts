// Key grants typed as text ('photos:read, *:write'), and ACL grantees in words.
import type { AclGrant, Grant } from '../api.js';

const PERMISSIONS = ['read', 'write', 'bypass'] as const;

/** 'photos:read, logs:write' (commas, spaces or new lines between) -> grants; an Error saying which one is wrong. */
export function parseGrants(text: string): Grant[] {
  const items = text.split(/[\s,]+/).filter(Boolean);
  if (items.length === 0) throw new Error("a key needs at least one grant, such as photos:read or *:write");
  return items.map((item) => {
    const i = item.lastIndexOf(':');
    const bucket = i > 0 ? item.slice(0, i) : '';
    const permission = item.slice(i + 1).toLowerCase();
    if (!bucket || !(PERMISSIONS as readonly string[]).includes(permission)) {
      throw new Error(`"${item}" is not a grant: write bucket:read, bucket:write or bucket:bypass ('*' for every bucket)`);
    }
    return { bucket, permission: permission as Grant['permission'] };
  });
}

export function grantsText(grants: Grant[]): string {
  return grants.map((g) => `${g.bucket}:${g.permission}`).join(', ');
}

const GROUPS: Record<string, string> = {
  'http://acs.amazonaws.com/groups/global/AllUsers': 'Everyone (anonymous requests too)',
  'http://acs.amazonaws.com/groups/global/AuthenticatedUsers': 'Every signed-in account',
  'http://acs.amazonaws.com/groups/s3/LogDelivery': 'Log delivery',
};

/** Who a grant names: an account's name (or its id when no account has it), or a group in words. */
export function granteeText(g: AclGrant['grantee']): string {
  if (g.type === 'Group') return GROUPS[g.uri] ?? g.uri;
  return g.name ?? `unknown account ${g.id.slice(0, 12)}…`;
}

export const PERMISSION_WORDS: Record<AclGrant['permission'], string> = {
  READ: 'read (list the bucket, or read the object)',
  WRITE: 'write objects',
  READ_ACP: 'read the ACL',
  WRITE_ACP: 'change the ACL',
  FULL_CONTROL: 'full control',
};
