/** Plain-text rendering for the terminal: aligned tables, CSV and JSON of query results. */

export function formatValue(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** An aligned text table; numbers right-aligned, long cells cut so one row stays one line. */
export function textTable(columns: string[], rows: Array<Record<string, unknown>>, maxWidth = 48): string {
  const cells = rows.map((r) => columns.map((c) => formatValue(r[c]).replace(/\s+/g, ' ')));
  const clip = (s: string) => (s.length > maxWidth ? s.slice(0, maxWidth - 1) + '…' : s);
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => clip(r[i]).length)));
  const numeric = columns.map((_, i) => rows.length > 0 && rows.every((r) => typeof r[columns[i]] === 'number' || typeof r[columns[i]] === 'bigint'));
  const line = (vals: string[]) =>
    vals.map((v, i) => (numeric[i] ? clip(v).padStart(widths[i]) : clip(v).padEnd(widths[i]))).join('  ').trimEnd();
  const out = [line(columns), widths.map((w) => '-'.repeat(w)).join('  ')];
  for (const r of cells) out.push(line(r));
  if (rows.length === 0) out.push('(no rows)');
  return out.join('\n');
}

export function csv(columns: string[], rows: Array<Record<string, unknown>>): string {
  const esc = (v: unknown) => {
    if (v === null || v === undefined) return '';
    const s = typeof v === 'object' ? JSON.stringify(v) : String(v);
    return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [columns.map(esc).join(','), ...rows.map((r) => columns.map((c) => esc(r[c])).join(','))].join('\n');
}

export function humanBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
