/**
 * Transform benchmark: generated play records (gzip JSON Lines raw files in a temp lake, two runs,
 * ~1% re-delivered plays) built into the shipped `plays` table (dedupe, one partition per day) by
 * buildTables, against the same-layout floor measured in the same run on the same files: one
 * DuckDB `COPY (SELECT <the same columns> FROM read_json(... typed columns) ORDER BY dt) TO <dir>
 * (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (dt))`, i.e. the same output layout with no
 * dedupe, checks, quarantine, file sizing or publishing. Runs alternate A/B/A/B and medians are
 * printed, with the ratio line `transform / same-layout floor: 1.23x`. Then the incremental cases
 * against the full build's median: a rerun on unchanged raw (`rerun unchanged / full build`), and
 * builds after a third and a fourth run each add 1% new plays on the last days of the history as
 * scheduled runs would: `+1% new raw / full build` is the fourth (an incremental build after an
 * incremental one, the steady state), the third is printed too. Prints; asserts nothing.
 *
 * Each measured phase runs in its own child process, so peak RSS (sampled every 20 ms, plus the
 * kernel's high-water mark where /proc has it) belongs to that phase alone, and starts after a
 * `sync`, so the writeback the phase before left is not charged to it.
 *
 *   npm run bench -- transform                      (1,000,000 records)
 *   npm run bench -- transform --records 10000000   (peak RSS at 10M; BENCH_RECORDS works too)
 *   npm run bench -- transform --engine spark       (also the Spark engine on the same raw)
 *
 * With `--engine spark` the same raw files (committed by run manifests, which the Glue job reads)
 * are also built by `transform --engine spark`'s engine on local Spark (local[*], spark-submit as
 * the CLI finds it). Spark runs in its own JVM, so its line shows the wall time with Spark's
 * start-up and the table's own time without it, and no peak RSS of this process.
 */
import { seededRandom } from '../../core/plugin-api.ts';
import { createHash } from 'node:crypto';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
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

/**
 * A third run that adds `share` of `total` new plays on the last three days of the history (what a
 * scheduled run brings), plus a few plays it delivers again.
 */
export async function generateIncrement(lake: string, total: number, share = 0.01, nth = 1): Promise<Raw[]> {
  const tracks = catalog(2_000);
  const r = rng(98 + nth);
  const end = Date.parse('2025-01-01T00:00:00Z') + 2 * 365 * 86_400_000;
  const n = Math.max(1, Math.round(total * share));
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const t = tracks[Math.floor(r() * tracks.length)];
    lines.push(JSON.stringify({ played_at: new Date(end - Math.floor(r() * 3 * 86_400_000)).toISOString(), track: t, context: null }));
  }
  lines.push(...lines.slice(0, Math.ceil(n / 100))); // re-delivered within the run
  const runId = `20261124T1${nth + 1}1502Z-bench${nth + 2}`;
  const key = `raw/recently_played/dt=2026-11-24/${runId}-00000.jsonl.gz`;
  const body = await gz(lines.join('\n') + '\n');
  await writeFile(join(lake, key), body);
  return [{ stream: 'recently_played', key, runId, records: lines.length, bytes: body.length, sha256: createHash('sha256').update(body).digest('hex') }];
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

/**
 * buildTables of the plays table on `files.json`: `full` forces a full build, `rerun` changes
 * nothing, `incremental` adds the first run of `increment.json`, `incremental2` both.
 */
async function phaseTransform(lake: string, files: Raw[], mode: 'full' | 'rerun' | 'incremental' | 'incremental2'): Promise<PhaseResult> {
  const { readPipeline } = await import('../../core/config/index.ts');
  const { buildTables } = await import('../../core/transform/index.ts');
  const tables = readPipeline(join(ROOT, 'pipeline.yaml')).loaded.config.tables;
  const increments = mode.startsWith('incremental') ? (JSON.parse(await readFile(join(lake, 'increment.json'), 'utf8')) as Raw[]) : [];
  const extra = mode === 'incremental2' ? increments : increments.slice(0, 1);
  const stop = sampler();
  const t0 = performance.now();
  const runId = `bench-${Date.now()}-${process.pid}`;
  const [res] = await buildTables({ lakeDir: lake, tables: { plays: tables.plays }, files: [...files, ...extra], runId, full: mode === 'full' });
  const seconds = (performance.now() - t0) / 1000;
  const how = res.build?.mode === 'incremental' ? `incremental, ${res.build.rewritten} partitions rewritten` : res.build?.mode ?? '?';
  return {
    seconds,
    rows: res.rows,
    detail: `${how}; ${res.partitions} partitions, ${res.files} files, ${(res.bytes / 2 ** 20).toFixed(1)} MiB, ${res.quarantined} quarantined, ${res.drift.length} drift note(s); s per phase: ${Object.entries(res.phases ?? {})
      .map(([k, v]) => `${k} ${v.toFixed(2)}`)
      .join(', ')}`,
    ...stop(),
  };
}

