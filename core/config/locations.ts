/**
 * Where a pipeline's local files are: its untracked secrets file and its lake folder. Both are
 * relative to the pipeline file's folder (not the working directory), so `-c other/pipeline.yaml`
 * finds the same files as running from `other/`.
 */
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { LoadedPipeline } from './types.ts';
import { DEFAULT_SECRETS_FILE } from './settings.ts';
import { resolveRefs } from './refs.ts';

/** The local secrets file: SPOTIFY_PIPELINE_SECRETS_FILE, else `secrets.file`, else `.secrets.json`. */
export function secretsFile(loaded: Pick<LoadedPipeline, 'config' | 'file'>, env: Record<string, string | undefined> = process.env): string {
  const f = env.SPOTIFY_PIPELINE_SECRETS_FILE || loaded.config.secrets?.file || DEFAULT_SECRETS_FILE;
  return isAbsolute(f) ? f : join(dirname(resolve(loaded.file)), f);
}

/**
 * The local lake folder: `override` (--lake), else `storage.local`, else `.lake`. `${env:NAME}`
 * in `storage.local` is resolved (an unset variable is an error at its line); `${secret:...}`
 * there is refused by validation (semantic.ts), as a folder name is printed in every summary.
 */
export function lakeDir(loaded: LoadedPipeline, override?: string, env: Record<string, string | undefined> = process.env): string {
  const local = loaded.config.storage?.local;
  const dir = override ?? (typeof local === 'string' ? resolveRefs(local, loaded, 'storage.local', { env, secrets: () => undefined }) : '.lake');
  return isAbsolute(dir) ? dir : join(dirname(resolve(loaded.file)), dir);
}
