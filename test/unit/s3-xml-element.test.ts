import { describe, expect, it } from 'vitest';
import { localName, parseXmlElement, prefixNamespace, scopeOf, XMLNS_XSI } from '../../src/s3/xml-element.js';
import { MAX_XML_BYTES } from '../../src/s3/xml.js';
import { code } from '../helpers/errors.js';

describe('parseXmlElement', () => {
  it('keeps names, prefixes, attributes (decoded), order and text', () => {
    const root = parseXmlElement(
      `<?xml version="1.0" encoding="UTF-8"?>\n<a:Root xmlns:a="urn:a" k="1&amp;2&#x41;"><!-- c --><B>x&lt;y</B> <C/><B i='j'><![CDATA[<raw>]]>t</B>\n</a:Root>\n`,
    );
    expect(root).toEqual({
      name: 'a:Root',
      attributes: { 'xmlns:a': 'urn:a', k: '1&2A' },
      text: ' \n',
      children: [
        { name: 'B', attributes: {}, children: [], text: 'x<y' },
        { name: 'C', attributes: {}, children: [], text: '' },
        { name: 'B', attributes: { i: 'j' }, children: [], text: '<raw>t' },
      ],
    });
  });

  it.each([
    ['nothing', ''],
    ['text only', 'hello'],
    ['two roots', '<A/><B/>'],
    ['an unclosed element', '<A><B></A>'],
    ['a DTD', '<!DOCTYPE A [<!ENTITY e "x">]><A>&e;</A>'],
    ['an unknown entity', '<A>&nbsp;</A>'],
    ['an attribute without a value', '<A b/>'],
    ['a body over the limit', `<A>${' '.repeat(MAX_XML_BYTES)}</A>`],
  ])('refuses %s as MalformedXML', (_label, xml) => {
    expect(code(() => parseXmlElement(xml))).toBe('MalformedXML');
  });
});

describe('namespaces', () => {
  it('scopes declarations from the outside in, an inner one winning', () => {
    const outer = scopeOf({ name: 'R', attributes: { xmlns: 'urn:d', 'xmlns:p': 'urn:1' }, children: [], text: '' }, new Map());
    const inner = scopeOf({ name: 'E', attributes: { 'xmlns:p': 'urn:2', 'xmlns:q': XMLNS_XSI }, children: [], text: '' }, outer);
    expect([...outer]).toEqual([['', 'urn:d'], ['p', 'urn:1']]);
    expect(prefixNamespace('p:x', inner)).toBe('urn:2');
    expect(prefixNamespace('q:type', inner)).toBe(XMLNS_XSI);
    expect(prefixNamespace('type', inner)).toBeUndefined();
    expect(prefixNamespace('xml:lang', new Map())).toBe('http://www.w3.org/XML/1998/namespace');
  });

  it('refuses an undeclared prefix, or one declared empty', () => {
    expect(code(() => prefixNamespace('xsi:type', new Map()))).toBe('MalformedXML');
    expect(code(() => prefixNamespace('p:x', new Map([['p', '']])))).toBe('MalformedXML');
  });

  it('names elements by their local part', () => {
    expect([localName('s3:Owner'), localName('Owner')]).toEqual(['Owner', 'Owner']);
  });
});
