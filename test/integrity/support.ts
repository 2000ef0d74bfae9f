/**
 * Lakes for the integrity, lock and crash tests: a small pipeline of the Spotify connector run by
 * the real CLI (dist/cli.mjs, spawned as a user runs it) against its offline sandbox, and what the
 * tests read back (committed manifests, table rows through the query views).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPipeline } from '../../core/config/index.ts';
import { openLake } from '../../core/query/index.ts';

const ROOT = join(import.meta.dirname, '..', '..');
export const CLI = join(ROOT, 'bin', 'spotify-pipeline.mjs');
/** The time the sandbox's data is relative to (connectors/spotify/sandbox/README.md). */
export const SANDBOX_NOW = '2026-11-24T12:00:00.000Z';

const CONNECTOR = `connector:
  use: spotify
  config:
    api_mode: development
    client_id: \${env:SPOTIFY_CLIENT_ID}
    client_secret: \${secret:spotify/client_secret}
    refresh_token: \${secret:spotify/refresh_token}
`;

/**
 * The pipeline: recently_played -> plays (partitioned by day) and artists (ids_from the plays); with
 * `playlists`, also my_playlists -> playlist_items -> playlist_tracks. `artistIds` adds `ids:`;
 * `quarantine` makes plays without a context go to quarantine (the sandbox has some);
 * `artistsTable: false` leaves the artists stream without a table.
 */
export function pipelineYaml(opts: { playlists?: boolean; artistIds?: string[]; quarantine?: boolean; artistsTable?: boolean } = {}): string {
  const p = opts.playlists;
  return `version: 1
name: integrity-lake
${CONNECTOR}storage:
  local: lake
streams:
  recently_played:
    endpoint: me/player/recently-played
    incremental: cursor
${p ? `  my_playlists:
    endpoint: me/playlists
  playlist_items:
    endpoint: playlists/{id}/items
    for_each: my_playlists.id
    skip_unchanged: snapshot_id
` : ''}  artists:
    endpoint: artists
${opts.artistIds ? `    ids: ${JSON.stringify(opts.artistIds)}\n` : ''}    ids_from: [recently_played.track.artists.id${p ? ', playlist_items.item.artists.id' : ''}]
tables:
  plays:
    from: recently_played
    columns:
      played_at: { path: played_at, type: timestamp, required: true }
      track_id:  { path: track.id, type: string, required: true }
      artist_id: { path: "track.artists[0].id", type: string }
${opts.quarantine ? '      context_type: { path: context.type, type: string, required: true }\n' : ''}    dedupe: [played_at, track_id]
    partition_by:
      - { name: dt, from: played_at, as: date }
${opts.artistsTable === false ? '' : `  artists:
    from: artists
    columns:
      artist_id: { path: id, type: string, required: true }
      name:      { path: name, type: string }
    dedupe: [artist_id]
`}${p ? `  playlist_tracks:
    from: playlist_items
    columns:
      playlist_id: { path: playlist_id, type: string, required: true }
      position:    { path: position, type: int, required: true }
      track_id:    { path: item.id, type: string }
    latest_per: [playlist_id]
    dedupe: [playlist_id, position]
` : ''}queries: {}
`;
}

export interface Workdir {
  dir: string;
  /** The pipeline file. */
  file: string;
  /** Its lake (storage.local: lake). */
  lake: string;
  cleanup(): Promise<void>;
}

export async function workdir(yaml: string): Promise<Workdir> {
  const dir = await mkdtemp(join(tmpdir(), 'integrity-'));
  const file = join(dir, 'pipeline.yaml');
  await writeFile(file, yaml);
  return { dir, file, lake: join(dir, 'lake'), cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The built CLI in a child process (no credentials: `--sandbox` runs need none). */
export function cli(args: string[], opts: { cwd: string; env?: Record<string, string> }): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    // The sandbox's data at a fixed time: every run of a test serves the same plays.
    const env: NodeJS.ProcessEnv = { ...process.env, SPOTIFY_SANDBOX_NOW: SANDBOX_NOW, ...opts.env };
    for (const k of ['SPOTIFY_PIPELINE_CRASH_AT', 'SPOTIFY_PIPELINE_CRASH_LOG']) if (!opts.env?.[k]) delete env[k];
    const child = spawn(process.execPath, [CLI, ...args], { cwd: opts.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Every table's rows as sorted strings, read through the query views (what `query` sees). */
export async function tableRows(w: Workdir): Promise<Record<string, string[]>> {
  const tables = loadPipeline(w.file).config.tables;
  const db = await openLake(w.lake, tables);
  try {
    const out: Record<string, string[]> = {};
    for (const t of Object.keys(tables)) out[t] = (await db.query(`SELECT * FROM ${t}`)).rows.map((r) => JSON.stringify(r)).sort();
    return out;
  } finally {
    db.close();
  }
}
