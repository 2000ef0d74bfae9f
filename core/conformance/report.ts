/** The kit's report as text: one line per suite, one line per failure. */
import { formatFailure, type ConformanceReport } from './types.ts';

export function formatReport(r: ConformanceReport, opts: { verbose?: boolean } = {}): string {
  const lines: string[] = [];
  lines.push(`connector ${r.plugin}${r.version ? ` ${r.version}` : ''}: ${r.streams.length ? `streams ${r.streams.join(', ')}` : 'no stream under test'}`);
  const width = Math.max(...r.suites.map((s) => s.suite.length));
  for (const s of r.suites) {
    const tag = s.status === 'passed' ? 'PASS' : s.status === 'failed' ? 'FAIL' : 'SKIP';
    const detail = s.status === 'failed' ? `${s.failures.length} failure(s)` : s.status === 'skipped' ? s.notes[0] ?? '' : `${s.seconds.toFixed(1)} s`;
    lines.push(`  ${tag} ${s.suite.padEnd(width)}  ${detail}`);
    for (const f of s.failures) lines.push(`       - ${formatFailure(f)}`);
    if (opts.verbose && s.status !== 'skipped') for (const n of s.notes) lines.push(`       . ${n}`);
  }
  const failed = r.suites.filter((s) => s.status === 'failed');
  const n = failed.reduce((a, s) => a + s.failures.length, 0);
  lines.push(r.ok ? `PASSED (${r.suites.filter((s) => s.status === 'passed').length} suites passed, ${r.suites.filter((s) => s.status === 'skipped').length} skipped)` : `FAILED: ${n} failure(s) in ${failed.map((s) => s.suite).join(', ')}`);
  return lines.join('\n');
}
