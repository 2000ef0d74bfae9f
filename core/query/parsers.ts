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

function checker(parser: Parser): SqlChecker {
  return {
    errors: (sql) => parser.validate(sql).map((e) => ({ line: e.startLine, col: e.startColumn, message: e.message })),
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
