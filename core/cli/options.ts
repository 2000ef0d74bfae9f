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
