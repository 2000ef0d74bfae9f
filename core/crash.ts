/**
 * A test hook, not a feature: deterministic crash points in the write path, so a test can kill the
 * real CLI at every durable step of `run` and `transform` and check what a crash leaves behind
 * (test/integrity/crash.test.ts).
 *
 * Every write step of the storage and publish layers calls `crashPoint(kind)` once it has done the
 * step (and in the middle of a two-part step, e.g. a temp file written but not yet renamed). The
 * calls are counted in order. With `SPOTIFY_PIPELINE_CRASH_AT=<n>` the n-th call kills the process
 * with SIGKILL (no cleanup, no finally blocks, as a power cut or `kill -9` would); with
 * `SPOTIFY_PIPELINE_CRASH_LOG=<file>` each call appends `<n> <kind>` to that file, so a dry run
 * lists the points a command passes. Neither variable set (always, outside tests): a counter bump.
 */
import { appendFileSync } from 'node:fs';

let count = 0;
const at = Number(process.env.SPOTIFY_PIPELINE_CRASH_AT ?? 0);
const log = process.env.SPOTIFY_PIPELINE_CRASH_LOG;

export function crashPoint(kind: string): void {
  count++;
  if (log) appendFileSync(log, `${count} ${kind}\n`);
  if (at > 0 && count === at) process.kill(process.pid, 'SIGKILL');
}