/** The same-layout floor: the same columns, one COPY ordered by and partitioned by day, nothing else. */
async function phaseFloor(lake: string, files: Raw[]): Promise<PhaseResult> {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const stop = sampler();
  const t0 = performance.now();
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  const out = join(lake, 'floor');
  await rm(out, { recursive: true, force: true });
  const list = files.map((f) => `'${join(lake, f.key)}'`).join(', ');
  const columns = `{played_at: 'TIMESTAMPTZ', track: 'STRUCT(id VARCHAR, name VARCHAR, duration_ms BIGINT, artists STRUCT(id VARCHAR, name VARCHAR)[], album STRUCT(id VARCHAR))', context: 'STRUCT(type VARCHAR, uri VARCHAR)'}`;
  await conn.run(`SET TimeZone = 'UTC'`);
  const reader = await conn.runAndReadAll(
    `COPY (SELECT timezone('UTC', played_at) AS played_at, track.id AS track_id, track.name AS track_name, track.artists[1].id AS artist_id, track.artists[1].name AS artist_name, track.album.id AS album_id, track.duration_ms, context.type AS context_type, context.uri AS context_uri, strftime(played_at, '%Y-%m-%d') AS dt FROM read_json([${list}], format = 'newline_delimited', columns = ${columns}) ORDER BY dt) TO '${out}' (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (dt))`,
  );
  const rows = Number(reader.getRows()[0][0]);
  conn.closeSync();
  db.closeSync();
  const seconds = (performance.now() - t0) / 1000;
  const written = (await readdir(out, { recursive: true })).filter((f) => String(f).endsWith('.parquet')).length;
  await rm(out, { recursive: true, force: true });
  return { seconds, rows, detail: `${written} files (no dedupe, checks, quarantine, file sizing or publishing)`, ...stop() };
}

async function child(phase: string, lake: string, resultFile: string): Promise<void> {
  const files = JSON.parse(await readFile(join(lake, 'files.json'), 'utf8')) as Raw[];
  const result = phase === 'floor' ? await phaseFloor(lake, files) : await phaseTransform(lake, files, phase as 'full' | 'rerun' | 'incremental' | 'incremental2');
  await writeFile(resultFile, JSON.stringify(result));
}

