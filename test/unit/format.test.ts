import { describe, expect, it, vi } from 'vitest';
import { csv, displayWidth, jsonRows, textTable } from '../../core/cli/format.ts';
import { hasControlCharacters, terminalSafe } from '../../core/terminal.ts';
import { createLogger } from '../../core/log.ts';

describe('terminal tables', () => {
  it('aligns columns by display width, CJK and emoji included', () => {
    const out = textTable(['playlist', 'items'], [
      { playlist: '夜のドライブ', items: 35 },
      { playlist: 'Road trip 🚗', items: 60 },
      { playlist: 'plain', items: 1234 },
    ]);
    const lines = out.split('\n');
    // Every row ends its number at the same terminal column.
    const ends = lines.slice(2).map((l) => displayWidth(l));
    expect(new Set(ends).size).toBe(1);
    expect(displayWidth('夜のドライブ')).toBe(12);
    expect(displayWidth('🚗')).toBe(2);
  });

  it('quotes CSV cells with commas, quotes and newlines', () => {
    expect(csv(['a'], [{ a: 'x, "y"\nz' }])).toBe('a\n"x, ""y""\nz"');
  });
});

describe('terminal output of data (issue 12)', () => {
  const ESC = '\u001b';
  const hostile = `${ESC}[2J${ESC}]0;pwned\u0007red\u009b31m\u202eevil\r\u0000x`;

  it('a table renders a result of any size (no spread of 150,000 arguments)', () => {
    const rows = Array.from({ length: 200_000 }, (_, i) => ({ n: i, s: `row ${i}` }));
    const out = textTable(['n', 's'], rows);
    expect(out.split('\n')).toHaveLength(200_002);
    expect(out.split('\n')[200_001]).toBe('199999  row 199999');
  });

  it('shows control characters of cells and headers as escapes, so data cannot drive the terminal', () => {
    const out = textTable([`col${ESC}[31m`], [{ [`col${ESC}[31m`]: hostile }], 200);
    expect(hasControlCharacters(out.replace(/\n/g, ''))).toBe(false);
    expect(out).toContain('\\x1b[2J\\x1b]0;pwned\\x07red\\x9b31m\\u202eevil \\x00x');
    expect(out.split('\n')[0]).toBe('col\\x1b[31m');
  });

  it('CSV keeps the data as it is for a file or a pipe, and shows escapes on a terminal', () => {
    expect(csv(['s'], [{ s: `a${ESC}[31mb` }])).toBe(`s\na${ESC}[31mb`);
    expect(csv(['s'], [{ s: `a${ESC}[31mb` }], { terminal: true })).toBe('s\na\\x1b[31mb');
  });

  it('JSON escapes what JSON.stringify leaves raw (DEL, C1, bidi, separators) and parses back to the same data', () => {
    const rows = [{ s: hostile, t: 'caf\u00e9 \u2028 \u007f' }, { s: null, t: 'plain' }];
    const text = jsonRows(rows).join('\n');
    expect(hasControlCharacters(text.replace(/\n/g, ''))).toBe(false);
    expect(JSON.parse(text)).toEqual(rows);
    expect(text).toBe(JSON.stringify(rows, null, 2).replace(/[\u007f-\u009f\u202e\u2028]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
    expect(jsonRows([])).toEqual(['[]']);
  });

  it('terminalSafe keeps tabs, newlines and ordinary Unicode', () => {
    expect(terminalSafe('a\tb\nc 夜 🚗 é')).toBe('a\tb\nc 夜 🚗 é');
    expect(terminalSafe(`${ESC}[0m\r`)).toBe('\\x1b[0m\\r');
  });

  it('log lines reach stderr with their control characters escaped', () => {
    const written: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => (written.push(String(s)), true));
    try {
      createLogger().warn(`playlist "${ESC}[31mred"`);
    } finally {
      spy.mockRestore();
    }
    expect(written).toEqual(['warning: playlist "\\x1b[31mred"\n']);
  });
});
