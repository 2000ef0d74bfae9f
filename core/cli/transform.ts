/**
 * `spotify-pipeline transform`: rebuild the curated tables from the raw data already committed in
 * the lake (no extraction), or show what a table becomes, all rendered from its plan: its docs,
 * the DuckDB and Spark SQL, and the Athena DDL of its Glue catalog table. Registered by
 * transform-command.ts, loaded when the command runs.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { UserError } from '../errors.ts';
import { lakeTables } from '../pipeline.ts';
import { derivedJobSpecs } from '../recs/jobspec.ts';
import type { CliContext } from './context.ts';
import { lakeDir } from '../config/index.ts';
import { LocalStorage } from '../storage/local.ts';
import { committedFiles, completeReads, listManifests } from '../engine/manifest.ts';
import { newRunId } from '../engine/run.ts';
import { curatedUrl, glueDatabaseName } from '../storage/names.ts';
import { athenaDdl, buildTables, planTable, renderDuckdb, renderSpark, sparkJobSpec, tableDoc, RAW_VIEW, type CommittedFile, type TableResult } from '../transform/index.ts';
import { builtTablesTable, driftSection } from './format.ts';
import { acquireLakeLock } from '../engine/lock.ts';
import { expectedAbsences } from '../engine/absences.ts';
import { createLogger } from '../log.ts';
import { createReporter, progressMode } from './progress.ts';
import type { Logger } from '../plugin-api.ts';

const out = (s = '') => process.stdout.write(s + '\n');

export interface TransformOptions {
  config: string;
  lake?: string;
  table?: string[];
  explain?: string;
  docs?: boolean;
  sparkSpecs?: string;
  targetFileMb?: number;
  engine?: string;
  master?: string;
  /** Rebuild from all raw files (no skipped or incremental builds; the Spark engine always does). */
  full?: boolean;
}

const ENGINES = ['duckdb', 'spark'];

/** Committed raw files; with `quarantine` (the caller holds the lake lock) a corrupt manifest is moved aside with a warning. */
async function committed(dir: string, quarantine?: Logger): Promise<CommittedFile[]> {
  return committedFiles(await listManifests(new LocalStorage(dir), { quarantine }));
}

