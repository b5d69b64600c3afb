// The XML of a bucket's default encryption (Put/GetBucketEncryption): ServerSideEncryptionConfiguration.
import { S3Error } from './errors.js';
import { doc, el, leafText, rootOf } from './xml.js';

/**
 * PutBucketEncryption's body: one Rule whose ApplyServerSideEncryptionByDefault says AES256
 * (SSE-S3). aws:kms and aws:kms:dsse are refused NotImplemented (cairn has no KMS), as is
 * BucketKeyEnabled true (a KMS feature; false is what SSE-S3 means anyway).
 */
export function parseEncryptionConfiguration(xml: string): 'AES256' {
  const root = rootOf(xml, 'ServerSideEncryptionConfiguration');
  const rules = Array.isArray(root.Rule) ? root.Rule : root.Rule === undefined ? [] : [root.Rule];
  if (rules.length !== 1 || typeof rules[0] !== 'object' || rules[0] === null) throw new S3Error('MalformedXML');
  const rule = rules[0] as Record<string, unknown>;
  const apply = rule.ApplyServerSideEncryptionByDefault as Record<string, unknown> | undefined;
  if (typeof apply !== 'object' || apply === null || Array.isArray(apply)) throw new S3Error('MalformedXML');
  const algorithm = leafText(apply.SSEAlgorithm)?.trim();
  if (algorithm === 'aws:kms' || algorithm === 'aws:kms:dsse') {
    throw new S3Error('NotImplemented', {}, `A header you provided implies functionality that is not implemented: SSEAlgorithm ${algorithm} (cairn has no KMS; use AES256).`);
  }
  if (algorithm !== 'AES256') throw new S3Error('MalformedXML');
  if (leafText(apply.KMSMasterKeyID) !== undefined) throw new S3Error('InvalidArgument', { ArgumentName: 'KMSMasterKeyID' }, 'a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or aws:kms:dsse');
  const bucketKey = leafText(rule.BucketKeyEnabled)?.trim();
  if (bucketKey === 'true') throw new S3Error('NotImplemented', {}, 'A header you provided implies functionality that is not implemented: BucketKeyEnabled (an S3 Bucket Key is a KMS feature).');
  if (bucketKey !== undefined && bucketKey !== 'false') throw new S3Error('MalformedXML');
  if (rule.BlockedEncryptionTypes !== undefined) throw new S3Error('NotImplemented', {}, 'A header you provided implies functionality that is not implemented: BlockedEncryptionTypes.');
  return 'AES256';
}

export function encryptionConfigurationXml(algorithm: 'AES256'): string {
  return doc('ServerSideEncryptionConfiguration', `<Rule><ApplyServerSideEncryptionByDefault>${el('SSEAlgorithm', algorithm)}</ApplyServerSideEncryptionByDefault>${el('BucketKeyEnabled', 'false')}</Rule>`);
}
