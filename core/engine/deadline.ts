/**
 * A run's deadline: a signal that aborts with StopRun a margin before a time limit, so the engine
 * stops reading, commits what it read (data, then the state covering it) and the next run resumes
 * where this one stopped. The Lambda extractor uses it at its invocation deadline, the CLI for
 * `run --time-limit`. The margin never takes more than half of the time (short limits).
 */
import { StopRun } from '../errors.ts';

export interface Deadline {
  readonly signal: AbortSignal;
  /** Cancels the timer (the run ended first). */
  clear(): void;
}

export function deadlineSignal(limitMs: number, marginMs: number, says: (marginSeconds: number) => string): Deadline {
  const ac = new AbortController();
  const stopIn = Math.max(0, limitMs - Math.min(marginMs, limitMs / 2));
  const timer = setTimeout(() => ac.abort(new StopRun(says(Math.round((limitMs - stopIn) / 1000)))), stopIn);
  return { signal: ac.signal, clear: () => clearTimeout(timer) };
}
