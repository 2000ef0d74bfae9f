/**
 * Reading the `plays` stream: every history file of the export, streamed and normalized. State
 * remembers the files already imported by content (base name, size and a hash: a zip entry's
 * CRC-32, or the SHA-256 of a plain file), so an incremental run imports only new files, whatever
 * folder or re-downloaded zip they sit in. Plays repeated across files keep their `play_id`:
 * the table dedupes them.
 */
import type { JsonRecord, ReadContext, StreamSpec } from '../../core/plugin-api.ts';
import { UserError } from '../../core/plugin-api.ts';
import { policies, type HistoryConfig } from './config.ts';
import { normalizePlay, type Raw } from './normalize.ts';
import { jsonArrayElements, sha256 } from './parse.ts';
import { openSource, type ExportFile } from './source.ts';
import type { ExportFormat } from './files.ts';

export type FormatChoice = 'auto' | 'extended' | 'account' | 'both';

/** One imported file in state, by identity `<base name>|<size>|<hash>`. */
export interface ImportedFile {
  file: string;
  size: number;
  mtime_ms?: number;
}

export interface HistoryState {
  [key: string]: unknown;
  files?: Record<string, ImportedFile>;
}

/** The formats a read takes from an export holding `present`. */
export function formatsFor(choice: FormatChoice, present: Set<ExportFormat>): Set<ExportFormat> {
  if (choice === 'both') return new Set(['extended', 'account']);
  if (choice === 'auto') return new Set([present.has('extended') ? 'extended' : 'account']);
  return new Set([choice]);
}

export function checkConfig(config: Partial<HistoryConfig>): void {
  const p = policies(config);
  const hashed = Object.entries(p).filter(([, v]) => v === 'hash').map(([k]) => k);
  if (hashed.length && !(typeof config.hash_salt === 'string' && config.hash_salt.length >= 8)) {
    throw new UserError(
      `spotify-history: personal_data hashes ${hashed.join(', ')} but hash_salt is not set`,
      'add hash_salt: ${secret:history/hash_salt} (8+ characters) to connector.config, or drop/keep those fields',
    );
  }
}

const identityOf = (f: ExportFile, hash: string) => `${f.basename}|${f.size}|${hash}`;

async function sha256Of(f: ExportFile, signal: AbortSignal): Promise<string> {
  const h = sha256();
  for await (const chunk of await f.open()) {
    signal.throwIfAborted();
    h.update(chunk as Buffer);
  }
  return `sha256:${h.digest('hex')}`;
}

export async function* readPlays(stream: StreamSpec, ctx: ReadContext<HistoryConfig>): AsyncGenerator<JsonRecord> {
  ctx.signal.throwIfAborted();
  checkConfig(ctx.config);
  const policy = policies(ctx.config);
  const choice = (stream.params.formats as FormatChoice | undefined) ?? 'auto';
  const prior = ((ctx.state as HistoryState).files ?? {});
  const imported: Record<string, ImportedFile> = { ...prior };
  const source = await openSource(ctx.config.path);
  try {
    const all = await source.files();
    const formats = formatsFor(choice, new Set(all.map((f) => f.kind.format)));
    const files = all.filter((f) => formats.has(f.kind.format));
    const left = all.length - files.length;
    if (left) {
      ctx.logger.info(`${left} file(s) of the ${[...new Set(all.map((f) => f.kind.format))].filter((x) => !formats.has(x)).join('/')} format left out (formats: ${choice})`);
      ctx.note('files_other_format', left);
    }
    if (!all.length) ctx.logger.warn('no streaming history files found in the export');
    const thisRun = new Set<string>();
    for (const f of files) {
      ctx.signal.throwIfAborted();
      // Identity before reading when it is cheap: a zip entry's CRC, or the same file unchanged since it was imported.
      let id = f.knownHash ? identityOf(f, f.knownHash) : Object.entries(prior).find(([, v]) => v.file === f.name && v.size === f.size && v.mtime_ms === f.mtimeMs)?.[0];
      // A plain file of a size already imported under another path (a copy of an old download): hash it first.
      if (!id && Object.keys(prior).some((k) => k.startsWith(`${f.basename}|${f.size}|`))) id = identityOf(f, await sha256Of(f, ctx.signal));
      if (id && thisRun.has(id)) {
        ctx.note('skipped_duplicate_file');
        continue;
      }
      if (id && stream.incremental && prior[id]) {
        ctx.note('skipped_imported_file');
        continue;
      }
      const hash = id ? undefined : sha256();
      let n = 0;
      let bad = 0;
      try {
        for await (const raw of jsonArrayElements(await f.open(), { signal: ctx.signal, hash })) {
          const rec = raw && typeof raw === 'object' && !Array.isArray(raw) ? normalizePlay(raw as Raw, { sourceFile: f.name, kind: f.kind, policy, salt: ctx.config.hash_salt }) : undefined;
          if (!rec) {
            bad++;
            continue;
          }
          n++;
          yield rec;
        }
      } catch (e) {
        if (ctx.signal.aborted) throw e;
        throw new UserError(`spotify-history: ${f.name} is not a valid history file: ${(e as Error).message}`);
      }
      if (bad) {
        ctx.logger.warn(`${f.name}: ${bad} entr${bad === 1 ? 'y' : 'ies'} without a valid time skipped`);
        ctx.note('entries_skipped', bad);
      }
      id ??= identityOf(f, `sha256:${hash!.digest('hex')}`);
      thisRun.add(id);
      imported[id] = { file: f.name, size: f.size, ...(f.mtimeMs !== undefined ? { mtime_ms: f.mtimeMs } : {}) };
      ctx.note('files_imported');
      ctx.logger.debug(`${f.name}: ${n} plays`);
      // Saved by the engine only once these plays are committed.
      ctx.setState({ files: imported });
    }
    ctx.setState({ files: imported });
  } finally {
    await source.close();
  }
}

/** Whether `path` holds any history file (for `check`). */
export async function countHistoryFiles(path: string): Promise<Record<ExportFormat, number>> {
  const source = await openSource(path);
  try {
    const files = await source.files();
    return { extended: files.filter((f) => f.kind.format === 'extended').length, account: files.filter((f) => f.kind.format === 'account').length };
  } finally {
    await source.close();
  }
}
