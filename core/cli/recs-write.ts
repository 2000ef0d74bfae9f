/**
 * The recommendations write-back (issue 17, `recs --write-playlist NAME [--dry-run]`): hand the
 * ranked track ids to the connector's playlist writer, with the connector config `run` would use
 * (the sandbox's, or the pipeline's credentials), and say what changed: the diff for a dry run,
 * one summary line otherwise. The command itself is registered by the integrator; this module only
 * exports the function.
 */
import { UserError } from '../errors.ts';
import { HttpClient } from '../http.ts';
import { createLogger, redact } from '../log.ts';
import type { PlaylistDiff, PlaylistWriteResult } from '../plugin-api.ts';
import { connectorConfig, type Prepared } from '../pipeline.ts';
import { localSecretUpdater } from '../auth/store.ts';
import { terminalSafe } from '../terminal.ts';
import { stdio, type CommandIO } from './login.ts';

export interface WritePlaylistOptions {
  /** The playlist's name (`--write-playlist NAME`; usually `recommendations.playlist.name`). */
  name: string;
  /** The recommendations' track ids, best first. */
  trackIds: string[];
  /** Print the diff; send no write. */
  dryRun?: boolean;
  /** Write to the connector's offline sandbox instead of the account (a demo: the sandbox lives for this call only). */
  sandbox?: boolean;
  seed?: number;
  /** Default: `recommendations.playlist.description` when `name` is that playlist's. */
  description?: string;
  verbose?: boolean;
  env?: Record<string, string | undefined>;
  signal?: AbortSignal;
  io?: CommandIO;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** The diff as lines: `+ id` added (with its rank), `- id` removed, `~ id` moved. */
export function diffLines(diff: PlaylistDiff, trackIds: string[]): string[] {
  const rank = new Map<string, number>();
  trackIds.forEach((id, i) => { if (!rank.has(id)) rank.set(id, i + 1); });
  return [
    ...diff.added.map((id) => `  + ${id} (rank ${rank.get(id) ?? '?'})`),
    ...diff.removed.map((id) => `  - ${id ?? '(an unavailable item)'}`),
    ...diff.moved.map((id) => `  ~ ${id} (moves to rank ${rank.get(id) ?? '?'})`),
  ];
}

function counts(diff: PlaylistDiff): string {
  return `${diff.added.length} to add, ${diff.removed.length} to remove, ${diff.moved.length} to move`;
}

/** One line saying what a write did. */
export function summaryLine(name: string, r: PlaylistWriteResult, tracks: number): string {
  const where = `playlist "${name}" (${r.playlistId})`;
  const reqs = plural(r.requests.length, 'write request');
  if (r.created) return `Created the private ${where} with ${plural(tracks, 'track')} (${reqs}).`;
  if (!r.changed) return `The ${where} already holds the ${plural(tracks, 'recommended track')} in order: nothing to write; snapshot ${r.snapshotId} kept.`;
  const d = r.diff;
  return `Updated the ${where}: ${d.added.length} added, ${d.removed.length} removed, ${d.moved.length} moved; now ${plural(tracks, 'track')} (${reqs}, snapshot ${r.snapshotId}).`;
}

/**
 * Writes the recommendations to the user's playlist `name` through the connector's
 * `playlistWriter`. Returns what the writer did (or, with `dryRun`, would do).
 */
export async function writeRecommendationsPlaylist(prep: Prepared, opts: WritePlaylistOptions): Promise<PlaylistWriteResult> {
  const raw = opts.io ?? stdio;
  // Names come from config and the API: shown terminal-safe, and never a registered secret.
  const io: CommandIO = { out: (s) => raw.out(terminalSafe(redact(s))), err: (s) => raw.err(terminalSafe(redact(s))) };
  const out = (s: string) => io.out(s);
  const { plugin, loaded } = prep;
  const writer = plugin.playlistWriter;
  if (!writer) throw new UserError(`connector "${plugin.name}" cannot write playlists, so the recommendations cannot be written back`);
  const configured = loaded.config.recommendations?.playlist;
  const description = opts.description ?? (configured?.name === opts.name ? configured.description : undefined);
  const choice = await connectorConfig(prep, { sandbox: opts.sandbox ? 'always' : 'never', seed: opts.seed, env: opts.env });
  if (choice.reason) io.err(choice.reason);
  else if (!configured) {
    // The scope is asked for only when the pipeline opts in (login reads this key).
    io.err(`note: ${loaded.file} has no recommendations.playlist, so \`login\` does not ask for the write scope; add recommendations.playlist.name and log in again if Spotify refuses the write`);
  }
  const logger = createLogger({ level: opts.verbose ? 'debug' : 'info', sink: (_level, line) => io.err(line) });
  const signal = opts.signal ?? new AbortController().signal;
  const http = new HttpClient({ ...(plugin.httpOptions?.(choice.config) ?? { baseURL: '' }), logger, signal });
  let result: PlaylistWriteResult;
  try {
    result = await writer.write(
      { name: opts.name, description, trackIds: opts.trackIds, dryRun: opts.dryRun },
      // Never in the sandbox: its demo token must not overwrite the user's secrets file.
      { config: choice.config, http, logger, signal, ...(choice.sandbox ? {} : { updateSecret: localSecretUpdater(loaded, logger) }) },
    );
  } finally {
    await choice.sandbox?.close();
  }
  const tracks = new Set(opts.trackIds).size;
  if (opts.dryRun) {
    const where = result.playlistId ? `playlist "${opts.name}" (${result.playlistId})` : `playlist "${opts.name}" (none of the user's: it would be created, private)`;
    out(`Dry run, nothing written: ${where}: ${result.changed ? counts(result.diff) : 'already holds the recommendations in order, no change'}.`);
    for (const line of diffLines(result.diff, opts.trackIds)) out(line);
    return result;
  }
  out(summaryLine(opts.name, result, tracks));
  return result;
}
