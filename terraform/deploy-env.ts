/**
 * Deploy-time values: each `${env:NAME}` of a deployed connector config is copied from the synth
 * environment into the extractor's environment. A variable missing at synth would deploy a
 * function that fails every run (no client id), so the synth and `plan` refuse it: ConfigError,
 * exit 2, one line per variable naming the key, the variable and the fix.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { parsePipeline } from '../core/config/load.ts';
import { ConfigError, sortProblems, type Problem } from '../core/config/problem.ts';
import type { RefUse } from '../core/config/refs.ts';

export interface MissingEnv {
  /** The pipeline file (relative to the main pipeline's folder for an included one). */
  file: string;
  /** The `${env:NAME}` reference (its path, e.g. connector.config.client_id, and NAME). */
  ref: RefUse;
  /** ` of included pipeline <name>`, or '' for the main one. */
  where: string;
}

/** Throws a ConfigError naming every variable the deployment needs and the synth environment lacks. */
export function refuseMissingEnv(missing: MissingEnv[], pipelineFile: string): void {
  if (!missing.length) return;
  const problems: Problem[] = missing.map(({ file, ref, where }) => {
    const path = isAbsolute(file) || file === pipelineFile ? file : join(dirname(pipelineFile), file);
    let pos = { file, line: 0, col: 0 };
    try {
      pos = parsePipeline(readFileSync(resolve(path), 'utf8'), file).loaded.pos(ref.path);
    } catch {
      // positions are a courtesy: the key and the variable still name the problem
    }
    return {
      ...pos,
      path: ref.path,
      message: `takes \${env:${ref.name}}${where}, which is not set in the synth environment: the deployed extractor would have no value and fail every run; export ${ref.name}=... and synthesize (or plan) again`,
      severity: 'error',
    };
  });
  throw new ConfigError(sortProblems(problems));
}
