/**
 * Benchmark: import a generated Spotify data export of about 300 MiB (BENCH_HISTORY_BYTES) through
 * the engine into a temp lake (raw zone; tables too with BENCH_HISTORY_TABLES=1). The export is
 * generated in a temp folder, streamed to disk. Prints records/s and RSS at 25/50/75/100% of the
 * import and its peak (sampled every 50 ms): memory must stay flat as the export grows.
 *
 * The floor, measured in the same run on the same files: read and JSON.parse every history file,
 * nothing else, in a plain `node` process (its peak RSS from the kernel). The line
 * `history import / JSON.parse floor: 3.4x` is the import's time over the floor's.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { promisify } from 'node:util';
import { join } from 'node:path';
import history from '../../connectors/spotify-history/index.ts';
import { generateExport } from '../../connectors/spotify-history/sandbox/index.ts';
import { preparePipeline } from '../../core/pipeline.ts';
import { runPipeline } from '../../core/engine/run.ts';
import { LocalStorage } from '../../core/storage/local.ts';
import { createLogger } from '../../core/log.ts';
import type { ConnectorPlugin } from '../../core/plugin-api.ts';

const PIPELINE = join(import.meta.dirname, '..', '..', 'connectors', 'spotify-history', 'pipeline.yaml');
const MB = 1024 * 1024;

export interface HistoryBenchResult {
  name: 'history-import';
  exportBytes: number;
  records: number;
  seconds: number;
  recordsPerSecond: number;
  /** RSS (MB) when 25/50/75/100% of the records were imported. */
  rssAt: Record<'25%' | '50%' | '75%' | '100%', number>;
  /** Peak RSS (MB) within each quarter of the import. */
  peakPerQuarter: number[];
  peakRssMb: number;
  /** No later quarter peaks above the first quarter's peak by more than 15% + 64 MB. */
  flat: boolean;
  /** Read + JSON.parse of the same history files in a plain node process. */
  floor: FloorResult;
  /** seconds / floor.seconds */
  ratio: number;
}

export interface FloorResult {
  records: number;
  seconds: number;
  recordsPerSecond: number;
  peakRssMb: number;
}

/** The floor's process: every file read whole and parsed, the elements counted. */
const FLOOR_SCRIPT = `
const { readFileSync } = require('node:fs');
const files = JSON.parse(process.argv[1]);
const t0 = performance.now();
let records = 0;
for (const f of files) records += JSON.parse(readFileSync(f, 'utf8')).length;
const seconds = (performance.now() - t0) / 1000;
process.stdout.write(JSON.stringify({ records, seconds, peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024) }));
`;

async function floor(files: string[]): Promise<FloorResult> {
  const { stdout } = await promisify(execFile)(process.execPath, ['-e', FLOOR_SCRIPT, JSON.stringify(files)], { maxBuffer: 1 << 20 });
  const r = JSON.parse(stdout) as Omit<FloorResult, 'recordsPerSecond'>;
  return { ...r, recordsPerSecond: Math.round(r.records / r.seconds) };
}

const load = () => loadavg().map((l) => l.toFixed(2)).join(', ');

const rssMb = () => Math.round(process.memoryUsage().rss / MB);

