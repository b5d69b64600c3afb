import crypto, { createHmac, timingSafeEqual } from 'node:crypto';

export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

// crypto.hash (Node >= 20.12; package.json asks for >= 20.15) hashes in one call, without a Hash
// object per request: a third of the cost of createHash().update().digest() for the short
// texts of a signature. @types/node does not declare it yet.
const hashOnce = (crypto as unknown as { hash: (alg: string, data: string | Buffer, enc: 'hex') => string }).hash;

export function sha256Hex(data: string | Buffer): string {
  return hashOnce('sha256', data, 'hex');
}

export function hmacSha256(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

/**
 * Signatures are compared in constant time so a client cannot learn a valid signature
 * byte by byte from response timing. Only the length may leak, and that is public.
 */
export function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a, 'utf8');
  const bb = Buffer.from(b, 'utf8');
  if (ab.length !== bb.length) return false;
  return timingSafeEqual(ab, bb);
}

export const HEX64 = /^[0-9a-fA-F]{64}$/;
