/**
 * The kit inside vitest: `conformanceSuite(pluginOrPath)` registers one `describe` with one test
 * per suite, so a connector's own test file is two lines (see `connector init`). Kept apart from
 * the kit itself so the CLI never imports vitest.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { runConformance } from './run.ts';
import { SUITES, formatFailure, type ConformanceOptions, type ConformanceReport, type PluginTarget } from './types.ts';

export function conformanceSuite(target: PluginTarget, options: ConformanceOptions & { timeoutMs?: number } = {}): void {
  const label = typeof target === 'string' ? target : target.name;
  describe(`connector conformance: ${label}`, () => {
    let report: ConformanceReport;
    beforeAll(async () => {
      report = await runConformance(target, options);
    }, options.timeoutMs ?? 120_000);
    for (const suite of SUITES) {
      it(suite, (ctx) => {
        const r = report.suites.find((s) => s.suite === suite)!;
        if (r.status === 'skipped') {
          ctx.skip(r.notes[0]);
          return;
        }
        expect(r.failures.map(formatFailure), `${suite} failures`).toEqual([]);
      });
    }
  });
}
