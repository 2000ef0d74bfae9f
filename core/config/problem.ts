/** What the config layer reports: problems with a file position, and the error that carries them. */
import { UserError } from '../errors.ts';

export interface Problem {
  /** The file as the user named it (relative paths stay relative). */
  file: string;
  /** 1-based; 0 when the problem is about the whole file (missing, unreadable). */
  line: number;
  col: number;
  /** Dot path of the key, e.g. `streams.plays.endpoint`; empty for the whole file. */
  path: string;
  message: string;
  severity: 'error' | 'warning';
}

/**
 * `pipeline.yaml:14:7 streams.plays.endpoint: unknown endpoint ...` (the compiler style editors
 * link). Severity is left to the caller, which knows whether it prints errors or warnings.
 */
export function formatProblem(p: Problem): string {
  const where = p.line > 0 ? `${p.file}:${p.line}:${p.col}` : p.file;
  // One line per problem, whatever the message quotes (a value from the file may hold line breaks).
  const message = p.message.replace(/\r?\n|\r/g, (b) => (b === '\r' ? '\\r' : '\\n'));
  return p.path ? `${where} ${p.path}: ${message}` : `${where}: ${message}`;
}

/**
 * All problems of a config at once, so a user fixes them in one pass. A UserError, so the CLI
 * prints the message alone and exits 2 like every other mistake a user can fix.
 */
export class ConfigError extends UserError {
  constructor(readonly problems: Problem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'ConfigError';
  }
}

export function sortProblems(problems: Problem[]): Problem[] {
  return [...problems].sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.col - b.col);
}

/** Throws a ConfigError with every error; returns the warnings for the caller to print. */
export function throwIfErrors(problems: Problem[]): Problem[] {
  const sorted = sortProblems(problems);
  const errors = sorted.filter((p) => p.severity === 'error');
  if (errors.length > 0) throw new ConfigError(errors);
  return sorted.filter((p) => p.severity === 'warning');
}
