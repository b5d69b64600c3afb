import { describe, expect, it } from 'vitest';
import { isVersionId, newVersionId } from '../../src/s3/version-id.js';

describe('newVersionId', () => {
  it('makes 32 URL-safe characters that never begin with "-" (a command line would read an option)', () => {
    // 1 id in 64 would begin with '-' otherwise: 20,000 ids meet that case ~300 times.
    for (let i = 0; i < 20_000; i++) {
      const id = newVersionId();
      expect(isVersionId(id)).toBe(true);
      expect(id.startsWith('-')).toBe(false);
    }
  });

  it('still accepts an id beginning with "-" from earlier versions of cairn', () => {
    expect(isVersionId(`-${'a'.repeat(31)}`)).toBe(true);
  });
});
