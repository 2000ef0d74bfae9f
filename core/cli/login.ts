/**
 * `spotify-pipeline login` (authorize a user in the browser, store the refresh token as a local
 * secret) and `spotify-pipeline check` (are the configured credentials accepted?). Neither ever
 * prints a secret value: values are registered for redaction the moment they exist, and messages
 * name secrets, never show them.
 */
import { spawn } from 'node:child_process';
import { ConfigError, findRefs, formatProblem, localSecrets, resolveRefs, type LoadedPipeline, type Problem } from '../config/index.ts';
import { HttpClient } from '../http.ts';
import { createLogger, redact, registerSecret } from '../log.ts';
import { UserError } from '../errors.ts';
import type { JsonRecord, Logger, StreamSpec } from '../plugin-api.ts';
import { secretsFile } from '../config/index.ts';
import { connectorConfig, preparePipeline, type Prepared } from '../pipeline.ts';
import type { PluginSource } from '../plugins.ts';
import { streamSpec } from '../engine/run.ts';
import { authorizationProblems } from '../auth/expiry.ts';
import { storeSecrets, type SecretEntry } from '../auth/secrets-file.ts';
import { awsPutSecretCommand, awsSecretId, defaultSecretName, localSecretUpdater, secretNameFor } from '../auth/store.ts';

/** Where a command writes: stdout for results, stderr for progress and warnings. Both redacted. */
export interface CommandIO {
  out(line: string): void;
  err(line: string): void;
}

export const stdio: CommandIO = {
  out: (s) => process.stdout.write(redact(s) + '\n'),
  err: (s) => process.stderr.write(redact(s) + '\n'),
};

const redacting = (io: CommandIO): CommandIO => ({ out: (s) => io.out(redact(s)), err: (s) => io.err(redact(s)) });

function ioLogger(io: CommandIO, verbose = false): Logger {
  return createLogger({ level: verbose ? 'debug' : 'info', sink: (_level, line) => io.err(line) });
}

async function prepare(file: string, io: CommandIO, plugins?: PluginSource): Promise<Prepared> {
  const prep = await preparePipeline(file, { plugins });
  for (const w of prep.warnings) io.err(`warning: ${formatProblem(w)}`);
  return prep;
}

function pipelineStreams(loaded: LoadedPipeline): StreamSpec[] {
  return Object.entries(loaded.config.streams).map(([name, s]) => streamSpec(name, s));
}

/**
 * `connector.config` as far as a login may resolve it: literal values and references that are
 * set, except the plugin's secret keys (a login must not need the secrets it is about to create).
 */
export function loginConfig(prep: Prepared, env: Record<string, string | undefined>): { config: JsonRecord; unresolved: Record<string, string> } {
  const { loaded, plugin } = prep;
  const raw = loaded.config.connector.config ?? {};
  // A malformed secrets file fails here, before the browser dance, not after it.
  const secrets = localSecrets(secretsFile(loaded));
  const config: JsonRecord = {};
  const unresolved: Record<string, string> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (findRefs(value, `connector.config.${key}`).length === 0) {
      config[key] = value;
      continue;
    }
    if (plugin.secretKeys.includes(key)) continue;
    try {
      config[key] = resolveRefs(value, loaded, `connector.config.${key}`, { env, secrets });
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      unresolved[key] = e.problems.map((p) => p.message).join('; ');
    }
  }
  return { config, unresolved };
}

/** Best effort: a machine without a browser still has the printed URL. */
function openInBrowser(url: string): void {
  const [cmd, args] =
    process.platform === 'darwin' ? ['open', [url]]
    : process.platform === 'win32' ? ['rundll32', ['url.dll,FileProtocolHandler', url]]
    : ['xdg-open', [url]];
  try {
    const child = spawn(cmd, args, { stdio: 'ignore', detached: true });
    child.on('error', () => undefined);
    child.unref();
  } catch {
    // the URL is printed; nothing else to do
  }
}

