import { describe, expect, it } from 'vitest';
import { runSoak, summary } from '../../bench/soak.js';

// The CI version of `npm run soak` (bench/soak.ts): fewer clients, smaller objects and chunks,
// ~60 s against `dist/cli.js serve` in its own process. Every read is checked byte for byte;
// the server's RSS must stay within its configured memory and its descriptors must come back.

const MiB = 1024 * 1024;
const SECONDS = Number(process.env.SOAK_CI_SECONDS ?? 50);
const CLIENTS = 16;
const CHUNK = 4 * MiB;
const BUFFERS = 8;

describe('soak (CI version)', () => {
  it(`${CLIENTS} clients for ${SECONDS} s of PUT/GET/LIST/COPY/DELETE/multipart: no error, no corrupt read, RSS bounded, descriptors flat`, async () => {
    const r = await runSoak({
      seconds: SECONDS,
      clients: CLIENTS,
      minSize: 1024,
      maxSize: 40 * MiB,
      serverEnv: { CAIRN_CHUNK_SIZE: String(CHUNK), CAIRN_WRITE_BUFFERS: String(BUFFERS), CAIRN_DURABILITY: 'relaxed' },
    });
    process.stdout.write(summary(r) + '\n');
    expect(r.errorSamples).toEqual([]);
    expect(r.errors).toBe(0);
    expect(r.corrupt).toBe(0);
    expect(r.requests).toBeGreaterThan(100);
    expect(r.objectsVerifiedAtEnd).toBeGreaterThan(0);
    // Uploads live in the pool; a GET holds at most the chunk being sent, the one read ahead and
    // one buffered by the stream, whatever the object size.
    expect(r.rssPeakBytes).toBeLessThan(r.rssStartBytes + r.poolBytes + CLIENTS * 3 * CHUNK + 96 * MiB);
    // One socket per client at most, plus the data files; all back once the clients are gone.
    expect(r.fdsMax).toBeLessThan(r.fdsStart + CLIENTS + 40);
    expect(r.fdsIdle).toBeLessThanOrEqual(r.fdsStart + 2);
    expect(r.serverExit).toBe(0);
  }, (SECONDS + 60) * 1000);
});
