import { describe, expect, it } from 'vitest';
import { dropped, MAJOR_EVERY_SCAVENGES, SCAVENGE_EVERY_BYTES, stats } from '../../src/storage/transient-memory.js';

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

  it('asks for one major collection per MAJOR_EVERY_SCAVENGES scavenges', () => {
    // Line up on a major boundary first, whatever the test above left.
    while (stats.scavenges % MAJOR_EVERY_SCAVENGES !== 0) dropped(SCAVENGE_EVERY_BYTES);
    const majors = stats.majors;
    for (let i = 0; i < MAJOR_EVERY_SCAVENGES - 1; i++) dropped(SCAVENGE_EVERY_BYTES);
    expect(stats.majors).toBe(majors);
    dropped(SCAVENGE_EVERY_BYTES);
    expect(stats.majors).toBe(majors + 1);
    for (let i = 0; i < MAJOR_EVERY_SCAVENGES; i++) dropped(SCAVENGE_EVERY_BYTES);
    expect(stats.majors).toBe(majors + 2);
  });
});
