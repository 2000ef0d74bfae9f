/**
 * The user-facing API of the engine, shared by the CLI, the tests and the Lambda handler:
 * load and validate a pipeline, resolve its connector config, run it, query the lake.
 */
import { dirname, join, resolve } from 'node:path';
import { ConfigError, findRefs, lakeDir, loadPipelineWith, localSecrets, localSecretValues, resolveRefs, secretsFile, throwIfErrors, type Problem } from './config/index.ts';
import { looksLikeCredential } from './secrets/names.ts';
import { tablePlanProblems } from './transform/problems.ts';
import { sqlAccessProblems } from './query/problems.ts';
import type { LoadedPipeline } from './config/types.ts';
import { discoveredPlugins, type PluginSource } from './plugins.ts';
import { registerSecret } from './log.ts';
import type { ConnectorPlugin, JsonRecord, Logger, SandboxHandle } from './plugin-api.ts';
import { LocalStorage } from './storage/local.ts';
import { runPipeline, type RunSummary, type RunOptions } from './engine/run.ts';
import { assertLakeFolder, openLake, type QueryResult } from './query/index.ts';
import { buildTables } from './transform/index.ts';
import { withRecommendations } from './recs/table.ts';

export interface Prepared {
  loaded: LoadedPipeline;
  plugin: ConnectorPlugin;
  warnings: Problem[];
  /** The pipelines `include:` names: they run into this pipeline's lake, after it. */
  includes?: Prepared[];
}

export interface PrepareOptions {
  /** Where plugins come from: the composition root's registry; default discovery by path, folder and package. */
  plugins?: PluginSource;
}

/** Parse, schema-check and plugin-check a pipeline file; throws ConfigError with every problem. */
export async function preparePipeline(file: string, opts: PrepareOptions = {}): Promise<Prepared> {
  return prepareOne(file, opts, undefined);
}

/**
 * One pipeline, and (for the main one, `parent` undefined) the pipelines it includes. Includes
 * are one level deep: an included pipeline that includes others (itself, its includer, a chain)
 * is an error at the include line, and its includes are never followed.
 */
async function prepareOne(file: string, opts: PrepareOptions, parent: string | undefined): Promise<Prepared> {
  const plugins = opts.plugins ?? discoveredPlugins;
  // Schema and plugin problems are reported together, so one validate shows every mistake.
  const prep = await loadPipelineWith(file, (use) => plugins.loadPlugin(use, dirname(resolve(file))));
  // A table that cannot compile fails here, with its key and line, not after the extraction; so
  // does SQL that would read or write files (a query printing .secrets.json, a column copying it).
  throwIfErrors([...tablePlanProblems(prep.loaded), ...sqlAccessProblems(prep.loaded)]);
  if (parent !== undefined) return prep;
  const list = prep.loaded.config.include ?? [];
  const includes: Prepared[] = [];
  const problems: Problem[] = [];
  const streams = new Set(Object.keys(prep.loaded.config.streams));
  const tables = new Set(Object.keys(prep.loaded.config.tables));
  const queries = new Set(Object.keys(prep.loaded.config.queries));
  const self = resolve(file);
  const seen = new Map<string, number>();
  for (const [i, rel] of list.entries()) {
    const at = { ...prep.loaded.pos(`include.${i}`), path: `include.${i}`, severity: 'error' as const };
    const target = join(dirname(self), rel);
    if (resolve(target) === self) {
      problems.push({ ...at, message: `"${rel}" is this pipeline itself; include other pipeline files` });
      continue;
    }
    if (seen.has(resolve(target))) {
      problems.push({ ...at, message: `"${rel}" is included already (include.${seen.get(resolve(target))})` });
      continue;
    }
    seen.set(resolve(target), i);
    let inc: Prepared;
    try {
      inc = await prepareOne(target, opts, self);
    } catch (e) {
      // A file that cannot be read at all is a mistake of this include line.
      if (e instanceof ConfigError && e.problems.every((p) => p.line === 0 && p.file === target)) {
        problems.push(...e.problems.map((p) => ({ ...at, message: `"${rel}": ${p.message}` })));
        continue;
      }
      throw e;
    }
    const nested = inc.loaded.config.include ?? [];
    if (nested.length > 0) {
      const back = nested.some((r) => resolve(join(dirname(resolve(target)), r)) === self);
      problems.push({
        ...at,
        message: back
          ? `"${rel}" includes this pipeline back (a cycle); includes are one level deep: remove the include from one of them`
          : `"${rel}" includes other pipelines itself; includes are one level deep: include those from this pipeline instead`,
      });
      continue;
    }
    // One lake: a stream or table name means one thing in it, whichever pipeline declares it.
    for (const s of Object.keys(inc.loaded.config.streams)) {
      if (streams.has(s)) problems.push({ ...at, message: `stream "${s}" of "${rel}" has the same name as one of this pipeline's (their raw data would mix)` });
      streams.add(s);
    }
    for (const t of Object.keys(inc.loaded.config.tables)) {
      if (tables.has(t)) problems.push({ ...at, message: `table "${t}" of "${rel}" has the same name as one of this pipeline's` });
      tables.add(t);
    }
    // Deployed together: one Athena workgroup holds every named query of the lake.
    for (const q of Object.keys(inc.loaded.config.queries)) {
      if (queries.has(q)) problems.push({ ...at, message: `query "${q}" of "${rel}" has the same name as one of this pipeline's (one Athena workgroup holds both)` });
      queries.add(q);
    }
    includes.push(inc);
  }
  throwIfErrors(problems);
  return includes.length ? { ...prep, includes } : prep;
}

