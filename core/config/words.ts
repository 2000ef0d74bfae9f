/** Wording helpers shared by the schema and semantic messages. */

/** Optimal string alignment distance: Levenshtein plus adjacent transpositions (`endpiont`). */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** The closest candidate, when it is close enough to be a typo rather than a different word. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const dist = editDistance(word.toLowerCase(), c.toLowerCase());
    if (dist < bestDistance) {
      best = c;
      bestDistance = dist;
    }
  }
  const limit = Math.max(1, Math.min(3, Math.floor(word.length / 3)));
  return best !== undefined && bestDistance > 0 && bestDistance <= limit ? best : undefined;
}

/** `unknown X "a"; did you mean "b"? expected one of b, c` */
export function unknownWord(what: string, word: string, candidates: readonly string[]): string {
  const guess = closest(word, candidates);
  let msg = `unknown ${what} "${word}"`;
  if (guess) msg += `; did you mean "${guess}"?`;
  if (candidates.length > 0) msg += `${guess ? '' : ';'} expected one of ${candidates.join(', ')}`;
  else msg += `; there are none`;
  return msg;
}

/** A short, safe rendering of a value for "got ..." (long strings are cut; secrets never get here). */
export function describeValue(value: unknown, hidden = false): string {
  if (Array.isArray(value)) return 'a list';
  switch (typeof value) {
    case 'undefined':
      return 'nothing';
    case 'object':
      return value === null ? 'nothing' : 'a mapping';
    case 'string':
      return hidden ? 'string (value hidden)' : `string ${quote(value)}`;
    default: // number, boolean, bigint
      return hidden ? `${typeof value} (value hidden)` : `${typeof value} ${String(value)}`;
  }
}

export function quote(s: string): string {
  return JSON.stringify(s.length > 60 ? `${s.slice(0, 57)}...` : s);
}

/** JSON Schema type names as a YAML author knows them. */
export function typeWord(type: string): string {
  return ({ object: 'mapping', array: 'list' } as Record<string, string>)[type] ?? type;
}
