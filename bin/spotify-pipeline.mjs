#!/usr/bin/env node
// The CLI runs as JavaScript built once at install (dist/cli.mjs, see scripts/build.mjs), so no
// command pays for compiling TypeScript. When a source is newer than the build (a developer's
// edit), it is rebuilt first, so the CLI never runs stale code.
import { DIST, ENTRY, buildCli, isStale } from '../scripts/build.mjs';
import { pathToFileURL } from 'node:url';

if (isStale()) {
  try {
    await buildCli();
  } catch (e) {
    process.stderr.write(`spotify-pipeline: cannot build ${DIST} (${e instanceof Error ? e.message.split('\n')[0] : String(e)}); run npm install\n`);
    process.exit(1);
  }
}
const { run } = await import(pathToFileURL(ENTRY).href);
process.exitCode = await run(process.argv);
