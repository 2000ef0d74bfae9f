/**
 * What SQL written in pipeline.yaml may not do: read or write files, run other SQL, change the
 * engine. Named queries, `sql:` columns and `filter`s name the lake's tables and compute over
 * them; none of them has a reason to touch a file, and one that did could print or copy anything
 * the user can read (`.secrets.json`) into a query result or a table.
 *
 * This is the early, positioned half of the wall (`validate` and every command that loads a
 * pipeline report each finding at its file:line:col). The other half is the engine's: every local
 * DuckDB connection is sandboxed (core/query/sandbox.ts), so SQL that slipped past these rules
 * still cannot reach a file outside the lake folders it was given. Spark (`transform --engine
 * spark`, the Glue job) has no such sandbox, which is one more reason to catch it here.
 *
 * The rules work on tokens, not a grammar, so they hold for the three dialects the SQL is read in
 * (Trino for named queries, Spark and DuckDB for columns and filters): the SQL is checked twice,
 * once with strings escaped by doubled quotes and once with backslash escapes (Spark's strings),
 * so text cannot hide from one reading inside a string that the engine ends elsewhere.
 */
import { type Token, tokenize } from './dialect.ts';

export interface AccessFinding {
  /** 1-based, within the checked text. */
  line: number;
  col: number;
  message: string;
}

/** `query`: a whole statement (a named query, ad-hoc SQL); `expression`: a `sql:` column or a `filter`. */
export type SqlRole = 'query' | 'expression';

/** Functions that read or list files (DuckDB's table functions, also what extensions add). */
const FILE_FUNCTIONS = new Set([
  'glob',
  'read_text',
  'read_blob',
  'read_csv',
  'read_csv_auto',
  'read_json',
  'read_json_auto',
  'read_json_objects',
  'read_json_objects_auto',
  'read_ndjson',
  'read_ndjson_auto',
  'read_ndjson_objects',
  'read_parquet',
  'parquet_scan',
  'read_duckdb',
  'read_xlsx',
  'sniff_csv',
  'arrow_scan',
  'arrow_scan_dumb',
  'iceberg_scan',
  'iceberg_metadata',
  'delta_scan',
  'sqlite_scan',
  'sqlite_attach',
  'postgres_scan',
  'postgres_attach',
  'mysql_scan',
  'st_read',
  'load_aws_credentials',
  'getenv',
  // Spark: read_files (Databricks), and calling any Java method (which can read a file).
  'read_files',
  'reflect',
  'try_reflect',
  'java_method',
]);
/** Prefixes of more of them: read_*, parquet_* (metadata of any file), sniff_*. */
const FILE_FUNCTION_PREFIXES = ['read_', 'parquet_', 'sniff_'];

/** Functions that run SQL given as text, or change the engine (logging to a file, checkpoints). */
const ENGINE_FUNCTIONS: Record<string, string> = {
  query: 'runs SQL given as text',
  query_table: 'reads a table named by text',
  json_execute_serialized_sql: 'runs SQL given as serialized JSON',
  enable_logging: 'changes the engine (logging to a file)',
  disable_logging: 'changes the engine (logging)',
  truncate_duckdb_logs: 'changes the engine (logging)',
  write_log: 'writes to the engine log',
  enable_profiling: 'changes the engine (profiling output)',
  disable_profiling: 'changes the engine (profiling)',
  checkpoint: 'changes the database',
  force_checkpoint: 'changes the database',
  enable_peg_parser: 'changes the engine',
  disable_peg_parser: 'changes the engine',
};

/** Statements that are not a query: they write files, attach databases, load code or change settings. */
const STATEMENTS: Record<string, string> = {
  copy: 'writes or reads a file',
  export: 'writes files',
  import: 'reads files',
  attach: 'opens another database file',
  detach: 'changes the attached databases',
  install: 'downloads an extension',
  force: 'downloads an extension',
  load: 'loads an extension (or a file)',
  pragma: 'changes settings or reads engine state',
  set: 'changes a setting',
  reset: 'changes a setting',
  call: 'runs a procedure',
  use: 'changes the default database',
  create: 'creates objects (secrets, tables, macros)',
  drop: 'drops objects',
  alter: 'changes objects',
  insert: 'writes data',
  update: 'writes data',
  delete: 'writes data',
  merge: 'writes data',
  truncate: 'deletes data',
  checkpoint: 'changes the database',
  vacuum: 'changes the database',
  add: 'adds a file or jar (Spark)',
  refresh: 'reads files (Spark)',
  msck: 'reads files (Spark)',
  cache: 'caches a table (Spark)',
  uncache: 'changes the cache (Spark)',
  analyze: 'writes statistics',
  grant: 'changes permissions',
  revoke: 'changes permissions',
};
/** How a query may start (DESCRIBE, SHOW and SUMMARIZE only read). */
const QUERY_STARTS = new Set(['select', 'with', 'values', 'table', 'from', '(', 'describe', 'show', 'summarize']);

