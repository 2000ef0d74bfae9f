/**
 * Athena (Trino) SQL on DuckDB. Named queries are written once, in Athena's dialect; locally they
 * run on DuckDB. Most differences are functions, which DuckDB macros bridge without touching the
 * query text (`TRINO_MACROS`, created when a lake is opened). What macros cannot express (type
 * syntax, lambdas, functions taking lambdas) `trinoToDuckdb` rewrites on tokens, never inside
 * string literals or quoted identifiers.
 */

/** Trino's MySQL-style date format specifier (one letter after %) -> DuckDB strftime/strptime. */
const SPECIFIERS: Record<string, string> = {
  a: '%a', // Sun..Sat
  b: '%b', // Jan..Dec
  c: '%-m', // month 1..12
  d: '%d',
  e: '%-d',
  f: '%f', // microseconds
  H: '%H',
  h: '%I',
  I: '%I',
  i: '%M', // minutes: the classic trap, DuckDB's %M is minutes too but Trino's %M is the month name
  j: '%j',
  k: '%-H',
  l: '%-I',
  M: '%B', // January..December
  m: '%m',
  p: '%p',
  r: '%I:%M:%S %p',
  S: '%S',
  s: '%S',
  T: '%H:%M:%S',
  v: '%V', // ISO week
  W: '%A', // Sunday..Saturday
  x: '%G', // ISO week-based year
  Y: '%Y',
  y: '%y',
};

const specCase = Object.entries(SPECIFIERS)
  .map(([k, v]) => `WHEN '${k}' THEN '${v}'`)
  .join(' ');

/**
 * Macros giving Trino's function names and semantics. They live in the lake's in-memory catalog
 * and shadow DuckDB built-ins of the same name (main schema is searched before the system one),
 * which is intended: queries on a Lake are Trino SQL.
 */
export const TRINO_MACROS: string[] = [
  `CREATE OR REPLACE MACRO __trino_spec(c) AS CASE c ${specCase} ELSE c END`,
  // Translates a whole format in one pass (split on %, map the letter after each), so a
  // translated specifier is never translated again; %% survives as a literal percent.
  `CREATE OR REPLACE MACRO __trino_fmt(f) AS replace(array_to_string(list_transform(string_split(replace(f, '%%', chr(1)), '%'), lambda p, i: CASE WHEN i = 1 THEN p ELSE __trino_spec(left(p, 1)) || substr(p, 2) END), ''), chr(1), '%%')`,
  `CREATE OR REPLACE MACRO date_format(x, f) AS strftime(x, __trino_fmt(f))`,
  // Lake timestamps are UTC wall time (TIMESTAMP); ISO strings with an offset are converted to it.
  `CREATE OR REPLACE MACRO from_iso8601_timestamp(s) AS timezone('UTC', CAST(s AS TIMESTAMPTZ))`,
  `CREATE OR REPLACE MACRO from_iso8601_date(s) AS CAST(s AS DATE)`,
  `CREATE OR REPLACE MACRO to_iso8601(x) AS CASE WHEN typeof(x) = 'DATE' THEN strftime(x, '%Y-%m-%d') ELSE strftime(x, '%Y-%m-%dT%H:%M:%S.%gZ') END`,
  `CREATE OR REPLACE MACRO to_unixtime(x) AS epoch(x)`,
  `CREATE OR REPLACE MACRO from_unixtime(x) AS timezone('UTC', to_timestamp(x))`,
  `CREATE OR REPLACE MACRO approx_distinct(x) AS approx_count_distinct(x), (x, e) AS approx_count_distinct(x)`,
  `CREATE OR REPLACE MACRO approx_percentile(x, p) AS approx_quantile(x, p)`,
  `CREATE OR REPLACE MACRO arbitrary(x) AS any_value(x)`,
  // Lists are the only collections in the lake (array<string>); Trino's cardinality also counts maps.
  `CREATE OR REPLACE MACRO cardinality(x) AS len(x)`,
  // 1-based like Trino, negative from the end; out of range gives NULL (Trino errors for arrays).
  `CREATE OR REPLACE MACRO element_at(a, i) AS a[i]`,
  `CREATE OR REPLACE MACRO array_join(a, sep) AS array_to_string(a, sep)`,
  `CREATE OR REPLACE MACRO array_max(a) AS list_max(a)`,
  `CREATE OR REPLACE MACRO array_min(a) AS list_min(a)`,
  `CREATE OR REPLACE MACRO regexp_like(s, p) AS regexp_matches(s, p)`,
  `CREATE OR REPLACE MACRO json_extract_scalar(j, p) AS json_extract_string(j, p)`,
  `CREATE OR REPLACE MACRO json_format(j) AS CAST(j AS VARCHAR)`,
  `CREATE OR REPLACE MACRO json_parse(s) AS CAST(s AS JSON)`,
  // Trino's day_of_week/dow is ISO (Monday = 1 .. Sunday = 7); DuckDB's dow is Sunday = 0.
  `CREATE OR REPLACE MACRO day_of_week(x) AS isodow(x)`,
  `CREATE OR REPLACE MACRO dow(x) AS isodow(x)`,
  `CREATE OR REPLACE MACRO day_of_month(x) AS dayofmonth(x)`,
  `CREATE OR REPLACE MACRO day_of_year(x) AS dayofyear(x)`,
  `CREATE OR REPLACE MACRO week_of_year(x) AS week(x)`,
  `CREATE OR REPLACE MACRO year_of_week(x) AS isoyear(x)`,
  `CREATE OR REPLACE MACRO last_day_of_month(x) AS last_day(x)`,
  // Trino's date_add(unit, n, x); DuckDB's own date_add(x, interval) keeps working.
  `CREATE OR REPLACE MACRO date_add(a, b) AS a + b, (unit, n, x) AS x + n * CAST('1 ' || unit AS INTERVAL)`,
  // Trino counts whole units elapsed (date_sub in DuckDB); DuckDB's date_diff counts boundaries.
  `CREATE OR REPLACE MACRO date_diff(unit, a, b) AS date_sub(unit, a, b)`,
  `CREATE OR REPLACE MACRO truncate(x) AS trunc(x)`,
  `CREATE OR REPLACE MACRO rand() AS random()`,
  `CREATE OR REPLACE MACRO nan() AS CAST('NaN' AS DOUBLE)`,
  `CREATE OR REPLACE MACRO infinity() AS CAST('Infinity' AS DOUBLE)`,
];

