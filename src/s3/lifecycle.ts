// Bucket lifecycle configuration: PutBucketLifecycleConfiguration's document parsed and checked
// as S3 checks it, the rules as stored (JSON in buckets.lifecycle), the document
// GetBucketLifecycleConfiguration renders back from them, and the pure questions the worker and
// the x-amz-expiration header ask of them (does a rule select this version, and when is it due).
// Pure: no I/O. Schema errors are MalformedXML, semantic ones InvalidArgument / InvalidRequest
// with the messages AWS sends.

import { randomBytes } from 'node:crypto';
import type { TagSet } from '../store/types.js';
import { S3Error } from './errors.js';
import { validateTagSet } from './tagging.js';
import { doc, el } from './xml.js';
import { parseXmlElement, localName, type XmlElement } from './xml-element.js';

export const MAX_LIFECYCLE_RULES = 1000;
export const MAX_LIFECYCLE_XML = 512 * 1024;
export const MAX_RULE_ID = 255;
/** S3's bound on NewerNoncurrentVersions. */
export const MAX_NEWER_NONCURRENT = 100;
export const DAY_MS = 86_400_000;

/** The x-amz-transition-default-minimum-object-size values (no transition happens here: kept and echoed). */
export const TRANSITION_MIN_SIZES = ['all_storage_classes_128K', 'varies_by_storage_class'] as const;
export type TransitionMinSize = (typeof TRANSITION_MIN_SIZES)[number];

/** A rule's object filter as written (so GET renders what PUT sent); `legacy` is the top-level Prefix. */
export interface RuleFilter {
  legacy?: boolean;
  prefix?: string;
  tag?: [string, string];
  sizeGt?: number;
  sizeLt?: number;
  and?: { prefix?: string; tags: TagSet; sizeGt?: number; sizeLt?: number };
}

export interface LifecycleRule {
  id: string;
  enabled: boolean;
  filter: RuleFilter;
  expiration?: { days?: number; date?: number; expiredObjectDeleteMarker?: boolean };
  noncurrent?: { days: number; newer?: number };
  abortDays?: number;
}

export interface LifecycleConfig {
  rules: LifecycleRule[];
  transitionMinSize: TransitionMinSize;
}

const bad = (): never => {
  throw new S3Error('MalformedXML');
};
const invalid = (message: string, name?: string, value?: string): never => {
  throw new S3Error('InvalidArgument', name === undefined ? {} : { ArgumentName: name, ArgumentValue: value ?? '' }, message);
};
const refused = (message: string): never => {
  throw new S3Error('InvalidRequest', {}, message);
};

/** Children by local name; each name in `allowed` only, at most once unless `many` names it. */
function childrenOf(e: XmlElement, allowed: readonly string[], many: readonly string[] = []): Map<string, XmlElement[]> {
  if (e.children.length > 0 && e.text.trim() !== '') bad();
  const out = new Map<string, XmlElement[]>();
  for (const c of e.children) {
    const name = localName(c.name);
    if (!allowed.includes(name)) bad();
    const list = out.get(name) ?? [];
    if (list.length > 0 && !many.includes(name)) bad();
    list.push(c);
    out.set(name, list);
  }
  return out;
}

function leaf(e: XmlElement | undefined): string | undefined {
  if (!e) return undefined;
  if (e.children.length > 0) bad();
  return e.text;
}

/** An xs:int / xs:long element: digits only (MalformedXML otherwise), range checked by the caller. */
function integer(e: XmlElement | undefined): number | undefined {
  const t = leaf(e)?.trim();
  if (t === undefined) return undefined;
  if (!/^-?\d{1,15}$/.test(t)) bad();
  return Number(t);
}

function positive(e: XmlElement | undefined, message: string): number | undefined {
  const n = integer(e);
  if (n !== undefined && n <= 0) invalid(message);
  return n;
}

