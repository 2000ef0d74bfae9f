/**
 * `spotify-pipeline rehearse`: the deployed dataflow, run locally from the synthesized artifacts.
 *
 *  1. every pipeline's connector runs against its offline sandbox (the Spotify API, a generated
 *     export); their credentials become the synth environment and the secrets' values;
 *  2. the stack is synthesized into a folder, as `cdktf synth` does (cdk.tf.json + assets);
 *  3. moto (S3, Secrets Manager, Glue) gets the buckets, secrets and objects the stack declares;
 *  4. the extractor's code asset is unpacked and invoked the way its schedule (or the export's
 *     upload rule) invokes it, against moto and the sandboxes;
 *  5. for each committed run, the Glue job runs as the state machine starts it: the script from
 *     its uploaded location, its modules, its arguments, on the Glue version's Spark, s3:// on moto;
 *  6. the catalog tables are created from their definitions through the Glue API, their files are
 *     held to their partition projection, and every named query runs on DuckDB over them;
 *  7. time passes in the sandboxes and the extractor and the job run again: an incremental build
 *     rewrites only the partitions the new run touched;
 *  8. after each Glue job run, the report function's code asset runs as the state machine invokes
 *     it, with its real Athena client pointed at an Athena stand-in (athena-server.ts: Athena's wire
 *     protocol over DuckDB on the catalog's files at that moment); its report object is then read
 *     back from moto, every panel checked, presigned as `report --aws` presigns it and fetched.
 *
 * Only what cannot run here is stood in for: Lambda's runtime (a Node process with the function's
 * environment), Glue's (spark-submit), EventBridge's matching (the rule's pattern is checked
 * against the key) and Athena (DuckDB over the catalog's files, behind Athena's wire protocol for
 * the report function).
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { GetObjectCommand, PutObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GlueClient } from '@aws-sdk/client-glue';
import { findRefs } from '../../core/config/refs.ts';
import type { PipelineConfig } from '../../core/config/types.ts';
import { connectorConfig, type Prepared } from '../../core/pipeline.ts';
import { presignReport } from '../../core/cli/report-aws.ts';
import { REPORT_KEY } from '../../core/lambda/report.ts';
import { openCatalogLake } from '../../core/query/index.ts';
import type { ConnectorRegistry, JsonRecord, SandboxHandle } from '../../core/plugin-api.ts';
import { projectRoot } from '../../core/root.ts';
import { awsSecretId } from '../../core/secrets/names.ts';
import { stackInputs } from '../stack.ts';
import { REHEARSAL_ACCOUNT, synthesizeTo, type Synthesized } from './artifacts.ts';
import { mirrorCatalog, runNamedQueries, type CatalogCheck, type QueryOutcome } from './athena.ts';
import { startAthenaStandIn, type AthenaStandIn } from './athena-server.ts';
import { execute } from './asl.ts';
import { objectCreatedEvent, runGlueJob, type GlueRun, type SparkRuntime } from './glue.ts';
import { invoke, unpackFunction, type Invocation } from './lambda.ts';
import { MOTO_CREDENTIALS, MOTO_REGION, startMoto, type MotoServer } from './moto.ts';
import { provisionCatalog, provisionStorage, type Provisioned } from './provision.ts';

export interface RehearsalOptions {
  prep: Prepared;
  pipelineFile: string;
  connectors: ConnectorRegistry;
  log?: (line: string) => void;
  /** Keep the work folder (synth output, unpacked code, Spark's logs) for inspection. */
  keep?: boolean;
  seed?: number;
}

export interface ExtractorStep {
  /** What invoked it: `schedule <name>` or `upload <key>`. */
  trigger: string;
  pipeline: string;
  invocation: Invocation;
  /** The run manifest the invocation committed (its key in the lake bucket). */
  manifestKey?: string;
}