/** A Trino date format in DuckDB strftime/strptime syntax (the TS twin of __trino_fmt). */
export function trinoFormat(fmt: string): string {
  return fmt
    .split('%%')
    .map((chunk) => chunk.replace(/%(.?)/g, (_, c: string) => (c === '' ? '%' : (SPECIFIERS[c] ?? c))))
    .join('%%');
}

/** Session settings matching Trino's semantics. */
export const TRINO_SETTINGS: string[] = [
  `SET TimeZone = 'UTC'`,
  // Trino: 7 / 2 = 3 for integers. DuckDB would say 3.5.
  `SET integer_division = true`,
];

// ---- token-level rewriting -------------------------------------------------------------------

type TokenKind = 'ws' | 'comment' | 'string' | 'quoted' | 'word' | 'number' | 'op';
export interface Token {
  kind: TokenKind;
  text: string;
}

export interface TokenizeOptions {
  /**
   * Read a backslash inside a quoted string as escaping the next character, as Spark SQL does
   * (and DuckDB in E'...' strings, which are read that way in any case). Spark's raw strings
   * (r'...') never escape.
   */
  backslashEscapes?: boolean;
}

/** Which of `tables` a SQL text names (as a word outside strings and comments). */
export function tablesNamed(sql: string, tables: readonly string[]): string[] {
  const words = new Set(tokenize(sql).flatMap((t) => (t.kind === 'word' ? [t.text.toLowerCase()] : t.kind === 'quoted' ? [t.text.slice(1, -1).toLowerCase()] : [])));
  return tables.filter((t) => words.has(t.toLowerCase()));
}

/**
 * SQL as tokens whose texts join back into the input. Strings ('...', E'...', $tag$...$tag$),
 * quoted identifiers ("..." and Spark's `...`) and comments are single tokens.
 */
