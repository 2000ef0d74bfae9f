/**
 * The CLI's start loads only what registering the commands needs: each command imports the engine
 * (DuckDB, the SQL parser, Vega, the HTTP client, the AWS SDK) when it runs. Checked on the built
 * CLI (dist/cli.mjs, what `spotify-pipeline` runs): the modules reachable from it by static imports
 * alone, followed through its chunks, contain none of those packages. (A command module that
 * imported core/pipeline.ts at the top once made `--version` take 0.45 s instead of 0.09 s.)
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const ENTRY = join(ROOT, 'dist', 'cli.mjs');

/** `import ... from "x"` / `import "x"` / `export ... from "x"` specifiers of a module (not `import()`). */
const STATIC_IMPORT = /^\s*(?:import|export)\s+(?:[^'";]*?\s+from\s+)?["']([^"']+)["']/gm;

/** The built files reached from `file` by static imports, and the packages they import by name. */
function staticClosure(file: string, out = { files: new Set<string>(), packages: new Set<string>() }) {
  if (out.files.has(file)) return out;
  out.files.add(file);
  const text = readFileSync(file, 'utf8');
  // Packages esbuild bundled into a chunk keep their path in a comment.
  for (const m of text.matchAll(/^\/\/ node_modules\/((?:@[^/]+\/)?[^/\s]+)/gm)) out.packages.add(m[1]);
  for (const m of text.matchAll(STATIC_IMPORT)) {
    if (m[1].startsWith('.')) staticClosure(join(dirname(file), m[1]), out);
    else if (!m[1].startsWith('node:')) out.packages.add(m[1].startsWith('@') ? m[1].split('/').slice(0, 2).join('/') : m[1].split('/')[0]);
  }
  return out;
}

describe('CLI start', () => {
  it('statically loads no engine package: they load with the command that runs', () => {
    const { files, packages } = staticClosure(ENTRY);
    expect(files.size).toBeGreaterThan(1);
    // What registering commands and parsing arguments needs; nothing else.
    expect([...packages].sort()).toEqual(['commander']);
  });
});