export interface IncrementalCheck {
  table: string;
  /** Partition folders (or `(table)` for an unpartitioned table) with files, before the second build. */
  partitions: number;
  /** Those whose files the second build replaced, and those it added. */
  rewritten: string[];
  added: string[];
}

/** The report function, invoked by the state machine after a Glue job run. */
export interface ReportStep {
  /** The committed run whose transform preceded it. */
  manifestKey: string;
  /** The event the state machine's Report task sends. */
  payload: unknown;
  invocation: Invocation;
  /** Calls the function made to the Athena stand-in, by operation. */
  athenaCalls: Record<string, number>;
}

/** The report object the last report run left in the lake bucket, as `report --aws` serves it. */
export interface ReportObjectCheck {
  key: string;
  bytes: number;
  contentType?: string;
  /** `<article class="panel"` elements in the HTML, those with data-state="failed", and the panels the pipeline declares. */
  articles: number;
  failed: number;
  declared: number;
  /** The presigned URL's path, and whether fetching it over HTTP gave the object's bytes. */
  presignedPath: string;
  fetched: boolean;
}

export interface RehearsalReport {
  ok: boolean;
  workDir: string;
  provisioned?: Provisioned;
  extractor: ExtractorStep[];
  glue: Array<{ manifestKey: string; run: GlueRun }>;
  catalog: CatalogCheck[];
  queries: QueryOutcome[];
  incremental: IncrementalCheck[];
  reports: ReportStep[];
  reportObject?: ReportObjectCheck;
  failures: string[];
}

interface PythonModule {
  ensurePython(o?: { log?: (l: string) => void }): { bin(name: string): string; sparkEnv(env?: Record<string, string | undefined>): Record<string, string | undefined> };
  ensureJars(o?: { log?: (l: string) => void }): Promise<string[]>;
}

/** What one pipeline's sandbox gives the deployment: synth env values, secret values, plain overrides, files to upload. */
interface SandboxInputs {
  env: Record<string, string>;
  secrets: Record<string, string>;
  overrides: JsonRecord;
  uploads?: { dir: string; keyPrefix: string };
}

function sandboxInputs(p: Prepared, config: JsonRecord, lakePrefix: string): SandboxInputs {
  const raw = p.loaded.config.connector.config ?? {};
  const out: SandboxInputs = { env: {}, secrets: {}, overrides: {} };
  const uploadsKey = p.plugin.uploads?.configKey;
  for (const [key, value] of Object.entries(config)) {
    const refs = findRefs(raw[key] ?? null, `connector.config.${key}`);
    if (key === uploadsKey) continue;
    if (refs.length === 1 && raw[key] === `\${${refs[0].kind}:${refs[0].name}}`) {
      if (typeof value !== 'string') continue;
      if (refs[0].kind === 'env') out.env[refs[0].name] = value;
      else out.secrets[awsSecretId(p.loaded.config.name, refs[0].name)] = value;
    } else if (!p.plugin.secretKeys.includes(key) && refs.length === 0) {
      out.overrides[key] = value;
    }
  }
  if (uploadsKey && typeof config[uploadsKey] === 'string') {
    out.uploads = { dir: config[uploadsKey], keyPrefix: `${lakePrefix}imports/${p.loaded.config.name}/` };
  }
  return out;
}

async function listAll(s3: S3Client, bucket: string, prefix: string): Promise<Array<{ key: string; etag: string }>> {
  const out: Array<{ key: string; etag: string }> = [];
  let token: string | undefined;
  for (let page = 0; page < 10_000; page++) {
    const res = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const o of res.Contents ?? []) out.push({ key: o.Key!, etag: o.ETag ?? '' });
    token = res.NextContinuationToken;
    if (!res.IsTruncated) break;
  }
  return out;
}

