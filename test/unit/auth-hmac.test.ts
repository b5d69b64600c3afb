// The prepared-key HMAC path (signing keys) must give exactly what createHmac gives, for any key
// length and any message, including after a longer message has used the shared buffers.
import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hmacSha256, prepareHmacKey } from '../../src/auth/crypto.js';

const reference = (key: Buffer, data: string) => createHmac('sha256', key).update(data, 'utf8').digest('hex');

const MESSAGES = [
  '',
  'a',
  'AWS4-HMAC-SHA256\n20261126T211355Z\n20261126/us-east-1/s3/aws4_request\n' + 'f'.repeat(64),
  'x'.repeat(1000), // longer than the buffer the key starts with
  'short again', // after the long one: no stale bytes may be hashed
  'é漢😀 mixed ünïcode, ' + 'z'.repeat(300),
  '\u0000\uffff',
];

describe('hmacSha256 with a prepared key', () => {
  for (const length of [1, 32, 63, 64, 65, 100]) {
    it(`matches createHmac for a ${length}-byte key`, () => {
      const key = prepareHmacKey(randomBytes(length));
      for (const m of MESSAGES) expect(hmacSha256(key, m).toString('hex'), JSON.stringify(m.slice(0, 20))).toBe(reference(key, m));
    });
  }

  it('keeps keys apart and returns a fresh buffer each time', () => {
    const a = prepareHmacKey(randomBytes(32));
    const b = prepareHmacKey(randomBytes(32));
    const first = hmacSha256(a, 'message');
    const copy = Buffer.from(first);
    const other = hmacSha256(b, 'message');
    expect(other.equals(first)).toBe(false);
    expect(first.equals(copy)).toBe(true); // not overwritten by the next call
    expect(other.toString('hex')).toBe(reference(b, 'message'));
  });

  it('preparing a key twice changes nothing; an unprepared key takes the plain path', () => {
    const key = randomBytes(32);
    const plain = hmacSha256(key, 'm').toString('hex');
    prepareHmacKey(key);
    prepareHmacKey(key);
    expect(hmacSha256(key, 'm').toString('hex')).toBe(plain);
    expect(plain).toBe(reference(key, 'm'));
  });
});