export async function benchHistory(opts: { bytes?: number; tables?: boolean; log?: (line: string) => void } = {}): Promise<HistoryBenchResult> {
  const log = opts.log ?? ((l: string) => process.stdout.write(l + '\n'));
  const target = opts.bytes ?? Number(process.env.BENCH_HISTORY_BYTES ?? 300 * MB);
  const tables = opts.tables ?? process.env.BENCH_HISTORY_TABLES === '1';
  const dir = await mkdtemp(join(tmpdir(), 'bench-history-'));
  let peak = rssMb();
  // Peak RSS per quarter of the import (index 0..3); -1 while generating.
  let quarter = -1;
  const quarters = [0, 0, 0, 0];
  const sample = () => {
    const now = rssMb();
    peak = Math.max(peak, now);
    if (quarter >= 0) quarters[quarter] = Math.max(quarters[quarter], now);
    return now;
  };
  const sampler = setInterval(sample, 50);
  try {
    log(`history import benchmark: generating an export of ${(target / MB).toFixed(0)} MB in ${dir} (load average ${load()}) ...`);
    const g0 = Date.now();
    let shown = 0;
    const exp = await generateExport(join(dir, 'export'), {
      targetBytes: target,
      playsPerFile: 15_000, // Spotify splits the extended history into files of about 12 MB
      legacyExport: false,
      accountData: false,
      collect: false,
      onProgress: (b) => {
        if (b - shown >= 256 * MB) log(`  generated ${((shown = b) / MB).toFixed(0)} MB (RSS ${rssMb()} MB)`);
      },
    });
    const gs = (Date.now() - g0) / 1000;
    log(`  generated ${(exp.bytes / MB).toFixed(0)} MB, ${exp.plays.toLocaleString('en')} plays in ${exp.files.length} files, ${gs.toFixed(1)} s (${(exp.bytes / MB / gs).toFixed(0)} MB/s)`);

    const historyFiles = exp.files.filter((f) => /\.json$/i.test(f)).map((f) => join(exp.path, f));
    const fl = await floor(historyFiles);
    log(
      `  JSON.parse floor (read + JSON.parse of the ${historyFiles.length} history files, nothing else): ${fl.records.toLocaleString('en')} records in ${fl.seconds.toFixed(2)} s: ` +
        `${fl.recordsPerSecond.toLocaleString('en')} records/s; peak RSS ${fl.peakRssMb} MB`,
    );

    const prep = await preparePipeline(PIPELINE);
    const marks = [0.25, 0.5, 0.75, 1].map((f) => Math.max(1, Math.floor(exp.plays * f)));
    const labels = ['25%', '50%', '75%', '100%'] as const;
    const rssAt = {} as HistoryBenchResult['rssAt'];
    let n = 0;
    quarter = 0;
    // The import's own peak, not the generator's.
    peak = rssMb();
    const t0 = Date.now();
    // The real plugin, counted as the engine pulls its records.
    const counted: ConnectorPlugin = {
      ...(history as unknown as ConnectorPlugin),
      async *read(stream, ctx) {
        for await (const r of (history as unknown as ConnectorPlugin).read(stream, ctx)) {
          n++;
          const i = marks.indexOf(n);
          if (i >= 0) {
            const now = sample();
            rssAt[labels[i]] = now;
            quarter = Math.min(3, i + 1);
            log(`  ${labels[i].padStart(4)}: ${n.toLocaleString('en')} records, ${Math.round(n / ((Date.now() - t0) / 1000)).toLocaleString('en')} records/s, RSS ${now} MB (peak ${peak} MB)`);
          }
          yield r;
        }
      },
    };
    const lake = join(dir, 'lake');
    const summary = await runPipeline({
      pipeline: prep.loaded,
      plugin: counted,
      connectorConfig: { path: exp.path },
      storage: new LocalStorage(lake),
      lakeDir: tables ? lake : undefined,
      logger: createLogger({ level: 'warn' }),
    });
    if (!summary.ok) throw new Error(`import failed: ${summary.error}`);
    const seconds = (Date.now() - t0) / 1000;
    const s = summary.streams[0];
    for (const l of labels) rssAt[l] ??= rssMb();
    const flat = Math.max(...quarters.slice(1)) <= quarters[0] * 1.15 + 64;
    const result: HistoryBenchResult = {
      name: 'history-import',
      exportBytes: exp.bytes,
      records: s.records,
      seconds,
      recordsPerSecond: Math.round(s.records / seconds),
      rssAt,
      peakPerQuarter: quarters,
      peakRssMb: peak,
      flat,
      floor: fl,
      ratio: seconds / fl.seconds,
    };
    log(
      `  imported ${s.records.toLocaleString('en')} records (${(exp.bytes / MB).toFixed(0)} MB of JSON -> ${(s.bytes / MB).toFixed(0)} MB raw gzip in ${s.files} parts${tables ? ` + ${summary.tables.map((t) => `${t.table} ${t.rows} rows`).join(', ')}` : ''}) in ${seconds.toFixed(1)} s: ` +
        `${result.recordsPerSecond.toLocaleString('en')} records/s, ${(exp.bytes / MB / seconds).toFixed(1)} MB/s; peak RSS ${peak} MB; memory ${flat ? 'flat' : 'NOT flat'} (peak RSS per quarter: ${quarters.join(' / ')} MB)`,
    );
    log(`history import / JSON.parse floor: ${result.ratio.toFixed(1)}x`);
    log(
      `  import ${seconds.toFixed(2)} s, ${result.recordsPerSecond.toLocaleString('en')} records/s, peak RSS ${peak} MB (in this process, the project loaded); ` +
        `floor ${fl.seconds.toFixed(2)} s, ${fl.recordsPerSecond.toLocaleString('en')} records/s, peak RSS ${fl.peakRssMb} MB (a plain node process); load average ${load()}`,
    );
    return result;
  } finally {
    clearInterval(sampler);
    await rm(dir, { recursive: true, force: true });
  }
}