export function tokenize(sql: string, opts: TokenizeOptions = {}): Token[] {
  const out: Token[] = [];
  let i = 0;
  const take = (kind: TokenKind, end: number) => {
    out.push({ kind, text: sql.slice(i, end) });
    i = end;
  };
  while (i < sql.length) {
    const ch = sql[i];
    const rest = sql.slice(i);
    const dollar = ch === '$' ? /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(rest) : null;
    if (/\s/.test(ch)) take('ws', i + (/^\s+/.exec(rest)?.[0].length ?? 1));
    else if (rest.startsWith('--')) {
      const nl = sql.indexOf('\n', i);
      take('comment', nl < 0 ? sql.length : nl);
    } else if (rest.startsWith('/*')) {
      const end = sql.indexOf('*/', i + 2);
      take('comment', end < 0 ? sql.length : end + 2);
    } else if (dollar) {
      // DuckDB's (PostgreSQL's) dollar-quoted string: no escapes up to the same tag.
      const end = sql.indexOf(dollar[0], i + dollar[0].length);
      take('string', end < 0 ? sql.length : end + dollar[0].length);
    } else if (ch === "'" || ch === '"' || ch === '`') {
      // A doubled quote inside is an escaped quote; so is a backslash'd one where backslashes escape.
      const before = out.at(-1);
      const prefix = before?.kind === 'word' ? before.text.toLowerCase() : '';
      const backslash = ch !== '`' && prefix !== 'r' && (prefix === 'e' || !!opts.backslashEscapes);
      let j = i + 1;
      while (j < sql.length) {
        if (backslash && sql[j] === '\\') j += 2;
        else if (sql[j] === ch) {
          if (sql[j + 1] === ch) j += 2;
          else break;
        } else j++;
      }
      take(ch === "'" ? 'string' : 'quoted', Math.min(j + 1, sql.length));
    } else if (/[A-Za-z_]/.test(ch)) take('word', i + (/^[A-Za-z_][A-Za-z0-9_$]*/.exec(rest)?.[0].length ?? 1));
    else if (/[0-9]/.test(ch)) take('number', i + (/^[0-9]+(\.[0-9]*)?([eE][+-]?[0-9]+)?/.exec(rest)?.[0].length ?? 1));
    else {
      const op = /^(->|<=|>=|<>|!=|\|\||::)/.exec(rest)?.[0];
      take('op', i + (op ? op.length : 1));
    }
  }
  return out;
}

const isWord = (t: Token | undefined, ...words: string[]) =>
  !!t && t.kind === 'word' && (words.length === 0 || words.includes(t.text.toLowerCase()));
const isOp = (t: Token | undefined, text: string) => !!t && t.kind === 'op' && t.text === text;

/** Index of the next/previous token that is not whitespace or a comment. */
function next(ts: Token[], i: number): number {
  let j = i + 1;
  while (j < ts.length && (ts[j].kind === 'ws' || ts[j].kind === 'comment')) j++;
  return j;
}
function prev(ts: Token[], i: number): number {
  let j = i - 1;
  while (j >= 0 && (ts[j].kind === 'ws' || ts[j].kind === 'comment')) j--;
  return j;
}

/** Index of the parenthesis closing the one at `open` (or the last token if unbalanced). */
function closing(ts: Token[], open: number): number {
  let depth = 0;
  for (let j = open; j < ts.length; j++) {
    if (isOp(ts[j], '(')) depth++;
    else if (isOp(ts[j], ')') && --depth === 0) return j;
  }
  return ts.length - 1;
}

function matchingOpen(ts: Token[], close: number): number {
  let depth = 0;
  for (let j = close; j >= 0; j--) {
    if (isOp(ts[j], ')')) depth++;
    else if (isOp(ts[j], '(') && --depth === 0) return j;
  }
  return -1;
}

const text = (ts: Token[]) => ts.map((t) => t.text).join('');

/** A Trino type (the tokens after AS in a CAST) in DuckDB syntax. */
function convertType(ts: Token[]): string {
  let out = '';
  for (let i = 0; i < ts.length; i++) {
    const t = ts[i];
    const n = next(ts, i);
    if (isWord(t, 'array') && isOp(ts[n], '(')) {
      // array(varchar) -> varchar[]
      const end = closing(ts, n);
      out += `${convertType(ts.slice(n + 1, end)).trim()}[]`;
      i = end;
    } else if (isWord(t, 'row') && isOp(ts[n], '(')) {
      out += 'STRUCT';
    } else if (isWord(t, 'timestamp', 'time') && isOp(ts[n], '(')) {
      // DuckDB takes no precision on TIMESTAMP WITH TIME ZONE; microseconds cover Trino's (3).
      out += t.text;
      i = closing(ts, n);
    } else out += t.text;
  }
  return out;
}

