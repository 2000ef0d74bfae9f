/**
 * The AWS Secrets Manager secret source and the rotated-secret writer, against moto's Secrets
 * Manager on loopback (test/support/moto.ts): the SDK's real serialization, signing and error
 * parsing, no stubs. Requests are counted where they arrive, by moto's request recorder.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CreateSecretCommand, DeleteSecretCommand, GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { parsePipeline } from '../../core/config/load.ts';
import { ConfigError } from '../../core/config/problem.ts';
import type { LoadedPipeline } from '../../core/config/types.ts';
import { memoryLogger, redact } from '../../core/log.ts';
import { UserError, type ConnectorPlugin } from '../../core/plugin-api.ts';
import { AwsSecrets, awsSecretUpdater } from '../../core/secrets/aws.ts';
import { awsSecretId, secretNameFor } from '../../core/secrets/names.ts';
import { resolveConnectorConfig } from '../../core/secrets/source.ts';
import * as authStore from '../../core/auth/store.ts';
import { MOTO_CREDENTIALS, startMoto, type MotoServer } from '../support/moto.ts';

const PIPELINE = join(import.meta.dirname, '..', '..', 'pipeline.yaml');
const CLIENT_SECRET = 'cs-0123456789abcdef-client-secret';
const REFRESH = 'AQ-refresh-token-9f8e7d6c5b4a';

let moto: MotoServer;
let client: SecretsManagerClient;
/** Reads values for the assertions; its requests are not recorded. */
let observer: SecretsManagerClient;
let loaded: LoadedPipeline;
const plugin = { secretKeys: ['client_secret', 'refresh_token'] } as unknown as ConnectorPlugin;

/** The recorded Secrets Manager calls (the code under test's: the observer's are not recorded). */
const calls = () => moto.recording.jsonCalls('secretsmanager');

/** A secret's current value, undefined when it has none or does not exist. */
async function stored(id: string): Promise<string | undefined> {
  await moto.recording.stop();
  try {
    return (await observer.send(new GetSecretValueCommand({ SecretId: id }))).SecretString;
  } catch (e) {
    if ((e as Error).name === 'ResourceNotFoundException') return undefined;
    throw e;
  } finally {
    await moto.recording.start();
  }
}

async function create(id: string, value?: string): Promise<void> {
  await moto.recording.stop();
  await observer.send(new CreateSecretCommand({ Name: id, ...(value === undefined ? {} : { SecretString: value }) }));
  await moto.recording.start();
}

/**
 * A client whose GetSecretValue of `id` gets the answer AWS gives a role without
 * secretsmanager:GetSecretValue (Secrets Manager's JSON error shape), parsed by the SDK's own
 * deserializer; every other request goes to moto. moto cannot produce this answer: with its IAM
 * simulation on, it denies Secrets Manager requests with an XML `AccessDenied` body, which no
 * Secrets Manager client can parse (tried: the SDK reports a SyntaxError).
 */
function deniedReading(id: string): SecretsManagerClient {
  const c = moto.secretsManager();
  c.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'GetSecretValueCommand' && (args.input as { SecretId?: string }).SecretId === id) {
        const body = JSON.stringify({
          __type: 'AccessDeniedException',
          Message: `User: arn:aws:sts::123456789012:assumed-role/my-spotify-lake-extractor/my-spotify-lake-extractor is not authorized to perform: secretsmanager:GetSecretValue on resource: ${id} because no identity-based policy allows the secretsmanager:GetSecretValue action`,
        });
        const response = { statusCode: 400, reason: 'Bad Request', headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': '5f6e0c4d-0000-4000-8000-000000000000' }, body: Readable.from([Buffer.from(body)]) };
        return { response, output: {} as never };
      }
      return next(args);
    },
    // Below the SDK's deserializer, in place of the HTTP handler.
    { step: 'deserialize', priority: 'low', name: 'deniedRead' },
  );
  return c;
}

beforeAll(async () => {
  moto = await startMoto();
  client = moto.secretsManager();
  observer = moto.secretsManager();
  loaded = parsePipeline(readFileSync(PIPELINE, 'utf8'), 'pipeline.yaml').loaded;
});

afterAll(async () => {
  await moto?.close();
});

