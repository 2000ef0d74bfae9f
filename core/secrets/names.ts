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

/**
 * Whether a name (an environment variable, a config key) says it holds a credential: a secret,
 * token, password, passphrase, credential, salt, private or API/access key, or anything ending in
 * KEY. `SPOTIFY_CLIENT_ID`, `AWS_REGION` or `SPOTIFY_EXPORT_PATH` do not; an id, a region or a
 * path is not a credential. The engine's own `SECRETS_PREFIX` (a name prefix) is not one either.
 * One rule for the synth's refusal (terraform/stack.ts), `plan`'s SP016 and the CLI's redaction.
 */
export function looksLikeCredential(name: string): boolean {
  const n = name.toUpperCase();
  if (n === 'SECRETS_PREFIX') return false;
  return /SECRET|TOKEN|PASSW(OR)?D|PASSPHRASE|CREDENTIAL|SALT|PRIVATE_?KEY|ACCESS_?KEY|API_?KEY|(^|_)KEY$/.test(n);
}
