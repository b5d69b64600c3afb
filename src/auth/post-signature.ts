// The signature of a browser form upload (PostObject): the form carries the credentials, and the
// string signed is the base64 policy itself. SigV4: x-amz-algorithm, x-amz-credential, x-amz-date,
// x-amz-signature (hex HMAC-SHA256 under the day's signing key); SigV2: AWSAccessKeyId and
// signature (base64 HMAC-SHA1 under the secret). Field names are lower case here.
import { S3Error } from '../s3/errors.js';
import { safeEqual } from './crypto.js';
import { signV2 } from './sigv2.js';
import { ALGORITHM, signatureHex, signingKey } from './sigv4.js';
import { parseAmzDate } from './sigv4-verify.js';
import type { AuthResult, SecretLookup } from './types.js';

const V4_FIELDS = ['x-amz-algorithm', 'x-amz-credential', 'x-amz-date', 'x-amz-signature'] as const;
const V2_FIELDS = ['awsaccesskeyid', 'signature'] as const;

const missingField = (name: string) =>
  new S3Error('InvalidArgument', { ArgumentName: name, ArgumentValue: '' }, `Bucket POST must contain a field named '${name}'.  If it is specified, please check the order of the fields.`);

/** Which scheme the form is signed with; undefined for an anonymous form. */
export function postSignatureVersion(fields: ReadonlyMap<string, string>): 'v4' | 'v2' | undefined {
  const v4 = V4_FIELDS.some((f) => fields.has(f));
  const v2 = V2_FIELDS.some((f) => fields.has(f));
  if (v4 && v2) throw new S3Error('InvalidArgument', {}, 'Only one auth mechanism allowed; the form carries both SigV4 and SigV2 fields.');
  return v4 ? 'v4' : v2 ? 'v2' : undefined;
}

/**
 * Verifies the form's signature; null for an anonymous form. `lookup` may throw (the Principals
 * service's first pass does, to fetch a key's secret and verify again).
 */
export function verifyPostSignature(fields: ReadonlyMap<string, string>, o: { lookup: SecretLookup; region: string }): AuthResult | null {
  const version = postSignatureVersion(fields);
  // S3: a form with a policy must be signed (an anonymous form carries none).
  if (version === undefined && fields.has('policy')) throw missingField('x-amz-signature');
  if (version === undefined) return null;
  const names = version === 'v4' ? V4_FIELDS : V2_FIELDS;
  for (const name of names) if (!fields.get(name)) throw missingField(name);
  const policy = fields.get('policy');
  if (!policy) throw missingField('policy');
  return version === 'v4' ? verifyV4(fields, policy, o) : verifyV2(fields, policy, o.lookup);
}

function verifyV4(fields: ReadonlyMap<string, string>, policy: string, o: { lookup: SecretLookup; region: string }): AuthResult {
  const algorithm = fields.get('x-amz-algorithm')!;
  if (algorithm !== ALGORITHM) {
    throw new S3Error('InvalidArgument', { ArgumentName: 'x-amz-algorithm', ArgumentValue: algorithm }, `Only ${ALGORITHM} is supported.`);
  }
  const credential = fields.get('x-amz-credential')!;
  const parts = credential.split('/');
  if (parts.length !== 5 || !parts[0] || !/^\d{8}$/.test(parts[1]!) || parts[3] !== 's3' || parts[4] !== 'aws4_request') {
    throw new S3Error('InvalidArgument', { ArgumentName: 'x-amz-credential', ArgumentValue: credential }, `Error parsing the X-Amz-Credential parameter: '${credential}'.`);
  }
  const [accessKeyId, day, region] = parts as [string, string, string];
  if (region !== o.region) {
    throw new S3Error('AuthorizationQueryParametersError', { Region: o.region }, `Error parsing the X-Amz-Credential parameter; the region '${region}' is wrong; expecting '${o.region}'`);
  }
  const date = fields.get('x-amz-date')!;
  // The policy's expiration bounds the form's life; the date must still be one, of the credential's day.
  if (parseAmzDate(date) === undefined || !date.startsWith(day)) {
    throw new S3Error('InvalidArgument', { ArgumentName: 'x-amz-date', ArgumentValue: date }, 'X-Amz-Date must be in the ISO8601 Long Format (yyyyMMdd\'T\'HHmmss\'Z\') and of the credential\'s day.');
  }
  const secret = secretFor(o.lookup, accessKeyId);
  const expected = signatureHex(signingKey(secret, day, region, 's3'), policy);
  if (!safeEqual(expected, fields.get('x-amz-signature')!.toLowerCase())) throw new S3Error('SignatureDoesNotMatch', { AWSAccessKeyId: accessKeyId });
  return { accessKeyId, payload: { kind: 'unsigned' }, signatureVersion: 'v4', presigned: false, form: true };
}

function verifyV2(fields: ReadonlyMap<string, string>, policy: string, lookup: SecretLookup): AuthResult {
  const accessKeyId = fields.get('awsaccesskeyid')!;
  const secret = secretFor(lookup, accessKeyId);
  if (!safeEqual(signV2(secret, policy), fields.get('signature')!)) throw new S3Error('SignatureDoesNotMatch', { AWSAccessKeyId: accessKeyId });
  return { accessKeyId, payload: { kind: 'unsigned' }, signatureVersion: 'v2', presigned: false, form: true };
}

function secretFor(lookup: SecretLookup, accessKeyId: string): string {
  const secret = lookup(accessKeyId);
  if (secret === undefined) throw new S3Error('InvalidAccessKeyId', { AWSAccessKeyId: accessKeyId });
  return secret;
}