beforeEach(async () => {
  // Tests change and delete secrets: every test starts from the same two.
  await moto.reset();
  await create('my-spotify-lake/spotify/client_secret', CLIENT_SECRET);
  await create('my-spotify-lake/spotify/refresh_token', REFRESH);
  await moto.recording.clear();
  await moto.recording.start();
});

describe('secret ids', () => {
  it('follow the convention of core/auth (pipeline name / secret name)', () => {
    expect(awsSecretId('my-spotify-lake', 'spotify/refresh_token')).toBe('my-spotify-lake/spotify/refresh_token');
    for (const [p, n] of [['my-spotify-lake', 'spotify/client_secret'], ['team/lake', 'x'], ['a', 'b/c/d']]) {
      expect(awsSecretId(p, n)).toBe(authStore.awsSecretId(p, n));
    }
    for (const key of ['client_id', 'client_secret', 'refresh_token', 'api_mode', 'nope']) {
      expect(secretNameFor(loaded, key)).toBe(authStore.secretNameFor(loaded, key));
    }
    expect(secretNameFor(loaded, 'refresh_token')).toBe('spotify/refresh_token');
  });
});

describe('AwsSecrets', () => {
  it('reads a plain SecretString through the JSON protocol, signed, once per source', async () => {
    const secrets = new AwsSecrets({ prefix: 'my-spotify-lake', client });
    expect(await secrets.get('spotify/refresh_token')).toBe(REFRESH);
    expect(await secrets.get('spotify/refresh_token')).toBe(REFRESH);
    expect(await calls()).toHaveLength(1);
    const [r] = await calls();
    expect(r.operation).toBe('GetSecretValue');
    expect(r.input).toEqual({ SecretId: 'my-spotify-lake/spotify/refresh_token' });
    expect(r.contentType).toBe('application/x-amz-json-1.1');
    expect(r.authorization).toMatch(new RegExp(`^AWS4-HMAC-SHA256 Credential=${MOTO_CREDENTIALS.accessKeyId}/\\d{8}/us-east-1/secretsmanager/aws4_request`));
    // A new source (the next invocation) reads again: a rotation elsewhere is not missed.
    await new AwsSecrets({ prefix: 'my-spotify-lake', client }).get('spotify/refresh_token');
    expect(await calls()).toHaveLength(2);
  });

  it('registers every value it reads for redaction', async () => {
    await create('p/fresh', 'a-value-never-seen-before-42');
    await new AwsSecrets({ prefix: 'p', client }).get('fresh');
    expect(redact('token=a-value-never-seen-before-42')).toBe('token=***');
  });

  it('answers a missing secret with undefined', async () => {
    expect(await new AwsSecrets({ prefix: 'other-pipeline', client }).get('spotify/refresh_token')).toBeUndefined();
    // As the deployment creates them: a secret without a value yet.
    await create('not-set-yet/spotify/refresh_token');
    expect(await new AwsSecrets({ prefix: 'not-set-yet', client }).get('spotify/refresh_token')).toBeUndefined();
  });

  it('explains a denied read, naming the secret id and the permission, never a value', async () => {
    const denied = deniedReading('my-spotify-lake/spotify/client_secret');
    const err = await new AwsSecrets({ prefix: 'my-spotify-lake', client: denied }).get('spotify/client_secret').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).message).toContain('my-spotify-lake/spotify/client_secret');
    expect((err as UserError).hint).toContain('secretsmanager:GetSecretValue');
    expect(JSON.stringify(err)).not.toContain(CLIENT_SECRET);
  });

  it('writes a new value with PutSecretValue and reads it back from its cache', async () => {
    const secrets = new AwsSecrets({ prefix: 'my-spotify-lake/', client });
    await secrets.put('spotify/refresh_token', 'AQ-rotated-value-0001');
    expect((await calls()).map((r) => r.operation)).toEqual(['PutSecretValue']);
    // The SDK adds an idempotency token, as it does against AWS.
    expect((await calls())[0].input).toEqual({ SecretId: 'my-spotify-lake/spotify/refresh_token', SecretString: 'AQ-rotated-value-0001', ClientRequestToken: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    expect(await stored('my-spotify-lake/spotify/refresh_token')).toBe('AQ-rotated-value-0001');
    expect(await secrets.get('spotify/refresh_token')).toBe('AQ-rotated-value-0001');
    expect(await calls()).toHaveLength(1);
    expect(redact('AQ-rotated-value-0001')).toBe('***');
  });
});

