/**
 * SQL syntax checkers (dt-sql-parser's ANTLR grammars), loaded on first use: the grammars take a
 * few hundred milliseconds to load, which only `validate`, `transform --explain` and tests pay.
 * Only the two grammars needed are imported; the package's index would load all eight.
 */
export interface SqlSyntaxError {
  /** 1-based, within the checked text. */
  line: number;
  col: number;
  message: string;
}

export interface SqlChecker {
  errors(sql: string): SqlSyntaxError[];
}

interface Parser {
  validate(sql: string): Array<{ startLine: number; startColumn: number; message: string }>;
}

/**
 * Brackets nested deeper than this are refused before parsing: ANTLR's prediction on thousands of
 * open parentheses takes minutes and ends in a stack overflow (found by the config fuzzer), and no
 * hand-written query comes near it.
 */
export const MAX_SQL_NESTING = 64;

/** Where brackets (outside quotes and comments) first nest deeper than `max`, if they do. */
export function tooDeep(sql: string, max = MAX_SQL_NESTING): SqlSyntaxError | undefined {
  let depth = 0;
  let line = 1;
  let col = 0;
  for (let i = 0; i < sql.length; i++) {
    const ch = sql[i];
    col++;
    if (ch === '\n') {
      line++;
      col = 0;
    } else if (ch === "'" || ch === '"' || ch === '`') {
      // A quoted string or identifier (a doubled quote inside it is two quotes: same result).
      const end = sql.indexOf(ch, i + 1);
      const stop = end < 0 ? sql.length : end;
      for (let j = i + 1; j < stop; j++) {
        if (sql[j] === '\n') {
          line++;
          col = 0;
        } else col++;
      }
      col++;
      i = stop;
    } else if (ch === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      i = (end < 0 ? sql.length : end) - 1;
    } else if (ch === '(' || ch === '[' || ch === '{') {
      if (++depth > max) return { line, col, message: `brackets nested more than ${max} deep: simplify the expression` };
    } else if (ch === ')' || ch === ']' || ch === '}') depth--;
  }
  return undefined;
}

function checker(parser: Parser): SqlChecker {
  return {
    errors: (sql) => {
      const deep = tooDeep(sql);
      if (deep) return [deep];
      return parser.validate(sql).map((e) => ({ line: e.startLine, col: e.startColumn, message: e.message }));
    },
  };
}

let spark: Promise<SqlChecker> | undefined;
let trino: Promise<SqlChecker> | undefined;

/** Spark SQL (the dialect of the Glue job). */
export function sparkChecker(): Promise<SqlChecker> {
  return (spark ??= import('dt-sql-parser/dist/parser/spark/index.js').then((m) => checker(new m.SparkSQL())));
}

/** Trino SQL (the dialect of Athena and of the named queries). */
export function trinoChecker(): Promise<SqlChecker> {
  return (trino ??= import('dt-sql-parser/dist/parser/trino/index.js').then((m) => checker(new m.TrinoSQL())));
}
