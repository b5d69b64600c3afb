import { describe, expect, it } from 'vitest';
import { ALL_USERS, AUTHENTICATED_USERS, LOG_DELIVERY, cannedGrants, type AclGrant, type AclPermission, type GroupUri } from '../../src/s3/acl.js';
import { MAX_ACL_BYTES, accessControlPolicyXml, parseAccessControlPolicy } from '../../src/s3/acl-xml.js';
import { err } from '../helpers/errors.js';
import { NOBODY, OTHER, OWNER, THIRD, resolver } from '../helpers/acl-accounts.js';

const user = (id: string, permission: AclPermission): AclGrant => ({ grantee: { type: 'CanonicalUser', id }, permission });
const group = (uri: GroupUri, permission: AclPermission): AclGrant => ({ grantee: { type: 'Group', uri }, permission });

const XSI = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"';
const NS = 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"';
const policy = (grants: string, owner = `<Owner><ID>${OWNER}</ID></Owner>`, rootAttrs = NS) =>
  `<AccessControlPolicy ${rootAttrs}>${owner}<AccessControlList>${grants}</AccessControlList></AccessControlPolicy>`;
const grant = (grantee: string, permission = 'READ') => `<Grant>${grantee}<Permission>${permission}</Permission></Grant>`;
const canonical = (id: string, attrs = `${XSI} xsi:type="CanonicalUser"`) => `<Grantee ${attrs}><ID>${id}</ID></Grantee>`;
const groupee = (uri: string) => `<Grantee ${XSI} xsi:type="Group"><URI>${uri}</URI></Grantee>`;
const emailee = (email: string) => `<Grantee ${XSI} xsi:type="AmazonCustomerByEmail"><EmailAddress>${email}</EmailAddress></Grantee>`;

const parse = (xml: string, kind: 'bucket' | 'object' = 'object') => parseAccessControlPolicy(xml, kind, OWNER, resolver);

// PutObjectAcl's request example in the S3 API reference.
const AWS_EXAMPLE = `<AccessControlPolicy>
  <Owner>
    <ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID>
    <DisplayName>CustomersName@amazon.com</DisplayName>
  </Owner>
  <AccessControlList>
    <Grant>
      <Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser">
        <ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID>
        <DisplayName>CustomerName@amazon.com</DisplayName>
      </Grantee>
      <Permission>FULL_CONTROL</Permission>
    </Grant>
    <Grant>
      <Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="AmazonCustomerByEmail">
        <EmailAddress>xyz@amazon.com</EmailAddress>
      </Grantee>
      <Permission>WRITE_ACP</Permission>
    </Grant>
    <Grant>
      <Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="AmazonCustomerByEmail">
        <EmailAddress>xyz@amazon.com</EmailAddress>
      </Grantee>
      <Permission>READ</Permission>
    </Grant>
  </AccessControlList>
</AccessControlPolicy>`;

