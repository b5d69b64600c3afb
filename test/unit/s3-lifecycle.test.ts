import { describe, expect, it } from 'vitest';
import { err } from '../helpers/errors.js';
import {
  dueAfterDays,
  expirationFor,
  expirationHeader,
  lifecycleConfigurationXml,
  parseLifecycleConfiguration,
  type LifecycleConfig,
} from '../../src/s3/lifecycle.js';
import { commonPrefix, planKey } from '../../src/storage/lifecycle-plan.js';
import type { LifecycleVersion } from '../../src/store/lifecycle.js';

const DAY = 86_400_000;
const doc = (...rules: string[]) => `<LifecycleConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${rules.join('')}</LifecycleConfiguration>`;
const rule = (inner: string, id = 'r1') => `<Rule><ID>${id}</ID>${inner}</Rule>`;
const refusal = (xml: string, header?: string) => {
  const e = err(() => parseLifecycleConfiguration(xml, header));
  return e && { code: e.code, message: e.message };
};

describe('PutBucketLifecycleConfiguration document', () => {
  it('parses every filter form and action, and renders what it parsed', () => {
    const xml = doc(
      rule('<Filter><Prefix>logs/</Prefix></Filter><Status>Enabled</Status><Expiration><Days>30</Days></Expiration>', 'a'),
      rule('<Filter><Tag><Key>tier</Key><Value>tmp</Value></Tag></Filter><Status>Enabled</Status><Expiration><Date>2030-01-01T00:00:00Z</Date></Expiration>', 'b'),
      rule('<Filter><And><Prefix>x/</Prefix><Tag><Key>a</Key><Value>1</Value></Tag><Tag><Key>b</Key><Value>2</Value></Tag><ObjectSizeGreaterThan>10</ObjectSizeGreaterThan><ObjectSizeLessThan>100</ObjectSizeLessThan></And></Filter><Status>Disabled</Status><NoncurrentVersionExpiration><NoncurrentDays>5</NoncurrentDays><NewerNoncurrentVersions>3</NewerNoncurrentVersions></NoncurrentVersionExpiration>', 'c'),
      rule('<Filter></Filter><Status>Enabled</Status><Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration><AbortIncompleteMultipartUpload><DaysAfterInitiation>7</DaysAfterInitiation></AbortIncompleteMultipartUpload>', 'd'),
      rule('<Prefix>old/</Prefix><Status>Enabled</Status><Expiration><Days>1</Days></Expiration>', 'e'),
      rule('<Filter><ObjectSizeGreaterThan>1048576</ObjectSizeGreaterThan></Filter><Status>Enabled</Status><Expiration><Days>2</Days></Expiration>', 'f'),
    );
    const config = parseLifecycleConfiguration(xml);
    expect(config.rules.map((r) => r.id)).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    expect(config.rules[1]!.expiration).toEqual({ date: Date.parse('2030-01-01T00:00:00Z') });
    expect(config.rules[2]).toMatchObject({ enabled: false, noncurrent: { days: 5, newer: 3 }, filter: { and: { prefix: 'x/', tags: [['a', '1'], ['b', '2']], sizeGt: 10, sizeLt: 100 } } });
    expect(config.rules[4]!.filter).toEqual({ legacy: true, prefix: 'old/' });
    const again = parseLifecycleConfiguration(lifecycleConfigurationXml(config));
    expect(again).toEqual(config);
    expect(lifecycleConfigurationXml(config)).toContain('<Rule><ID>e</ID><Prefix>old/</Prefix><Status>Enabled</Status>');
    expect(lifecycleConfigurationXml(config)).toContain('<Date>2030-01-01T00:00:00.000Z</Date>');
  });

  it('gives a rule without an ID one of its own', () => {
    const config = parseLifecycleConfiguration(doc('<Rule><Filter/><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>'));
    expect(config.rules[0]!.id).toMatch(/^[A-Za-z0-9_-]{32}$/);
  });

  it('refuses what S3 refuses, with its codes and messages', () => {
    const ok = '<Filter/><Status>Enabled</Status>';
    const cases: Array<[string, string, string?]> = [
      ['<LifecycleConfiguration><Rule>', 'MalformedXML'],
      [doc(), 'MalformedXML'],
      [doc(rule('<Status>Enabled</Status><Expiration><Days>1</Days></Expiration>')), 'MalformedXML'],
      [doc(rule('<Filter/><Prefix>a</Prefix><Status>Enabled</Status><Expiration><Days>1</Days></Expiration>')), 'MalformedXML'],
      [doc(rule(`${ok}`)), 'InvalidRequest', 'At least one action needs to be specified in a rule'],
      [doc(rule(`${ok}<Expiration><Days>1</Days></Expiration>`), rule(`${ok}<Expiration><Days>2</Days></Expiration>`)), 'InvalidArgument', 'Rule ID must be unique. Found same ID for more than one rule'],
      [doc(rule(`${ok}<Expiration><Days>0</Days></Expiration>`)), 'InvalidArgument', "'Days' for Expiration action must be a positive integer"],
      [doc(rule(`${ok}<Expiration><Date>2030-01-01T12:00:00Z</Date></Expiration>`)), 'InvalidArgument', "'Date' must be at midnight GMT"],
      [doc(rule(`${ok}<Expiration><Days>1</Days><Date>2030-01-01T00:00:00Z</Date></Expiration>`)), 'MalformedXML'],
      [doc(rule(`${ok}<Expiration><Days>1</Days><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>`)), 'MalformedXML'],
      [doc(rule(`${ok}<Transition><Days>30</Days><StorageClass>GLACIER</StorageClass></Transition>`)), 'InvalidRequest'],
      [doc(rule(`${ok}<Expiration><Days>1</Days></Expiration><NoncurrentVersionTransition><NoncurrentDays>30</NoncurrentDays><StorageClass>GLACIER</StorageClass></NoncurrentVersionTransition>`)), 'InvalidRequest'],
      [doc(rule('<Filter><Tag><Key>k</Key><Value>v</Value></Tag></Filter><Status>Enabled</Status><AbortIncompleteMultipartUpload><DaysAfterInitiation>1</DaysAfterInitiation></AbortIncompleteMultipartUpload>')), 'InvalidRequest', 'AbortIncompleteMultipartUpload cannot be specified with Tags.'],
      [doc(rule('<Filter><Tag><Key>k</Key><Value>v</Value></Tag></Filter><Status>Enabled</Status><Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>')), 'InvalidRequest', 'ExpiredObjectDeleteMarker cannot be specified with Tags.'],
      [doc(rule(`<Filter><Prefix>a</Prefix><Tag><Key>k</Key><Value>v</Value></Tag></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration>`)), 'MalformedXML'],
      [doc(rule(`<Filter><And><Tag><Key>k</Key><Value>v</Value></Tag><Tag><Key>k</Key><Value>w</Value></Tag></And></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration>`)), 'InvalidRequest', 'Duplicate Tag Keys are not allowed.'],
      [doc(rule(`<Filter><ObjectSizeGreaterThan>10</ObjectSizeGreaterThan></Filter><Status>Enabled</Status><Expiration><Days>x</Days></Expiration>`)), 'MalformedXML'],
      [doc(rule(`${ok}<NoncurrentVersionExpiration><NoncurrentDays>0</NoncurrentDays></NoncurrentVersionExpiration>`)), 'InvalidArgument'],
      [doc(rule(`<Filter/><Status>On</Status><Expiration><Days>1</Days></Expiration>`)), 'MalformedXML'],
      [doc(rule(`${ok}<Expiration><Days>1</Days></Expiration>`, 'x'.repeat(256))), 'InvalidArgument', 'ID length should not exceed allowed limit of 255'],
      [doc(...Array.from({ length: 1001 }, (_, i) => rule(`${ok}<Expiration><Days>1</Days></Expiration>`, `r${i}`))), 'MalformedXML'],
    ];
    for (const [xml, code, message] of cases) {
      const r = refusal(xml);
      expect(r?.code, xml.slice(0, 300)).toBe(code);
      if (message) expect(r?.message).toBe(message);
    }
    expect(refusal(doc(rule(`${ok}<Expiration><Days>1</Days></Expiration>`)), 'bogus')?.code).toBe('InvalidRequest');
    expect(parseLifecycleConfiguration(doc(rule(`${ok}<Expiration><Days>1</Days></Expiration>`)), 'varies_by_storage_class').transitionMinSize).toBe('varies_by_storage_class');
  });
});

