/**
 * The project's Python for tests (created by the global setup, test/setup/build.ts): the venv's
 * python, its scripts, and the environment Spark's launchers need.
 */
// @ts-expect-error: scripts/python.mjs is plain JavaScript without type declarations
import { ensurePython as ensure } from '../../scripts/python.mjs';

export interface PythonEnv {
  dir: string;
  python: string;
  sparkHome: string;
  bin(name: string): string;
  sparkEnv(env?: Record<string, string | undefined>): Record<string, string | undefined>;
}

export const pythonEnv = (): PythonEnv => (ensure as (o?: { log?: (l: string) => void }) => PythonEnv)({ log: () => undefined });
