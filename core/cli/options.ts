/**
 * Parsers of option values: a value that is not what the option takes is a one-line error (exit 2)
 * naming the option, instead of a NaN that fails later with a stack trace.
 */
import { InvalidArgumentError } from 'commander';

/** An integer in [min, max]. */
export function integer(min: number, max: number, what = 'an integer'): (v: string) => number {
  return (v: string) => {
    const n = /^[+-]?\d+$/.test(v.trim()) ? Number(v) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) throw new InvalidArgumentError(`expected ${what} from ${min} to ${max}.`);
    return n;
  };
}

/** A TCP port: 0 (any free port) to 65535. */
export const port = integer(0, 65535, 'a port number');

/** A sandbox or data seed. */
export const seed = integer(0, 2 ** 32 - 1, 'a whole number');

/** A number greater than 0 (and finite). */
export function positive(what = 'a number'): (v: string) => number {
  return (v: string) => {
    const n = v.trim() === '' ? NaN : Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`expected ${what} greater than 0.`);
    return n;
  };
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A duration such as `90s`, `10m`, `1.5h` or `500ms` (a bare number is seconds), in milliseconds. */
export function duration(v: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(v.trim());
  const ms = m ? Number(m[1]) * DURATION_UNITS[m[2] ?? 's'] : NaN;
  // At most a week: a longer limit is a typo (and setTimeout overflows past 24.8 days).
  if (!Number.isFinite(ms) || ms <= 0 || ms > 7 * 24 * 3_600_000) throw new InvalidArgumentError('expected a duration such as 90s, 10m or 2h (greater than 0, at most a week).');
  return ms;
}

/** A comma-separated list of names (`a,b`); repeated options add up. */
export function nameList(v: string, previous: string[] = []): string[] {
  const names = v.split(',').map((x) => x.trim()).filter(Boolean);
  if (!names.length) throw new InvalidArgumentError('expected one or more names separated by commas.');
  return [...previous, ...names];
}