function runChild(phase: string, lake: string): Promise<PhaseResult> {
  const resultFile = join(lake, `${phase}.result.json`);
  // Each phase starts with the page cache written back: what the phase before left to flush is
  // not charged to this one (a build's many small files otherwise slow the next one's mkdirs).
  spawnSync('sync');
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

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const load = () => loadavg().map((l) => l.toFixed(2)).join(', ');

export async function runTransformBench(opts: { records?: number; log?: (line: string) => void; spark?: boolean; repeat?: number } = {}): Promise<void> {
  const log = opts.log ?? ((l: string) => process.stdout.write(`${l}\n`));
  const total = opts.records ?? Number(process.env.BENCH_RECORDS ?? 1_000_000);
  const repeat = opts.repeat ?? (total > 2_000_000 ? 1 : 5);
  const lake = await mkdtemp(join(tmpdir(), 'bench-transform-'));
  try {
    const t0 = performance.now();
    const files = await generate(lake, total);
    // Two scheduled runs after the first two, 1% each: the first incremental build comes right
    // after a full build; the second after an incremental one (the steady state of a schedule).
    const increment = [...(await generateIncrement(lake, total, 0.01, 1)), ...(await generateIncrement(lake, total, 0.01, 2))];
    const rawBytes = (await Promise.all(files.map((f) => stat(join(lake, f.key))))).reduce((n, s) => n + s.size, 0);
    await writeFile(join(lake, 'files.json'), JSON.stringify(files));
    await writeFile(join(lake, 'increment.json'), JSON.stringify(increment));
    log(`transform bench: ${total.toLocaleString('en')} play records in ${files.length} gzip JSON Lines files (${(rawBytes / 2 ** 20).toFixed(0)} MiB), generated in ${((performance.now() - t0) / 1000).toFixed(1)} s; 2 cores? ${(await import('node:os')).availableParallelism()} CPUs, load average ${load()}`);

    const line = (name: string, r: PhaseResult) =>
      `  ${name.padEnd(38)} ${r.seconds.toFixed(2).padStart(7)} s ${Math.round(total / r.seconds).toLocaleString('en').padStart(10)} records/s  peak RSS ${r.peakRssMb.toFixed(0).padStart(5)} MiB${r.hwmMb ? ` (high-water ${r.hwmMb.toFixed(0)} MiB)` : ''}  ${r.rows.toLocaleString('en')} rows; ${r.detail}`;
    // A/B/A/B: the floor and the full build alternate, so a busy moment does not favour one side.
    const floors: PhaseResult[] = [];
    const fulls: PhaseResult[] = [];
    for (let i = 0; i < repeat; i++) {
      floors.push(await runChild('floor', lake));
      log(line(`same-layout floor (run ${i + 1})`, floors[i]));
      fulls.push(await runChild('full', lake));
      log(line(`buildTables plays, full (run ${i + 1})`, fulls[i]));
    }
    const floor = median(floors.map((r) => r.seconds));
    const full = median(fulls.map((r) => r.seconds));
    const reruns: PhaseResult[] = [];
    for (let i = 0; i < repeat; i++) reruns.push(await runChild('rerun', lake));
    log(line('rerun on unchanged raw', reruns[reruns.length - 1]));
    // +1%: each repetition starts from a full build of the first two runs, then adds one run
    // (after a full build), then another (after an incremental build, which left its spare).
    const afterFull: PhaseResult[] = [];
    const increments: PhaseResult[] = [];
    for (let i = 0; i < repeat; i++) {
      if (i > 0) await runChild('full', lake);
      afterFull.push(await runChild('incremental', lake));
      increments.push(await runChild('incremental2', lake));
    }
    log(line(`+1% right after a full build`, afterFull[afterFull.length - 1]));
    log(line(`+${increment[1].records.toLocaleString('en')} new records (1%)`, increments[increments.length - 1]));
    const peak = Math.max(...fulls.map((r) => r.hwmMb ?? r.peakRssMb));
    const floorPeak = Math.max(...floors.map((r) => r.hwmMb ?? r.peakRssMb));
    log(`  medians of ${repeat}: full build ${full.toFixed(2)} s, floor ${floor.toFixed(2)} s; peak RSS ${peak.toFixed(0)} MiB (floor ${floorPeak.toFixed(0)} MiB); load average ${load()}`);
    log(`transform / same-layout floor: ${(full / floor).toFixed(2)}x (target <= 1.5x)`);
    log(`rerun unchanged / full build: ${(median(reruns.map((r) => r.seconds)) / full).toFixed(3)}x (target < 0.05x)`);
    log(`+1% new raw / full build: ${(median(increments.map((r) => r.seconds)) / full).toFixed(3)}x (target < 0.15x; a scheduled run after an incremental build)`);
    log(`  (+1% right after a full build, with no spare build to reuse: ${(median(afterFull.map((r) => r.seconds)) / full).toFixed(3)}x)`);
    log(`transform peak RSS at ${total.toLocaleString('en')} records: ${peak.toFixed(0)} MiB (target < 1,536 MiB at 10,000,000)`);
    if (opts.spark) {
      const spark = await phaseSpark(lake, files);
      const rate = (s: number) => Math.round(total / s).toLocaleString('en').padStart(10);
      log(
        `  ${'Spark engine plays (local[*])'.padEnd(38)} ${spark.seconds.toFixed(2).padStart(7)} s ${rate(spark.seconds)} records/s  (${rate(spark.tableSeconds).trim()} records/s without start-up)  ${spark.rows.toLocaleString('en')} rows; ${spark.detail}`,
      );
      log(`  Spark / DuckDB full build time: ${(spark.seconds / full).toFixed(2)}x (${spark.source})`);
    }
  } finally {
    await rm(lake, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--child') {
  await child(process.argv[3], process.argv[4], process.argv[5]);
}
