/**
 * Secrets the deployment must never carry. The extractor gets its credentials from Secrets Manager
 * (`${secret:NAME}`, created without a value, set out of band); everything else the stack hands it
 * is in clear text in the synthesized JSON, the Terraform state and, for pipeline.yaml itself, the
 * extractor bundle. So the synth refuses (exit 2, naming the key and the fix) a connector config
 * that would put a credential there:
 *
 * - a secret-bearing key (the plugin's `secretKeys`, or a key named like a credential, which the
 *   connector kit requires to be declared) holding anything but a `${secret:NAME}` reference: an
 *   `${env:ANY}` (its value would be copied into the Lambda environment) or a literal (embedded
 *   with pipeline.yaml in the bundle);
 * - any key taking `${env:NAME}` where NAME is named like a credential (core/secrets/names.ts
 *   `looksLikeCredential`: SECRET, TOKEN, PASSWORD, CREDENTIAL, SALT, ..._KEY; not
 *   SPOTIFY_CLIENT_ID), whose value the stack would copy into the Lambda environment.
 *
 * `knownSecretValues` are the values `plan`'s checks look for in what was synthesized anyway (an
 * escape-hatch override, a value pasted where a reference belongs): SP016 (the Lambda
 * environment), SP017 (the bundle), SP018 (the whole synthesized JSON).
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { parsePipeline } from '../core/config/load.ts';
import { ConfigError, sortProblems, type Problem } from '../core/config/problem.ts';
import { findRefs, localSecretValues } from '../core/config/refs.ts';
import { secretsFile } from '../core/config/locations.ts';
import type { PipelineConfig } from '../core/config/types.ts';
import type { ConnectorPlugin } from '../core/plugin-api.ts';
import { looksLikeCredential } from '../core/secrets/names.ts';

const WHOLE_SECRET_REF = /^\s*\$\{secret:[^}]+\}\s*$/;
const ENV_REF = /\$\{env:([^}]*)\}/;

/**
 * The problems of each pipeline's connector config that would leak a credential into the
 * deployment, at file:line:col when the file can be read. `file` of an included pipeline is
 * relative to `pipelineFile`'s folder (or absolute).
 */
export function secretLeaks(
  pipelines: Array<{ config: PipelineConfig; file: string }>,
  pipelineFile: string,
  plugins: Record<string, Pick<ConnectorPlugin, 'secretKeys'>> = {},
): Problem[] {
  const problems: Problem[] = [];
  for (const { config, file } of pipelines) {
    const use = config.connector?.use ?? 'connector';
    const values = config.connector?.config ?? {};
    const secretKeys = plugins[use]?.secretKeys ?? [];
    const path = isAbsolute(file) || file === pipelineFile ? file : join(dirname(pipelineFile), file);
    let pos: (key: string) => { file: string; line: number; col: number } = () => ({ file, line: 0, col: 0 });
    try {
      const { loaded } = parsePipeline(readFileSync(resolve(path), 'utf8'), file);
      pos = (key) => loaded.pos(key);
    } catch {
      // positions are a courtesy: the key alone still names the problem
    }
    const fix = (key: string) => `use \${secret:${use}/${key}} (a Secrets Manager secret, created by the stack without a value and set out of band; locally in the secrets file) instead`;
    const report = (key: string, message: string) => problems.push({ ...pos(`connector.config.${key}`), path: `connector.config.${key}`, message, severity: 'error' });
    const reported = new Set<string>();

    for (const [key, v] of Object.entries(values)) {
      if (!(secretKeys.includes(key) || looksLikeCredential(key)) || v === undefined || v === null || v === '') continue;
      const text = typeof v === 'string' ? v : undefined;
      const env = text ? ENV_REF.exec(text) : null;
      if (env) {
        report(key, `is a secret but takes \${env:${env[1].trim()}}: the stack would copy that variable's value into the extractor Lambda's environment, in clear text in the synthesized JSON and the Terraform state; ${fix(key)}`);
      } else if (!(text && (WHOLE_SECRET_REF.test(text) || text.includes('${secret:')))) {
        report(key, `is a secret written as a literal value: pipeline.yaml is embedded in the extractor bundle, so it would ship in clear text (and sit in the Terraform state); ${fix(key)}`);
      } else continue;
      reported.add(key);
    }
    for (const r of findRefs(values, 'connector.config')) {
      const key = r.path.slice('connector.config.'.length);
      if (r.kind !== 'env' || !looksLikeCredential(r.name) || reported.has(key.split('.')[0])) continue;
      report(key, `takes \${env:${r.name}}, an environment variable named like a credential: the stack would copy its value into the extractor Lambda's environment, in clear text in the synthesized JSON and the Terraform state; ${fix(key.split('.')[0])} (or rename the variable if it holds no secret)`);
    }
  }
  return problems;
}

/** Throws (ConfigError: exit 2, every problem with its key and the fix) when a pipeline would leak a credential. */
export function refuseSecretLeaks(...args: Parameters<typeof secretLeaks>): void {
  const problems = secretLeaks(...args);
  if (problems.length) throw new ConfigError(sortProblems(problems));
}

/**
 * Values that must not appear in anything synthesized: the pipeline's local secrets file's (where
 * the CLI reads it: core/config/locations.ts) and those of the synth environment's variables named
 * like a credential (AWS keys included). Short values (under 8 characters) are left out: they would
 * match by chance.
 */
export function knownSecretValues(pipelineFile: string, env: Record<string, string | undefined> = process.env, config?: PipelineConfig): string[] {
  const values: string[] = [];
  for (const [k, v] of Object.entries(env)) if (v && looksLikeCredential(k)) values.push(v);
  values.push(...localSecretValues(secretsFile({ file: pipelineFile, config: config ?? ({} as PipelineConfig) }, env)));
  return [...new Set(values.filter((v) => v.length >= 8))];
}
