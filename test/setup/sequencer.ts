/**
 * The order test files start in: the slowest first (measured on a fresh clone, 2 cores), then the
 * rest in vitest's own order. With two workers, a slow file that starts last is a tail the other
 * worker waits out idle: a fresh clone has no timing cache, and vitest's fallback (file size)
 * started the 55 s Glue job suite as the 103rd of 108 files.
 */
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/** Slowest first; seconds on a fresh clone in brackets (CI log of 2026-12-05). */
const SLOW = [
  'test/terraform/rehearse.test.ts', // 164
  'test/transform/engines.test.ts', // 140
  'test/config/fuzz.test.ts', // 91
  'test/integrity/crash.test.ts', // 68
  'test/transform/glue.test.ts', // 56
  'test/cli/query.test.ts', // 38
  'test/cli/robustness.test.ts', // 38
  'test/storage/storage.test.ts', // 32
  'test/cli/control.test.ts', // 28
  'test/recs/spark.test.ts', // 24
  'test/terraform/plan.test.ts', // 23
  'test/integrity/lock.test.ts', // 23
  'test/cli/cli.test.ts', // 21
  'test/lambda/handler.test.ts', // 21
  'test/integrity/verify.test.ts', // 20
];

export default class SlowestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const base = await super.sort(files);
    const rank = (f: TestSpecification) => {
      const path = f.moduleId.replaceAll('\\', '/');
      const i = SLOW.findIndex((s) => path.endsWith(s));
      return i < 0 ? SLOW.length : i;
    };
    return [...base].sort((a, b) => rank(a) - rank(b));
  }
}
