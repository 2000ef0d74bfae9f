/**
 * The weekly playlist refresh in AWS (issue 17): the extractor Lambda, invoked by its own
 * schedule with `{ "action": "write-playlist" }`, reads the recommendations the Glue job built
 * (the catalog table `recommendations`, through Athena in the stack's workgroup) and hands their
 * track ids, best first, to the connector's playlist writer, as `recs --write-playlist` does
 * locally: the user's playlist `recommendations.playlist.name` is created or its items replaced;
 * a week with the same recommendations sends no write request. It writes nothing else: not the
 * lake, only the refresh token when Spotify rotates it (as every run may).
 *
 * Environment (besides the extractor's): ATHENA_WORKGROUP, ATHENA_DATABASE (set by the deployment
 * when the pipeline declares recommendations.playlist).
 */
import type { AthenaClient } from '@aws-sdk/client-athena';
import type { LoadedPipeline } from '../config/types.ts';
import { UserError } from '../errors.ts';
import { HttpClient } from '../http.ts';
import type { ConnectorPlugin, JsonRecord, Logger, PlaylistWriteResult } from '../plugin-api.ts';
import { athenaSource } from '../report/athena.ts';
import { RECS_TABLE } from '../recs/table.ts';
import { WRITE_PLAYLIST_ACTION } from './events.ts';

export { WRITE_PLAYLIST_ACTION } from './events.ts';

export interface PlaylistRefreshResult {
  pipeline: string;
  action: typeof WRITE_PLAYLIST_ACTION;
  playlist: string;
  /** Why nothing was written (no recommendations yet). */
  skipped?: string;
  playlistId?: string | null;
  created?: boolean;
  changed?: boolean;
  tracks: number;
  added?: number;
  removed?: number;
  moved?: number;
  /** Write requests sent (0 when the playlist already held the recommendations in order). */
  writeRequests?: number;
  snapshotId?: string | null;
  seconds: number;
}

/** The recommended track ids in rank order, from the catalog's table. */
export async function recommendedTrackIds(o: { athena: AthenaClient; workgroup: string; database: string; timeoutMs: number }): Promise<string[]> {
  const source = athenaSource({ client: o.athena, workgroup: o.workgroup, database: o.database, queryTimeoutMs: o.timeoutMs });
  const { rows } = await source.query(`SELECT track_id FROM ${RECS_TABLE} WHERE track_id IS NOT NULL ORDER BY rank`);
  return rows.map((r) => String(r.track_id));
}

export async function refreshPlaylist(o: {
  loaded: LoadedPipeline;
  plugin: ConnectorPlugin;
  connectorConfig: JsonRecord;
  env: Record<string, string | undefined>;
  athena: AthenaClient;
  logger: Logger;
  signal: AbortSignal;
  timeoutMs: number;
  updateSecret?: (key: string, value: string) => Promise<void>;
}): Promise<PlaylistRefreshResult> {
  const t0 = Date.now();
  const { config } = o.loaded;
  const target = config.recommendations?.playlist;
  if (!target) throw new UserError(`pipeline ${config.name} declares no recommendations.playlist, so there is no playlist to refresh`, 'add recommendations.playlist.name to pipeline.yaml and deploy again');
  const writer = o.plugin.playlistWriter;
  if (!writer) throw new UserError(`connector "${o.plugin.name}" cannot write playlists, so the recommendations cannot be written back`);
  const missing = ['ATHENA_WORKGROUP', 'ATHENA_DATABASE'].filter((k) => !o.env[k]);
  if (missing.length) throw new Error(`the playlist refresh needs ${missing.join(', ')} in the function's environment (set by the deployment)`);
  const trackIds = await recommendedTrackIds({ athena: o.athena, workgroup: o.env.ATHENA_WORKGROUP!, database: o.env.ATHENA_DATABASE!, timeoutMs: o.timeoutMs });
  const base = { pipeline: config.name, action: WRITE_PLAYLIST_ACTION, playlist: target.name } as const;
  if (trackIds.length === 0) {
    const skipped = `no recommendations in the table ${RECS_TABLE} yet (the Glue job builds them after a run)`;
    o.logger.warn(`playlist "${target.name}" left as it is: ${skipped}`);
    return { ...base, skipped, tracks: 0, seconds: (Date.now() - t0) / 1000 };
  }
  const http = new HttpClient({ ...(o.plugin.httpOptions?.(o.connectorConfig) ?? { baseURL: '' }), logger: o.logger, signal: o.signal });
  const r: PlaylistWriteResult = await writer.write(
    { name: target.name, description: target.description, trackIds },
    { config: o.connectorConfig, http, logger: o.logger, signal: o.signal, ...(o.updateSecret ? { updateSecret: o.updateSecret } : {}) },
  );
  return {
    ...base,
    playlistId: r.playlistId,
    created: r.created,
    changed: r.changed,
    tracks: new Set(trackIds).size,
    added: r.diff.added.length,
    removed: r.diff.removed.length,
    moved: r.diff.moved.length,
    writeRequests: r.requests.length,
    snapshotId: r.snapshotId,
    seconds: (Date.now() - t0) / 1000,
  };
}
