/**
 * `${env:NAME}` and `${secret:NAME}` references in config strings. Secrets stay out of
 * pipeline.yaml (which is committed) and out of every message: errors name the reference,
 * never a resolved value or the contents of the secrets file.
 */
import type { LoadedPipeline } from './types.ts';
import { formatPath, type Segment } from './paths.ts';
import { ConfigError, type Problem } from './problem.ts';
import { DEFAULT_SECRETS_FILE, settingsOf } from './settings.ts';
import { sourceOf } from './source.ts';
import { isMissing, readConfigText } from './text.ts';

export interface RefSources {
  env: Record<string, string | undefined>;
  secrets: (name: string) => string | undefined;
}

export interface RefUse {
  path: string;
  kind: 'env' | 'secret';
  name: string;
}

/** Any `${kind:...}`; kinds other than env/secret are reported, not passed on as literal text. */
const REF = /\$\{([A-Za-z_]+):([^}]*)\}/g;
const KINDS = ['env', 'secret'] as const;

export function hasRef(value: unknown): boolean {
  return typeof value === 'string' && /\$\{(env|secret):[^}]*\}/.test(value);
}

function walk(value: unknown, at: Segment[], visit: (s: string, at: Segment[]) => unknown): unknown {
  if (typeof value === 'string') return visit(value, at);
  if (Array.isArray(value)) return value.map((v, i) => walk(v, [...at, i], visit));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v, [...at, k], visit)]));
  }
  return value;
}

const baseSegments = (basePath: string): Segment[] =>
  basePath === '' ? [] : basePath.split('.').map((s) => (/^\d+$/.test(s) ? Number(s) : s));

/** Every env/secret reference under `value` (e.g. the secrets the AWS deployment must provide). */
export function findRefs(value: unknown, basePath: string): RefUse[] {
  const out: RefUse[] = [];
  walk(value, baseSegments(basePath), (s, at) => {
    for (const m of s.matchAll(REF)) {
      if ((KINDS as readonly string[]).includes(m[1])) out.push({ path: formatPath(at), kind: m[1] as 'env' | 'secret', name: m[2].trim() });
    }
    return s;
  });
  return out;
}

/**
 * A deep copy of `value` with every reference replaced by its value. `basePath` is where `value`
 * sits in pipeline.yaml (e.g. `connector.config`), for positions. All missing references are
 * reported at once.
 */
export function resolveRefs<T>(value: T, loaded: LoadedPipeline, basePath: string, sources: RefSources): T {
  const source = sourceOf(loaded);
  const secretsFile = settingsOf(loaded.config).secrets?.file ?? DEFAULT_SECRETS_FILE;
  const problems: Problem[] = [];
  const fail = (at: Segment[], message: string) =>
    problems.push({ ...source.position(at, 'value'), path: source.display(at), message, severity: 'error' });

  const resolved = walk(value, baseSegments(basePath), (s, at) =>
    s.replace(REF, (whole, kind: string, rawName: string) => {
      const name = rawName.trim();
      if (!(KINDS as readonly string[]).includes(kind)) {
        fail(at, `unknown reference "${whole}"; use \${env:NAME} or \${secret:NAME}`);
        return whole;
      }
      if (name === '') {
        fail(at, `reference "${whole}" names no ${kind === 'env' ? 'environment variable' : 'secret'}`);
        return whole;
      }
      // An empty value is as good as none: an empty client secret only fails later, less clearly.
      const v = kind === 'env' ? sources.env[name] : sources.secrets(name);
      if (v === undefined || v === '') {
        fail(
          at,
          kind === 'env'
            ? `environment variable ${name} is not set`
            : `secret "${name}" is not set; add it to ${secretsFile} or set it in AWS Secrets Manager`,
        );
        return whole;
      }
      return v;
    }),
  );
  if (problems.length > 0) throw new ConfigError(problems);
  return resolved as T;
}

/**
 * Secrets from an untracked JSON file (`{"spotify/client_secret": "..."}`). A missing file means
 * no local secrets; a malformed one is an error that names the file and never quotes it.
 */
export function localSecrets(file: string): (name: string) => string | undefined {
  let text: string;
  try {
    // A folder, a device or a huge file is named in one line, never read (core/config/text.ts).
    text = readConfigText(file, { what: 'secrets file' });
  } catch (e) {
    if (isMissing(e)) return () => undefined;
    throw e;
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    // JSON.parse messages quote the text around the mistake; only its offset is safe to use.
    const offset = /position (\d+)/.exec((e as Error).message)?.[1];
    const { line, col } = offset === undefined ? { line: 0, col: 0 } : lineCol(text, Number(offset));
    throw secretsError(file, line, col, '', 'is not valid JSON; expected an object like {"spotify/client_secret": "..."}');
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw secretsError(file, 1, 1, '', 'must be a JSON object of "name": "value" strings');
  }
  const secrets = data as Record<string, unknown>;
  // `_meta` is login's record of each authorization (dates, scopes), not a secret (core/auth).
  const isSecret = (k: string) => k !== '_meta';
  const wrong = Object.keys(secrets).filter((k) => isSecret(k) && typeof secrets[k] !== 'string');
  if (wrong.length > 0) {
    throw new ConfigError(
      wrong.map((k) => ({ file, line: 0, col: 0, path: k, message: 'must be a string', severity: 'error' as const })),
    );
  }
  return (name) => (isSecret(name) && Object.hasOwn(secrets, name) ? (secrets[name] as string) : undefined);
}

/** Every value of the local secrets file (none when it is missing or unreadable): what must never be printed. */
export function localSecretValues(file: string): string[] {
  try {
    const data = JSON.parse(readConfigText(file, { what: 'secrets file' })) as unknown;
    if (!data || typeof data !== 'object' || Array.isArray(data)) return [];
    return Object.entries(data as Record<string, unknown>).flatMap(([k, v]) => (k !== '_meta' && typeof v === 'string' ? [v] : []));
  } catch {
    return [];
  }
}

function secretsError(file: string, line: number, col: number, path: string, message: string): ConfigError {
  return new ConfigError([{ file, line, col, path, message, severity: 'error' }]);
}

function lineCol(text: string, offset: number): { line: number; col: number } {
  const before = text.slice(0, offset).split('\n');
  return { line: before.length, col: before[before.length - 1].length + 1 };
}
