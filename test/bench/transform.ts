/**
 * Transform benchmark: 1,000,000 generated play records (gzip JSON Lines raw files in a temp lake,
 * two runs, ~1% re-delivered plays) built into the shipped `plays` table (dedupe, one partition per
 * day) by buildTables, next to a plain DuckDB `COPY (SELECT ... FROM read_json(...)) TO x.parquet`
 * of the same records as the baseline. Prints throughput and peak memory; asserts nothing.
 *
 * Each measured phase runs in its own child process, so peak RSS (sampled every 20 ms, plus the
 * kernel's high-water mark where /proc has it) belongs to that phase alone.
 *
 *   npm run bench                      (test/bench/run.ts runs every bench)
 *   BENCH_RECORDS=200000 npm run bench -- transform
 *   npm run bench -- transform --engine spark
 *
 * With `--engine spark` the same raw files (committed by run manifests, which the Glue job reads)
 * are also built by `transform --engine spark`'s engine on local Spark (local[*], spark-submit as
 * the CLI finds it). Spark runs in its own JVM, so its line shows the wall time with Spark's
 * start-up and the table's own time without it, and no peak RSS of this process.
 */
import { seededRandom } from '../../core/plugin-api.ts';
import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';

const gz = promisify(gzip);
const HERE = fileURLToPath(import.meta.url);
const ROOT = join(dirname(HERE), '..', '..');
const RECORDS_PER_FILE = 100_000;

interface Raw {
  stream: string;
  key: string;
  runId: string;
  records: number;
  /** What the engine's manifest says of the file (the builds verify it). */
  bytes: number;
  sha256: string;
}

interface PhaseResult {
  seconds: number;
  rows: number;
  detail: string;
  peakRssMb: number;
  hwmMb?: number;
}

// ---- data ------------------------------------------------------------------------------------

/** A small deterministic PRNG: the same records every run. */
const rng = seededRandom;

const WORDS = ['Night', 'Drive', 'Fire', 'Lake', 'Paper', 'Ghost', 'Summer', 'Glass', 'Echo', 'River', 'Neon', 'Static', 'Velvet', 'Gold', 'Ocean'];
const NAMES = ['Wind, Rain & Fire', 'The "Real" Thing', '星野 ひかり', 'Кино и Звёзды', 'Lil Sunshine ☀️', 'Zoë & the Naïve Ones'];

function catalog(n: number) {
  const r = rng(7);
  const word = () => WORDS[Math.floor(r() * WORDS.length)];
  const artists = Array.from({ length: 2000 }, (_, i) => ({ id: `ar${i.toString(36).padStart(20, '0')}`, name: i < NAMES.length ? NAMES[i] : `${word()} ${word()}s` }));
  return Array.from({ length: n }, (_, i) => {
    const precision = r() < 0.08 ? 'year' : r() < 0.15 ? 'month' : 'day';
    const year = 1960 + Math.floor(r() * 66);
    const release = precision === 'year' ? `${year}` : precision === 'month' ? `${year}-0${1 + Math.floor(r() * 9)}` : `${year}-0${1 + Math.floor(r() * 9)}-1${Math.floor(r() * 9)}`;
    const a = artists[Math.floor(r() * artists.length)];
    const feat = r() < 0.2 ? [artists[Math.floor(r() * artists.length)]] : [];
    return {
      id: `tr${i.toString(36).padStart(20, '0')}`,
      name: `${word()} ${word()}${r() < 0.05 ? ', Pt. 2' : ''}`,
      type: 'track',
      duration_ms: 90_000 + Math.floor(r() * 300_000),
      explicit: r() < 0.1,
      artists: [a, ...feat].map((x) => ({ id: x.id, name: x.name, type: 'artist' })),
      album: { id: `al${Math.floor(i / 10).toString(36).padStart(20, '0')}`, name: `${word()} ${word()}`, release_date: release, release_date_precision: precision },
    };
  });
}