/**
 * The tables queries, the report and validate see: the lake's tables, plus `recommendations`
 * (written by `recs`, not built from raw data) when the pipeline or an include declares `recommendations:`.
 */
export function viewTables(prep: Prepared): LoadedPipeline['config']['tables'] {
  const declared = [prep, ...(prep.includes ?? [])].some((p) => p.loaded.config.recommendations !== undefined);
  return withRecommendations(lakeTables(prep), declared);
}

/** Every table of the lake a pipeline writes: its own and those of the pipelines it includes. */
export function lakeTables(prep: Prepared): LoadedPipeline['config']['tables'] {
  const tables: LoadedPipeline['config']['tables'] = {};
  for (const inc of prep.includes ?? []) Object.assign(tables, inc.loaded.config.tables);
  return Object.assign(tables, prep.loaded.config.tables);
}

export interface ConnectorConfigChoice {
  config: JsonRecord;
  /** Set when the run goes to the sandbox. */
  sandbox?: SandboxHandle;
  /** One line saying why the sandbox is used, for the user. */
  reason?: string;
}

/**
 * The connector config to run with. `sandbox: 'always'` ignores credentials; `'fallback'` uses the
 * sandbox only when no credential reference can be resolved (never when some are set: a
 * half-configured pipeline is an error, not a demo).
 */
