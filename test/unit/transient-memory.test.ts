import { describe, expect, it } from 'vitest';
import { dropped, SCAVENGE_EVERY_BYTES, stats } from '../../src/storage/transient-memory.js';

describe('transient memory', () => {
  it('scavenges once per SCAVENGE_EVERY_BYTES of dropped buffers, not before', () => {
    const before = stats.scavenges;
    dropped(SCAVENGE_EVERY_BYTES - 1);
    expect(stats.scavenges).toBe(before);
    dropped(1);
    expect(stats.scavenges).toBe(before + 1);
    for (let i = 0; i < 4; i++) dropped(SCAVENGE_EVERY_BYTES / 4);
    expect(stats.scavenges).toBe(before + 2);
  });
});
