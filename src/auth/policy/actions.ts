// The S3 actions a policy may name, with the kind of resource each one acts on (from AWS's
// "Actions, resources, and condition keys for Amazon S3"). The kind drives the "Action does not
// apply to any resource(s) in statement" check: 'other' actions act on access points, jobs,
// Storage Lens or the account, never on a bucket or object ARN.

import { PolicyError, type ActionSet } from './types.js';
import { wildcardRegExp } from './wildcard.js';

export type ResourceKind = 'bucket' | 'object' | 'other';

const OBJECT_ACTIONS = [
  'AbortMultipartUpload', 'BypassGovernanceRetention', 'DeleteObject', 'DeleteObjectTagging', 'DeleteObjectVersion',
  'DeleteObjectVersionTagging', 'GetObject', 'GetObjectAcl', 'GetObjectAttributes', 'GetObjectLegalHold', 'GetObjectRetention',
  'GetObjectTagging', 'GetObjectTorrent', 'GetObjectVersion', 'GetObjectVersionAcl', 'GetObjectVersionAttributes',
  'GetObjectVersionForReplication', 'GetObjectVersionTagging', 'GetObjectVersionTorrent', 'InitiateReplication',
  'ListMultipartUploadParts', 'ObjectOwnerOverrideToBucketOwner', 'PutObject', 'PutObjectAcl', 'PutObjectLegalHold',
  'PutObjectRetention', 'PutObjectTagging', 'PutObjectVersionAcl', 'PutObjectVersionTagging', 'ReplicateDelete',
  'ReplicateObject', 'ReplicateTags', 'RestoreObject',
];

const BUCKET_ACTIONS = [
  'CreateBucket', 'CreateBucketMetadataTableConfiguration', 'DeleteBucket', 'DeleteBucketMetadataTableConfiguration',
  'DeleteBucketPolicy', 'DeleteBucketWebsite', 'GetAccelerateConfiguration', 'GetAnalyticsConfiguration', 'GetBucketAbac',
  'GetBucketAcl', 'GetBucketCORS', 'GetBucketLocation', 'GetBucketLogging', 'GetBucketMetadataTableConfiguration',
  'GetBucketNotification', 'GetBucketObjectLockConfiguration', 'GetBucketOwnershipControls', 'GetBucketPolicy',
  'GetBucketPolicyStatus', 'GetBucketPublicAccessBlock', 'GetBucketRequestPayment', 'GetBucketTagging', 'GetBucketVersioning',
  'GetBucketWebsite', 'GetEncryptionConfiguration', 'GetIntelligentTieringConfiguration', 'GetInventoryConfiguration',
  'GetLifecycleConfiguration', 'GetMetricsConfiguration', 'GetReplicationConfiguration', 'ListBucket',
  'ListBucketMultipartUploads', 'ListBucketVersions', 'ListTagsForResource', 'PauseReplication', 'PutAccelerateConfiguration',
  'PutAnalyticsConfiguration', 'PutBucketAbac', 'PutBucketAcl', 'PutBucketCORS', 'PutBucketLogging', 'PutBucketNotification',
  'PutBucketObjectLockConfiguration', 'PutBucketOwnershipControls', 'PutBucketPolicy', 'PutBucketPublicAccessBlock',
  'PutBucketRequestPayment', 'PutBucketTagging', 'PutBucketVersioning', 'PutBucketWebsite', 'PutEncryptionConfiguration',
  'PutIntelligentTieringConfiguration', 'PutInventoryConfiguration', 'PutLifecycleConfiguration', 'PutMetricsConfiguration',
  'PutReplicationConfiguration', 'TagResource', 'UntagResource', 'UpdateBucketMetadataInventoryTableConfiguration',
  'UpdateBucketMetadataJournalTableConfiguration',
];

