/**
 * Plain-text rendering for the terminal: aligned tables, CSV and JSON of query results. Tables
 * show control characters in cells as escapes (core/terminal.ts); CSV and JSON keep the data as
 * it is, but never let it reach a terminal as a raw escape sequence.
 */
import { jsonTerminalSafe, terminalSafe } from '../terminal.ts';
import type { TableResult } from '../transform/index.ts';

export function formatValue(v: unknown): string {
  switch (typeof v) {
    case 'undefined':
      return 'NULL';
    case 'object':
      return v === null ? 'NULL' : JSON.stringify(v);
    case 'string':
      return v;
    default: // number, bigint, boolean
      return String(v);
  }
}

/** Columns a string takes in a terminal: CJK and emoji are two wide, combining marks zero. */
export function displayWidth(s: string): number {
  let w = 0;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if ((c >= 0x300 && c <= 0x36f) || (c >= 0xfe00 && c <= 0xfe0f) || c === 0x200d) continue;
    const wide =
      (c >= 0x1100 && c <= 0x115f) || (c >= 0x2e80 && c <= 0xa4cf) || (c >= 0xac00 && c <= 0xd7a3) ||
      (c >= 0xf900 && c <= 0xfaff) || (c >= 0xfe30 && c <= 0xfe4f) || (c >= 0xff00 && c <= 0xff60) ||
      (c >= 0xffe0 && c <= 0xffe6) || (c >= 0x1f300 && c <= 0x1faff) || (c >= 0x20000 && c <= 0x3fffd);
    w += wide ? 2 : 1;
  }
  return w;
}

function pad(s: string, width: number, right: boolean): string {
  const fill = ' '.repeat(Math.max(0, width - displayWidth(s)));
  return right ? fill + s : s + fill;
}

/** A cell as one terminal-safe line: whitespace runs are one space, control characters escapes. */
const cell = (v: unknown): string => terminalSafe(formatValue(v).replace(/\s+/g, ' '));

/**
 * An aligned text table; numbers right-aligned, long cells cut so one row stays one line. Loops,
 * not spread arguments: a result of any size renders (a spread of 150,000 widths overflows the stack).
 */
export function textTable(columns: string[], rows: Array<Record<string, unknown>>, maxWidth = 48): string {
  const clip = (s: string) => (s.length > maxWidth ? s.slice(0, maxWidth - 1) + '…' : s);
  const heads = columns.map((c) => clip(cell(c)));
  const cells = rows.map((r) => columns.map((c) => clip(cell(r[c]))));
  const widths = heads.map((h) => displayWidth(h));
  for (const r of cells) for (let i = 0; i < r.length; i++) widths[i] = Math.max(widths[i], displayWidth(r[i]));
  // Numbers are right-aligned; a blank cell ('', e.g. no partition count) keeps its column numeric.
  const isNumber = (v: unknown) => typeof v === 'number' || typeof v === 'bigint';
  const numeric = columns.map((c) => rows.some((r) => isNumber(r[c])) && rows.every((r) => isNumber(r[c]) || r[c] === ''));
  const line = (vals: string[]) => vals.map((v, i) => pad(v, widths[i], numeric[i])).join('  ').trimEnd();
  const out = [line(heads), widths.map((w) => '-'.repeat(w)).join('  ')];
  for (const r of cells) out.push(line(r));
  if (rows.length === 0) out.push('(no rows)');
  return out.join('\n');
}

/**
 * CSV (RFC 4180 quoting). `terminal`: the output goes to a terminal, so control characters in
 * cells are shown as escapes; to a file or a pipe the cells are written as they are.
 */
export function csv(columns: string[], rows: Array<Record<string, unknown>>, opts: { terminal?: boolean } = {}): string {
  return csvLines(columns, rows, opts).join('\n');
}

/** The lines of `csv` (header first), for writing a large result piece by piece. */
export function csvLines(columns: string[], rows: Array<Record<string, unknown>>, opts: { terminal?: boolean } = {}): string[] {
  const esc = (v: unknown) => {
    if (v === null || v === undefined) return '';
    const s = opts.terminal ? terminalSafe(formatValue(v)) : formatValue(v);
    return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const out = [columns.map(esc).join(',')];
  for (const r of rows) out.push(columns.map((c) => esc(r[c])).join(','));
  return out;
}

/**
 * The rows as a JSON array, one row per element (as `JSON.stringify(rows, null, 2)` writes them),
 * with every character a terminal would act on escaped as `\uXXXX`: the same data for a parser.
 */
export function jsonRows(rows: Array<Record<string, unknown>>): string[] {
  if (rows.length === 0) return ['[]'];
  // Escaped before indenting: a raw U+2028 is a line start to the `m` flag.
  const body = rows.map((r, i) => jsonTerminalSafe(JSON.stringify(r, null, 2)).replace(/^/gm, '  ') + (i < rows.length - 1 ? ',' : ''));
  return ['[', ...body, ']'];
}

export function humanBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** A table's build result, as `run` and `transform` print it. */
export interface BuiltTable {
  table: string;
  rows: number;
  files: number;
  bytes: number;
  partitions: number;
  quarantined: number;
  seconds: number;
  drift?: string[];
  records?: number;
  inputRows?: number;
  filtered?: number;
  duplicates?: number;
  build?: TableResult['build'];
}

/**
 * The tables of a build, one line each (`run` and `transform` alike): an unpartitioned table
 * shows no partition count, and `notes` say where the records that are not rows went.
 */
export function builtTablesTable(results: BuiltTable[], partitioned: (table: string) => boolean): string {
  const accounted = results.some((t) => t.records !== undefined);
  return textTable(
    ['table', ...(accounted ? ['records'] : []), 'rows', 'files', 'bytes', 'partitions', 'quarantined', 'seconds', ...(accounted ? ['notes'] : [])],
    results.map((t) => ({
      ...t,
      records: t.records ?? '',
      partitions: partitioned(t.table) ? t.partitions : '',
      bytes: humanBytes(t.bytes),
      seconds: Number(t.seconds.toFixed(2)),
      notes: rowNotes(t),
    })),
  );
}

/** `rows_from_records=1449 filtered=3 duplicates=970`: only what applies (nothing when records = rows). */
function rowNotes(t: BuiltTable): string {
  if (t.records === undefined || t.inputRows === undefined) return '';
  const notes: string[] = [];
  // How it was built (core/transform/incremental.ts); a first build says nothing.
  if (t.build?.mode === 'skipped') notes.push('unchanged (skipped)');
  if (t.build?.mode === 'incremental') notes.push(t.build.rewritten === undefined ? 'incremental' : `incremental (${t.build.rewritten} of ${t.partitions} partitions rewritten)`);
  if (t.build?.mode === 'full' && t.build.reason && t.build.reason !== 'no build state') notes.push(`full build (${t.build.reason})`);
  // Unnested arrays give several rows per record; latest_per drops superseded reads.
  if (t.inputRows !== t.records) notes.push(`rows_from_records=${t.inputRows}`);
  if (t.filtered) notes.push(`filtered=${t.filtered}`);
  if (t.duplicates) notes.push(`duplicates=${t.duplicates}`);
  return notes.join(' ');
}

/** Schema drift of a build, in the one wording `run` and `transform` share; undefined when there is none. */
export function driftSection(results: BuiltTable[]): string | undefined {
  const drift = results.flatMap((t) => (t.drift ?? []).map((d) => `  ${t.table}: ${d}`));
  return drift.length ? `Schema drift (reported, not applied; the declared columns stay the schema):\n${drift.join('\n')}` : undefined;
}