/** Rewrites the target types of CAST/TRY_CAST. */
function rewriteCasts(ts: Token[]): Token[] {
  const out: Token[] = [];
  for (let i = 0; i < ts.length; i++) {
    const n = next(ts, i);
    if (isWord(ts[i], 'cast', 'try_cast') && isOp(ts[n], '(')) {
      const end = closing(ts, n);
      const inner = rewriteCasts(ts.slice(n + 1, end));
      // The target type follows the last AS at depth 0 inside the parentheses.
      let depth = 0;
      let as = -1;
      inner.forEach((t, k) => {
        if (isOp(t, '(')) depth++;
        else if (isOp(t, ')')) depth--;
        else if (depth === 0 && isWord(t, 'as')) as = k;
      });
      out.push(...ts.slice(i, n + 1));
      if (as >= 0) {
        out.push(...inner.slice(0, as + 1), { kind: 'word', text: convertType(inner.slice(as + 1)) });
      } else out.push(...inner);
      out.push(ts[end]);
      i = end;
    } else out.push(ts[i]);
  }
  return out;
}

/** Trino `x -> e` and `(a, b) -> e` lambdas -> DuckDB `lambda x: e` (arrow lambdas are deprecated). */
function rewriteLambdas(ts: Token[]): Token[] {
  const out = [...ts];
  for (let i = 0; i < out.length; i++) {
    if (!isOp(out[i], '->')) continue;
    const p = prev(out, i);
    let start = -1;
    let params = '';
    if (isWord(out[p])) {
      start = p;
      params = out[p].text;
    } else if (isOp(out[p], ')')) {
      const open = matchingOpen(out, p);
      const inner = out.slice(open + 1, p).filter((t) => t.kind !== 'ws');
      if (open >= 0 && inner.every((t, k) => (k % 2 === 0 ? t.kind === 'word' : isOp(t, ',')))) {
        start = open;
        params = inner.filter((t) => t.kind === 'word').map((t) => t.text).join(', ');
      }
    }
    if (start < 0) continue;
    const replacement: Token = { kind: 'word', text: `lambda ${params}:` };
    out.splice(start, i - start + 1, replacement);
    i = start;
  }
  return out;
}

/** Functions taking lambdas (macros cannot pass lambdas through). */
function rewriteFunctions(ts: Token[]): Token[] {
  const out = [...ts];
  for (let i = 0; i < out.length; i++) {
    const t = out[i];
    const n = next(out, i);
    if (t.kind !== 'word' || !isOp(out[n], '(')) continue;
    const before = out[prev(out, i)];
    if (isOp(before, '.')) continue; // qualified name: someone else's function
    const name = t.text.toLowerCase();
    if (name === 'transform') t.text = 'list_transform';
    // Not the aggregate FILTER clause: count(*) FILTER (WHERE ...)
    else if (name === 'filter' && !isOp(before, ')') && !isWord(out[next(out, n)], 'where')) t.text = 'list_filter';
    else if (name === 'date_parse') {
      // strptime needs a constant format at bind time, which even a macro over a literal is not:
      // translate the literal here. A non-literal format is left for DuckDB to reject.
      const end = closing(out, n);
      const args = splitArgs(out.slice(n + 1, end));
      const fmt = args[1]?.filter((a) => a.kind !== 'ws' && a.kind !== 'comment');
      if (args.length === 2 && fmt?.length === 1 && fmt[0].kind === 'string') {
        const literal = fmt[0].text.slice(1, -1).replaceAll("''", "'");
        const translated = `'${trinoFormat(literal).replaceAll("'", "''")}'`;
        out.splice(i, end - i + 1, { kind: 'word', text: 'strptime' }, { kind: 'op', text: '(' }, ...args[0], { kind: 'op', text: ', ' }, { kind: 'string', text: translated }, { kind: 'op', text: ')' });
      }
    } else if (name === 'any_match' || name === 'all_match' || name === 'none_match') {
      const end = closing(out, n);
      const agg = name === 'all_match' ? 'list_bool_and' : 'list_bool_or';
      out.splice(end + 1, 0, { kind: 'op', text: name === 'none_match' ? '))' : ')' });
      t.text = `${name === 'none_match' ? '(NOT ' : ''}${agg}(list_transform`;
    }
  }
  return out;
}

/** Splits call arguments at top-level commas. */
function splitArgs(ts: Token[]): Token[][] {
  const args: Token[][] = [[]];
  let depth = 0;
  for (const t of ts) {
    if (isOp(t, '(') || isOp(t, '[')) depth++;
    else if (isOp(t, ')') || isOp(t, ']')) depth--;
    if (depth === 0 && isOp(t, ',')) args.push([]);
    else args[args.length - 1].push(t);
  }
  return args;
}

/** Rewrites what macros cannot bridge; everything else passes through unchanged. */
export function trinoToDuckdb(sql: string): string {
  return text(rewriteFunctions(rewriteLambdas(rewriteCasts(tokenize(sql)))));
}
