/**
 * Generated listening (connectors/spotify-history/sandbox/tastes.ts) as the model's inputs in a
 * plain DuckDB: rec_plays from an NDJSON file of the plays, empty playlists and target playlist.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDuckdb, type Duckdb } from '../../core/query/sandbox.ts';
import { duckdbEpoch } from '../../core/recs/index.ts';
import type { TastePlay } from '../../connectors/spotify-history/sandbox/tastes.ts';

export async function loadPlays(plays: TastePlay[], playlists: Array<{ playlist_id: string; position: number; track_id: string }> = []): Promise<Duckdb> {
  const dir = await mkdtemp(join(tmpdir(), 'recs-'));
  const db = await openDuckdb({ allow: [], unsafe: true, settings: ["SET TimeZone = 'UTC'"] });
  try {
    const file = join(dir, 'plays.jsonl');
    await writeFile(file, plays.map((p) => JSON.stringify(p)).join('\n') + '\n');
    await db.conn.run(`CREATE TABLE rec_plays AS
      SELECT track_id, track_name, artist_name, CAST(ts AS TIMESTAMP) AS played_at, ${duckdbEpoch('CAST(ts AS TIMESTAMP)')} AS t, CAST(ms_played AS BIGINT) AS ms_played, CAST(skipped AS BOOLEAN) AS skipped
      FROM read_json('${file}', format = 'newline_delimited', columns = {ts: 'VARCHAR', track_id: 'VARCHAR', track_name: 'VARCHAR', artist_name: 'VARCHAR', ms_played: 'BIGINT', skipped: 'BOOLEAN'})`);
    await db.conn.run(`CREATE TABLE rec_playlist_tracks (playlist_id VARCHAR, position INTEGER, track_id VARCHAR, track_name VARCHAR, artist_name VARCHAR)`);
    for (const p of playlists) await db.conn.run(`INSERT INTO rec_playlist_tracks VALUES ('${p.playlist_id}', ${p.position}, '${p.track_id}', NULL, NULL)`);
    await db.conn.run(`CREATE TABLE rec_target (track_id VARCHAR)`);
  } catch (e) {
    db.close();
    throw e;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return db;
}