/** Spark's `<format>.\`path\`` reads a file as a table. */
const SPARK_SOURCES = new Set(['json', 'parquet', 'csv', 'text', 'orc', 'avro', 'binaryfile', 'delta', 'jdbc', 'hive', 'libsvm', 'image', 'xml']);

/** Words after which a FROM list ends (at the same parenthesis depth). */
const CLAUSE_ENDS = new Set([
  'where', 'group', 'having', 'order', 'limit', 'offset', 'fetch', 'union', 'intersect', 'except', 'minus',
  'window', 'qualify', 'select', 'sort', 'cluster', 'distribute', 'pivot', 'unpivot',
]);
/** Calls whose arguments use FROM without a table: extract(year FROM x), trim(' ' FROM x), ... */
const FROM_CALLS = new Set(['extract', 'trim', 'btrim', 'ltrim', 'rtrim', 'substring', 'substr', 'overlay', 'position', 'date_part']);
/** Words that may stand before a table in a FROM list. */
const TABLE_PREFIXES = new Set(['lateral', 'only']);

const SIMPLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

interface Located extends Token {
  offset: number;
}

function significant(sql: string, backslashEscapes: boolean): Located[] {
  const out: Located[] = [];
  let offset = 0;
  for (const t of tokenize(sql, { backslashEscapes })) {
    if (t.kind !== 'ws' && t.kind !== 'comment') out.push({ ...t, offset });
    offset += t.text.length;
  }
  return out;
}

function lineCol(sql: string, offset: number): { line: number; col: number } {
  const before = sql.slice(0, offset).split('\n');
  return { line: before.length, col: before[before.length - 1].length + 1 };
}

/** The unquoted name of a word or quoted-identifier token. */
function nameOf(t: Located): string {
  if (t.kind === 'word') return t.text.toLowerCase();
  if (t.kind === 'quoted') return t.text.slice(1, -1).replaceAll(t.text[0] + t.text[0], t.text[0]).toLowerCase();
  return '';
}

const isOp = (t: Located | undefined, text: string) => !!t && t.kind === 'op' && t.text === text;
const isWord = (t: Located | undefined, word: string) => !!t && t.kind === 'word' && t.text.toLowerCase() === word;
const short = (s: string) => (s.length > 40 ? `${s.slice(0, 37)}...` : s);

