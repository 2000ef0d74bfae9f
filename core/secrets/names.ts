/**
 * Secret names and ids, as pure functions with no imports beyond types, so the Lambda extractor's
 * import graph stays free of the CLI side of core (core/auth/store.ts reaches core/pipeline.ts,
 * and through it DuckDB).
 *
 * core/auth/store.ts re-exports these: one definition for login, the CLI and the Lambda.
 */
import type { LoadedPipeline } from '../config/types.ts';

const WHOLE_SECRET_REF = /^\s*\$\{secret:([^}]+)\}\s*$/;

/** The Secrets Manager secret id of a pipeline's secret: `<pipeline name>/<secret name>`. */
export function awsSecretId(pipelineName: string, secretName: string): string {
  return `${pipelineName}/${secretName}`;
}

/** The secret NAME `connector.config.<key>` refers to, when its value is exactly one `${secret:NAME}`. */
export function secretNameFor(loaded: LoadedPipeline, configKey: string): string | undefined {
  const v = (loaded.config.connector?.config ?? {})[configKey];
  const m = typeof v === 'string' ? WHOLE_SECRET_REF.exec(v) : null;
  return m ? m[1].trim() : undefined;
}