function parseTagElement(e: XmlElement): [string, string] {
  const c = childrenOf(e, ['Key', 'Value']);
  const key = leaf(c.get('Key')?.[0]);
  const value = leaf(c.get('Value')?.[0]) ?? '';
  if (key === undefined) bad();
  return [key!, value];
}

function sizes(c: Map<string, XmlElement[]>): { sizeGt?: number; sizeLt?: number } {
  const sizeGt = integer(c.get('ObjectSizeGreaterThan')?.[0]);
  const sizeLt = integer(c.get('ObjectSizeLessThan')?.[0]);
  if (sizeGt !== undefined && sizeGt < 0) invalid('ObjectSizeGreaterThan must be a non-negative integer', 'ObjectSizeGreaterThan', String(sizeGt));
  if (sizeLt !== undefined && sizeLt <= 0) invalid('ObjectSizeLessThan must be a positive integer', 'ObjectSizeLessThan', String(sizeLt));
  if (sizeGt !== undefined && sizeLt !== undefined && sizeGt >= sizeLt) {
    invalid('ObjectSizeGreaterThan must be less than ObjectSizeLessThan', 'ObjectSizeGreaterThan', String(sizeGt));
  }
  return { ...(sizeGt !== undefined ? { sizeGt } : {}), ...(sizeLt !== undefined ? { sizeLt } : {}) };
}

function checkTags(tags: TagSet): TagSet {
  if (new Set(tags.map(([k]) => k)).size !== tags.length) refused('Duplicate Tag Keys are not allowed.');
  return validateTagSet(tags, 'bucket');
}

/** <Filter>: empty, or exactly one of Prefix, Tag, ObjectSizeGreaterThan, ObjectSizeLessThan, And. */
function parseFilter(e: XmlElement): RuleFilter {
  const c = childrenOf(e, ['Prefix', 'Tag', 'ObjectSizeGreaterThan', 'ObjectSizeLessThan', 'And']);
  if (c.size > 1) bad();
  const andEl = c.get('And')?.[0];
  if (andEl) {
    const a = childrenOf(andEl, ['Prefix', 'Tag', 'ObjectSizeGreaterThan', 'ObjectSizeLessThan'], ['Tag']);
    if (a.size === 0) bad();
    const prefix = leaf(a.get('Prefix')?.[0]);
    const tags = checkTags((a.get('Tag') ?? []).map(parseTagElement));
    return { and: { ...(prefix !== undefined ? { prefix } : {}), tags, ...sizes(a) } };
  }
  const tagEl = c.get('Tag')?.[0];
  if (tagEl) return { tag: checkTags([parseTagElement(tagEl)])[0]! };
  const prefix = leaf(c.get('Prefix')?.[0]);
  return { ...(prefix !== undefined ? { prefix } : {}), ...sizes(c) };
}

/** An ISO 8601 date-time (or date); MalformedXML when it is not one, InvalidArgument off midnight UTC. */
function parseDate(text: string): number {
  const t = text.trim();
  if (!/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(t)) bad();
  const ms = Date.parse(/T/.test(t) && !/(Z|[+-]\d{2}:?\d{2})$/.test(t) ? `${t}Z` : t);
  if (Number.isNaN(ms)) bad();
  if (ms % DAY_MS !== 0) invalid("'Date' must be at midnight GMT", 'Date', t);
  return ms;
}

function parseExpiration(e: XmlElement): NonNullable<LifecycleRule['expiration']> {
  const c = childrenOf(e, ['Days', 'Date', 'ExpiredObjectDeleteMarker']);
  const days = positive(c.get('Days')?.[0], "'Days' for Expiration action must be a positive integer");
  const dateText = leaf(c.get('Date')?.[0]);
  const edmText = leaf(c.get('ExpiredObjectDeleteMarker')?.[0])?.trim();
  if (edmText !== undefined && edmText !== 'true' && edmText !== 'false') bad();
  // Days, Date and ExpiredObjectDeleteMarker exclude one another: exactly one.
  if ([days, dateText, edmText].filter((v) => v !== undefined).length !== 1) bad();
  if (days !== undefined) return { days };
  if (dateText !== undefined) return { date: parseDate(dateText) };
  return { expiredObjectDeleteMarker: edmText === 'true' };
}

