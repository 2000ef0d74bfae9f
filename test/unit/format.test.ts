import { describe, expect, it } from 'vitest';
import { csv, displayWidth, textTable } from '../../core/cli/format.ts';

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