/** Writes `total` plays as engine-shaped raw files; returns them as committed files. */
export async function generate(lake: string, total: number): Promise<Raw[]> {
  const tracks = catalog(50_000);
  const r = rng(42);
  const start = Date.parse('2025-01-01T00:00:00Z');
  const span = 2 * 365 * 86_400_000;
  const files: Raw[] = [];
  // Two runs: the second re-delivers ~1% of the first's plays (dedupe has work to do).
  const firstRun = Math.round(total * 0.9);
  const runs = [
    { id: '20261124T101502Z-bench1', from: 0, to: firstRun },
    { id: '20261124T111502Z-bench2', from: firstRun, to: total },
  ];
  let redeliver: string[] = [];
  for (const run of runs) {
    for (let part = 0, i = run.from; i < run.to; part++) {
      const lines: string[] = [];
      const end = Math.min(run.to, i + RECORDS_PER_FILE);
      for (; i < end; i++) {
        if (run.id.endsWith('2') && redeliver.length && r() < 0.1) {
          lines.push(redeliver.pop() as string);
          continue;
        }
        const t = tracks[Math.floor(r() * tracks.length)];
        const line = JSON.stringify({
          played_at: new Date(start + Math.floor(r() * span)).toISOString(),
          track: t,
          context: r() < 0.3 ? null : { type: 'playlist', uri: `spotify:playlist:pl${Math.floor(r() * 40)}` },
        });
        if (redeliver.length < total * 0.01 && r() < 0.02) redeliver.push(line);
        lines.push(line);
      }
      const key = `raw/recently_played/dt=2026-11-24/${run.id}-${String(part).padStart(5, '0')}.jsonl.gz`;
      await mkdir(dirname(join(lake, key)), { recursive: true });
      const body = await gz(lines.join('\n') + '\n');
      await writeFile(join(lake, key), body);
      files.push({ stream: 'recently_played', key, runId: run.id, records: lines.length, bytes: body.length, sha256: createHash('sha256').update(body).digest('hex') });
    }
    if (run.id.endsWith('2')) redeliver = [];
  }
  return files;
}

// ---- phases (child processes) ------------------------------------------------------------------

function sampler() {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 20);
  return () => {
    clearInterval(timer);
    peak = Math.max(peak, process.memoryUsage().rss);
    let hwm: number | undefined;
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
      if (m) hwm = Number(m[1]) / 1024;
    } catch {
      // not Linux
    }
    return { peakRssMb: peak / 2 ** 20, hwmMb: hwm };
  };
}

async function phaseTransform(lake: string, files: Raw[]): Promise<PhaseResult> {
  const { readPipeline } = await import('../../core/config/index.ts');
  const { buildTables } = await import('../../core/transform/index.ts');
  const tables = readPipeline(join(ROOT, 'pipeline.yaml')).loaded.config.tables;
  const stop = sampler();
  const t0 = performance.now();
  const [res] = await buildTables({ lakeDir: lake, tables: { plays: tables.plays }, files, runId: '20261124T121502Z-bench3' });
  const seconds = (performance.now() - t0) / 1000;
  return {
    seconds,
    rows: res.rows,
    detail: `${res.partitions} partitions, ${res.files} files, ${(res.bytes / 2 ** 20).toFixed(1)} MiB, ${res.quarantined} quarantined, ${res.drift.length} drift note(s)`,
    ...stop(),
  };
}

async function phaseBaseline(lake: string, files: Raw[]): Promise<PhaseResult> {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const stop = sampler();
  const t0 = performance.now();
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  const out = join(lake, 'baseline.parquet');
  const list = files.map((f) => `'${join(lake, f.key)}'`).join(', ');
  // The same columns as the plays table, with schema-typed read_json (no paths, casts or checks).
  const columns = `{played_at: 'TIMESTAMPTZ', track: 'STRUCT(id VARCHAR, name VARCHAR, duration_ms BIGINT, artists STRUCT(id VARCHAR, name VARCHAR)[], album STRUCT(id VARCHAR))', context: 'STRUCT(type VARCHAR, uri VARCHAR)'}`;
  await conn.run(`SET TimeZone = 'UTC'`);
  const reader = await conn.runAndReadAll(
    `COPY (SELECT played_at, track.id AS track_id, track.name AS track_name, track.artists[1].id AS artist_id, track.artists[1].name AS artist_name, track.album.id AS album_id, track.duration_ms, context.type AS context_type, context.uri AS context_uri FROM read_json([${list}], format = 'newline_delimited', columns = ${columns})) TO '${out}' (FORMAT parquet, COMPRESSION zstd)`,
  );
  const rows = Number(reader.getRows()[0][0]);
  conn.closeSync();
  db.closeSync();
  const seconds = (performance.now() - t0) / 1000;
  return { seconds, rows, detail: `1 file, ${((await stat(out)).size / 2 ** 20).toFixed(1)} MiB (no dedupe, partitions or quarantine)`, ...stop() };
}

async function child(phase: string, lake: string, resultFile: string): Promise<void> {
  const files = JSON.parse(await readFile(join(lake, 'files.json'), 'utf8')) as Raw[];
  const result = phase === 'transform' ? await phaseTransform(lake, files) : await phaseBaseline(lake, files);
  await writeFile(resultFile, JSON.stringify(result));
}

function runChild(phase: string, lake: string): Promise<PhaseResult> {
  const resultFile = join(lake, `${phase}.result.json`);
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', HERE, '--child', phase, lake, resultFile], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
    p.on('error', reject);
    p.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`${phase} phase exited with ${code}`));
      readFile(resultFile, 'utf8').then((text) => JSON.parse(text) as PhaseResult).then(resolve, reject);
    });
  });
}

