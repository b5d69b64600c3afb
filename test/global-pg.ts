import type { TestProject } from 'vitest/node';
import { startCluster, type Cluster } from '../src/db/pg/cluster.js';

// One throwaway PostgreSQL cluster for the whole test run (test/helpers/pg.ts gives each test
// file its own database in it). When it cannot start, the PostgreSQL tests fail under CI=true
// and are skipped elsewhere, with the reason.

declare module 'vitest' {
  export interface ProvidedContext {
    pgUrl: string;
    pgError: string;
  }
}

let cluster: Cluster | undefined;

export async function setup(project: TestProject): Promise<void> {
  try {
    cluster = await startCluster();
    project.provide('pgUrl', cluster.url);
    project.provide('pgError', '');
  } catch (err) {
    project.provide('pgUrl', '');
    project.provide('pgError', (err as Error).message);
  }
}

export async function teardown(): Promise<void> {
  await cluster?.stop();
}
