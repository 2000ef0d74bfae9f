/**
 * The synth (the stack constructor, bin/synth.ts) and `plan` refuse a connector config that would
 * put a credential in clear text into the deployment: a secret key not written as
 * `${secret:NAME}`, or an `${env:...}` named like a credential. Exit 2, naming the key and the fix,
 * never the value. And what `plan` scans the synthesized stack for (knownSecretValues).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { Testing } from 'cdktf';
import { run as main } from '../../bin/main.ts';
import { ConfigError, formatProblem } from '../../core/config/index.ts';
import { looksLikeCredential } from '../../core/secrets/names.ts';
import { buildExtractorBundle } from '../../terraform/bundle.ts';
import { knownSecretValues } from '../../terraform/secrets.ts';
import { PipelineStack } from '../../terraform/stack.ts';
import { ENV, PLUGINS, ROOT, SHIPPED, STUB_ENTRY, connectors, loadText, synth } from './helpers.ts';

const VALUE = 'clear-text-credential-7f3e9a';
const dir = mkdtempSync(join(tmpdir(), 'tf-secrets-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The stack of pipeline text, or the ConfigError it refused with. */
function attempt(text: string, env: Record<string, string> = ENV): ConfigError | PipelineStack {
  const { file, config } = loadText(text);
  const bundle = buildExtractorBundle({ pipelineFile: file, entry: STUB_ENTRY, secretValues: [], connectors });
  try {
    return new PipelineStack(Testing.app(), config.name, { pipeline: config, pipelineFile: file, env, bundle, connectors, plugins: PLUGINS });
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
}

const refused = (r: ConfigError | PipelineStack) => {
  expect(r).toBeInstanceOf(ConfigError);
  const e = r as ConfigError;
  expect(e.message).not.toContain(VALUE);
  return e.problems.map((p) => `${p.path}: ${p.message}`);
};

describe('the synth refuses credentials the config would put in clear text', () => {
  it('client_secret: ${env:ANY} (its value would go into the Lambda environment and the state)', () => {
    const text = SHIPPED.replace('client_secret: ${secret:spotify/client_secret}', 'client_secret: ${env:ANY}');
    expect(text).not.toBe(SHIPPED);
    const [p, ...rest] = refused(attempt(text, { ...ENV, ANY: VALUE }));
    expect(rest).toEqual([]);
    expect(p).toMatch(/^connector\.config\.client_secret: is a secret but takes \$\{env:ANY\}: .*extractor Lambda's environment.*Terraform state; use \$\{secret:spotify\/client_secret\} /);
    // Also when the variable is not set: the config is wrong either way.
    expect(refused(attempt(text))).toHaveLength(1);
  });

  it('a literal in a secret key, also of an included pipeline (the export\'s hash_salt), at its file line and column', () => {
    const text = SHIPPED.replace('refresh_token: ${secret:spotify/refresh_token}', `refresh_token: ${VALUE}`);
    const e = attempt(text) as ConfigError;
    expect(refused(e)).toEqual([
      expect.stringMatching(/^connector\.config\.refresh_token: is a secret written as a literal value: pipeline\.yaml is embedded in the extractor bundle.*use \$\{secret:spotify\/refresh_token\}/),
    ]);
    const line = text.split('\n').findIndex((l) => l.includes(`refresh_token: ${VALUE}`)) + 1;
    expect(e.problems[0]).toMatchObject({ line, col: 20 });

    // An included pipeline's secret key (connectors/spotify-history declares hash_salt).
    mkdirSync(join(dir, 'inc'), { recursive: true });
    writeFileSync(join(dir, 'inc', 'history.yaml'), `version: 1\nname: my-history\nconnector:\n  use: spotify-history\n  config:\n    path: \${env:SPOTIFY_EXPORT_PATH}\n    hash_salt: ${VALUE}\nstreams:\n  listening_history: { endpoint: plays }\n`);
    const main = join(dir, 'inc', 'main.yaml');
    const withHistory = SHIPPED.replace('  - connectors/spotify-history/pipeline.yaml', '  - history.yaml');
    expect(withHistory).not.toBe(SHIPPED);
    writeFileSync(main, withHistory);
    const { config } = loadText(withHistory);
    const bundle = buildExtractorBundle({ pipelineFile: main, entry: STUB_ENTRY, secretValues: [], connectors });
    const err = (() => {
      try {
        new PipelineStack(Testing.app(), config.name, { pipeline: config, pipelineFile: main, env: ENV, bundle, connectors, plugins: PLUGINS });
      } catch (x) {
        return x as ConfigError;
      }
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect(err!.problems.map(formatProblem)).toEqual([
      expect.stringMatching(/^history\.yaml:7:16 connector\.config\.hash_salt: is a secret written as a literal value.*use \$\{secret:spotify-history\/hash_salt\}/),
    ]);
  });

  it('any key taking an ${env:...} named like a credential', () => {
    const text = SHIPPED.replace('    client_id: ${env:SPOTIFY_CLIENT_ID}\n', '    client_id: ${env:SPOTIFY_CLIENT_ID}\n    api_base_url: ${env:PROXY_TOKEN}\n');
    expect(refused(attempt(text, { ...ENV, PROXY_TOKEN: VALUE }))).toEqual([
      expect.stringMatching(/^connector\.config\.api_base_url: takes \$\{env:PROXY_TOKEN\}, an environment variable named like a credential: .*use \$\{secret:spotify\/api_base_url\}.*\(or rename the variable if it holds no secret\)$/),
    ]);
  });

  it('the shipped pipeline synthesizes: ${env:SPOTIFY_CLIENT_ID} is no credential, ${secret:...} references are the way', () => {
    const s = synth(SHIPPED);
    expect(s.checks.filter((c) => !c.ok)).toEqual([]);
    const vars = (s.model.ofType('aws_lambda_function')[0].config.environment as { variables: Record<string, string> }).variables;
    expect(vars.SPOTIFY_CLIENT_ID).toBe(ENV.SPOTIFY_CLIENT_ID);
  });
});

describe('the commands exit 2 naming the key and the fix', () => {
  const file = join(dir, 'env-secret.yaml');
  // Without the include: the file stands alone in a temp folder.
  writeFileSync(file, SHIPPED.replace('client_secret: ${secret:spotify/client_secret}', 'client_secret: ${env:ANY}').replace(/\ninclude:\n {2}- [^\n]*\n/, '\n'));

  it('plan', async () => {
    let stdout = '';
    let stderr = '';
    const out = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((stdout += String(s)), true));
    const err = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((stderr += String(s)), true));
    vi.stubEnv('ANY', VALUE);
    let code: number;
    try {
      code = await main(['node', 'spotify-pipeline', 'plan', '-c', file]);
    } finally {
      out.mockRestore();
      err.mockRestore();
      vi.unstubAllEnvs();
    }
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/env-secret\.yaml:\d+:\d+ connector\.config\.client_secret: is a secret but takes \$\{env:ANY\}.*use \$\{secret:spotify\/client_secret\}/);
    expect(stdout + stderr).not.toContain(VALUE);
  });

  it('the CDKTF app (bin/synth.ts, what cdktf synth runs)', () => {
    const out = join(dir, 'cdktf.out');
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'bin', 'synth.ts')], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, PIPELINE_FILE: file, ANY: VALUE, CDKTF_OUTDIR: out, CHECKPOINT_DISABLE: '1' },
      timeout: 120_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/connector\.config\.client_secret: is a secret but takes \$\{env:ANY\}.*use \$\{secret:spotify\/client_secret\}/);
    expect(r.stdout + r.stderr).not.toContain(VALUE);
  });
});