describe('parseAccessControlPolicy', () => {
  it("parses the AWS documentation's PutObjectAcl example, email grantees as their accounts", () => {
    expect(parse(AWS_EXAMPLE)).toEqual([user(OWNER, 'FULL_CONTROL'), user(OTHER, 'WRITE_ACP'), user(OTHER, 'READ')]);
  });

  it('reads every grantee type and permission, on both kinds, keeping order and duplicates', () => {
    const xml = policy(
      grant(canonical(OTHER), 'READ') + grant(groupee(ALL_USERS), 'WRITE') + grant(groupee(AUTHENTICATED_USERS), 'READ_ACP') +
        grant(groupee(LOG_DELIVERY), 'WRITE_ACP') + grant(emailee('THIRD@example.com'), 'FULL_CONTROL') + grant(canonical(OTHER), 'READ'),
    );
    const want = [
      user(OTHER, 'READ'), group(ALL_USERS, 'WRITE'), group(AUTHENTICATED_USERS, 'READ_ACP'),
      group(LOG_DELIVERY, 'WRITE_ACP'), user(THIRD, 'FULL_CONTROL'), user(OTHER, 'READ'),
    ];
    expect(parse(xml, 'bucket')).toEqual(want);
    expect(parse(xml, 'object')).toEqual(want);
  });

  it('takes an empty list (every grant revoked) and 100 grants', () => {
    expect(parse(policy(''))).toEqual([]);
    expect(parse(policy('<!-- none -->\n'))).toEqual([]);
    expect(parse(`<AccessControlPolicy><Owner><ID>${OWNER}</ID></Owner><AccessControlList/></AccessControlPolicy>`)).toEqual([]);
    expect(parse(policy(grant(groupee(ALL_USERS)).repeat(100)))).toHaveLength(100);
  });

  it('takes whitespace around values, upper-case ids, DisplayName anywhere and entities', () => {
    const xml = policy(
      grant(`<Grantee ${XSI} xsi:type=" CanonicalUser "><DisplayName>x</DisplayName><ID> ${OTHER.toUpperCase()} </ID></Grantee>`, ' READ\n') +
        grant(`<Grantee ${XSI} xsi:type="Group"><URI>\n${ALL_USERS}\n</URI><DisplayName>Everyone</DisplayName></Grantee>`) +
        grant(emailee('xyz&#64;amazon.com')) +
        grant(emailee('<![CDATA[third@example.com]]>')),
      `<Owner><DisplayName>me</DisplayName><ID>${OWNER.toUpperCase()}</ID></Owner>`,
    );
    expect(parse(xml)).toEqual([user(OTHER, 'READ'), group(ALL_USERS, 'READ'), user(OTHER, 'READ'), user(THIRD, 'READ')]);
  });

  describe('the grantee type is xsi:type read with namespaces', () => {
    const ok = [
      ['another prefix bound to the XSI namespace', `<Grantee xmlns:i="http://www.w3.org/2001/XMLSchema-instance" i:type="Group"><URI>${ALL_USERS}</URI></Grantee>`],
      ['xsi declared on the root', `<Grantee xsi:type="Group"><URI>${ALL_USERS}</URI></Grantee>`, `${NS} ${XSI}`],
      ['xsi declared on the Grant', `<Grantee xsi:type="Group"><URI>${ALL_USERS}</URI></Grantee>`, NS, XSI],
      ['attributes in the other order', `<Grantee xsi:type="Group" ${XSI}><URI>${ALL_USERS}</URI></Grantee>`],
      ['an unprefixed type beside xsi:type', `<Grantee ${XSI} type="CanonicalUser" xsi:type="Group"><URI>${ALL_USERS}</URI></Grantee>`],
    ];
    it.each(ok)('accepts %s', (_label, grantee, rootAttrs = NS, grantAttrs = '') => {
      const xml = policy(`<Grant ${grantAttrs}>${grantee}<Permission>READ</Permission></Grant>`, undefined, rootAttrs);
      expect(parse(xml)).toEqual([group(ALL_USERS, 'READ')]);
    });

    it('accepts S3 elements under a prefix of their own', () => {
      const S3 = 'http://s3.amazonaws.com/doc/2006-03-01/';
      const xml = `<s3:AccessControlPolicy xmlns:s3="${S3}"><s3:Owner><s3:ID>${OWNER}</s3:ID></s3:Owner><s3:AccessControlList>` +
        `<s3:Grant><s3:Grantee ${XSI} xsi:type="Group"><s3:URI>${ALL_USERS}</s3:URI></s3:Grantee><s3:Permission>READ</s3:Permission></s3:Grant>` +
        `</s3:AccessControlList></s3:AccessControlPolicy>`;
      expect(parse(xml)).toEqual([group(ALL_USERS, 'READ')]);
    });

    const bad = [
      ['no type', `<Grantee ${XSI}><ID>${OTHER}</ID></Grantee>`, 'has no xsi:type'],
      ['an unprefixed type', `<Grantee type="CanonicalUser"><ID>${OTHER}</ID></Grantee>`, 'has no xsi:type'],
      ['xsi bound to another namespace', `<Grantee xmlns:xsi="urn:not-xsi" xsi:type="CanonicalUser"><ID>${OTHER}</ID></Grantee>`, 'has no xsi:type'],
      ['an undeclared xsi prefix', `<Grantee xsi:type="CanonicalUser"><ID>${OTHER}</ID></Grantee>`, 'prefix of xsi:type is not declared'],
      ['two types', `<Grantee ${XSI} xmlns:i="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser" i:type="Group"><ID>${OTHER}</ID></Grantee>`, 'two xsi:type'],
      ['an unknown type', `<Grantee ${XSI} xsi:type="Canonical User"><ID>${OTHER}</ID></Grantee>`, 'not a grantee type'],
      ['a type in the wrong case', `<Grantee ${XSI} xsi:type="canonicaluser"><ID>${OTHER}</ID></Grantee>`, 'not a grantee type'],
      ['the type as an element', `<Grantee><xsi:type>CanonicalUser</xsi:type><ID>${OTHER}</ID></Grantee>`, 'has no xsi:type'],
    ];
    it.each(bad)('refuses %s: MalformedACLError', (_label, grantee, why) => {
      const e = err(() => parse(policy(grant(grantee!))));
      expect([e?.code, e?.status]).toEqual(['MalformedACLError', 400]);
      expect(e?.message).toContain(why);
    });
  });

  const malformed: Array<[string, string, string]> = [
    ['an empty body', '', 'not well-formed'],
    ['text', 'private', 'not well-formed'],
    ['an unclosed element', policy('').replace('</AccessControlPolicy>', ''), 'not well-formed'],
    ['two roots', policy('') + policy(''), 'not well-formed'],
    ['a DOCTYPE', `<?xml version="1.0"?><!DOCTYPE AccessControlPolicy [<!ENTITY x "y">]>${policy('')}`, 'not well-formed'],
    ['an undefined entity', policy(grant(emailee('&nbsp;'))), 'not well-formed'],
    ['another root', `<AccessControlList><Grant>${groupee(ALL_USERS)}<Permission>READ</Permission></Grant></AccessControlList>`, 'root element is AccessControlList'],
    ['no Owner', `<AccessControlPolicy><AccessControlList/></AccessControlPolicy>`, 'Owner is missing'],
    ['an Owner without ID', policy('', '<Owner><DisplayName>me</DisplayName></Owner>'), 'ID is missing'],
    ['two Owners', policy('', `<Owner><ID>${OWNER}</ID></Owner><Owner><ID>${OWNER}</ID></Owner>`), 'Owner is given more than once'],
    ['two owner IDs', policy('', `<Owner><ID>${OWNER}</ID><ID>${OWNER}</ID></Owner>`), 'ID is given more than once'],
    ['no AccessControlList', `<AccessControlPolicy><Owner><ID>${OWNER}</ID></Owner></AccessControlPolicy>`, 'AccessControlList is missing'],
    ['an unknown element in the root', policy('').replace('<AccessControlList>', '<Grants/><AccessControlList>'), 'cannot hold Grants'],
    ['an unknown element in the Owner', policy('', `<Owner><ID>${OWNER}</ID><Email>a@b</Email></Owner>`), 'Owner cannot hold Email'],
    ['a Grantee outside a Grant', policy(groupee(ALL_USERS)), 'AccessControlList cannot hold Grantee'],
    ['text in the list', policy(`READ${grant(groupee(ALL_USERS))}`), 'AccessControlList holds text'],
    ['a Grant without Grantee', policy('<Grant><Permission>READ</Permission></Grant>'), 'Grantee is missing'],
    ['a Grant without Permission', policy(`<Grant>${groupee(ALL_USERS)}</Grant>`), 'Permission is missing'],
    ['two Grantees', policy(`<Grant>${groupee(ALL_USERS)}${groupee(ALL_USERS)}<Permission>READ</Permission></Grant>`), 'Grantee is given more than once'],
    ['two Permissions', policy(`<Grant>${groupee(ALL_USERS)}<Permission>READ</Permission><Permission>READ</Permission></Grant>`), 'Permission is given more than once'],
    ['an element in the Permission', policy(grant(groupee(ALL_USERS), '<READ/>')), 'Permission holds elements'],
    ['an unknown element in the Grant', policy(`<Grant>${groupee(ALL_USERS)}<Permission>READ</Permission><Note/></Grant>`), 'Grant cannot hold Note'],
    ['an unknown element in the Grantee', policy(grant(`<Grantee ${XSI} xsi:type="Group"><URI>${ALL_USERS}</URI><Name/></Grantee>`)), 'Grantee cannot hold Name'],
    ['a CanonicalUser with a URI', policy(grant(`<Grantee ${XSI} xsi:type="CanonicalUser"><ID>${OTHER}</ID><URI>${ALL_USERS}</URI></Grantee>`)), 'CanonicalUser grantee cannot have URI'],
    ['a CanonicalUser without ID', policy(grant(`<Grantee ${XSI} xsi:type="CanonicalUser"><DisplayName>x</DisplayName></Grantee>`)), 'ID is missing'],
    ['a Group with an ID', policy(grant(`<Grantee ${XSI} xsi:type="Group"><ID>${OTHER}</ID></Grantee>`)), 'Group grantee cannot have ID'],
    ['an email grantee with an ID', policy(grant(`<Grantee ${XSI} xsi:type="AmazonCustomerByEmail"><ID>${OTHER}</ID></Grantee>`)), 'cannot have ID'],
    ['101 grants', policy(grant(groupee(ALL_USERS)).repeat(101)), 'at most 100 grants; this one has 101'],
    ['an undeclared element prefix', policy('').replace('<AccessControlList>', '<x:AccessControlList>').replace('</AccessControlList>', '</x:AccessControlList>'), 'prefix of x:AccessControlList is not declared'],
  ];
  it.each(malformed)('refuses %s: MalformedACLError', (_label, xml, why) => {
    const e = err(() => parse(xml));
    expect([e?.code, e?.status]).toEqual(['MalformedACLError', 400]);
    expect(e?.message).toContain(why);
    expect(e?.message).toMatch(/^The XML you provided was not well-formed or did not validate against our published schema: /);
  });

  it.each(['Write', 'read', 'ALL', 'READ WRITE', '', 'FULL-CONTROL'])('refuses the permission %j: MalformedACLError', (permission) => {
    const e = err(() => parse(policy(grant(groupee(ALL_USERS), permission))));
    expect([e?.code, e?.status]).toEqual(['MalformedACLError', 400]);
    expect(e?.message).toContain('is not a permission');
  });

  it(`refuses a body over ${MAX_ACL_BYTES} bytes`, () => {
    const xml = policy(grant(groupee(ALL_USERS))).replace('<AccessControlList>', `<AccessControlList>${' '.repeat(MAX_ACL_BYTES)}`);
    const e = err(() => parse(xml));
    expect([e?.code, e?.message]).toEqual(['MalformedACLError', expect.stringContaining(`larger than ${MAX_ACL_BYTES} bytes`)]);
  });

  it('refuses another owner: AccessDenied, before looking up any grantee', () => {
    for (const owner of [`<Owner><ID>${OTHER}</ID></Owner>`, '<Owner><ID></ID></Owner>']) {
      const e = err(() => parse(policy(grant(canonical(NOBODY)), owner)));
      expect([e?.code, e?.status]).toEqual(['AccessDenied', 403]);
      expect(e?.message).toContain('cannot change owners');
    }
  });

  it('checks the whole document before the owner', () => {
    expect(err(() => parse(policy(grant(groupee(ALL_USERS), 'ALL'), `<Owner><ID>${OTHER}</ID></Owner>`)))?.code).toBe('MalformedACLError');
  });

  it.each([NOBODY, 'abc', ''])('refuses the id %j: InvalidArgument, invalid id', (id) => {
    const e = err(() => parse(policy(grant(canonical(OTHER)) + grant(canonical(id)))));
    expect([e?.code, e?.status, e?.message, e?.details]).toEqual(['InvalidArgument', 400, 'Invalid id', { ArgumentName: 'CanonicalUser/ID', ArgumentValue: id }]);
  });

  it('refuses a URI of no group: InvalidArgument, invalid group uri', () => {
    const uri = 'http://acs.amazonaws.com/groups/global/Everyone';
    const e = err(() => parse(policy(grant(groupee(uri)))));
    expect([e?.code, e?.status, e?.message, e?.details]).toEqual(['InvalidArgument', 400, 'Invalid group uri', { ArgumentName: 'Group/URI', ArgumentValue: uri }]);
  });

  it('refuses an email of no account: UnresolvableGrantByEmailAddress', () => {
    const e = err(() => parse(policy(grant(emailee('nobody@example.com')))));
    expect([e?.code, e?.status, e?.details]).toEqual(['UnresolvableGrantByEmailAddress', 400, { EmailAddress: 'nobody@example.com' }]);
  });
});

