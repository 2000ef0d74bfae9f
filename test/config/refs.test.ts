import { writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, findRefs, formatProblem, lakeDir, localSecrets, readPipeline, resolveRefs, type RefSources } from '../../core/config/index.ts';
import { fixtureDir, problemsOf, writeFixture } from './fixtures.ts';

const SECRET = 'sk-live-9f8e7d6c5b4a3210-do-not-print';
const REFRESH = 'AQD-refresh-token-value-0123456789';

const text = `version: 1
name: test-lake
connector:
  use: fake
  config:
    api_mode: development
    client_id: \${env:FAKE_CLIENT_ID}
    client_secret: \${secret:fake/client_secret}
    refresh_token: "\${secret:fake/refresh_token}"
    base_url: https://\${env:FAKE_HOST}/v1
    scopes: [a, "\${env:FAKE_SCOPE}"]
streams: {}
`;
const file = writeFixture(text);
const { loaded } = readPipeline(file);
const config = loaded.config.connector.config;

function secretsFile(content: string): string {
  const path = join(fixtureDir(), `secrets-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(path, content);
  return relative(process.cwd(), path);
}

const allSet: RefSources = {
  env: { FAKE_CLIENT_ID: 'client-123', FAKE_HOST: 'api.example.test', FAKE_SCOPE: 'b' },
  secrets: localSecrets(secretsFile(JSON.stringify({ 'fake/client_secret': SECRET, 'fake/refresh_token': REFRESH }))),
};

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('findRefs', () => {
  it('lists every env and secret reference with its path', () => {
    expect(findRefs(config, 'connector.config')).toEqual([
      { path: 'connector.config.client_id', kind: 'env', name: 'FAKE_CLIENT_ID' },
      { path: 'connector.config.client_secret', kind: 'secret', name: 'fake/client_secret' },
      { path: 'connector.config.refresh_token', kind: 'secret', name: 'fake/refresh_token' },
      { path: 'connector.config.base_url', kind: 'env', name: 'FAKE_HOST' },
      { path: 'connector.config.scopes[1]', kind: 'env', name: 'FAKE_SCOPE' },
    ]);
  });
});

describe('resolveRefs', () => {
  it('resolves env vars and secrets, inside strings and lists, without touching the input', () => {
    const resolved = resolveRefs(config, loaded, 'connector.config', allSet);
    expect(resolved).toEqual({
      api_mode: 'development',
      client_id: 'client-123',
      client_secret: SECRET,
      refresh_token: REFRESH,
      base_url: 'https://api.example.test/v1',
      scopes: ['a', 'b'],
    });
    expect(config.client_secret).toBe('${secret:fake/client_secret}');
  });

  it('reports a missing environment variable at its position', () => {
    const err = configError(() =>
      resolveRefs(config, loaded, 'connector.config', { ...allSet, env: { ...allSet.env, FAKE_CLIENT_ID: undefined } }),
    );
    expect(err.message).toBe(`${file}:7:16 connector.config.client_id: environment variable FAKE_CLIENT_ID is not set`);
  });

  it('reports a missing secret with where to put it', () => {
    const err = configError(() => resolveRefs(config, loaded, 'connector.config', { ...allSet, secrets: () => undefined }));
    expect(err.message.split('\n')).toEqual([
      `${file}:8:20 connector.config.client_secret: secret "fake/client_secret" is not set; add it to .secrets.json or set it in AWS Secrets Manager`,
      `${file}:9:20 connector.config.refresh_token: secret "fake/refresh_token" is not set; add it to .secrets.json or set it in AWS Secrets Manager`,
    ]);
  });

  it('reports every missing reference at once, and treats an empty value as missing', () => {
    const err = configError(() => resolveRefs(config, loaded, 'connector.config', { env: { FAKE_HOST: '' }, secrets: () => undefined }));
    expect(err.problems.map((p) => p.path)).toEqual([
      'connector.config.client_id',
      'connector.config.client_secret',
      'connector.config.refresh_token',
      'connector.config.base_url',
      'connector.config.scopes[1]',
    ]);
    expect(err.problems[4]).toMatchObject({ line: 11, col: 17 });
  });

  it('names the configured secrets file', () => {
    const f = writeFixture(`${text}secrets: { file: config/local-secrets.json }\n`);
    const l = readPipeline(f).loaded;
    const err = configError(() => resolveRefs({ k: '${secret:x}' }, l, 'connector.config', { env: {}, secrets: () => undefined }));
    expect(err.problems[0].message).toBe('secret "x" is not set; add it to config/local-secrets.json or set it in AWS Secrets Manager');
  });

  it('rejects an unknown reference kind instead of passing it on as text', () => {
    const err = configError(() => resolveRefs({ client_secret: '${sercet:fake/client_secret}' }, loaded, 'connector.config', allSet));
    expect(err.problems[0]).toMatchObject({
      path: 'connector.config.client_secret',
      message: 'unknown reference "${sercet:fake/client_secret}"; use ${env:NAME} or ${secret:NAME}',
    });
  });
});

describe('localSecrets', () => {
  it('reads secrets; a missing file means none', () => {
    expect(allSet.secrets('fake/client_secret')).toBe(SECRET);
    expect(allSet.secrets('nope')).toBeUndefined();
    expect(allSet.secrets('toString')).toBeUndefined();
    expect(localSecrets('no/such/.secrets.json')('fake/client_secret')).toBeUndefined();
  });

  it('reports a malformed file by name and position, never by content', () => {
    const path = secretsFile(`{\n  "fake/client_secret": "${SECRET}",\n}\n`);
    const err = configError(() => localSecrets(path));
    expect(err.message).toBe(`${path}:3:1: is not valid JSON; expected an object like {"spotify/client_secret": "..."}`);
    expect(err.message).not.toContain(SECRET);
  });

  it('requires an object of strings', () => {
    expect(configError(() => localSecrets(secretsFile(`["${SECRET}"]`))).message).toMatch(/: must be a JSON object of "name": "value" strings$/);
    const err = configError(() => localSecrets(secretsFile(JSON.stringify({ 'fake/client_secret': { value: SECRET } }))));
    expect(err.message).toMatch(/ fake\/client_secret: must be a string$/);
    expect(err.message).not.toContain(SECRET);
  });
});

describe('secret values never appear in messages', () => {
  it('holds for every error resolveRefs and localSecrets raise', () => {
    const messages: string[] = [];
    const collect = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        messages.push((e as Error).message, JSON.stringify((e as ConfigError).problems ?? []));
      }
    };
    // Secrets resolve fine while something else is missing.
    collect(() => resolveRefs(config, loaded, 'connector.config', { ...allSet, env: {} }));
    // A secret next to a reference that fails.
    collect(() => resolveRefs({ a: `\${secret:fake/client_secret}-\${env:NOPE}` }, loaded, 'connector.config', allSet));
    collect(() => localSecrets(secretsFile(`{"fake/client_secret": "${SECRET}" "x": 1}`)));
    collect(() => localSecrets(secretsFile(`{"fake/client_secret": ${JSON.stringify(SECRET)}, "n": 5}`)));
    expect(messages.length).toBe(8);
    for (const m of messages) {
      expect(m).not.toContain(SECRET);
      expect(m).not.toContain(REFRESH);
    }
  });
});

describe('storage.local references (issue 12: `${...}` there was taken literally)', () => {
  const pipeline = (local: string) => `version: 1
name: test-lake
connector:
  use: fake
  config: { api_mode: development }
storage:
  local: "${local}"
streams: {}
`;

  it('resolves ${env:NAME} in storage.local, relative to the pipeline file like any path', () => {
    const { loaded: l } = readPipeline(writeFixture(pipeline('${env:LAKE_ROOT}/lake')));
    expect(lakeDir(l, undefined, { LAKE_ROOT: '/data/lakes' })).toBe('/data/lakes/lake');
    expect(lakeDir(l, undefined, { LAKE_ROOT: 'rel' })).toBe(join(dirname(resolve(l.file)), 'rel/lake'));
    // --lake wins and is taken as given.
    expect(lakeDir(l, '/elsewhere', {})).toBe('/elsewhere');
  });

  it('an unset variable there is an error at its line, naming it', () => {
    const f = writeFixture(pipeline('${env:LAKE_ROOT}/lake'));
    const err = configError(() => lakeDir(readPipeline(f).loaded, undefined, {}));
    expect(err.problems.map(formatProblem)).toEqual([`${f}:7:10 storage.local: environment variable LAKE_ROOT is not set`]);
  });

  it('validation refuses a secret and any other ${ there, at its line', () => {
    for (const [local, message] of [
      ['${secret:lake/path}', "a secret cannot name the lake folder (it would be printed as the lake's path); use ${env:NAME} or a path"],
      ['${file:x}/lake', '"${file:x}" is not a reference storage.local understands; write ${env:NAME} (an environment variable) or a plain path'],
      ['lake-${env:X', '"${env:X" is not a reference storage.local understands; write ${env:NAME} (an environment variable) or a plain path'],
      ['${env:}', '"${env:}" is not a reference storage.local understands; write ${env:NAME} (an environment variable) or a plain path'],
    ]) {
      const problems = problemsOf(pipeline(local)).map((p) => `${p.line}:${p.col} ${p.path}: ${p.message}`);
      expect(problems).toEqual([`7:10 storage.local: ${message}`]);
    }
    expect(problemsOf(pipeline('${env:LAKE_ROOT}/lake-${env:USER}'))).toEqual([]);
  });
});
