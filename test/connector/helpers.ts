/**
 * Shared helpers for the connector suites: build a pipeline in code, run it against a sandbox
 * (extract only), and read back what it committed: the records of each stream, the API requests
 * the sandbox served during the run, and the engine's per-endpoint request counts.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import formats from 'ajv-formats';
import plugin from '../../connectors/spotify/index.ts';
import { batchSize, endpoints } from '../../connectors/spotify/endpoints.ts';
import type { RequestLogEntry, SpotifySandbox } from '../../connectors/spotify/sandbox/index.ts';
import { checkPipeline, parsePipeline, type Problem } from '../../core/config/index.ts';
import { runPipeline, type RunSummary } from '../../core/engine/run.ts';
import { listManifests } from '../../core/engine/manifest.ts';
import { LocalStorage } from '../../core/storage/local.ts';
import { memoryLogger } from '../../core/log.ts';
import type { JsonRecord, JsonSchema } from '../../core/plugin-api.ts';

export { plugin };
export type Mode = 'development' | 'extended';
export type Streams = Record<string, Record<string, unknown>>;

/** One fixed "now": separately started sandboxes serve identical data. */
export const NOW = Date.UTC(2026, 10, 20, 12, 0, 0);

export const PROFILES: Array<{ profile: 'development' | 'development-legacy' | 'extended'; mode: Mode }> = [
  { profile: 'development', mode: 'development' },
  { profile: 'development-legacy', mode: 'development' },
  { profile: 'extended', mode: 'extended' },
];

const dirs: string[] = [];
export async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'spotify-streams-'));
  dirs.push(d);
  return d;
}
export async function removeTempDirs(): Promise<void> {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
}

/** pipeline.yaml text for the streams (YAML is a superset of JSON). */
export function pipelineText(mode: Mode, streams: Streams): string {
  return JSON.stringify({
    version: 1,
    name: 'streams-test',
    connector: { use: 'spotify', config: { api_mode: mode } },
    storage: { local: '.lake' },
    streams,
    tables: {},
    queries: {},
  }, null, 2);
}

/** Schema and plugin problems of a pipeline (what `validate` reports). */
export function problemsOf(mode: Mode, streams: Streams): Problem[] {
  return checkPipeline(parsePipeline(pipelineText(mode, streams), 'pipeline.yaml'), plugin);
}

export function connectorConfig(sb: SpotifySandbox, mode: Mode): JsonRecord {
  return { api_mode: mode, api_base_url: sb.apiUrl, accounts_base_url: sb.accountsUrl, ...sb.credentials, rate_limit: null };
}

export interface RunResult {
  summary: RunSummary;
  records: Record<string, JsonRecord[]>;
  /** API requests the sandbox served during the run (token and /me excluded). */
  log: RequestLogEntry[];
  lines: string[];
  storage: LocalStorage;
}

/** Validate (no error allowed), run extract-only against the sandbox, read back the records. */
export async function runStreams(sb: SpotifySandbox, mode: Mode, streams: Streams, opts: { dir?: string; expectOk?: boolean } = {}): Promise<RunResult> {
  const read = parsePipeline(pipelineText(mode, streams), 'pipeline.yaml');
  const errors = checkPipeline(read, plugin).filter((p) => p.severity === 'error');
  if (errors.length > 0) throw new Error(`pipeline invalid: ${errors.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
  const storage = new LocalStorage(opts.dir ?? (await tempDir()));
  sb.resetLog();
  const logger = memoryLogger();
  const summary = await runPipeline({ pipeline: read.loaded, plugin, connectorConfig: connectorConfig(sb, mode), storage, logger, skipTransform: true });
  if ((opts.expectOk ?? true) && !summary.ok) throw new Error(`run failed: ${summary.error}`);
  const records: Record<string, JsonRecord[]> = {};
  const manifest = (await listManifests(storage)).find((m) => m.run_id === summary.runId);
  for (const [name, s] of Object.entries(manifest?.streams ?? {})) {
    records[name] = [];
    for (const f of s.files) {
      const body = gunzipSync((await storage.get(f.key))!).toString('utf8');
      for (const line of body.split('\n')) if (line) records[name].push(JSON.parse(line) as JsonRecord);
    }
  }
  const log = sb.requests.filter((r) => r.path.startsWith('/v1/') && r.path !== '/v1/me');
  return { summary, records, log, lines: logger.lines, storage };
}

/** The sandbox paths an endpoint's requests go to in a mode (the batch form where it is used). */
export function pathPattern(endpoint: string, mode: Mode): RegExp {
  const desc = endpoints[endpoint];
  const path = desc.batch && batchSize(desc, mode) > 1 ? desc.batch.path : desc.path;
  return new RegExp(`^/v1${path.replace(/\{id\}/g, '[^/]+')}$`);
}

/** Requests the sandbox served for an endpoint. */
export function served(log: RequestLogEntry[], endpoint: string, mode: Mode): RequestLogEntry[] {
  const re = pathPattern(endpoint, mode);
  return log.filter((r) => re.test(r.path));
}

/** Requests to page `n` items at `size` a page: at least one (an empty list still costs its request). */
export function pagesFor(n: number, size: number): number {
  return Math.max(1, Math.ceil(n / size));
}

let ajv: InstanceType<typeof Ajv> | undefined;
/** Records failing the schema, with the first error of each (empty when all pass). */
export function schemaFailures(schema: JsonSchema, records: JsonRecord[]): string[] {
  if (!ajv) {
    ajv = new Ajv({ allErrors: false, strict: false, allowUnionTypes: true });
    formats.default(ajv);
  }
  const validate = ajv.compile(schema);
  const out: string[] = [];
  for (const r of records) {
    const ok: boolean = validate(r);
    if (!ok) out.push(`${String(r.id ?? r.playlist_id ?? '?')}: ${ajv.errorsText(validate.errors)}`);
    if (out.length >= 5) break;
  }
  return out;
}
