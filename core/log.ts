/**
 * Logging with secret redaction. Every secret value the engine resolves is registered here, so
 * no log line or error message printed through this module can carry it.
 */
import type { Logger } from './plugin-api.ts';
import { redact, registerSecret } from './redact.ts';
import { terminalSafe } from './terminal.ts';

export { redact, registerSecret };

export type LogLevel = 'debug' | 'info' | 'warn' | 'quiet';
const order: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, quiet: 3 };

export interface LogSink {
  (level: 'debug' | 'info' | 'warn', line: string): void;
}

/** Log lines carry data (API messages, names): control characters in them reach stderr as escapes. */
const stderrSink: LogSink = (_level, line) => process.stderr.write(terminalSafe(line) + '\n');

export function createLogger(opts: { level?: LogLevel; prefix?: string; sink?: LogSink } = {}): Logger {
  const min = order[opts.level ?? 'info'];
  const sink = opts.sink ?? stderrSink;
  const emit = (level: 'debug' | 'info' | 'warn', msg: string) => {
    if (order[level] < min) return;
    const tag = level === 'warn' ? 'warning: ' : '';
    sink(level, redact(`${opts.prefix ? `[${opts.prefix}] ` : ''}${tag}${msg}`));
  };
  return {
    info: (m) => emit('info', m),
    warn: (m) => emit('warn', m),
    debug: (m) => emit('debug', m),
  };
}

/** A logger that keeps lines in memory (tests, conformance checks) and can forward them. */
export function memoryLogger(forward?: Logger): Logger & { lines: string[] } {
  const lines: string[] = [];
  const rec = (level: string) => (m: string) => {
    const line = redact(`${level}: ${m}`);
    lines.push(line);
    if (forward) (forward as unknown as Record<string, (m: string) => void>)[level](m);
  };
  return { lines, info: rec('info'), warn: rec('warn'), debug: rec('debug') };
}
