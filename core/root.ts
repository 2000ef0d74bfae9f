/**
 * The project root: the folder of this package's package.json. Found by walking up from this
 * module, so it is right whether the code runs from source (core/), from the built CLI (dist/)
 * or from a test's temp copy, and independent of the working directory.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const PACKAGE_NAME = 'spotify-pipeline';

let cached: string | undefined;

export function projectRoot(): string {
  if (cached) return cached;
  for (let dir = import.meta.dirname; ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === PACKAGE_NAME) return (cached = dir);
      } catch {
        // an unreadable package.json is not ours: keep walking
      }
    }
    if (dirname(dir) === dir) throw new Error(`cannot find the ${PACKAGE_NAME} project root above ${import.meta.dirname}`);
  }
}
