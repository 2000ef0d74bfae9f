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
    // A worker runs its files one after another in one process and imports each module once:
    // isolated, every file re-imported the engine, DuckDB, the AWS SDK and cdktf (77 s of a
    // fresh clone's run; 13 s so). So each file undoes what it changes: stubbed variables and
    // spies (unstubAllEnvs, mockRestore), servers, and temp folders (shared helpers remove theirs
    // when the worker exits, not after the first file that used them).
    isolate: false,
    // ... and fails a file that leaves the environment, the working directory or a spy changed.
    setupFiles: ['test/setup/leaks.ts'],
    env: { CHECKPOINT_DISABLE: '1' },
    // The slow files first, Spark ones apart, so neither worker ends with a long tail alone (test/setup/sequencer.ts).
    sequence: { sequencer: SlowFirst },
  },
});
