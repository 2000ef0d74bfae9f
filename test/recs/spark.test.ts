/**
 * The model's one SQL text (core/recs/model.ts) on local pyspark (Spark 3.5, as Glue 5) over the
 * same plays as DuckDB: the same top-k, in the same order, with the same reasons and sources, and
 * scores equal to 6 decimals. Spark reads the plays from the same NDJSON; only `t` (seconds since
 * 1970) is spelt its own way (unix_micros / 1e6).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tasteHistory } from '../../connectors/spotify-history/sandbox/tastes.ts';
import { modelSql, recommend } from '../../core/recs/index.ts';
import { recsSettings } from '../../core/recs/settings.ts';
import { pythonEnv } from '../support/python.ts';
import { loadPlays } from './load.ts';

const DRIVER = `
import json, sys
from pyspark.sql import SparkSession
plays_file, sql_file, out_file = sys.argv[1:4]
spark = (SparkSession.builder.master('local[2]').appName('recs-test')
         .config('spark.sql.session.timeZone', 'UTC').config('spark.ui.enabled', 'false')
         .config('spark.sql.shuffle.partitions', '4').getOrCreate())
spark.read.schema('ts STRING, track_id STRING, track_name STRING, artist_name STRING, ms_played BIGINT, skipped BOOLEAN').json(plays_file) \\
  .createOrReplaceTempView('raw_plays')
spark.sql("""SELECT track_id, track_name, artist_name, CAST(ts AS TIMESTAMP) AS played_at,
  unix_micros(CAST(ts AS TIMESTAMP)) / 1000000.0 AS t, ms_played, skipped FROM raw_plays""").createOrReplaceTempView('rec_plays')
spark.sql("SELECT CAST(NULL AS STRING) AS playlist_id, CAST(NULL AS INT) AS position, CAST(NULL AS STRING) AS track_id, CAST(NULL AS STRING) AS track_name, CAST(NULL AS STRING) AS artist_name WHERE false").createOrReplaceTempView('rec_playlist_tracks')
spark.sql("SELECT CAST(NULL AS STRING) AS track_id WHERE false").createOrReplaceTempView('rec_target')
rows = [r.asDict() for r in spark.sql(open(sql_file).read()).collect()]
json.dump(rows, open(out_file, 'w'), default=str)
spark.stop()
`;

function run(cmd: string, args: string[], env: Record<string, string | undefined>): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`pyspark exited ${code}: ${err}`))));
  });
}

describe('the model on Spark', () => {
  it('gives the same top-k as DuckDB from the same SQL', { timeout: 180_000 }, async () => {
    const history = tasteHistory({ plays: 6_000, seed: 11, tastes: 8, tracksPerTaste: 60, driftDays: 60, playsPerDay: 8, since: Date.UTC(2024, 0, 1) });
    // Rediscovery needs plays older than a year and co-occurrence recent ones: both are in 6,000 plays over ~2 years.
    const settings = recsSettings({ k: 25, sources: { rediscovery: { weight: 1, min_plays: 5 } } });
    const now = Date.parse(history.plays.at(-1)!.ts) / 1000 + 1;
    const db = await loadPlays(history.plays);
    let duck;
    try {
      duck = await recommend(db.conn, settings, { now });
    } finally {
      db.close();
    }
    expect(duck.length).toBe(25);
    expect(new Set(duck.map((r) => r.source))).toEqual(new Set(['co_occurrence', 'rediscovery']));

    const dir = await mkdtemp(join(tmpdir(), 'recs-spark-'));
    try {
      await writeFile(join(dir, 'plays.jsonl'), history.plays.map((p) => JSON.stringify(p)).join('\n') + '\n');
      await writeFile(join(dir, 'model.sql'), modelSql(settings, { now }));
      await writeFile(join(dir, 'driver.py'), DRIVER);
      const py = pythonEnv();
      await run(py.python, [join(dir, 'driver.py'), join(dir, 'plays.jsonl'), join(dir, 'model.sql'), join(dir, 'out.json')], py.sparkEnv());
      const spark = JSON.parse(await readFile(join(dir, 'out.json'), 'utf8')) as Array<Record<string, unknown>>;
      const shape = (rows: Array<Record<string, unknown>>) => rows.map((r) => ({ rank: Number(r.rank), track_id: r.track_id, reason: r.reason, source: r.source, score: Number(r.score).toFixed(6) }));
      expect(shape(spark)).toEqual(shape(duck as unknown as Array<Record<string, unknown>>));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