const OTHER_ACTIONS = [
  'AssociateAccessGrantsIdentityCenter', 'CreateAccessGrant', 'CreateAccessGrantsInstance', 'CreateAccessGrantsLocation',
  'CreateAccessPoint', 'CreateAccessPointForObjectLambda', 'CreateJob', 'CreateMultiRegionAccessPoint', 'CreateStorageLensGroup',
  'DeleteAccessGrant', 'DeleteAccessGrantsInstance', 'DeleteAccessGrantsInstanceResourcePolicy', 'DeleteAccessGrantsLocation',
  'DeleteAccessPoint', 'DeleteAccessPointForObjectLambda', 'DeleteAccessPointPolicy', 'DeleteAccessPointPolicyForObjectLambda',
  'DeleteJobTagging', 'DeleteMultiRegionAccessPoint', 'DeleteStorageLensConfiguration', 'DeleteStorageLensConfigurationTagging',
  'DeleteStorageLensGroup', 'DescribeJob', 'DescribeMultiRegionAccessPointOperation', 'DissociateAccessGrantsIdentityCenter',
  'GetAccessGrant', 'GetAccessGrantsInstance', 'GetAccessGrantsInstanceForPrefix', 'GetAccessGrantsInstanceResourcePolicy',
  'GetAccessGrantsLocation', 'GetAccessPoint', 'GetAccessPointConfigurationForObjectLambda', 'GetAccessPointForObjectLambda',
  'GetAccessPointPolicy', 'GetAccessPointPolicyForObjectLambda', 'GetAccessPointPolicyStatus',
  'GetAccessPointPolicyStatusForObjectLambda', 'GetAccountPublicAccessBlock', 'GetDataAccess', 'GetJobTagging',
  'GetMultiRegionAccessPoint', 'GetMultiRegionAccessPointPolicy', 'GetMultiRegionAccessPointPolicyStatus',
  'GetMultiRegionAccessPointRoutes', 'GetStorageLensConfiguration', 'GetStorageLensConfigurationTagging',
  'GetStorageLensDashboard', 'GetStorageLensGroup', 'ListAccessGrants', 'ListAccessGrantsInstances', 'ListAccessGrantsLocations',
  'ListAccessPoints', 'ListAccessPointsForObjectLambda', 'ListAllMyBuckets', 'ListCallerAccessGrants', 'ListJobs',
  'ListMultiRegionAccessPoints', 'ListStorageLensConfigurations', 'ListStorageLensGroups', 'PutAccessGrantsInstanceResourcePolicy',
  'PutAccessPointConfigurationForObjectLambda', 'PutAccessPointPolicy', 'PutAccessPointPolicyForObjectLambda',
  'PutAccessPointPublicAccessBlock', 'PutAccountPublicAccessBlock', 'PutJobTagging', 'PutMultiRegionAccessPointPolicy',
  'PutStorageLensConfiguration', 'PutStorageLensConfigurationTagging', 'SubmitMultiRegionAccessPointRoutes',
  'UpdateAccessGrantsLocation', 'UpdateJobPriority', 'UpdateJobStatus', 'UpdateStorageLensGroup',
];

const KIND = new Map<string, ResourceKind>();
for (const [names, kind] of [[OBJECT_ACTIONS, 'object'], [BUCKET_ACTIONS, 'bucket'], [OTHER_ACTIONS, 'other']] as const) {
  for (const name of names) KIND.set(`s3:${name}`, kind);
}

/** Every S3 action name the engine knows, 's3:' prefixed, sorted. */
export const S3_ACTIONS: readonly string[] = Object.freeze([...KIND.keys()].sort());

/** Canonical name by its canonical and lower-case spellings: a request's action resolves without lower-casing. */
const CANONICAL = new Map<string, string>();
for (const name of S3_ACTIONS) {
  CANONICAL.set(name, name);
  CANONICAL.set(name.toLowerCase(), name);
}

/** The canonical spelling of a known action (any case), or undefined. */
export function canonicalAction(action: string): string | undefined {
  return CANONICAL.get(action) ?? CANONICAL.get(action.toLowerCase());
}

export function actionKind(canonical: string): ResourceKind | undefined {
  return KIND.get(canonical);
}

const PATTERN_SHAPE = /^s3:[A-Za-z0-9*?]+$/i;

/** One Action / NotAction entry: the known actions it names; PolicyError when it names none. */
export function expandActionPattern(pattern: unknown): { all: boolean; names: string[]; re: RegExp } {
  if (typeof pattern !== 'string') throw new PolicyError('Policy has invalid action: an action must be a string');
  if (pattern === '*' || pattern.toLowerCase() === 's3:*') return { all: true, names: [...S3_ACTIONS], re: /^/ };
  if (!PATTERN_SHAPE.test(pattern)) throw new PolicyError(`Policy has invalid action: ${pattern}`);
  const re = wildcardRegExp(pattern, true);
  const names = S3_ACTIONS.filter((a) => re.test(a));
  if (names.length === 0) throw new PolicyError(`Policy has invalid action: ${pattern}`);
  return { all: false, names, re };
}

/** The compiled Action / NotAction element (a string or a non-empty array of them). */
export function compileActions(element: unknown, field: string): { set: ActionSet; perPattern: Array<{ pattern: string; names: string[] }> } {
  const list = typeof element === 'string' ? [element] : element;
  if (!Array.isArray(list) || list.length === 0) throw new PolicyError(`${field} must be a string or a non-empty array of strings`);
  const expanded = list.map(expandActionPattern);
  const known = new Set<string>();
  for (const e of expanded) for (const n of e.names) known.add(n);
  const all = expanded.some((e) => e.all);
  return {
    set: { all, known, patterns: all ? [] : expanded.map((e) => e.re) },
    perPattern: expanded.map((e, i) => ({ pattern: list[i] as string, names: e.names })),
  };
}

/** Whether the set names the request's action (canonical when known, else as sent). */
export function actionMatches(set: ActionSet, canonical: string | undefined, raw: string): boolean {
  if (set.all) return true;
  if (canonical !== undefined) return set.known.has(canonical);
  for (const re of set.patterns) if (re.test(raw)) return true;
  return false;
}
