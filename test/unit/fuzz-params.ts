// Shared fast-check parameters of the test/unit/fuzz-*.test.ts properties. `npm test` runs each
// property a moderate number of times with a fixed seed (reproducible, a few seconds in all);
// `npm run fuzz` sets FUZZ_RUNS (and a fresh seed unless FUZZ_SEED is given) for a longer hunt.
// A failure prints its seed and path: rerun with FUZZ_SEED=<seed> to reproduce it.

export const FIXED_SEED = 20261126;

/** fast-check options: `runs` in npm test, FUZZ_RUNS under npm run fuzz. */
export function fuzzParams(runs: number): { seed: number; numRuns: number; endOnFailure: boolean } {
  const fromEnv = Number(process.env.FUZZ_RUNS);
  const long = Number.isSafeInteger(fromEnv) && fromEnv > 0;
  const seedEnv = Number(process.env.FUZZ_SEED);
  const seed = Number.isSafeInteger(seedEnv) && process.env.FUZZ_SEED !== '' && process.env.FUZZ_SEED !== undefined ? seedEnv : long ? Date.now() % 2 ** 31 : FIXED_SEED;
  return { seed, numRuns: long ? fromEnv : runs, endOnFailure: true };
}

/** Vitest timeout for a property: generous under npm run fuzz. */
export function fuzzTimeout(ms: number): number {
  const runs = Number(process.env.FUZZ_RUNS);
  return Number.isSafeInteger(runs) && runs > 0 ? Math.max(ms, 30 * 60_000) : ms;
}