function check(sql: string, role: SqlRole, backslashEscapes: boolean): Array<{ offset: number; message: string }> {
  const ts = significant(sql, backslashEscapes);
  const found: Array<{ offset: number; message: string }> = [];
  const at = (t: Located, message: string) => found.push({ offset: t.offset, message });

  // One statement, and for a query one that starts like a query.
  const semi = ts.findIndex((t) => isOp(t, ';'));
  if (semi >= 0 && semi < ts.length - 1) at(ts[semi + 1], 'only one statement is allowed: nothing may follow ";"');
  // EXPLAIN [ANALYZE] runs what follows it: that must be a query too.
  let start = 0;
  if (role === 'query' && isWord(ts[0], 'explain')) start = isWord(ts[1], 'analyze') ? 2 : 1;
  if (role === 'query' && ts.length > start) {
    const first = ts[start];
    const word = first.kind === 'word' ? first.text.toLowerCase() : first.text;
    if (!QUERY_STARTS.has(word)) {
      const why = STATEMENTS[word];
      at(first, why ? `${first.text.toUpperCase()} ${why}: a query must be one SELECT statement` : `a query must be one SELECT statement, not "${short(first.text)}"`);
    }
  }

  // Per parenthesis depth: the call it belongs to (if any) and whether a FROM list is open there.
  const scopes: Array<{ call?: string; from: boolean }> = [{ from: false }];
  let expectTable = false;
  for (let i = 0; i < ts.length; i++) {
    const t = ts[i];
    const prev = ts[i - 1];
    const scope = scopes[scopes.length - 1];

    // A call: name( ... ), also qualified (main.read_text) or quoted ("read_text").
    if ((t.kind === 'word' || t.kind === 'quoted') && isOp(ts[i + 1], '(')) {
      const name = nameOf(t);
      if (FILE_FUNCTIONS.has(name) || FILE_FUNCTION_PREFIXES.some((p) => name.startsWith(p))) {
        at(t, `${name}() reads files: only the lake's tables may be read, by name`);
      } else if (ENGINE_FUNCTIONS[name]) at(t, `${name}() ${ENGINE_FUNCTIONS[name]}: not allowed in pipeline SQL`);
    }

    if (expectTable) {
      expectTable = false;
      if (t.kind === 'word' && TABLE_PREFIXES.has(t.text.toLowerCase())) {
        expectTable = true;
        continue;
      }
      if (t.kind === 'string') {
        at(t, `${short(t.text)} used as a table reads a file: name a table of the lake instead`);
        continue;
      }
      if (!(t.kind === 'word' || t.kind === 'quoted' || isOp(t, '('))) {
        at(t, `"${short(t.text)}" cannot stand where a table is named: name a table of the lake`);
        continue;
      }
      if (t.kind === 'word' || t.kind === 'quoted') {
        // The whole dotted name: a."b".`c`
        const parts: Located[] = [t];
        while (isOp(ts[i + 1], '.') && (ts[i + 2]?.kind === 'word' || ts[i + 2]?.kind === 'quoted')) {
          parts.push(ts[i + 2]);
          i += 2;
        }
        if (parts.length === 2 && parts[1].kind === 'quoted' && SPARK_SOURCES.has(nameOf(parts[0]))) {
          at(t, `${parts[0].text}.${short(parts[1].text)} reads a file (Spark's <format>.\`path\`): name a table of the lake instead`);
        } else {
          const bad = parts.find((p) => p.kind === 'quoted' && !SIMPLE_NAME.test(nameOf(p)));
          if (bad) at(bad, `${short(bad.text)} used as a table reads a file: name a table of the lake instead`);
        }
        continue;
      }
    }

    if (isOp(t, '(')) {
      const call = prev && (prev.kind === 'word' || prev.kind === 'quoted') ? nameOf(prev) : undefined;
      scopes.push({ call, from: false });
    } else if (isOp(t, ')')) {
      if (scopes.length > 1) scopes.pop();
    } else if (isWord(t, 'from')) {
      // Not a table: IS [NOT] DISTINCT FROM, and the FROM inside extract(...), trim(...), ...
      if (!isWord(prev, 'distinct') && !(scope.call && FROM_CALLS.has(scope.call))) {
        scope.from = true;
        expectTable = true;
      }
    } else if (isWord(t, 'join')) {
      scope.from = true;
      expectTable = true;
    } else if (isOp(t, ',') && scope.from) {
      expectTable = true;
    } else if (t.kind === 'word' && CLAUSE_ENDS.has(t.text.toLowerCase())) {
      // (Not ON or USING: `FROM a JOIN b ON a.x = b.x, c` goes on listing tables.)
      scope.from = false;
    } else if (isWord(t, 'using') && ts[i + 1]?.kind === 'string') {
      at(t, "USING '...' runs a command (Spark's TRANSFORM ... USING): not allowed in pipeline SQL");
    }
  }
  return found;
}

/**
 * What SQL from pipeline.yaml (or ad-hoc SQL run sandboxed) may not do, each at its line and
 * column within `sql`, first position first.
 */
export function accessFindings(sql: string, role: SqlRole): AccessFinding[] {
  const seen = new Map<string, { offset: number; message: string }>();
  for (const f of [...check(sql, role, false), ...check(sql, role, true)]) seen.set(`${f.offset}\0${f.message}`, f);
  return [...seen.values()].sort((a, b) => a.offset - b.offset).map((f) => ({ ...lineCol(sql, f.offset), message: f.message }));
}