describe('accessControlPolicyXml', () => {
  const owner = { id: OWNER, displayName: 'CustomersName@amazon.com' };

  it("writes S3's shape: display names where accounts have them, URIs for groups", () => {
    const xml = accessControlPolicyXml(owner, [user(OWNER, 'FULL_CONTROL'), user(THIRD, 'READ'), group(ALL_USERS, 'READ')], resolver);
    expect(xml).toBe(
      '<?xml version="1.0" encoding="UTF-8"?>\n' +
        '<AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
        `<Owner><ID>${OWNER}</ID><DisplayName>CustomersName@amazon.com</DisplayName></Owner>` +
        '<AccessControlList>' +
        `<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser"><ID>${OWNER}</ID><DisplayName>CustomersName@amazon.com</DisplayName></Grantee><Permission>FULL_CONTROL</Permission></Grant>` +
        `<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser"><ID>${THIRD}</ID></Grantee><Permission>READ</Permission></Grant>` +
        `<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="Group"><URI>${ALL_USERS}</URI></Grantee><Permission>READ</Permission></Grant>` +
        '</AccessControlList></AccessControlPolicy>',
    );
  });

  it('escapes display names and writes an empty list', () => {
    expect(accessControlPolicyXml(owner, [user(OTHER, 'READ')], resolver)).toContain('<DisplayName>other &lt;&amp;&gt; &quot;name&quot;</DisplayName>');
    expect(accessControlPolicyXml(owner, [], resolver)).toMatch(/<AccessControlList><\/AccessControlList><\/AccessControlPolicy>$/);
  });

  it('parses back to the same grants (render, then parse)', () => {
    const all: AclGrant[] = [
      user(OWNER, 'FULL_CONTROL'), user(OTHER, 'READ'), user(THIRD, 'WRITE'), group(ALL_USERS, 'READ_ACP'),
      group(AUTHENTICATED_USERS, 'WRITE_ACP'), group(LOG_DELIVERY, 'WRITE'), user(OTHER, 'READ'),
    ];
    for (const grants of [all, [], cannedGrants('log-delivery-write', 'bucket', OWNER, OWNER), cannedGrants('bucket-owner-read', 'object', OWNER, OTHER)]) {
      expect(parseAccessControlPolicy(accessControlPolicyXml(owner, grants, resolver), 'bucket', OWNER, resolver)).toEqual(grants);
    }
  });
});
