import { defineConfig } from 'vitest/config';
import SlowFirstSequencer from './test/sequencer.js';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration suites each start their own server on port 0 with their own data dir,
    // but real clients (aws CLI, rclone) are heavy on 2 cores: keep file parallelism low.
    maxWorkers: 2,
    // One throwaway PostgreSQL cluster for the run (the PostgreSQL engine's tests).
    globalSetup: ['test/global-pg.ts'],
    sequence: { sequencer: SlowFirstSequencer },
  },
});