export interface LoginCommandOptions {
  config: string;
  /** Loopback port for the redirect; undefined = the plugin's default (Spotify: 8888). */
  port?: number;
  /** Open a browser (default true); the URL is printed either way. */
  open?: boolean;
  /** Seconds to wait for the browser; default 300. */
  timeoutSeconds?: number;
  verbose?: boolean;
  env?: Record<string, string | undefined>;
  /** Replaces printing/opening the URL (tests follow it with an HTTP GET). */
  openUrl?: (url: string) => Promise<void>;
  signal?: AbortSignal;
  now?: () => Date;
  /** Where the connector comes from (the CLI's registry); default discovery. */
  plugins?: PluginSource;
}

export interface StoredSecret {
  configKey: string;
  secretName: string;
  /** Whether pipeline.yaml already references this secret for the key. */
  referenced: boolean;
}

export interface LoginOutcome {
  file: string;
  stored: StoredSecret[];
  authorizedAt: string;
  expiresAt?: string;
  scopes: string[];
}

/** How a config key is set today, without showing a value that might itself be a secret. */
function describeSetting(loaded: LoadedPipeline, key: string): string {
  const v = (loaded.config.connector.config ?? {})[key];
  if (v === undefined) return 'is not set';
  const refs = findRefs(v, '');
  if (refs.length > 0) return `is ${refs.map((r) => `\${${r.kind}:${r.name}}`).join(' ')}`;
  return 'is a literal value';
}

export async function loginCommand(o: LoginCommandOptions, ioIn: CommandIO = stdio): Promise<LoginOutcome> {
  const io = redacting(ioIn);
  const prep = await prepare(o.config, io, o.plugins);
  const { loaded, plugin } = prep;
  if (!plugin.login) {
    throw new UserError(`connector "${plugin.name}" has no interactive login`, 'configure its credentials as its documentation says');
  }
  const { config, unresolved } = loginConfig(prep, o.env ?? process.env);
  const file = secretsFile(loaded);
  const logger = ioLogger(io, o.verbose);
  const openUrl =
    o.openUrl ??
    (async (url: string) => {
      io.out('Open this URL in a browser and authorize the app:');
      io.out(`  ${url}`);
      if (o.open !== false) openInBrowser(url);
    });
  io.err(`Logging in to ${plugin.name} for pipeline "${loaded.config.name}" (${o.config})`);
  const result = await plugin.login({
    config,
    unresolved,
    streams: pipelineStreams(loaded),
    port: o.port,
    timeoutMs: o.timeoutSeconds === undefined ? undefined : o.timeoutSeconds * 1000,
    logger,
    openUrl,
    signal: o.signal ?? new AbortController().signal,
    now: o.now,
    // The write-back's scope only when the pipeline opts in to it.
    playlistWrite: loaded.config.recommendations?.playlist !== undefined,
  });
  for (const v of Object.values(result.secrets)) registerSecret(v);

  const stored: StoredSecret[] = Object.keys(result.secrets).map((configKey) => {
    const name = secretNameFor(loaded, configKey);
    return { configKey, secretName: name ?? defaultSecretName(plugin.name, configKey), referenced: name !== undefined };
  });
  const meta = { authorized_at: result.authorizedAt, ...(result.expiresAt ? { expires_at: result.expiresAt } : {}), scopes: result.scopes };
  const entries: SecretEntry[] = stored.map((s) => ({ name: s.secretName, value: result.secrets[s.configKey], meta }));
  await storeSecrets(file, entries);

  const day = (iso: string) => iso.slice(0, 10);
  io.out(`Logged in: authorized on ${day(result.authorizedAt)}${result.expiresAt ? `; the authorization expires on ${day(result.expiresAt)}: run \`npx spotify-pipeline login\` again before then (validate and check warn 14 days ahead)` : ''}.`);
  io.out(`Scopes granted: ${result.scopes.join(', ') || '(none)'}`);
  for (const s of stored) {
    io.out(`Stored connector.config.${s.configKey} as secret "${s.secretName}" in ${file} (mode 0600).`);
    if (!s.referenced) {
      io.out(`  connector.config.${s.configKey} in ${o.config} ${describeSetting(loaded, s.configKey)}, so runs will not use it yet. Set it to:`);
      io.out(`    ${s.configKey}: \${secret:${s.secretName}}`);
    }
  }
  io.out(`For the AWS deployment, copy ${stored.length === 1 ? 'it' : 'them'} to AWS Secrets Manager (secret id = <pipeline name>/<secret name>, the value as a plain string):`);
  for (const s of stored) io.out(`  ${awsPutSecretCommand(loaded.config.name, s.secretName, file)}`);
  io.out(`  (if the secret does not exist yet: \`aws secretsmanager create-secret --name ${awsSecretId(loaded.config.name, stored[0]?.secretName ?? '...')} ...\` with the same --secret-string)`);
  return { file, stored, authorizedAt: result.authorizedAt, expiresAt: result.expiresAt, scopes: result.scopes };
}