export async function transformCommand(ctx: CliContext, o: TransformOptions): Promise<void> {
  const prep = await ctx.prepare(o.config);
  // The lake's tables: this pipeline's and those of the pipelines it includes (one lake).
  const tables = lakeTables(prep);
  const dir = lakeDir(prep.loaded, o.lake);

  if (o.explain) {
    const spec = tables[o.explain];
    if (!spec) throw new UserError(`no table named "${o.explain}" in ${o.config}`, `expected one of ${Object.keys(tables).join(', ')}`);
    const plan = planTable(o.explain, spec);
    const streams = new Set(plan.sources.map((s) => s.stream));
    const files: Record<string, string[]> = {};
    for (const f of await committed(dir)) {
      if (streams.has(f.stream)) (files[f.stream] ??= []).push(join(dir, f.key));
    }
    const duck = renderDuckdb(plan, files);
    const spark = renderSpark(plan);
    out(`-- tables.${o.explain}: what it holds (markdown, as \`transform --docs\` prints it)`);
    out(`${tableDoc(plan).replace(/^/gm, '-- ').replace(/ +$/gm, '')}\n`);
    out(`-- tables.${o.explain}: DuckDB (local engine), the table's rows (${Object.values(files).flat().length} committed raw file(s))`);
    out(`${duck.select};\n`);
    out(`-- tables.${o.explain}: DuckDB, the rows that go to quarantine`);
    out(`${duck.quarantine};\n`);
    out(`-- tables.${o.explain}: Spark SQL (Glue job) over the temp view ${RAW_VIEW}(value, _file, _line, _run_id, _stream), the table's rows`);
    out(`${spark.select};\n`);
    out(`-- tables.${o.explain}: Spark SQL, the rows that go to quarantine`);
    out(`${spark.quarantine};\n`);
    out(`-- tables.${o.explain}: Athena DDL of the Glue catalog table the deployment creates (partitions are projected, never registered)`);
    // The main pipeline's lake holds every table, included pipelines' too.
    const config = prep.loaded.config;
    out(`${athenaDdl(plan, curatedUrl(config), glueDatabaseName(config))};`);
    return;
  }

  if (o.docs) {
    for (const name of o.table ?? []) {
      if (!tables[name]) throw new UserError(`no table named "${name}" in ${o.config}`, `expected one of ${Object.keys(tables).join(', ')}`);
    }
    out((o.table ?? Object.keys(tables)).map((name) => tableDoc(planTable(name, tables[name]))).join('\n\n'));
    return;
  }

  if (o.sparkSpecs) {
    const target = resolve(o.sparkSpecs);
    await mkdir(target, { recursive: true });
    for (const name of o.table ?? Object.keys(tables)) {
      if (!tables[name]) throw new UserError(`no table named "${name}" in ${o.config}`);
      await writeFile(join(target, `${name}.json`), JSON.stringify(sparkJobSpec(name, tables[name]), null, 2) + '\n');
      out(`${join(target, `${name}.json`)}`);
    }
    // The derived tables (recommendations) when every table's spec is written: the job builds them after the tables.
    if (!o.table) {
      for (const [name, spec] of Object.entries(derivedJobSpecs(prep.loaded.config.recommendations, tables))) {
        await mkdir(join(target, 'derived'), { recursive: true });
        await writeFile(join(target, 'derived', `${name}.json`), JSON.stringify(spec, null, 2) + '\n');
        out(`${join(target, 'derived', `${name}.json`)}`);
      }
    }
    return;
  }

  if (o.targetFileMb !== undefined && !(o.targetFileMb > 0)) throw new UserError('--target-file-mb must be a positive number');
  const engine = o.engine ?? 'duckdb';
  if (!ENGINES.includes(engine)) throw new UserError(`--engine ${engine}: expected one of ${ENGINES.join(', ')}`);
  if (o.master !== undefined && engine !== 'spark') throw new UserError('--master is a Spark master URL: it needs --engine spark');
  if (o.master !== undefined && !o.master.trim()) throw new UserError('--master needs a Spark master URL (local[*], spark://host:7077, yarn, ...)');
  for (const name of o.table ?? []) {
    if (!tables[name]) throw new UserError(`no table named "${name}" in ${o.config}`, `expected one of ${Object.keys(tables).join(', ')}`);
  }
  const logger = createLogger();
  // One writer at a time: the build holds the lake's lock (readers need none).
  const lock = await acquireLakeLock(dir, { command: `transform${engine === 'spark' ? ' --engine spark' : ''}`, logger });
  let files: CommittedFile[];
  let complete: Record<string, string[]>;
  const runId = newRunId(new Date());
  const t0 = Date.now();
  let results: TableResult[];
  let on = '';
  try {
    const manifests = await listManifests(new LocalStorage(dir), { quarantine: logger });
    files = committedFiles(manifests);
    complete = completeReads(manifests);
    if (engine === 'spark') {
      const { buildTablesSpark, findSparkSubmit } = await import('../transform/spark-engine.ts');
      const master = o.master?.trim() ?? 'local[*]';
      const sparkSubmit = await findSparkSubmit();
      process.stderr.write(`Spark: ${sparkSubmit.command} (from ${sparkSubmit.source}), master ${master}\n`);
      results = await buildTablesSpark({ lakeDir: dir, tables, runId, only: o.table, targetFileMb: o.targetFileMb, master, sparkSubmit });
      on = ` on Spark (${master})`;
    } else {
      // Fields a connector leaves out by design in the pipeline's API mode are not schema drift.
      const expectedAbsent = expectedAbsences([prep, ...(prep.includes ?? [])].map((p) => ({ plugin: p.plugin, connectorConfig: p.loaded.config.connector.config ?? {}, streams: p.loaded.config.streams })));
      // Per-table progress on stderr, as `run` shows it (a display on a terminal, a line per 10 s otherwise).
      const reporter = createReporter({ mode: progressMode(process.stderr), out: process.stderr, everyMs: 10_000 });
      try {
        results = await buildTables({ lakeDir: dir, tables, files, completeReads: complete, runId, only: o.table, targetFileMb: o.targetFileMb, expectedAbsent, progress: reporter.listener, full: o.full });
      } finally {
        reporter.stop();
      }
    }
  } finally {
    await lock.release();
  }
  out(`Transform ${runId}${on}: ${results.length} table(s) rebuilt from ${files.length} committed raw file(s) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  out(builtTablesTable(results, (t) => (tables[t]?.partition_by?.length ?? 0) > 0));
  const drift = driftSection(results);
  if (drift) out(`\n${drift}`);
  out(`Lake: ${dir}`);
}
