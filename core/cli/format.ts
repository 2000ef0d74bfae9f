/** Plain-text rendering for the terminal: aligned tables, CSV and JSON of query results. */

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

/** An aligned text table; numbers right-aligned, long cells cut so one row stays one line. */
export function textTable(columns: string[], rows: Array<Record<string, unknown>>, maxWidth = 48): string {
  const cells = rows.map((r) => columns.map((c) => formatValue(r[c]).replace(/\s+/g, ' ')));
  const clip = (s: string) => (s.length > maxWidth ? s.slice(0, maxWidth - 1) + '…' : s);
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => displayWidth(clip(r[i])))));
  const numeric = columns.map((_, i) => rows.length > 0 && rows.every((r) => typeof r[columns[i]] === 'number' || typeof r[columns[i]] === 'bigint'));
  const line = (vals: string[]) =>
    vals.map((v, i) => pad(clip(v), widths[i], numeric[i])).join('  ').trimEnd();
  const out = [line(columns), widths.map((w) => '-'.repeat(w)).join('  ')];
  for (const r of cells) out.push(line(r));
  if (rows.length === 0) out.push('(no rows)');
  return out.join('\n');
}

export function csv(columns: string[], rows: Array<Record<string, unknown>>): string {
  const esc = (v: unknown) => {
    if (v === null || v === undefined) return '';
    const s = formatValue(v);
    return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [columns.map(esc).join(','), ...rows.map((r) => columns.map((c) => esc(r[c])).join(','))].join('\n');
}

export function humanBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