/** Data files of each table's partition folders: `table -> partition -> sorted "key etag" list`. */
async function curatedSnapshot(s3: S3Client, bucket: string, prefix: string): Promise<Map<string, Map<string, string>>> {
  const out = new Map<string, Map<string, string>>();
  for (const o of await listAll(s3, bucket, `${prefix}curated/`)) {
    const rel = o.key.slice(`${prefix}curated/`.length).split('/');
    const file = rel[rel.length - 1];
    if (file.startsWith('_') || file.startsWith('.') || rel.some((x) => x.startsWith('.') || x.startsWith('_'))) continue;
    const table = rel[0];
    const partition = rel.slice(1, -1).join('/') || '(table)';
    const t = out.get(table) ?? new Map<string, string>();
    t.set(partition, [t.get(partition), `${file} ${o.etag}`].filter(Boolean).join('\n'));
    out.set(table, t);
  }
  return out;
}

/** Whether an EventBridge pattern on `detail.object.key` (prefix or wildcard) matches `key`. */
function keyMatches(patternText: string, bucket: string, key: string): boolean {
  const p = JSON.parse(patternText) as { detail?: { bucket?: { name?: string[] }; object?: { key?: Array<{ prefix?: string; wildcard?: string }> } } };
  if (p.detail?.bucket?.name && !p.detail.bucket.name.includes(bucket)) return false;
  return (p.detail?.object?.key ?? []).some((k) =>
    k.prefix !== undefined ? key.startsWith(k.prefix) : k.wildcard !== undefined ? new RegExp(`^${k.wildcard.split('*').map((x) => x.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`).test(key) : false,
  );
}