describe('when rules apply', () => {
  const config: LifecycleConfig = parseLifecycleConfiguration(
    doc(
      rule('<Filter><Prefix>logs/</Prefix></Filter><Status>Enabled</Status><Expiration><Days>3</Days></Expiration>', 'three'),
      rule('<Filter><Tag><Key>t</Key><Value>1</Value></Tag></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration>', 'tagged'),
    ),
  );
  it('rounds Days up to the next midnight UTC, and picks the earliest rule', () => {
    const lm = Date.parse('2026-12-06T15:30:00Z');
    expect(new Date(dueAfterDays(lm, 3, DAY)).toISOString()).toBe('2026-12-10T00:00:00.000Z');
    const e = expirationFor(config, { key: 'logs/a', size: 1, lastModified: lm }, DAY, undefined)!;
    expect(expirationHeader(e)).toBe('expiry-date="Thu, 10 Dec 2026 00:00:00 GMT", rule-id="three"');
    expect(expirationFor(config, { key: 'logs/a', size: 1, lastModified: lm }, DAY, [['t', '1']])!.ruleId).toBe('tagged');
    expect(expirationFor(config, { key: 'other', size: 1, lastModified: lm }, DAY, undefined)).toBeUndefined();
  });

  const v = (over: Partial<LifecycleVersion>): LifecycleVersion => ({
    id: 1, key: 'k', versionId: 'v', size: 10, etag: '"e"', lastModified: 0, isCurrent: false, deleteMarker: false, lockMode: null, lockUntil: null, legalHold: false, tagCount: 0, ...over,
  });
  it('plans noncurrent expiry from when a version became noncurrent, keeping NewerNoncurrentVersions', () => {
    const rules = parseLifecycleConfiguration(doc(rule('<Filter/><Status>Enabled</Status><NoncurrentVersionExpiration><NoncurrentDays>2</NoncurrentDays><NewerNoncurrentVersions>1</NewerNoncurrentVersions></NoncurrentVersionExpiration>'))).rules;
    const versions = [v({ id: 4, versionId: 'd', lastModified: 10 * DAY, isCurrent: true }), v({ id: 3, versionId: 'c', lastModified: 3 * DAY }), v({ id: 2, versionId: 'b', lastModified: 2 * DAY }), v({ id: 1, versionId: 'a', lastModified: 0, legalHold: true })];
    const at = (now: number) => planKey(versions, { rules, versioning: 'Enabled', now, dayMs: DAY, tags: new Map() });
    // c is the newest noncurrent version: kept. b became noncurrent at day 3 (due day 5); a at day 2 (due day 4) but held.
    expect(at(4 * DAY)).toEqual({ actions: [], lockedKept: 1 });
    expect(at(5 * DAY).actions.map((a) => a.versionId)).toEqual(['b']);
  });

  it('removes a delete marker left alone, and finds the common prefix', () => {
    const rules = parseLifecycleConfiguration(doc(rule('<Filter/><Status>Enabled</Status><Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>'))).rules;
    const plan = planKey([v({ deleteMarker: true, versionId: 'm' })], { rules, versioning: 'Enabled', now: 0, dayMs: DAY, tags: new Map() });
    expect(plan.actions).toEqual([expect.objectContaining({ kind: 'remove-marker', versionId: 'm' })]);
    expect(commonPrefix(['logs/a', 'logs/b'])).toBe('logs/');
    expect(commonPrefix(['logs/a', ''])).toBe('');
  });
});