function parseNoncurrent(e: XmlElement): NonNullable<LifecycleRule['noncurrent']> {
  const c = childrenOf(e, ['NoncurrentDays', 'NewerNoncurrentVersions']);
  const days = positive(c.get('NoncurrentDays')?.[0], "'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer");
  const newer = positive(c.get('NewerNoncurrentVersions')?.[0], "'NewerNoncurrentVersions' for NoncurrentVersionExpiration action must be a positive integer");
  if (days === undefined) bad();
  if (newer !== undefined && newer > MAX_NEWER_NONCURRENT) {
    invalid(`'NewerNoncurrentVersions' for NoncurrentVersionExpiration action must be less than or equal to ${MAX_NEWER_NONCURRENT}`);
  }
  return { days: days!, ...(newer !== undefined ? { newer } : {}) };
}

const RULE_CHILDREN = ['ID', 'Status', 'Filter', 'Prefix', 'Expiration', 'NoncurrentVersionExpiration', 'AbortIncompleteMultipartUpload', 'Transition', 'NoncurrentVersionTransition'];

function parseRule(e: XmlElement): LifecycleRule {
  const c = childrenOf(e, RULE_CHILDREN, ['Transition', 'NoncurrentVersionTransition']);
  const status = leaf(c.get('Status')?.[0]);
  if (status !== 'Enabled' && status !== 'Disabled') bad();
  const filterEl = c.get('Filter')?.[0];
  const legacy = leaf(c.get('Prefix')?.[0]);
  // A rule selects its objects with a Filter or (older form) a top-level Prefix: one, not both.
  if ((filterEl === undefined) === (legacy === undefined)) bad();
  const filter = filterEl ? parseFilter(filterEl) : { legacy: true, prefix: legacy };
  const id = leaf(c.get('ID')?.[0]) ?? randomBytes(24).toString('base64url');
  if (id.length > MAX_RULE_ID) invalid(`ID length should not exceed allowed limit of ${MAX_RULE_ID}`, 'ID', id);
  const rule: LifecycleRule = { id, enabled: status === 'Enabled', filter };
  const exp = c.get('Expiration')?.[0];
  if (exp) rule.expiration = parseExpiration(exp);
  const nc = c.get('NoncurrentVersionExpiration')?.[0];
  if (nc) rule.noncurrent = parseNoncurrent(nc);
  const abort = c.get('AbortIncompleteMultipartUpload')?.[0];
  if (abort) {
    const a = childrenOf(abort, ['DaysAfterInitiation']);
    const days = positive(a.get('DaysAfterInitiation')?.[0], "'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a positive integer");
    if (days === undefined) bad();
    rule.abortDays = days;
  }
  // One storage class here: a transition could only be accepted and ignored, so it is refused.
  if (c.has('Transition') || c.has('NoncurrentVersionTransition')) {
    refused('Transition and NoncurrentVersionTransition are not supported: this server has one storage class (STANDARD); only expiration actions apply.');
  }
  checkRuleActions(rule, c.has('Expiration') || c.has('NoncurrentVersionExpiration') || c.has('AbortIncompleteMultipartUpload'));
  return rule;
}

function checkRuleActions(rule: LifecycleRule, hasAction: boolean): void {
  if (!hasAction) refused('At least one action needs to be specified in a rule');
  const f = rule.filter;
  const tagged = f.tag !== undefined || (f.and?.tags.length ?? 0) > 0;
  const sized = [f.sizeGt, f.sizeLt, f.and?.sizeGt, f.and?.sizeLt].some((v) => v !== undefined);
  for (const [action, present] of [
    ['ExpiredObjectDeleteMarker', rule.expiration?.expiredObjectDeleteMarker !== undefined],
    ['AbortIncompleteMultipartUpload', rule.abortDays !== undefined],
  ] as const) {
    if (present && tagged) refused(`${action} cannot be specified with Tags.`);
    if (present && sized) refused(`${action} cannot be specified with Object Size.`);
  }
}

