/**
 * The order test files start in: the slow ones first (measured on a fresh clone, 2 cores), then
 * the rest in vitest's own order. With two workers, a slow file that starts last is a tail the other
 * worker waits out idle: a fresh clone has no timing cache, and vitest's fallback (file size)
 * started the 55 s Glue job suite as the 103rd of 108 files.
 */
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The slow files in the order they start; seconds on a fresh clone in brackets (CI logs of
 * 2026-12-05). The three that run Spark (engines, Glue, rehearse) are spread out: run side by
 * side on two cores they slow each other by a third (a run that started the two longest together
 * took 54 s longer than vitest's own order).
 */
const SLOW = [
  'test/transform/engines.test.ts', // 175 (Spark)
  'test/config/fuzz.test.ts', // 65
  'test/integrity/crash.test.ts', // 65
  'test/transform/glue.test.ts', // 58 (Spark, after the engines on the same worker)
  'test/cli/query.test.ts', // 28
  'test/cli/robustness.test.ts', // 32
  'test/storage/storage.test.ts', // 25
  'test/terraform/rehearse.test.ts', // 146 (Spark, once the other worker's Spark is done)
  'test/cli/control.test.ts', // 24
  'test/terraform/plan.test.ts', // 22
  'test/integrity/lock.test.ts', // 14
  'test/cli/cli.test.ts', // 17
  'test/lambda/handler.test.ts', // 20
  'test/integrity/verify.test.ts', // 13
];

export default class SlowFirst extends BaseSequencer {
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