describe('what counts as a credential', () => {
  it('names: secrets, tokens, passwords, salts, keys; not ids, regions or paths', () => {
    const yes = ['SPOTIFY_CLIENT_SECRET', 'ANY_SECRET', 'REFRESH_TOKEN', 'GITHUB_TOKEN', 'DB_PASSWORD', 'PASSWD', 'GPG_PASSPHRASE', 'AWS_SECRET_ACCESS_KEY', 'AWS_ACCESS_KEY_ID', 'API_KEY', 'APIKEY', 'STRIPE_KEY', 'PRIVATE_KEY', 'GOOGLE_CREDENTIALS', 'HASH_SALT', 'client_secret', 'refresh_token', 'hash_salt'];
    const no = ['SPOTIFY_CLIENT_ID', 'SECRETS_PREFIX', 'AWS_REGION', 'SPOTIFY_EXPORT_PATH', 'LAKE_BUCKET', 'LAKE_PREFIX', 'S3_KEY_PREFIX', 'client_id', 'api_mode', 'path'];
    expect(yes.filter((n) => !looksLikeCredential(n))).toEqual([]);
    expect(no.filter((n) => looksLikeCredential(n))).toEqual([]);
  });

  it('knownSecretValues: the secrets file next to the pipeline and credential-named variables, not other variables', () => {
    const pdir = join(dir, 'known');
    mkdirSync(pdir, { recursive: true });
    writeFileSync(join(pdir, '.secrets.json'), JSON.stringify({ 'spotify/client_secret': 'from-the-secrets-file', _meta: { x: 1 }, short: 'abc' }));
    expect(knownSecretValues(join(pdir, 'pipeline.yaml'), { MY_TOKEN: 'token-from-the-env', SPOTIFY_CLIENT_ID: 'a-client-id-value', HOME: '/home/someone' }).sort()).toEqual(['from-the-secrets-file', 'token-from-the-env']);
  });
});
