// The AccessControlPolicy document: PutBucketAcl / PutObjectAcl bodies in, GetBucketAcl /
// GetObjectAcl answers out. S3 validates the body against its schema (MalformedACLError for
// anything else, not-well-formed XML included) and reads it namespace-aware: a grantee's type is
// the `type` attribute in the XML Schema instance namespace, whatever prefix binds it, and a
// prefix nobody declared makes the document malformed.

import { S3Error } from './errors.js';
import { doc, el, ownerXml, type Owner } from './xml.js';
import { localName, parseXmlElement, prefixNamespace, scopeOf, XMLNS_XSI, type XmlElement } from './xml-element.js';
import {
  MAX_ACL_GRANTS,
  isAclPermission,
  resolveCanonicalId,
  resolveEmail,
  resolveGroupUri,
  tooManyGrants,
  type AccountResolver,
  type AclGrant,
  type AclPermission,
  type Grantee,
} from './acl.js';

/**
 * Largest body the handlers should read (and this parser takes): 100 grants with display names,
 * pretty-printed, are well under it.
 */
export const MAX_ACL_BYTES = 64 * 1024;

const SCHEMA = "The XML you provided was not well-formed or did not validate against our published schema";
const malformed = (why: string) => new S3Error('MalformedACLError', {}, `${SCHEMA}: ${why}.`);

interface Node { el: XmlElement; scope: ReadonlyMap<string, string> }

/** Checks that every prefix the element uses is declared. */
function enter(element: XmlElement, outer: ReadonlyMap<string, string>): Node {
  const scope = scopeOf(element, outer);
  const names = [element.name, ...Object.keys(element.attributes).filter((a) => a !== 'xmlns' && !a.startsWith('xmlns:'))];
  for (const name of names) {
    try {
      prefixNamespace(name, scope);
    } catch {
      throw malformed(`the prefix of ${name} is not declared`);
    }
  }
  return { el: element, scope };
}

/** The children of a node by local name; any other element, or text beside them, is malformed. */
function children(node: Node, allowed: readonly string[]): Map<string, Node[]> {
  const where = localName(node.el.name);
  if (node.el.text.trim() !== '') throw malformed(`${where} holds text`);
  const out = new Map<string, Node[]>();
  for (const child of node.el.children) {
    const name = localName(child.name);
    if (!allowed.includes(name)) throw malformed(`${where} cannot hold ${name}`);
    out.set(name, [...(out.get(name) ?? []), enter(child, node.scope)]);
  }
  return out;
}

/** The text of the single `name` child; undefined when absent and optional. */
function leaf(kids: Map<string, Node[]>, name: string, required: boolean): string | undefined {
  const found = kids.get(name) ?? [];
  if (found.length > 1) throw malformed(`${name} is given more than once`);
  if (found.length === 0) {
    if (required) throw malformed(`${name} is missing`);
    return undefined;
  }
  if (found[0]!.el.children.length > 0) throw malformed(`${name} holds elements`);
  return found[0]!.el.text;
}

function single(kids: Map<string, Node[]>, name: string): Node {
  const found = kids.get(name) ?? [];
  if (found.length !== 1) throw malformed(found.length === 0 ? `${name} is missing` : `${name} is given more than once`);
  return found[0]!;
}

/** A grantee as written, before its account or group is looked up. */
type Named =
  | { type: 'CanonicalUser'; id: string }
  | { type: 'Group'; uri: string }
  | { type: 'AmazonCustomerByEmail'; email: string };

function granteeType(node: Node): string {
  const types: string[] = [];
  for (const [name, value] of Object.entries(node.el.attributes)) {
    if (localName(name) === 'type' && prefixNamespace(name, node.scope) === XMLNS_XSI) types.push(value.trim());
  }
  if (types.length !== 1) throw malformed(types.length === 0 ? 'a Grantee has no xsi:type' : 'a Grantee has two xsi:type attributes');
  return types[0]!;
}

// DisplayName is output-only; S3's SDKs send back what GetAcl gave them, so it is taken and ignored.
function readGrantee(node: Node): Named {
  const type = granteeType(node);
  const kids = children(node, ['ID', 'DisplayName', 'URI', 'EmailAddress']);
  leaf(kids, 'DisplayName', false);
  const only = (name: string): string => {
    for (const other of ['ID', 'URI', 'EmailAddress']) {
      if (other !== name && kids.has(other)) throw malformed(`a ${type} grantee cannot have ${other}`);
    }
    return leaf(kids, name, true)!;
  };
  if (type === 'CanonicalUser') return { type, id: only('ID') };
  if (type === 'Group') return { type, uri: only('URI') };
  if (type === 'AmazonCustomerByEmail') return { type, email: only('EmailAddress') };
  throw malformed(`${type} is not a grantee type (CanonicalUser, Group or AmazonCustomerByEmail)`);
}

