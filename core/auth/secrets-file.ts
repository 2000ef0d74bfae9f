/**
 * The local secrets file (`.secrets.json`, untracked): `"name": "value"` strings, plus one
 * `_meta` object with what `login` knows about each authorization (when, until when, scopes).
 * Writes are atomic (temp file + rename in the same folder) with mode 0600, and keep every
 * other key. Errors name the file, never quote it.
 */
import { randomBytes } from 'node:crypto';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { isMissing, readConfigText } from '../config/text.ts';
import { basename, dirname, join } from 'node:path';
import { UserError } from '../errors.ts';

/** The key holding metadata; `localSecrets()` (core/config/refs.ts) does not treat it as a secret. */
export const SECRETS_META_KEY = '_meta';

/** What `login` records about a stored authorization, under `_meta["<secret name>"]`. */
export interface SecretMeta {
  /** ISO time of the user's consent. */
  authorized_at: string;
  /** ISO time the provider stops honouring it (Spotify: 6 months after authorization). */
  expires_at?: string;
  /** Scopes the user granted. */
  scopes: string[];
}

export type SecretsFileData = Record<string, unknown>;

function parse(file: string, text: string): SecretsFileData {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    // JSON.parse messages quote the text around the mistake: never show them.
    throw new UserError(`the secrets file ${file} is not valid JSON`, 'fix or remove it; it holds {"name": "value"} strings');
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new UserError(`the secrets file ${file} must be a JSON object of "name": "value" strings`);
  }
  return data as SecretsFileData;
}

/** The file's contents; `{}` when it does not exist. */
export async function readSecretsFile(file: string): Promise<SecretsFileData> {
  try {
    return parse(file, await readFile(file, 'utf8'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw e;
  }
}

export function readSecretsFileSync(file: string): SecretsFileData {
  let text: string;
  try {
    // A folder, a device (never read) or a huge file is one line (core/config/text.ts).
    text = readConfigText(file, { what: 'secrets file' });
  } catch (e) {
    if (isMissing(e)) return {};
    throw e;
  }
  return parse(file, text);
}

/** The `_meta` entry of a secret, when it is well-formed. */
export function secretMeta(data: SecretsFileData, name: string): SecretMeta | undefined {
  const meta = data[SECRETS_META_KEY];
  if (!meta || typeof meta !== 'object' || Array.isArray(meta)) return undefined;
  const m = (meta as Record<string, unknown>)[name];
  if (!m || typeof m !== 'object' || typeof (m as SecretMeta).authorized_at !== 'string') return undefined;
  return m as SecretMeta;
}

/** Replace the file atomically: a crash leaves the old file or the new one, never half of one. */
export async function writeSecretsFile(file: string, data: SecretsFileData): Promise<void> {
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fh = await open(tmp, 'wx', 0o600);
  try {
    await fh.chmod(0o600); // open()'s mode is filtered by the umask; be exact
    await fh.writeFile(JSON.stringify(data, null, 2) + '\n', 'utf8');
    await fh.sync();
  } catch (e) {
    await fh.close();
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  await fh.close();
  try {
    await rename(tmp, file);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
}

export interface SecretEntry {
  name: string;
  value: string;
  /** Replaces the secret's `_meta` entry; undefined keeps the existing one (a rotated token keeps its authorization date). */
  meta?: SecretMeta;
}

/** Set secrets (and their metadata) in the file, keeping every other key. */
export async function storeSecrets(file: string, entries: SecretEntry[]): Promise<void> {
  const data = await readSecretsFile(file);
  const old = data[SECRETS_META_KEY];
  const meta: Record<string, unknown> = old && typeof old === 'object' && !Array.isArray(old) ? { ...(old as Record<string, unknown>) } : {};
  for (const e of entries) {
    if (e.name === SECRETS_META_KEY) throw new UserError(`"${SECRETS_META_KEY}" is reserved in the secrets file; name the secret differently`);
    data[e.name] = e.value;
    if (e.meta) meta[e.name] = e.meta;
  }
  if (Object.keys(meta).length > 0) data[SECRETS_META_KEY] = meta;
  await writeSecretsFile(file, data);
}

/** Store one secret value (e.g. a rotated refresh token), keeping its metadata and every other key. */
export async function persistLocalSecret(file: string, name: string, value: string): Promise<void> {
  await storeSecrets(file, [{ name, value }]);
}
