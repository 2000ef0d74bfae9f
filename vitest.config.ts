import { defineConfig } from 'vitest/config';
import SlowFirst from './test/setup/sequencer.ts';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'connectors/**/*.test.ts'],
    exclude: ['**/node_modules/**', 'test/bench/**'],
    globalSetup: ['test/setup/build.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Two cores: run files in two forks; DuckDB and the sandbox are per-test-file.
    pool: 'forks',
    maxWorkers: 2,
    env: { CHECKPOINT_DISABLE: '1' },
    // The slow files first, Spark ones apart, so neither worker ends with a long tail alone (test/setup/sequencer.ts).
    sequence: { sequencer: SlowFirst },
  },
});