export async function connectorConfig(
  prep: Prepared,
  opts: {
    sandbox?: 'always' | 'fallback' | 'never';
    seed?: number;
    env?: Record<string, string | undefined>;
    /** What the sandboxes of other pipelines of the same lake share (`SandboxHandle.shared`), by plugin name. */
    peers?: Record<string, JsonRecord>;
  } = {},
): Promise<ConnectorConfigChoice> {
  const { loaded, plugin } = prep;
  const raw = loaded.config.connector.config ?? {};
  const env = opts.env ?? process.env;
  const secrets = localSecrets(secretsFile(loaded));
  const { refs, unresolved } = credentialRefs(prep, env);
  const mode = opts.sandbox ?? 'never';
  const useSandbox = mode === 'always' || (mode === 'fallback' && refs.length > 0 && unresolved.length === refs.length);
  if (useSandbox) {
    if (!plugin.sandbox) throw new ConfigError([{ ...loaded.pos('connector.use'), path: 'connector.use', message: `connector "${plugin.name}" has no sandbox`, severity: 'error' }]);
    // Keys holding references are replaced by the sandbox's demo credentials.
    const plain: JsonRecord = {};
    for (const [k, v] of Object.entries(raw)) if (!(typeof v === 'string' && /\$\{(env|secret):/.test(v))) plain[k] = v;
    const sandbox = await plugin.sandbox({ config: plain, seed: opts.seed, ...(opts.peers && { peers: opts.peers }) });
    const label = plugin.displayName ?? plugin.name;
    const reason =
      mode === 'always'
        ? `Using the offline ${label} sandbox at ${sandbox.url} (--sandbox).`
        : `No ${label} credentials configured (${unresolved.map((r) => (r.kind === 'env' ? `$${r.name}` : `secret ${r.name}`)).join(', ')} not set): running against the offline ${label} sandbox at ${sandbox.url}.`;
    return { config: { ...plain, ...sandbox.config }, sandbox, reason };
  }
  const resolved = resolveRefs(raw, loaded, 'connector.config', { env, secrets }) as JsonRecord;
  for (const r of refs) if (r.kind === 'secret') registerSecret(refValue(resolved, r.path));
  for (const k of plugin.secretKeys) registerSecret(resolved[k]);
  return { config: resolved };
}

/**
 * Registers for redaction (core/redact.ts) what the lake's pipelines could hold as credentials
 * locally, whether or not this command resolves them: every value of their secrets files, and the
 * value of each `${env:...}` their connector configs reference under a secret key or by a name
 * that looks like a credential. Commands that print data (`query`, `run --queries`) call it, so a
 * query result can never show a secret.
 */
export function registerLocalSecrets(prep: Prepared, env: Record<string, string | undefined> = process.env): void {
  for (const p of [prep, ...(prep.includes ?? [])]) {
    for (const v of localSecretValues(secretsFile(p.loaded, env))) registerSecret(v);
    for (const r of findRefs(p.loaded.config.connector.config ?? {}, 'connector.config')) {
      const key = r.path.split('.')[2] ?? '';
      if (r.kind === 'env' && (p.plugin.secretKeys.includes(key) || looksLikeCredential(r.name) || looksLikeCredential(key))) registerSecret(env[r.name]);
    }
  }
}

/** The connector config's references, and those that nothing resolves here. */
export function credentialRefs(prep: Prepared, env: Record<string, string | undefined> = process.env) {
  const secrets = localSecrets(secretsFile(prep.loaded));
  const refs = findRefs(prep.loaded.config.connector.config ?? {}, 'connector.config');
  const unresolved = refs.filter((r) => (r.kind === 'env' ? env[r.name] === undefined || env[r.name] === '' : secrets(r.name) === undefined));
  return { refs, unresolved };
}

/** Names of the references of a pipeline none of whose credentials are configured (else undefined). */
export function notConfigured(prep: Prepared, env: Record<string, string | undefined> = process.env): string[] | undefined {
  const { refs, unresolved } = credentialRefs(prep, env);
  return refs.length > 0 && unresolved.length === refs.length ? unresolved.map((r) => (r.kind === 'env' ? `$${r.name}` : `secret ${r.name}`)) : undefined;
}

function refValue(obj: JsonRecord, path: string): unknown {
  return path
    .split('.')
    .slice(2)
    .reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as JsonRecord)[k] : undefined), obj);
}

export interface LocalRunOptions {
  lake?: string;
  logger: Logger;
  connectorConfig: JsonRecord;
  signal?: AbortSignal;
  http?: RunOptions['http'];
  updateSecret?: RunOptions['updateSecret'];
  progress?: RunOptions['progress'];
  streams?: RunOptions['streams'];
  fullRefresh?: RunOptions['fullRefresh'];
  skipTransformWhenStopped?: RunOptions['skipTransformWhenStopped'];
  fullBuild?: RunOptions['fullBuild'];
}

/** Run a prepared pipeline on the embedded default (a folder on disk + DuckDB). */
export async function runLocal(prep: Prepared, opts: LocalRunOptions): Promise<RunSummary> {
  const dir = lakeDir(prep.loaded, opts.lake);
  return runPipeline({
    pipeline: prep.loaded,
    plugin: prep.plugin,
    connectorConfig: opts.connectorConfig,
    storage: new LocalStorage(dir),
    lakeDir: dir,
    buildTables,
    logger: opts.logger,
    signal: opts.signal,
    http: opts.http,
    updateSecret: opts.updateSecret,
    progress: opts.progress,
    streams: opts.streams,
    fullRefresh: opts.fullRefresh,
    skipTransformWhenStopped: opts.skipTransformWhenStopped,
    fullBuild: opts.fullBuild,
  });
}

/** Run a named query (or ad-hoc SQL) on the local lake. */
export async function queryLocal(prep: Prepared, what: { name?: string; sql?: string; lake?: string; unsafe?: boolean }): Promise<QueryResult> {
  const { config } = prep.loaded;
  let sql = what.sql;
  if (what.name) {
    const q = config.queries[what.name];
    if (!q) throw new ConfigError([{ file: prep.loaded.file, line: 1, col: 1, path: `queries.${what.name}`, message: `no query named "${what.name}"; expected one of ${Object.keys(config.queries).join(', ')}`, severity: 'error' }]);
    sql = q.sql;
  }
  const dir = lakeDir(prep.loaded, what.lake);
  await assertLakeFolder(dir);
  const lake = await openLake(dir, viewTables(prep), { unsafe: what.unsafe });
  try {
    return await lake.query(sql ?? '');
  } finally {
    lake.close();
  }
}
