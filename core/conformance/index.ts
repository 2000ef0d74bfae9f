/**
 * The connector conformance kit: `runConformance(pluginOrPath)` judges a plugin against its own
 * sandbox (suites spec, check, discovery, basic_read, incremental, rerun, faults, secrets, abort);
 * `formatReport` prints the result; `conformanceSuite` (in ./vitest.ts) registers it in vitest.
 */
export { runConformance, alter } from './run.ts';
export { formatReport } from './report.ts';
export { scaffoldConnector, type ScaffoldResult } from './scaffold.ts';
export { SUITES, RULES, formatFailure, type ConformanceOptions, type ConformanceReport, type Failure, type PluginTarget, type SuiteName, type SuiteResult } from './types.ts';
