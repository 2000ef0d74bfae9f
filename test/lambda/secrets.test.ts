/**
 * The AWS Secrets Manager secret source and the rotated-secret writer, against a loopback server
 * speaking the Secrets Manager JSON protocol (the SDK's real serialization and signing, no stubs).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { parsePipeline } from '../../core/config/load.ts';
import { ConfigError } from '../../core/config/problem.ts';
import type { LoadedPipeline } from '../../core/config/types.ts';
import { memoryLogger, redact } from '../../core/log.ts';
import { UserError, type ConnectorPlugin } from '../../core/plugin-api.ts';
import { AwsSecrets, awsSecretUpdater } from '../../core/secrets/aws.ts';
import { awsSecretId, secretNameFor } from '../../core/secrets/names.ts';
import { resolveConnectorConfig } from '../../core/secrets/source.ts';
import * as authStore from '../../core/auth/store.ts';
import { startLoopbackSecretsManager, type LoopbackSecretsManager } from './secrets-manager.ts';

const PIPELINE = join(import.meta.dirname, '..', '..', 'pipeline.yaml');
const CLIENT_SECRET = 'cs-0123456789abcdef-client-secret';
const REFRESH = 'AQ-refresh-token-9f8e7d6c5b4a';

let sm: LoopbackSecretsManager;
let client: SecretsManagerClient;
let loaded: LoadedPipeline;
const plugin = { secretKeys: ['client_secret', 'refresh_token'] } as unknown as ConnectorPlugin;

beforeAll(async () => {
  sm = await startLoopbackSecretsManager();
  client = new SecretsManagerClient({
    endpoint: sm.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'TESTKEYID', secretAccessKey: 'test-secret-key' },
    maxAttempts: 1,
  });
  loaded = parsePipeline(readFileSync(PIPELINE, 'utf8'), 'pipeline.yaml').loaded;
});

afterAll(async () => {
  client?.destroy();
  await sm?.close();
});

beforeEach(() => {
  sm.secrets.clear();
  sm.secrets.set('my-spotify-lake/spotify/client_secret', CLIENT_SECRET);
  sm.secrets.set('my-spotify-lake/spotify/refresh_token', REFRESH);
  sm.requests.length = 0;
  sm.denied.clear();
  sm.failPuts = false;
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
    expect(sm.requests).toHaveLength(1);
    const [r] = sm.requests;
    expect(r.operation).toBe('GetSecretValue');
    expect(r.body).toEqual({ SecretId: 'my-spotify-lake/spotify/refresh_token' });
    expect(r.contentType).toBe('application/x-amz-json-1.1');
    expect(r.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=TESTKEYID\/\d{8}\/us-east-1\/secretsmanager\/aws4_request/);
    // A new source (the next invocation) reads again: a rotation elsewhere is not missed.
    await new AwsSecrets({ prefix: 'my-spotify-lake', client }).get('spotify/refresh_token');
    expect(sm.requests).toHaveLength(2);
  });

  it('registers every value it reads for redaction', async () => {
    sm.secrets.set('p/fresh', 'a-value-never-seen-before-42');
    await new AwsSecrets({ prefix: 'p', client }).get('fresh');
    expect(redact('token=a-value-never-seen-before-42')).toBe('token=***');
  });

  it('answers a missing secret with undefined', async () => {
    expect(await new AwsSecrets({ prefix: 'other-pipeline', client }).get('spotify/refresh_token')).toBeUndefined();
  });

  it('explains a denied read, naming the secret id and the permission, never a value', async () => {
    sm.denied.add('my-spotify-lake/spotify/client_secret');
    const err = await new AwsSecrets({ prefix: 'my-spotify-lake', client }).get('spotify/client_secret').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).message).toContain('my-spotify-lake/spotify/client_secret');
    expect((err as UserError).hint).toContain('secretsmanager:GetSecretValue');
    expect(JSON.stringify(err)).not.toContain(CLIENT_SECRET);
  });

  it('writes a new value with PutSecretValue and reads it back from its cache', async () => {
    const secrets = new AwsSecrets({ prefix: 'my-spotify-lake/', client });
    await secrets.put('spotify/refresh_token', 'AQ-rotated-value-0001');
    expect(sm.requests.map((r) => r.operation)).toEqual(['PutSecretValue']);
    // The SDK adds an idempotency token, as it does against AWS.
    expect(sm.requests[0].body).toEqual({ SecretId: 'my-spotify-lake/spotify/refresh_token', SecretString: 'AQ-rotated-value-0001', ClientRequestToken: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    expect(sm.secrets.get('my-spotify-lake/spotify/refresh_token')).toBe('AQ-rotated-value-0001');
    expect(await secrets.get('spotify/refresh_token')).toBe('AQ-rotated-value-0001');
    expect(sm.requests).toHaveLength(1);
    expect(redact('AQ-rotated-value-0001')).toBe('***');
  });
});

describe('awsSecretUpdater (RunOptions.updateSecret in AWS)', () => {
  it('stores a rotated value in the secret the config key references', async () => {
    const logger = memoryLogger();
    const update = awsSecretUpdater(loaded, new AwsSecrets({ prefix: 'my-spotify-lake', client }), logger);
    await update('refresh_token', 'AQ-rotated-value-0002');
    await update('refresh_token', 'AQ-rotated-value-0003');
    expect(sm.secrets.get('my-spotify-lake/spotify/refresh_token')).toBe('AQ-rotated-value-0003');
    expect(logger.lines.join('\n')).not.toMatch(/AQ-rotated/);
  });

  it('warns (and stores nothing) for a key that is not a ${secret:...} reference', async () => {
    const logger = memoryLogger();
    const update = awsSecretUpdater(loaded, new AwsSecrets({ prefix: 'my-spotify-lake', client }), logger);
    await expect(update('client_id', 'new-client-id-value')).resolves.toBeUndefined();
    expect(sm.requests).toHaveLength(0);
    expect(logger.lines.join('\n')).toMatch(/warn: .*connector\.config\.client_id.*not a \$\{secret:\.\.\.\} reference/);
  });

  it('never rejects: a failed write is a warning that names the secret, not the value', async () => {
    sm.failPuts = true;
    const logger = memoryLogger();
    const update = awsSecretUpdater(loaded, new AwsSecrets({ prefix: 'my-spotify-lake', client }), logger);
    await expect(update('refresh_token', 'AQ-rotated-value-0004')).resolves.toBeUndefined();
    const log = logger.lines.join('\n');
    expect(log).toMatch(/warn: could not store the new value of secret "spotify\/refresh_token"/);
    expect(log).toContain('my-spotify-lake/spotify/refresh_token');
    expect(log).not.toContain('AQ-rotated-value-0004');
    expect(sm.secrets.get('my-spotify-lake/spotify/refresh_token')).toBe(REFRESH);
  });
});

describe('resolveConnectorConfig', () => {
  it('resolves env and Secrets Manager references of the shipped pipeline', async () => {
    const config = await resolveConnectorConfig(loaded, plugin, {
      env: { SPOTIFY_CLIENT_ID: 'client-id-1234' },
      secrets: new AwsSecrets({ prefix: 'my-spotify-lake', client }),
    });
    expect(config).toMatchObject({ api_mode: 'development', client_id: 'client-id-1234', client_secret: CLIENT_SECRET, refresh_token: REFRESH });
    expect(sm.requests.map((r) => r.body.SecretId).sort()).toEqual(['my-spotify-lake/spotify/client_secret', 'my-spotify-lake/spotify/refresh_token']);
    expect(redact(`${CLIENT_SECRET} ${REFRESH}`)).toBe('*** ***');
  });

  it('reports every missing reference at once, naming them and never a value', async () => {
    sm.secrets.delete('my-spotify-lake/spotify/refresh_token');
    const err = await resolveConnectorConfig(loaded, plugin, { env: {}, secrets: new AwsSecrets({ prefix: 'my-spotify-lake', client }) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as ConfigError).message;
    expect(msg).toContain('environment variable SPOTIFY_CLIENT_ID is not set');
    expect(msg).toContain('secret "spotify/refresh_token" is not set');
    expect(msg).toContain('AWS Secrets Manager');
    expect(msg).not.toContain(CLIENT_SECRET);
  });
});
