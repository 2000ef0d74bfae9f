/**
 * The recommendations on Spark as the Glue job builds them: the spec `transform --spark-specs`
 * writes (derived/recommendations.json, core/recs/jobspec.ts) run by the job's own entry
 * (glue-jobs/transform_job.py main, on local pyspark 3.5 as Glue 5) over a curated
 * listening_history table, against `recs` on DuckDB (buildRecommendations) over the same table:
 * the same top-k in the same order, with the same reasons and sources, scores equal to 6 decimals,
 * and the same column types in the Parquet file each writes.
 */
import { spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tasteHistory } from '../../connectors/spotify-history/sandbox/tastes.ts';
import { lakeTables, preparePipeline } from '../../core/pipeline.ts';
import { openDuckdb } from '../../core/query/sandbox.ts';
import { buildRecommendations } from '../../core/recs/index.ts';
import { recsJobSpec } from '../../core/recs/jobspec.ts';
import { recsSettings } from '../../core/recs/settings.ts';
import { planTable, storedColumnPlans } from '../../core/transform/plan.ts';
import { COLUMN_TYPE_INFO } from '../../core/transform/types.ts';
import { pythonEnv } from '../support/python.ts';

const ROOT = join(import.meta.dirname, '..', '..');

const DRIVER = `
import sys
sys.path.insert(0, sys.argv[1])
from pyspark.sql import SparkSession
import transform_job
spark = (SparkSession.builder.master('local[2]').appName('recs-test')
         .config('spark.ui.enabled', 'false').config('spark.sql.shuffle.partitions', '4').getOrCreate())
transform_job.main(['transform_job.py'] + sys.argv[2:], spark=spark)
spark.stop()
`;

function run(cmd: string, args: string[], env: Record<string, string | undefined>): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
    p.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`pyspark exited ${code}: ${err}`))));
  });
}

const dir = await mkdtemp(join(tmpdir(), 'recs-spark-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('the recommendations on Spark (the Glue job)', () => {
  it('gives the same table as `recs` on DuckDB from the same spec', { timeout: 180_000 }, async () => {
    const history = tasteHistory({ plays: 6_000, seed: 11, tastes: 8, tracksPerTaste: 60, driftDays: 60, playsPerDay: 8, since: Date.UTC(2024, 0, 1) });
    const prep = await preparePipeline(join(ROOT, 'pipeline.yaml'));
    const tables = { listening_history: lakeTables(prep).listening_history };
    // Rediscovery needs plays older than a year and co-occurrence recent ones: both are in 6,000 plays over ~2 years.
    const settings = recsSettings({ k: 25, sources: { rediscovery: { weight: 1, min_plays: 5 } } });

    // The curated listening_history as the engines write it: every stored column, Hive-partitioned by year.
    const duckLake = join(dir, 'duckdb');
    const sparkLake = join(dir, 'spark');
    const plan = planTable('listening_history', tables.listening_history);
    const given: Record<string, string> = {
      play_id: 'ts || track_id',
      played_at: 'CAST(ts AS TIMESTAMP)',
      ms_played: 'ms_played',
      kind: `'track'`,
      track_id: 'track_id',
      track_name: 'track_name',
      artist_name: 'artist_name',
      skipped: 'skipped',
    };
    const select = storedColumnPlans(plan)
      .map((c) => `CAST(${given[c.name] ?? 'NULL'} AS ${COLUMN_TYPE_INFO[c.type].duckdb}) AS ${c.name}`)
      .join(', ');
    const playsFile = join(dir, 'plays.jsonl');
    await writeFile(playsFile, history.plays.map((p) => JSON.stringify(p)).join('\n') + '\n');
    const db = await openDuckdb({ allow: [], unsafe: true, settings: ["SET TimeZone = 'UTC'"] });
    try {
      await mkdir(join(duckLake, 'curated'), { recursive: true });
      await db.conn.run(
        `COPY (SELECT ${select}, CAST(year(CAST(ts AS TIMESTAMP)) AS VARCHAR) AS year FROM read_json('${playsFile}', format = 'newline_delimited', columns = {ts: 'VARCHAR', track_id: 'VARCHAR', track_name: 'VARCHAR', artist_name: 'VARCHAR', ms_played: 'BIGINT', skipped: 'BOOLEAN'}))
         TO '${join(duckLake, 'curated', 'listening_history')}' (FORMAT parquet, PARTITION_BY (year))`,
      );
    } finally {
      db.close();
    }
    expect(plan.partitions.map((p) => p.name)).toEqual(['year']);
    await cp(join(duckLake, 'curated'), join(sparkLake, 'curated'), { recursive: true });

    const duck = await buildRecommendations({ lakeDir: duckLake, tables, settings });
    expect(duck.recommendations.length).toBe(25);
    expect(new Set(duck.recommendations.map((r) => r.source))).toEqual(new Set(['co_occurrence', 'rediscovery']));

    // The job with no table specs and the recommendations' derived spec: it builds only that.
    const specs = join(dir, 'specs');
    await mkdir(join(specs, 'derived'), { recursive: true });
    await writeFile(join(specs, 'derived', 'recommendations.json'), JSON.stringify(recsJobSpec(tables, settings)));
    await writeFile(join(dir, 'driver.py'), DRIVER);
    const py = pythonEnv();
    const uri = (d: string) => `file://${d}/`;
    const stdout = await run(py.bin('python'), [join(dir, 'driver.py'), join(ROOT, 'glue-jobs'), '--lake_root', uri(sparkLake), '--spec_prefix', uri(specs), '--output_root', uri(sparkLake)], py.sparkEnv());
    const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as { tables: Array<{ table: string; rows: number }> };
    expect(result.tables).toEqual([expect.objectContaining({ table: 'recommendations', rows: 25 })]);
    expect((await readdir(join(sparkLake, 'curated', 'recommendations'))).filter((f) => f.endsWith('.parquet'))).toHaveLength(1);

    const read = await openDuckdb({ allow: [], unsafe: true, settings: ["SET TimeZone = 'UTC'"] });
    try {
      const parquet = (lake: string) => `read_parquet('${join(lake, 'curated', 'recommendations', '**', '*.parquet')}')`;
      const types = async (lake: string) => (await read.conn.runAndReadAll(`DESCRIBE SELECT * FROM ${parquet(lake)}`)).getRowObjectsJS().map((r) => `${String(r.column_name)} ${String(r.column_type)}`);
      expect(await types(sparkLake)).toEqual(await types(duckLake));
      const rows = (await read.conn.runAndReadAll(`SELECT * FROM ${parquet(sparkLake)} ORDER BY rank`)).getRowObjectsJS();
      const shape = (r: Record<string, unknown>) => ({ rank: Number(r.rank), track_id: r.track_id, track_name: r.track_name, reason: r.reason, source: r.source, score: Number(r.score).toFixed(6) });
      expect(rows.map(shape)).toEqual(duck.recommendations.map((r) => shape(r as unknown as Record<string, unknown>)));
      // generated_at is the job's clock: a time, the same in every row.
      expect(new Set(rows.map((r) => String(r.generated_at))).size).toBe(1);
    } finally {
      read.close();
    }
  });
});
