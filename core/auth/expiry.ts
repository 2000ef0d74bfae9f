/**
 * Authorizations expire (Spotify: refresh tokens stop working 6 months after the user's consent,
 * and refreshing does not extend that). `login` records the date in the secrets file's `_meta`;
 * these functions turn it into warnings before the scheduled runs start failing.
 */
import type { LoadedPipeline } from '../config/types.ts';
import { findRefs } from '../config/refs.ts';
import type { Problem } from '../config/problem.ts';
import { secretMeta, readSecretsFileSync, type SecretsFileData } from './secrets-file.ts';
import { secretsFile } from '../config/locations.ts';

export { addMonths } from './dates.ts';

/** Warn this many days ahead: two weeks covers a holiday between two looks at the output. */
export const EXPIRY_WARNING_DAYS = 14;
const DAY_MS = 86_400_000;

const LOGIN = '`npx spotify-pipeline login`';

/**
 * For each `${secret:NAME}` in connector.config whose `_meta` records an `expires_at`: a warning
 * when it is less than 14 days away, an error when it has passed. `secrets` is the parsed
 * secrets file (undefined or {} = nothing recorded, no findings).
 */
export function authorizationWarnings(loaded: LoadedPipeline, secrets: SecretsFileData | undefined, now: Date = new Date()): Problem[] {
  if (!secrets) return [];
  const problems: Problem[] = [];
  const seen = new Set<string>();
  for (const ref of findRefs(loaded.config.connector?.config ?? {}, 'connector.config')) {
    if (ref.kind !== 'secret' || seen.has(ref.name)) continue;
    seen.add(ref.name);
    const meta = secretMeta(secrets, ref.name);
    const expires = meta?.expires_at ? new Date(meta.expires_at) : undefined;
    if (!expires || Number.isNaN(expires.getTime())) continue;
    const left = expires.getTime() - now.getTime();
    const on = expires.toISOString().slice(0, 10);
    const since = meta && !Number.isNaN(new Date(meta.authorized_at).getTime()) ? ` (authorized on ${meta.authorized_at.slice(0, 10)})` : '';
    const at = { ...loaded.pos(ref.path), file: loaded.file, path: ref.path };
    if (left <= 0) {
      problems.push({
        ...at,
        severity: 'error',
        message: `the authorization in secret "${ref.name}" expired on ${on}${since}; the provider now refuses it (invalid_grant): run ${LOGIN} to authorize again`,
      });
    } else if (left < EXPIRY_WARNING_DAYS * DAY_MS) {
      const days = Math.floor(left / DAY_MS);
      const when = days === 0 ? 'in less than a day' : `in ${days} day${days === 1 ? '' : 's'}`;
      problems.push({
        ...at,
        severity: 'warning',
        message: `the authorization in secret "${ref.name}" expires ${when}, on ${on}${since}; run ${LOGIN} before then (a new login starts a new 6-month period)`,
      });
    }
  }
  return problems;
}

/**
 * `authorizationWarnings` for the pipeline's own secrets file. A secrets file that cannot be
 * read is one warning (the run reports it as an error with the details).
 */
export function authorizationProblems(loaded: LoadedPipeline, now: Date = new Date(), file: string = secretsFile(loaded)): Problem[] {
  let data: SecretsFileData;
  try {
    data = readSecretsFileSync(file);
  } catch (e) {
    return [{ file, line: 0, col: 0, path: '', severity: 'warning', message: `cannot check the stored authorizations: ${(e as Error).message}` }];
  }
  return authorizationWarnings(loaded, data, now);
}