// ---- report ------------------------------------------------------------------------------------

/** The Spark engine on the same lake: manifests for the generated runs, then a full build. */
async function phaseSpark(lake: string, files: Raw[]): Promise<PhaseResult & { tableSeconds: number; source: string }> {
  const { readPipeline } = await import('../../core/config/index.ts');
  const { writeManifest } = await import('../../core/engine/manifest.ts');
  const { LocalStorage } = await import('../../core/storage/local.ts');
  const { buildTablesSpark, findSparkSubmit } = await import('../../core/transform/spark-engine.ts');
  const tables = readPipeline(join(ROOT, 'pipeline.yaml')).loaded.config.tables;
  for (const run of [...new Set(files.map((f) => f.runId))]) {
    const mine = files.filter((f) => f.runId === run);
    await writeManifest(new LocalStorage(lake), {
      run_id: run,
      pipeline: 'bench',
      started_at: '2026-11-24T10:15:02.000Z',
      committed_at: '2026-11-24T10:15:09.000Z',
      streams: { recently_played: { endpoint: 'me/player/recently-played', records: mine.reduce((n, f) => n + f.records, 0), requests: {}, status: 'complete', files: mine.map((f) => ({ key: f.key, records: f.records, bytes: f.bytes, sha256: f.sha256 })) } },
    });
  }
  // DuckDB's build of the same table is not Spark's to replace.
  await rm(join(lake, 'curated'), { recursive: true, force: true });
  await rm(join(lake, 'quarantine'), { recursive: true, force: true });
  const sparkSubmit = await findSparkSubmit();
  const t0 = performance.now();
  const [res] = await buildTablesSpark({ lakeDir: lake, tables: { plays: tables.plays }, runId: '20261124T121502Z-bench4', sparkSubmit });
  const seconds = (performance.now() - t0) / 1000;
  return {
    seconds,
    rows: res.rows,
    detail: `${res.partitions} partitions, ${res.files} files, ${(res.bytes / 2 ** 20).toFixed(1)} MiB, ${res.quarantined} quarantined; table ${res.seconds.toFixed(1)} s without Spark's start-up`,
    peakRssMb: 0,
    tableSeconds: res.seconds,
    source: `${sparkSubmit.command} (from ${sparkSubmit.source})`,
  };
}

export async function runTransformBench(opts: { records?: number; log?: (line: string) => void; spark?: boolean } = {}): Promise<void> {
  const log = opts.log ?? ((l: string) => process.stdout.write(`${l}\n`));
  const total = opts.records ?? Number(process.env.BENCH_RECORDS ?? 1_000_000);
  const lake = await mkdtemp(join(tmpdir(), 'bench-transform-'));
  try {
    const t0 = performance.now();
    const files = await generate(lake, total);
    const rawBytes = (await Promise.all(files.map((f) => stat(join(lake, f.key))))).reduce((n, s) => n + s.size, 0);
    await writeFile(join(lake, 'files.json'), JSON.stringify(files));
    log(`transform bench: ${total.toLocaleString('en')} play records in ${files.length} gzip JSON Lines files (${(rawBytes / 2 ** 20).toFixed(0)} MiB), generated in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    const baseline = await runChild('baseline', lake);
    const transform = await runChild('transform', lake);
    const line = (name: string, r: PhaseResult) =>
      `  ${name.padEnd(34)} ${r.seconds.toFixed(1).padStart(6)} s ${Math.round(total / r.seconds).toLocaleString('en').padStart(10)} records/s  peak RSS ${r.peakRssMb.toFixed(0).padStart(5)} MiB${r.hwmMb ? ` (high-water ${r.hwmMb.toFixed(0)} MiB)` : ''}  ${r.rows.toLocaleString('en')} rows; ${r.detail}`;
    log(line('baseline: DuckDB COPY read_json', baseline));
    log(line('buildTables plays (pipeline.yaml)', transform));
    log(`  transform / baseline time: ${(transform.seconds / baseline.seconds).toFixed(2)}x`);
    if (opts.spark) {
      const spark = await phaseSpark(lake, files);
      const rate = (s: number) => Math.round(total / s).toLocaleString('en').padStart(10);
      log(
        `  ${'Spark engine plays (local[*])'.padEnd(34)} ${spark.seconds.toFixed(1).padStart(6)} s ${rate(spark.seconds)} records/s  (${rate(spark.tableSeconds).trim()} records/s without start-up)  ${spark.rows.toLocaleString('en')} rows; ${spark.detail}`,
      );
      log(`  Spark / DuckDB buildTables time: ${(spark.seconds / transform.seconds).toFixed(2)}x (${spark.source})`);
    }
  } finally {
    await rm(lake, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--child') {
  await child(process.argv[3], process.argv[4], process.argv[5]);
}