function readGrant(node: Node): { named: Named; permission: AclPermission } {
  const kids = children(node, ['Grantee', 'Permission']);
  const named = readGrantee(single(kids, 'Grantee'));
  const permission = leaf(kids, 'Permission', true)!.trim();
  if (!isAclPermission(permission)) throw malformed(`${permission} is not a permission (READ, WRITE, READ_ACP, WRITE_ACP or FULL_CONTROL)`);
  return { named, permission };
}

function resolveGrantee(named: Named, resolve: AccountResolver): Grantee {
  switch (named.type) {
    case 'CanonicalUser':
      return { type: 'CanonicalUser', id: resolveCanonicalId(named.id, resolve, 'CanonicalUser/ID') };
    case 'Group':
      return { type: 'Group', uri: resolveGroupUri(named.uri, 'Group/URI') };
    case 'AmazonCustomerByEmail':
      return { type: 'CanonicalUser', id: resolveEmail(named.email, resolve) };
  }
}

function parseDocument(xml: string): XmlElement {
  if (Buffer.byteLength(xml, 'utf8') > MAX_ACL_BYTES) throw malformed(`the document is larger than ${MAX_ACL_BYTES} bytes`);
  try {
    return parseXmlElement(xml);
  } catch (err) {
    if (err instanceof S3Error && err.code === 'MalformedXML') throw malformed('the document is not well-formed XML');
    throw err;
  }
}

/**
 * A PutBucketAcl / PutObjectAcl body: the grants it sets. Owner (with its ID) and
 * AccessControlList are required, as in S3's schema, and Owner must name the resource's owner
 * (AccessDenied: an ACL cannot change who owns a thing). The document is checked whole before any
 * account is looked up. Errors: MalformedACLError for anything off the schema (an unknown element
 * or permission, a grantee without xsi:type or with the wrong members, more than 100 grants);
 * InvalidArgument for an id of no account or a URI of no group; UnresolvableGrantByEmailAddress.
 * WRITE is taken on objects too: S3 stores it there, where it gives nothing; so `kind` changes
 * nothing today and is taken for symmetry with the header entry points.
 */
export function parseAccessControlPolicy(xml: string, kind: 'bucket' | 'object', owner: string, resolve: AccountResolver): AclGrant[] {
  const root = enter(parseDocument(xml), new Map());
  if (localName(root.el.name) !== 'AccessControlPolicy') throw malformed(`the root element is ${localName(root.el.name)}, not AccessControlPolicy`);
  const top = children(root, ['Owner', 'AccessControlList']);
  const ownerKids = children(single(top, 'Owner'), ['ID', 'DisplayName']);
  const ownerId = leaf(ownerKids, 'ID', true)!.trim().toLowerCase();
  leaf(ownerKids, 'DisplayName', false);
  const list = children(single(top, 'AccessControlList'), ['Grant']);
  const written = list.get('Grant') ?? [];
  if (written.length > MAX_ACL_GRANTS) throw malformed(tooManyGrants(written.length));
  const read = written.map(readGrant);
  if (ownerId !== owner) throw new S3Error('AccessDenied', {}, 'The Owner in an access control policy must be the current owner: an ACL cannot change owners.');
  return read.map(({ named, permission }) => ({ grantee: resolveGrantee(named, resolve), permission }));
}

function granteeXml(grantee: Grantee, resolve: AccountResolver): string {
  const open = (type: string) => `<Grantee xmlns:xsi="${XMLNS_XSI}" xsi:type="${type}">`;
  if (grantee.type === 'Group') return `${open('Group')}${el('URI', grantee.uri)}</Grantee>`;
  const name = resolve.displayName(grantee.id);
  return `${open('CanonicalUser')}${el('ID', grantee.id)}${name === undefined ? '' : el('DisplayName', name)}</Grantee>`;
}

/**
 * A GetBucketAcl / GetObjectAcl answer in S3's shape. A CanonicalUser grantee has its
 * DisplayName when the account still has one; a Group grantee has only its URI.
 */
export function accessControlPolicyXml(owner: Owner, grants: readonly AclGrant[], resolve: AccountResolver): string {
  const list = grants.map((g) => `<Grant>${granteeXml(g.grantee, resolve)}${el('Permission', g.permission)}</Grant>`).join('');
  return doc('AccessControlPolicy', `${ownerXml(owner)}<AccessControlList>${list}</AccessControlList>`);
}