/** Lines for `validate` (and `check`): the stored authorizations that expire within 14 days or have expired. */
export function authorizationWarningLines(loaded: LoadedPipeline, now: Date = new Date()): string[] {
  return authorizationProblems(loaded, now).map((p: Problem) => `warning: ${formatProblem(p)}`);
}

export interface CheckCommandOptions {
  config: string;
  sandbox?: boolean;
  verbose?: boolean;
  env?: Record<string, string | undefined>;
  signal?: AbortSignal;
  now?: () => Date;
  /** Where the connector comes from (the CLI's registry); default discovery. */
  plugins?: PluginSource;
}

/** Resolve the connector config and ask the plugin whether the credentials work. Throws UserError (exit 2) when not. */
export async function checkCommand(o: CheckCommandOptions, ioIn: CommandIO = stdio): Promise<void> {
  const io = redacting(ioIn);
  const prep = await prepare(o.config, io, o.plugins);
  const { loaded, plugin } = prep;
  const choice = await connectorConfig(prep, { sandbox: o.sandbox ? 'always' : 'never', env: o.env });
  if (choice.reason) io.err(choice.reason);
  // The sandbox ignores the configured credentials, so their expiry is beside the point there.
  const problems = o.sandbox ? [] : authorizationProblems(loaded, o.now?.() ?? new Date());
  for (const p of problems) io.err(`${p.severity}: ${formatProblem(p)}`);
  const logger = ioLogger(io, o.verbose);
  const signal = o.signal ?? new AbortController().signal;
  const http = new HttpClient({ ...(plugin.httpOptions?.(choice.config) ?? { baseURL: '' }), logger, signal });
  const streams = pipelineStreams(loaded);
  try {
    await plugin.check({
      config: choice.config,
      http,
      logger,
      streams,
      ...(choice.sandbox ? {} : { updateSecret: localSecretUpdater(loaded, logger) }),
    });
  } catch (e) {
    if (e instanceof UserError) throw new UserError(`check failed: ${redact(e.message)}`, e.hint);
    throw new UserError(`check failed: ${redact(e instanceof Error ? e.message : String(e))}`);
  } finally {
    await choice.sandbox?.close();
  }
  io.out(`ok: connector ${plugin.name} accepted the credentials for the ${streams.length} stream(s) of ${o.config}`);
  io.out(rateLimitReport(http, plugin.httpOptions?.(choice.config)?.rateLimit));
}

/**
 * What `check` saw of the API's rate limit, beside the limiter the run uses: the headers are the
 * only sign of the real limit (Spotify's is a rolling 30-second window it does not publish, and
 * it sends Retry-After only with a 429).
 */
export function rateLimitReport(http: Pick<HttpClient, 'limitHeaders' | 'throttled' | 'total'>, limit: { windowMs: number; maxRequests: number } | null | undefined): string {
  const limiter = limit ? `the run's limiter allows ${limit.maxRequests} requests per rolling ${limit.windowMs / 1000} s` : 'the run has no limiter';
  const seen = Object.entries(http.limitHeaders);
  const headers = seen.length
    ? `headers seen: ${seen.map(([k, v]) => `${k}: ${v}`).join(', ')}${http.throttled ? ` (${http.throttled} response(s) were 429)` : ''}`
    : `no rate-limit headers in the ${http.total} response(s)`;
  return `rate limit: ${limiter}; ${headers}`;
}
