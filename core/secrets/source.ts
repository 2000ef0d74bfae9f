/**
 * Secret sources: where `${secret:NAME}` references of pipeline.yaml get their values. Locally
 * the untracked secrets file (core/config/refs.ts `localSecrets`); in AWS, Secrets Manager
 * (./aws.ts). Sources are asynchronous; `resolveConnectorConfig` fetches every secret the config
 * references first, then resolves the references with the same rules and messages as locally.
 */
import { findRefs, resolveRefs } from '../config/refs.ts';
import type { LoadedPipeline } from '../config/types.ts';
import { registerSecret } from '../log.ts';
import type { ConnectorPlugin, JsonRecord } from '../plugin-api.ts';

export interface SecretSource {
  /** Where secrets come from, for messages (`AWS Secrets Manager (my-spotify-lake/...)`). Never a value. */
  readonly description: string;
  /** The value of secret NAME, or undefined when it does not exist. Every value returned is registered for redaction. */
  get(name: string): Promise<string | undefined>;
}

/**
 * `connector.config` with every `${env:...}` / `${secret:...}` reference resolved. Missing
 * references are reported together (ConfigError, naming the reference, never a value). Every
 * resolved secret and every value of the plugin's secret keys is registered for redaction.
 */
export async function resolveConnectorConfig(
  loaded: LoadedPipeline,
  plugin: ConnectorPlugin,
  sources: { env: Record<string, string | undefined>; secrets: SecretSource },
): Promise<JsonRecord> {
  const raw = loaded.config.connector.config ?? {};
  const names = [...new Set(findRefs(raw, 'connector.config').filter((r) => r.kind === 'secret').map((r) => r.name))];
  const values = new Map<string, string | undefined>();
  await Promise.all(names.map(async (n) => values.set(n, await sources.secrets.get(n))));
  for (const v of values.values()) registerSecret(v);
  const resolved = resolveRefs(raw, loaded, 'connector.config', { env: sources.env, secrets: (n) => values.get(n) }) as JsonRecord;
  for (const k of plugin.secretKeys) registerSecret(resolved[k]);
  return resolved;
}
