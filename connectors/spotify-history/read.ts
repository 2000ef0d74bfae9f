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
import { emptyHints, learnHints, normalizePlay, type ExportHints, type Raw } from './normalize.ts';
import { jsonArrayElements, sha256 } from './parse.ts';
import { openSource, type ExportFile } from './source.ts';
import { historyLike, type ExportFormat } from './files.ts';

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

/** Names for one summary line: the first few, then how many more. */
function listed(names: string[], max = 8): string {
  return names.length <= max ? names.join(', ') : `${names.slice(0, max).join(', ')} and ${names.length - max} more`;
}

const FORMAT_WHY: Record<FormatChoice, string> = {
  auto: 'formats: auto takes the Extended Streaming History when present, as the account data repeats its last year; formats: both reads both',
  extended: 'formats: extended',
  account: 'formats: account',
  both: 'formats: both',
};

/**
 * What the export's other history files know about names (see `classifyLegacy`), read once before
 * the first <= 2023 account file: every history file but the legacy ones, whatever `formats` says
 * and whether imported before, streamed like an import.
 */
async function gatherHints(all: ExportFile[], ctx: ReadContext<HistoryConfig>): Promise<ExportHints> {
  const hints = emptyHints();
  const from = all.filter((f) => f.kind.media !== 'mixed');
  if (from.length) ctx.logger.info(`reading ${from.length} other history file(s) for the shows and tracks they name (to classify StreamingHistoryN.json plays)`);
  for (const f of from) {
    try {
      for await (const raw of jsonArrayElements(await f.open(), { signal: ctx.signal, size: f.size })) {
        if (raw && typeof raw === 'object' && !Array.isArray(raw)) learnHints(hints, raw as Raw, f.kind);
      }
    } catch (e) {
      if (ctx.signal.aborted) throw e;
      // A broken file fails its own import (when it is read); here it only tells nothing.
      ctx.logger.debug(`${f.name}: not read for names: ${(e as Error).message}`);
    }
  }
  return hints;
}

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
    // Every file of the export that is not imported is named in the summary, with the reason.
    const left = all.filter((f) => !formats.has(f.kind.format));
    if (left.length) {
      const which = [...new Set(left.map((f) => f.kind.format))].join('/');
      ctx.logger.info(`${left.length} file(s) of the ${which} format left out (formats: ${choice})`);
      ctx.note('files_other_format', left.length, `${listed(left.map((f) => f.name))}: ${which} history not read (${FORMAT_WHY[choice]})`);
    }
    const base = (n: string) => n.split('/').pop()!;
    const unknown = source.others.filter((n) => historyLike(base(n)));
    if (unknown.length) {
      ctx.logger.warn(`${unknown.length} file(s) named like listening history in a layout this connector does not know, not imported: ${listed(unknown)}`);
      ctx.note('files_unknown_history', unknown.length, `${listed(unknown)}: named like listening history, but a file family this connector does not know: not imported`);
    }
    const other = source.others.filter((n) => !historyLike(base(n)));
    if (other.length) ctx.note('files_not_history', other.length, `${listed(other)}: no listening history (the rest of the download): not read`);
    if (!all.length) ctx.logger.warn('no streaming history files found in the export');
    const thisRun = new Set<string>();
    const skipped: Record<'skipped_duplicate_file' | 'skipped_imported_file', string[]> = { skipped_duplicate_file: [], skipped_imported_file: [] };
    let hints: ExportHints | undefined;
    for (const f of files) {
      ctx.signal.throwIfAborted();
      // Identity before reading when it is cheap: a zip entry's CRC, or the same file unchanged since it was imported.
      let id = f.knownHash ? identityOf(f, f.knownHash) : Object.entries(prior).find(([, v]) => v.file === f.name && v.size === f.size && v.mtime_ms === f.mtimeMs)?.[0];
      // A plain file of a size already imported under another path (a copy of an old download): hash it first.
      if (!id && Object.keys(prior).some((k) => k.startsWith(`${f.basename}|${f.size}|`))) id = identityOf(f, await sha256Of(f, ctx.signal));
      if (id && thisRun.has(id)) {
        ctx.note('skipped_duplicate_file');
        skipped.skipped_duplicate_file.push(f.name);
        continue;
      }
      if (id && stream.incremental && prior[id]) {
        ctx.note('skipped_imported_file');
        skipped.skipped_imported_file.push(f.name);
        continue;
      }
      if (f.kind.media === 'mixed') hints ??= await gatherHints(all, ctx);
      const hash = id ? undefined : sha256();
      let n = 0;
      let bad = 0;
      try {
        for await (const raw of jsonArrayElements(await f.open(), { signal: ctx.signal, hash, size: f.size })) {
          const rec = raw && typeof raw === 'object' && !Array.isArray(raw) ? normalizePlay(raw as Raw, { sourceFile: f.name, kind: f.kind, policy, salt: ctx.config.hash_salt, hints }) : undefined;
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
    if (skipped.skipped_duplicate_file.length) ctx.note('skipped_duplicate_file', 0, `${listed(skipped.skipped_duplicate_file)}: the same content as a file read in this run: not read twice`);
    if (skipped.skipped_imported_file.length) ctx.note('skipped_imported_file', 0, `${listed(skipped.skipped_imported_file)}: imported by an earlier run (same name, size and content): not read again`);
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
