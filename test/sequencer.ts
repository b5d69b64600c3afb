import { BaseSequencer, type TestSpecification } from 'vitest/node';

// The files that take a minute or more, about longest first (the two heaviest on CPU apart). CI runs a fresh clone, so vitest has no
// timings of its own and would start them by file size: the longest then ran last, alone on one
// worker while the other sat idle. Started first, they overlap with the many short files.
const SLOWEST_FIRST = [
  'test/integration/bench-smoke.test.ts',
  'test/integration/cli-records.test.ts',
  'test/integration/crash-campaign.test.ts',
  'test/unit/store-sqlite.test.ts',
  'test/integration/multipart-bad-input.test.ts',
  'test/integration/soak.test.ts',
  'test/integration/awscli.test.ts',
  'test/integration/versions-awscli.test.ts',
  'test/integration/multipart-awscli.test.ts',
  'test/integration/acl-awscli.test.ts',
];

export default class SlowFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (f: TestSpecification) => {
      const i = SLOWEST_FIRST.findIndex((p) => f.moduleId.endsWith(p));
      return i < 0 ? SLOWEST_FIRST.length : i;
    };
    // Array.prototype.sort is stable: the rest keep vitest's order.
    return sorted.sort((a, b) => rank(a) - rank(b));
  }
}