export async function rehearse(opts: RehearsalOptions): Promise<RehearsalReport> {
  const log = opts.log ?? (() => undefined);
  const workDir = await mkdtemp(join(tmpdir(), 'rehearsal-'));
  const report: RehearsalReport = { ok: false, workDir, extractor: [], glue: [], catalog: [], queries: [], incremental: [], reports: [], failures: [] };
  const fail = (msg: string) => {
    report.failures.push(msg);
    log(`FAILED: ${msg}`);
  };
  const sandboxes: SandboxHandle[] = [];
  let moto: MotoServer | undefined;
  let athena: AthenaStandIn | undefined;
  try {
    // --- the Python side: Spark of the Glue version, S3A jars, moto -------------------------------
    const py = (await import(join(projectRoot(), 'scripts', 'python.mjs'))) as PythonModule;
    const venv = py.ensurePython({ log });
    const jars = await py.ensureJars({ log });

    // --- 1. sandboxes --------------------------------------------------------------------------------
    const pipelines = [opts.prep, ...(opts.prep.includes ?? [])];
    const lakePrefixOf = (c: PipelineConfig) => {
      const p = (c.storage.s3?.prefix ?? '').replace(/^\/+|\/+$/g, '');
      return p ? `${p}/` : '';
    };
    const lakePrefix = lakePrefixOf(opts.prep.loaded.config);
    const peers: Record<string, JsonRecord> = {};
    const inputs: Array<{ p: Prepared; in: SandboxInputs }> = [];
    for (const p of pipelines) {
      const choice = await connectorConfig(p, { sandbox: 'always', seed: opts.seed, peers });
      if (choice.sandbox) sandboxes.push(choice.sandbox);
      if (choice.sandbox?.shared) peers[p.plugin.name] = choice.sandbox.shared;
      inputs.push({ p, in: sandboxInputs(p, choice.config, lakePrefix) });
      log(`sandbox for ${p.loaded.config.name} (${p.plugin.name}): ${choice.sandbox?.url ?? '-'}`);
    }

    // --- 2. synthesize, as cdktf synth does ------------------------------------------------------
    const synthEnv = Object.assign({}, ...inputs.map((i) => i.in.env)) as Record<string, string>;
    const s: Synthesized = synthesizeTo(join(workDir, 'cdktf.out'), { ...stackInputs(opts.prep), pipelineFile: opts.pipelineFile, env: synthEnv, connectors: opts.connectors });
    log(`synthesized ${relative(workDir, s.stackDir)}/cdk.tf.json (${s.model.resources.length} resources)`);
    for (const w of s.stack.warnings) log(`warning: ${w}`);

    // --- 3. moto: what apply would create ------------------------------------------------------------
    moto = await startMoto(venv.bin('moto_server'), { log });
    const aws = { endpoint: moto.endpoint, region: MOTO_REGION, credentials: MOTO_CREDENTIALS };
    const s3 = new S3Client({ ...aws, forcePathStyle: true });
    const clients = { s3, secrets: new SecretsManagerClient(aws), glue: new GlueClient(aws) };
    const secretValues = Object.assign({}, ...inputs.map((i) => i.in.secrets)) as Record<string, string>;
    report.provisioned = await provisionStorage(s, clients, secretValues);
    log(`moto: ${report.provisioned.buckets.length} buckets, ${report.provisioned.secrets.length} secrets, ${report.provisioned.objects.length} objects (${report.provisioned.objects.map((o) => o.split('/').pop()).join(', ')})`);

    // --- 4. the extractor ----------------------------------------------------------------------------------
    const fn = await unpackFunction(s, join(workDir, 'extractor'));
    const lakeBucket = fn.environment.LAKE_BUCKET;
    const overrides = Object.fromEntries(inputs.filter((i) => Object.keys(i.in.overrides).length).map((i) => [i.p.loaded.config.name, i.in.overrides]));
    const runtimeEnv = { ...moto.awsEnv(), CONNECTOR_CONFIG_OVERRIDES: JSON.stringify(overrides) };
    const manifests = async () => new Set((await listAll(s3, lakeBucket, `${lakePrefix}_runs/`)).map((o) => o.key));
    const runExtractor = async (trigger: string, pipeline: string, event: unknown): Promise<ExtractorStep> => {
      const before = await manifests();
      const invocation = await invoke(fn, event, runtimeEnv);
      const after = [...(await manifests())].filter((k) => !before.has(k));
      const step: ExtractorStep = { trigger, pipeline, invocation, manifestKey: after[0] };
      report.extractor.push(step);
      const r = invocation.result as { streams?: Array<{ stream: string; records: number }> } | undefined;
      log(`extractor (${trigger}): ${invocation.ok ? `ok, ${(r?.streams ?? []).map((x) => `${x.stream} ${x.records}`).join(', ')}` : `${invocation.error?.name}: ${invocation.error?.message}`} in ${invocation.seconds.toFixed(1)} s${step.manifestKey ? `; committed ${step.manifestKey}` : ''}`);
      if (!invocation.ok) fail(`the extractor failed on ${trigger}: ${invocation.error?.name}: ${invocation.error?.message}\n${invocation.log.split('\n').slice(-5).join('\n')}`);
      else if (!step.manifestKey) fail(`the extractor (${trigger}) committed no run manifest under s3://${lakeBucket}/${lakePrefix}_runs/`);
      return step;
    };
    const schedules = s.model.ofType('aws_scheduler_schedule').map((x) => s.value(x.config) as { name: string; target: { input: string } });
    const uploadRules = s.model.ofType('aws_cloudwatch_event_rule').filter((r) => /-uploaded$/.test(String(r.config.name)));
    const targetOf = (ruleAddress: string) => s.model.ofType('aws_cloudwatch_event_target').find((t) => s.model.resolve(String(t.config.rule))?.address === ruleAddress);

    const runAllTriggers = async (round: number): Promise<ExtractorStep[]> => {
      const steps: ExtractorStep[] = [];
      for (const sch of schedules) {
        const input = JSON.parse(sch.target.input) as { pipeline?: string };
        steps.push(await runExtractor(`schedule ${sch.name}${round > 1 ? ` (run ${round})` : ''}`, input.pipeline ?? '', input));
      }
      if (round > 1) return steps;
      for (const i of inputs.filter((x) => x.in.uploads)) {
        const up = i.in.uploads!;
        const files = (await readdir(up.dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile());
        let firstKey = '';
        for (const f of files) {
          const full = join(f.parentPath, f.name);
          const key = `${up.keyPrefix}${relative(up.dir, full).split('\\').join('/')}`;
          firstKey ||= key;
          const { readFile } = await import('node:fs/promises');
          await s3.send(new PutObjectCommand({ Bucket: lakeBucket, Key: key, Body: await readFile(full) }));
        }
        log(`uploaded ${files.length} export file(s) to s3://${lakeBucket}/${up.keyPrefix}`);
        const rule = uploadRules.find((r) => keyMatches(String(s.value(r.config.event_pattern)), lakeBucket, firstKey));
        if (!rule) {
          fail(`no EventBridge rule of the stack matches the upload s3://${lakeBucket}/${firstKey}: nothing would run ${i.p.loaded.config.name}`);
          continue;
        }
        const target = targetOf(rule.address);
        const input = JSON.parse(String(target?.config.input ?? '{}')) as { pipeline?: string };
        steps.push(await runExtractor(`upload ${firstKey}`, input.pipeline ?? '', input));
      }
      return steps;
    };

    // --- 5. the Glue job, per committed run -----------------------------------------------------------
    const runCommitted = s.model.ofType('aws_cloudwatch_event_rule').find((r) => /-run-committed$/.test(String(r.config.name)));
    const spark: SparkRuntime = {
      sparkSubmit: venv.bin('spark-submit'),
      env: venv.sparkEnv({ PATH: process.env.PATH, HOME: process.env.HOME, JAVA_HOME: process.env.JAVA_HOME }),
      jars,
      moto: { endpoint: moto.endpoint, accessKeyId: MOTO_CREDENTIALS.accessKeyId, secretAccessKey: MOTO_CREDENTIALS.secretAccessKey, region: MOTO_REGION },
    };
    const runGlue = async (manifestKey: string) => {
      if (!runCommitted || !keyMatches(String(s.value(runCommitted.config.event_pattern)), lakeBucket, manifestKey)) {
        fail(`no EventBridge rule of the stack matches the committed manifest s3://${lakeBucket}/${manifestKey}: the transform would never start`);
        return;
      }
      const run = await runGlueJob(s, s3, spark, objectCreatedEvent(lakeBucket, manifestKey, REHEARSAL_ACCOUNT.region, REHEARSAL_ACCOUNT.accountId), join(workDir, 'glue', String(report.glue.length + 1)));
      report.glue.push({ manifestKey, run });
      const tables = (run.result as { tables?: Array<{ table: string; rows: number; quarantined: number }> } | undefined)?.tables ?? [];
      log(`glue job (${run.arguments['--run_id'] ? `--run_id ${run.arguments['--run_id']}` : 'all runs'}) from ${run.scriptLocation} with ${run.pyFiles.length ? run.pyFiles.join(', ') : 'no modules'}: ${run.ok ? 'ok' : `exit ${String(run.exitCode)}`} in ${run.seconds.toFixed(1)} s; ${tables.map((t) => `${t.table} ${t.rows}`).join(', ')}`);
      if (!run.ok) fail(`the Glue job failed for ${manifestKey} (exit ${String(run.exitCode)}):\n${lastError(run.log)}`);
      else await runReport(manifestKey);
    };

    // --- 8. the report, after each Glue job run, as the state machine invokes it -----------------------
    // The catalog exists before any run (apply creates it); the report's queries read it.
    await provisionCatalog(s, clients, report.provisioned);
    const reportFn = s.model.ofType('aws_lambda_function').some((f) => f.address.startsWith('aws_lambda_function.report_function_')) ? await unpackFunction(s, join(workDir, 'report'), 'report') : undefined;
    if (reportFn) {
      const wg = s.value(s.one('aws_athena_workgroup').config) as { name: string; configuration: { result_configuration: { output_location: string } } };
      athena = await startAthenaStandIn({ workgroup: wg.name, database: report.provisioned.database!, outputLocation: wg.configuration.result_configuration.output_location });
      log(`athena stand-in on ${athena.endpoint} (workgroup ${wg.name}, database ${report.provisioned.database!})`);
    }
    const runReport = async (manifestKey: string) => {
      if (!reportFn || !athena) return;
      // What the state machine's Report task sends, and to which function.
      const machine = s.one('aws_sfn_state_machine');
      const run = execute(JSON.parse(s.value(String(machine.config.definition))), objectCreatedEvent(lakeBucket, manifestKey, REHEARSAL_ACCOUNT.region, REHEARSAL_ACCOUNT.accountId));
      const call = run.calls.find((c) => /:lambda:invoke$/.test(c.resource));
      const params = call?.parameters as { FunctionName?: string; Payload?: unknown } | undefined;
      const arn = `arn:${REHEARSAL_ACCOUNT.partition}:lambda:${REHEARSAL_ACCOUNT.region}:${REHEARSAL_ACCOUNT.accountId}:function:${reportFn.name}`;
      if (!params || params.FunctionName !== arn) {
        fail(`the state machine does not invoke the report function ${reportFn.name} after the transform (path ${run.path.join(' -> ')})`);
        return;
      }
      const n = report.reports.length + 1;
      const mirrored = await mirrorCatalog(clients.glue, s3, report.provisioned!.database!, join(workDir, 'athena-report', String(n)));
      const lake = await openCatalogLake(mirrored.views);
      const before = athena.calls.length;
      let invocation: Invocation;
      try {
        athena.setLake(lake);
        invocation = await invoke(reportFn, params.Payload ?? {}, { ...moto!.awsEnv(), AWS_ENDPOINT_URL_ATHENA: athena.endpoint });
      } finally {
        athena.setLake(undefined);
        lake.close();
      }
      const athenaCalls: Record<string, number> = {};
      for (const c of athena.calls.slice(before)) athenaCalls[c.operation] = (athenaCalls[c.operation] ?? 0) + 1;
      report.reports.push({ manifestKey, payload: params.Payload, invocation, athenaCalls });
      const r = invocation.result as { bytes?: number; panels?: number; empty?: number; queries?: number } | undefined;
      log(`report (after ${manifestKey}): ${invocation.ok ? `ok, ${r?.panels} panels (${r?.empty} empty), ${r?.bytes} bytes, ${r?.queries} Athena queries` : `${invocation.error?.name}: ${invocation.error?.message}`} in ${invocation.seconds.toFixed(1)} s`);
      if (!invocation.ok) fail(`the report function failed after ${manifestKey}: ${invocation.error?.name}: ${invocation.error?.message}\n${invocation.log.split('\n').slice(-5).join('\n')}`);
    };

    for (const step of await runAllTriggers(1)) if (step.manifestKey) await runGlue(step.manifestKey);

    // --- 6. catalog and queries -----------------------------------------------------------------------
    const mirrored = await mirrorCatalog(clients.glue, s3, report.provisioned.database!, join(workDir, 'athena'));
    report.catalog = mirrored.checks;
    for (const c of mirrored.checks) {
      log(`catalog ${c.table}: ${c.files} file(s) at ${c.location}${c.unreachable.length ? `; ${c.unreachable.length} the projection would not read` : ''}`);
      for (const u of c.unreachable.slice(0, 5)) fail(`table ${c.table}: ${u}`);
    }
    report.queries = await runNamedQueries(s, mirrored.views);
    for (const q of report.queries) {
      log(`query ${q.name}: ${q.error ? `ERROR ${q.error}` : `${q.rows} row(s)`}${!q.error && q.rows === 0 ? ' (warning: no rows)' : ''}`);
      if (q.error) fail(`named query ${q.name}: ${q.error}`);
    }

    // --- 7. time passes: an incremental second round --------------------------------------------------
    const before = await curatedSnapshot(s3, lakeBucket, lakePrefix);
    for (const sb of sandboxes) await sb.advance?.();
    const again = await runAllTriggers(2);
    for (const step of again) if (step.manifestKey) await runGlue(step.manifestKey);
    const after = await curatedSnapshot(s3, lakeBucket, lakePrefix);
    for (const [table, parts] of before) {
      const now = after.get(table) ?? new Map<string, string>();
      const rewritten = [...parts.keys()].filter((p) => now.has(p) && now.get(p) !== parts.get(p));
      const added = [...now.keys()].filter((p) => !parts.has(p));
      report.incremental.push({ table, partitions: parts.size, rewritten, added });
      log(`incremental ${table}: ${rewritten.length} of ${parts.size} partition(s) rewritten${added.length ? `, ${added.length} added` : ''}`);
    }

    // --- the report the last run left, as `report --aws` serves it ------------------------------------
    if (reportFn) report.reportObject = await checkReportObject(s3, lakeBucket, lakePrefix, opts.prep, report.reports.at(-1), fail);

    report.ok = report.failures.length === 0;
    return report;
  } catch (e) {
    fail(e instanceof Error ? e.message : String(e));
    return report;
  } finally {
    await Promise.allSettled(sandboxes.map((sb) => sb.close()));
    await athena?.close();
    await moto?.close();
    if (!opts.keep) await rm(workDir, { recursive: true, force: true });
  }
}

/** Reads the report object back, counts its panels, presigns it and fetches the URL over HTTP. */
async function checkReportObject(s3: S3Client, bucket: string, prefix: string, prep: Prepared, last: ReportStep | undefined, fail: (m: string) => void): Promise<ReportObjectCheck | undefined> {
  const key = `${prefix}${REPORT_KEY}`;
  let body: Buffer;
  let contentType: string | undefined;
  try {
    const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    body = Buffer.from(await (res.Body as Readable & { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
    contentType = res.ContentType;
  } catch (e) {
    fail(`no report object at s3://${bucket}/${key} after the transforms: ${(e as Error).name}`);
    return undefined;
  }
  const html = body.toString('utf8');
  const declared = Object.values(prep.loaded.config.dashboards ?? {}).reduce((n, d) => n + d.panels.length, 0);
  const articles = (html.match(/<article class="panel[" ]/g) ?? []).length;
  const failed = (html.match(/data-state="failed"/g) ?? []).length;
  const reported = (last?.invocation.result as { panels?: number } | undefined)?.panels;
  if (contentType !== 'text/html; charset=utf-8') fail(`the report object's Content-Type is ${String(contentType)}, not text/html; charset=utf-8`);
  if (articles < declared + 1 || (reported !== undefined && articles !== reported)) fail(`the report has ${articles} panels; the pipeline declares ${declared} (plus the latest run), the function reported ${String(reported)}`);
  if (failed) fail(`${failed} panel(s) of the report failed`);
  const presigned = await presignReport({ s3, bucket, prefix, expires: 300 });
  const res = await fetch(presigned.url, { signal: AbortSignal.timeout(30_000) });
  const fetched = res.ok && Buffer.from(await res.arrayBuffer()).equals(body);
  if (!fetched) fail(`fetching the presigned report URL gave HTTP ${res.status}${res.ok ? ' with other bytes than the object' : ''}`);
  return { key, bytes: body.length, contentType, articles, failed, declared, presignedPath: new URL(presigned.url).pathname, fetched };
}

/** The Python traceback's last lines, or the log's tail. */
function lastError(log: string): string {
  const lines = log.split('\n').filter((l) => !/^\d\d\/\d\d\/\d\d \d\d:\d\d:\d\d (INFO|WARN)/.test(l));
  const tb = lines.lastIndexOf('Traceback (most recent call last):');
  return (tb >= 0 ? lines.slice(tb) : lines.slice(-12)).slice(-12).join('\n');
}