describe('awsSecretUpdater (RunOptions.updateSecret in AWS)', () => {
  it('stores a rotated value in the secret the config key references', async () => {
    const logger = memoryLogger();
    const update = awsSecretUpdater(loaded, new AwsSecrets({ prefix: 'my-spotify-lake', client }), logger);
    await update('refresh_token', 'AQ-rotated-value-0002');
    await update('refresh_token', 'AQ-rotated-value-0003');
    expect(await stored('my-spotify-lake/spotify/refresh_token')).toBe('AQ-rotated-value-0003');
    expect(logger.lines.join('\n')).not.toMatch(/AQ-rotated/);
  });

  it('warns (and stores nothing) for a key that is not a ${secret:...} reference', async () => {
    const logger = memoryLogger();
    const update = awsSecretUpdater(loaded, new AwsSecrets({ prefix: 'my-spotify-lake', client }), logger);
    await expect(update('client_id', 'new-client-id-value')).resolves.toBeUndefined();
    expect(await calls()).toHaveLength(0);
    expect(logger.lines.join('\n')).toMatch(/warn: .*connector\.config\.client_id.*not a \$\{secret:\.\.\.\} reference/);
  });

  it('never rejects: a failed write is a warning that names the secret, not the value', async () => {
    // The secret was deleted out of band: Secrets Manager refuses the write (ResourceNotFoundException).
    await moto.recording.stop();
    await observer.send(new DeleteSecretCommand({ SecretId: 'my-spotify-lake/spotify/refresh_token', ForceDeleteWithoutRecovery: true }));
    await moto.recording.start();
    const logger = memoryLogger();
    const update = awsSecretUpdater(loaded, new AwsSecrets({ prefix: 'my-spotify-lake', client }), logger);
    await expect(update('refresh_token', 'AQ-rotated-value-0004')).resolves.toBeUndefined();
    expect((await calls()).map((r) => r.operation)).toEqual(['PutSecretValue']);
    const log = logger.lines.join('\n');
    expect(log).toMatch(/warn: could not store the new value of secret "spotify\/refresh_token" \(.*ResourceNotFoundException/);
    expect(log).toContain('my-spotify-lake/spotify/refresh_token');
    expect(log).not.toContain('AQ-rotated-value-0004');
    // Nothing was stored: no secret came back with the value.
    expect(await stored('my-spotify-lake/spotify/refresh_token')).toBeUndefined();
  });
});

describe('resolveConnectorConfig', () => {
  it('resolves env and Secrets Manager references of the shipped pipeline', async () => {
    const config = await resolveConnectorConfig(loaded, plugin, {
      env: { SPOTIFY_CLIENT_ID: 'client-id-1234' },
      secrets: new AwsSecrets({ prefix: 'my-spotify-lake', client }),
    });
    expect(config).toMatchObject({ api_mode: 'development', client_id: 'client-id-1234', client_secret: CLIENT_SECRET, refresh_token: REFRESH });
    expect((await calls()).map((r) => r.input.SecretId).sort()).toEqual(['my-spotify-lake/spotify/client_secret', 'my-spotify-lake/spotify/refresh_token']);
    expect(redact(`${CLIENT_SECRET} ${REFRESH}`)).toBe('*** ***');
  });

  it('reports every missing reference at once, naming them and never a value', async () => {
    await moto.recording.stop();
    await observer.send(new DeleteSecretCommand({ SecretId: 'my-spotify-lake/spotify/refresh_token', ForceDeleteWithoutRecovery: true }));
    await moto.recording.start();
    const err = await resolveConnectorConfig(loaded, plugin, { env: {}, secrets: new AwsSecrets({ prefix: 'my-spotify-lake', client }) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as ConfigError).message;
    expect(msg).toContain('environment variable SPOTIFY_CLIENT_ID is not set');
    expect(msg).toContain('secret "spotify/refresh_token" is not set');
    expect(msg).toContain('AWS Secrets Manager');
    expect(msg).not.toContain(CLIENT_SECRET);
  });
});