/** PutBucketLifecycleConfiguration's body and its x-amz-transition-default-minimum-object-size header. */
export function parseLifecycleConfiguration(xml: string, transitionMinSize?: string): LifecycleConfig {
  if (transitionMinSize !== undefined && !(TRANSITION_MIN_SIZES as readonly string[]).includes(transitionMinSize)) {
    refused(`Invalid value for x-amz-transition-default-minimum-object-size: ${transitionMinSize}`);
  }
  const root = parseXmlElement(xml);
  if (localName(root.name) !== 'LifecycleConfiguration') bad();
  const rules = (childrenOf(root, ['Rule'], ['Rule']).get('Rule') ?? []).map(parseRule);
  if (rules.length === 0 || rules.length > MAX_LIFECYCLE_RULES) bad();
  if (new Set(rules.map((r) => r.id)).size !== rules.length) invalid('Rule ID must be unique. Found same ID for more than one rule');
  return { rules, transitionMinSize: (transitionMinSize as TransitionMinSize | undefined) ?? 'all_storage_classes_128K' };
}

function sizeXml(s: { sizeGt?: number; sizeLt?: number }): string {
  return (s.sizeGt !== undefined ? el('ObjectSizeGreaterThan', s.sizeGt) : '') + (s.sizeLt !== undefined ? el('ObjectSizeLessThan', s.sizeLt) : '');
}

const tagXml = ([k, v]: [string, string]) => `<Tag>${el('Key', k)}${el('Value', v)}</Tag>`;

function filterXml(f: RuleFilter): string {
  if (f.legacy) return el('Prefix', f.prefix ?? '');
  if (f.and) {
    const a = f.and;
    return `<Filter><And>${a.prefix !== undefined ? el('Prefix', a.prefix) : ''}${a.tags.map(tagXml).join('')}${sizeXml(a)}</And></Filter>`;
  }
  if (f.tag) return `<Filter>${tagXml(f.tag)}</Filter>`;
  return `<Filter>${f.prefix !== undefined ? el('Prefix', f.prefix) : ''}${sizeXml(f)}</Filter>`;
}

function ruleXml(r: LifecycleRule): string {
  let out = `<Rule>${el('ID', r.id)}${filterXml(r.filter)}${el('Status', r.enabled ? 'Enabled' : 'Disabled')}`;
  const e = r.expiration;
  if (e) {
    const inner = e.days !== undefined ? el('Days', e.days) : e.date !== undefined ? el('Date', new Date(e.date).toISOString()) : el('ExpiredObjectDeleteMarker', e.expiredObjectDeleteMarker ?? false);
    out += `<Expiration>${inner}</Expiration>`;
  }
  if (r.noncurrent) {
    const n = r.noncurrent;
    out += `<NoncurrentVersionExpiration>${el('NoncurrentDays', n.days)}${n.newer !== undefined ? el('NewerNoncurrentVersions', n.newer) : ''}</NoncurrentVersionExpiration>`;
  }
  if (r.abortDays !== undefined) out += `<AbortIncompleteMultipartUpload>${el('DaysAfterInitiation', r.abortDays)}</AbortIncompleteMultipartUpload>`;
  return `${out}</Rule>`;
}

/** GetBucketLifecycleConfiguration's document. */
export function lifecycleConfigurationXml(config: LifecycleConfig): string {
  return doc('LifecycleConfiguration', config.rules.map(ruleXml).join(''));
}

/** What buckets.lifecycle holds. */
export function serializeLifecycle(config: LifecycleConfig): string {
  return JSON.stringify(config);
}

const parsedCache = new Map<string, LifecycleConfig>();

/**
 * The stored JSON as a configuration, parsed once per distinct text (the bucket row is cached and
 * GET asks on every request: no parse on the hot path). Bounded: cleared past 1000 texts.
 */
