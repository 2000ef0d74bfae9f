/**
 * Secrets in AWS Secrets Manager, for the Lambda extractor.
 *
 * Convention (core/auth/store.ts, ./names.ts): secret NAME of pipeline P is the secret with id `P/NAME`
 * (`my-spotify-lake/spotify/refresh_token`), its SecretString the plain value. The prefix is the
 * pipeline name unless the deployment sets another one (SECRETS_PREFIX).
 *
 * Values are cached by the source object, and the Lambda handler makes one source per
 * invocation: a warm container must not keep a refresh token that another invocation has since
 * rotated. Every value read or written is registered for redaction and never logged.
 */
import {
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { awsSecretId, secretNameFor } from './names.ts';
import type { LoadedPipeline } from '../config/types.ts';
import { registerSecret } from '../log.ts';
import { UserError } from '../errors.ts';
import type { Logger } from '../plugin-api.ts';
import type { SecretSource } from './source.ts';

export interface AwsSecretsOptions {
  /** The part before `/NAME` in the secret id: the pipeline name, or the deployment's SECRETS_PREFIX. */
  prefix: string;
  /** Default: `new SecretsManagerClient({})` (standard AWS environment, incl. `AWS_ENDPOINT_URL_SECRETS_MANAGER`). */
  client?: SecretsManagerClient;
}

export class AwsSecrets implements SecretSource {
  readonly prefix: string;
  readonly client: SecretsManagerClient;
  private readonly cache = new Map<string, Promise<string | undefined>>();

  constructor(opts: AwsSecretsOptions) {
    this.prefix = opts.prefix.replace(/\/+$/, '');
    if (!this.prefix) throw new Error('AwsSecrets needs a secret id prefix (the pipeline name)');
    this.client = opts.client ?? new SecretsManagerClient({});
  }

  get description(): string {
    return `AWS Secrets Manager (${this.prefix}/...)`;
  }

  /** The Secrets Manager secret id of secret NAME. */
  secretId(name: string): string {
    return awsSecretId(this.prefix, name);
  }

  get(name: string): Promise<string | undefined> {
    let p = this.cache.get(name);
    if (!p) {
      p = this.fetch(name);
      // A failed read is not cached: the caller may retry.
      p.catch(() => this.cache.delete(name));
      this.cache.set(name, p);
    }
    return p;
  }

  private async fetch(name: string): Promise<string | undefined> {
    const id = this.secretId(name);
    let res;
    try {
      res = await this.client.send(new GetSecretValueCommand({ SecretId: id }));
    } catch (e) {
      const code = errorName(e);
      // A secret without a value yet (created by the deployment, never set) is as good as none.
      if (code === 'ResourceNotFoundException') return undefined;
      if (code === 'AccessDeniedException') {
        throw new UserError(`not allowed to read secret ${id} from AWS Secrets Manager`, 'grant the function secretsmanager:GetSecretValue on it (and kms:Decrypt if it uses a customer key)');
      }
      // SDK error messages carry no secret values; keep only the code and first line anyway.
      throw new Error(`reading secret ${id} from AWS Secrets Manager failed: ${code}: ${firstLine(e)}`, { cause: e });
    }
    if (typeof res.SecretString !== 'string') {
      throw new UserError(`secret ${id} in AWS Secrets Manager has no string value`, 'store the value as a plain SecretString (not binary, not JSON)');
    }
    registerSecret(res.SecretString);
    return res.SecretString;
  }

  /** Store a new value of secret NAME (a new version; AWSCURRENT moves to it). */
  async put(name: string, value: string): Promise<void> {
    registerSecret(value);
    const id = this.secretId(name);
    try {
      await this.client.send(new PutSecretValueCommand({ SecretId: id, SecretString: value }));
    } catch (e) {
      throw new Error(`writing secret ${id} to AWS Secrets Manager failed: ${errorName(e)}: ${firstLine(e)}`, { cause: e });
    }
    this.cache.set(name, Promise.resolve(value));
  }
}

/**
 * The AWS implementation of `RunOptions.updateSecret` / `ReadContext.updateSecret`: stores a value
 * the plugin replaced (a rotated refresh token) in the secret that `connector.config.<key>`
 * references. Never rejects (the run already holds the new value; a failure is a warning telling
 * the user how to recover). Writes are serialized, so the last rotation wins.
 */
export function awsSecretUpdater(loaded: LoadedPipeline, secrets: AwsSecrets, logger: Logger): (configKey: string, value: string) => Promise<void> {
  let chain: Promise<void> = Promise.resolve();
  return (configKey, value) => {
    registerSecret(value);
    const name = secretNameFor(loaded, configKey);
    if (!name) {
      logger.warn(`the connector replaced connector.config.${configKey} (e.g. a rotated token), but it is not a \${secret:...} reference, so the new value cannot be stored; if the old value stops working, run \`npx spotify-pipeline login\` and update the secret`);
      return Promise.resolve();
    }
    chain = chain
      .then(() => secrets.put(name, value))
      .then(() => logger.debug(`stored the new value of secret "${name}" in ${secrets.description}`))
      .catch((e: unknown) => {
        logger.warn(`could not store the new value of secret "${name}" (${(e as Error).message}); the next run may need \`npx spotify-pipeline login\` and an update of ${secrets.secretId(name)}`);
      });
    return chain;
  };
}

function errorName(e: unknown): string {
  return (e as { name?: string })?.name ?? 'Error';
}

function firstLine(e: unknown): string {
  return String((e as Error)?.message ?? e).split('\n')[0];
}
