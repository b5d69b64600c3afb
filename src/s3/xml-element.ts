// The whole tree of a request body, for the few whose meaning lives in attributes and namespaces
// (an ACL grantee's xsi:type). Same lockdown as parseXml (size, no DTD, the entity decoder), but
// nothing is dropped or renamed: prefixes and attributes stay as written, children in order.

import { XMLParser } from 'fast-xml-parser';
import { S3Error } from './errors.js';
import { entityDecoder, preflightXml } from './xml.js';

export interface XmlElement {
  /** As written, prefix included. */
  name: string;
  /** As written, xmlns declarations included; values entity-decoded. */
  attributes: Record<string, string>;
  children: XmlElement[];
  /** The element's own character data: the runs between its children, joined. */
  text: string;
}

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseAttributeValue: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  removeNSPrefix: false,
  parseTagValue: false,
  trimValues: false,
  processEntities: true,
  entityDecoder,
});

type OrderedNode = Record<string, unknown>;

function toElement(node: OrderedNode): XmlElement {
  const name = Object.keys(node).find((k) => k !== ':@');
  if (name === undefined || name === '#text') throw new S3Error('MalformedXML');
  const element: XmlElement = { name, attributes: {}, children: [], text: '' };
  for (const [k, v] of Object.entries((node[':@'] ?? {}) as Record<string, unknown>)) element.attributes[k] = String(v);
  for (const child of node[name] as OrderedNode[]) {
    if ('#text' in child) element.text += String(child['#text']);
    else element.children.push(toElement(child));
  }
  return element;
}

/** The root element of a body; MalformedXML for what parseXml refuses. */
export function parseXmlElement(body: string): XmlElement {
  preflightXml(body);
  let nodes: OrderedNode[];
  try {
    nodes = parser.parse(body) as OrderedNode[];
  } catch (err) {
    if (err instanceof S3Error) throw err;
    throw new S3Error('MalformedXML');
  }
  const roots = nodes.filter((n) => !('#text' in n));
  if (roots.length !== 1) throw new S3Error('MalformedXML');
  return toElement(roots[0]!);
}

export const XMLNS_XSI = 'http://www.w3.org/2001/XMLSchema-instance';

/** The prefixes declared on `element` added to those in scope above it ('' is the default namespace). */
export function scopeOf(element: XmlElement, outer: ReadonlyMap<string, string>): Map<string, string> {
  const scope = new Map(outer);
  for (const [name, value] of Object.entries(element.attributes)) {
    if (name === 'xmlns') scope.set('', value);
    else if (name.startsWith('xmlns:')) scope.set(name.slice(6), value);
  }
  return scope;
}

/** The part of a qualified name after its prefix. */
export function localName(name: string): string {
  const colon = name.indexOf(':');
  return colon === -1 ? name : name.slice(colon + 1);
}

/**
 * The namespace of the prefix of `name`; undefined for no prefix. A prefix that is not declared
 * makes the document not namespace-well-formed: MalformedXML. 'xml' is bound by definition.
 */
export function prefixNamespace(name: string, scope: ReadonlyMap<string, string>): string | undefined {
  const colon = name.indexOf(':');
  if (colon === -1) return undefined;
  const prefix = name.slice(0, colon);
  if (prefix === 'xml') return 'http://www.w3.org/XML/1998/namespace';
  const ns = scope.get(prefix);
  if (ns === undefined || ns === '') throw new S3Error('MalformedXML');
  return ns;
}
