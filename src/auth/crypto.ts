import { createHmac, timingSafeEqual } from 'node:crypto';
import { hashOnce } from '../s3/checksums.js';

export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

export function sha256Hex(data: string | Buffer): string {
  return hashOnce('sha256', data, 'hex');
}

const BLOCK = 64;

/**
 * HMAC-SHA256 under one key that signs many messages (a SigV4 signing key: every request of a
 * day, every chunk of a streamed upload). HMAC(K, m) = H((K ^ opad) || H((K ^ ipad) || m)), with
 * both padded keys made once and two one-shot hashes per message: createHmac builds an HMAC
 * context per call, the larger part of a signature check's crypto in place under a 4 KiB GET
 * load.
 */
class PreparedHmacKey {
  /** K ^ ipad, then room for the message. */
  private inner: Buffer;
  /** K ^ opad, then the inner digest. */
  private readonly outer = Buffer.alloc(BLOCK + 32);

  constructor(key: Buffer) {
    const k = key.length > BLOCK ? hashOnce('sha256', key, 'buffer') : key;
    this.inner = Buffer.alloc(BLOCK + 256);
    for (let i = 0; i < BLOCK; i++) {
      const b = i < k.length ? k[i]! : 0;
      this.inner[i] = b ^ 0x36;
      this.outer[i] = b ^ 0x5c;
    }
  }

  mac(data: string): Buffer {
    // A UTF-8 character is at most 3 bytes per UTF-16 unit: room for any message of this length.
    if (this.inner.length < BLOCK + data.length * 3) {
      const grown = Buffer.alloc(BLOCK + data.length * 3);
      this.inner.copy(grown, 0, 0, BLOCK);
      this.inner = grown;
    }
    const n = this.inner.write(data, BLOCK, 'utf8');
    hashOnce('sha256', this.inner.subarray(0, BLOCK + n), 'buffer').copy(this.outer, BLOCK);
    return hashOnce('sha256', this.outer, 'buffer');
  }
}

const preparedKeys = new WeakMap<Buffer, PreparedHmacKey>();

/**
 * Marks a key that will sign many messages: hmacSha256 under it then takes the prepared path.
 * Held weakly: it goes when the key does.
 */
export function prepareHmacKey(key: Buffer): Buffer {
  if (!preparedKeys.has(key)) preparedKeys.set(key, new PreparedHmacKey(key));
  return key;
}

export function hmacSha256(key: string | Buffer, data: string): Buffer {
  const prepared = typeof key === 'string' ? undefined : preparedKeys.get(key);
  if (prepared) return prepared.mac(data);
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
