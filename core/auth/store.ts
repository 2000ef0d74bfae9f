/**
 * Where an authorization's secrets go. A plugin returns values keyed by its config key
 * (`refresh_token`); pipeline.yaml says which secret holds that key
 * (`refresh_token: ${secret:spotify/refresh_token}`), so the value is stored under that secret
 * NAME: locally in the secrets file, in AWS in Secrets Manager.
 *
 * AWS convention: secret `NAME` of pipeline `P` is the Secrets Manager secret with id `P/NAME`
 * (e.g. `my-spotify-lake/spotify/refresh_token`), its SecretString the plain value. The
 * deployment and the Lambda's secret resolver must use the same rule.
 */
import type { LoadedPipeline } from '../config/types.ts';
import type { Logger } from '../plugin-api.ts';
import { registerSecret } from '../log.ts';
import { secretsFile } from '../config/locations.ts';
import { persistLocalSecret } from './secrets-file.ts';

// One definition of the naming rules, shared with the Lambda extractor (which must not import core/auth).
export { awsSecretId, secretNameFor } from '../secrets/names.ts';
import { awsSecretId, secretNameFor } from '../secrets/names.ts';

/** The name `login` uses when pipeline.yaml does not reference a secret for the key yet. */
export function defaultSecretName(pluginName: string, configKey: string): string {
  return `${pluginName}/${configKey}`;
}

const shellQuote = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/**
 * A shell command that copies one secret from the local secrets file to Secrets Manager without
 * the value ever appearing on screen or in the command line (`file://` of a process substitution;
 * bash/zsh with jq).
 */
export function awsPutSecretCommand(pipelineName: string, secretName: string, file: string): string {
  const jq = `jq -j --arg k ${shellQuote(secretName)} '.[$k]' ${shellQuote(file)}`;
  return `aws secretsmanager put-secret-value --secret-id ${shellQuote(awsSecretId(pipelineName, secretName))} --secret-string file://<(${jq})`;
}

/** Matches `ReadContext.updateSecret`: store a value the plugin replaced (e.g. a rotated refresh token). */
export type SecretUpdater = (configKey: string, value: string) => Promise<void>;

/**
 * The local implementation of `ReadContext.updateSecret`: writes the new value to the secrets
 * file under the name pipeline.yaml references, keeping its `_meta` (a rotated refresh token keeps
 * its authorization date). Never rejects: a failure is a warning, since this run already has its
 * token; the next run would need a new login. Writes are serialized.
 */
export function localSecretUpdater(loaded: LoadedPipeline, logger: Logger, file: string = secretsFile(loaded)): SecretUpdater {
  let chain: Promise<void> = Promise.resolve();
  return (configKey, value) => {
    registerSecret(value);
    const name = secretNameFor(loaded, configKey);
    if (!name) {
      logger.warn(`the connector replaced connector.config.${configKey} (e.g. a rotated token), but it is not a \${secret:...} reference, so the new value cannot be stored; if the old value stops working, run \`npx spotify-pipeline login\``);
      return Promise.resolve();
    }
    chain = chain.then(
      () => persistLocalSecret(file, name, value).then(() => logger.debug(`stored the new value of secret "${name}" in ${file}`)),
    ).catch((e: unknown) => {
      logger.warn(`could not store the new value of secret "${name}" in ${file} (${(e as Error).message}); the next run may need \`npx spotify-pipeline login\``);
    });
    return chain;
  };
}