export function storedLifecycle(json: string | null): LifecycleConfig | undefined {
  if (json === null) return undefined;
  let config = parsedCache.get(json);
  if (!config) {
    config = JSON.parse(json) as LifecycleConfig;
    if (parsedCache.size >= 1000) parsedCache.clear();
    parsedCache.set(json, config);
  }
  return config;
}

// ---- what a rule selects, and when ----

/** The predicates of a rule's filter, flattened. */
export function ruleSelector(f: RuleFilter): { prefix: string; tags: TagSet; sizeGt?: number; sizeLt?: number } {
  if (f.and) return { prefix: f.and.prefix ?? '', tags: f.and.tags, sizeGt: f.and.sizeGt, sizeLt: f.and.sizeLt };
  return { prefix: f.prefix ?? '', tags: f.tag ? [f.tag] : [], sizeGt: f.sizeGt, sizeLt: f.sizeLt };
}

export function ruleUsesTags(r: LifecycleRule): boolean {
  return r.filter.tag !== undefined || (r.filter.and?.tags.length ?? 0) > 0;
}

/** Whether the rule's filter selects a version (`tags` needed only when the rule filters on tags). */
export function ruleSelects(r: LifecycleRule, v: { key: string; size: number }, tags: TagSet | undefined): boolean {
  const s = ruleSelector(r.filter);
  if (!v.key.startsWith(s.prefix)) return false;
  if (s.sizeGt !== undefined && !(v.size > s.sizeGt)) return false;
  if (s.sizeLt !== undefined && !(v.size < s.sizeLt)) return false;
  if (s.tags.length === 0) return true;
  if (!tags) return false;
  return s.tags.every(([k, val]) => tags.some(([tk, tv]) => tk === k && tv === val));
}

/** `at` rounded up to the next "midnight" (a multiple of dayMs; UTC midnight for a real day). */
export function roundUpToDay(at: number, dayMs: number): number {
  return Math.ceil(at / dayMs) * dayMs;
}

/** When `days` lifecycle days after `from` are over, as S3 counts them (rounded up to midnight). */
export function dueAfterDays(from: number, days: number, dayMs: number): number {
  return roundUpToDay(from + days * dayMs, dayMs);
}

/** When a current version expires under a rule's Expiration (Days or Date), undefined if it has neither. */
export function currentExpiry(r: LifecycleRule, lastModified: number, dayMs: number): number | undefined {
  const e = r.expiration;
  if (!e) return undefined;
  if (e.days !== undefined) return dueAfterDays(lastModified, e.days, dayMs);
  return e.date;
}

/**
 * The x-amz-expiration of a current version: the earliest expiry among the Enabled rules with
 * Expiration Days or Date that select it. `tags`: the version's, when expiryNeedsTags said so.
 */
export function expirationFor(
  config: LifecycleConfig,
  v: { key: string; size: number; lastModified: number },
  dayMs: number,
  tags: TagSet | undefined,
): { at: number; ruleId: string } | undefined {
  let best: { at: number; ruleId: string } | undefined;
  for (const r of config.rules) {
    if (!r.enabled) continue;
    const at = currentExpiry(r, v.lastModified, dayMs);
    if (at === undefined || (best && best.at <= at)) continue;
    if (ruleSelects(r, v, tags)) best = { at, ruleId: r.id };
  }
  return best;
}

/** Whether expirationFor needs the version's tags (an Enabled Days/Date rule filters on tags). */
export function expiryNeedsTags(config: LifecycleConfig): boolean {
  return config.rules.some((r) => r.enabled && (r.expiration?.days !== undefined || r.expiration?.date !== undefined) && ruleUsesTags(r));
}

/** The header's value: expiry-date="<HTTP date>", rule-id="<id>" (the id URL-encoded, as S3 sends it). */
export function expirationHeader(e: { at: number; ruleId: string }): string {
  return `expiry-date="${new Date(e.at).toUTCString()}", rule-id="${encodeURIComponent(e.ruleId)}"`;
}
