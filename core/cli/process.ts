/**
 * How the CLI process meets its surroundings: a reader that goes away (EPIPE), and Ctrl-C or a
 * `kill` during `run`.
 *
 * - stdout closed by its reader (`... | head`): the output ends quietly and the process exits 0;
 *   a command that registered a stop handler (`run`) first stops cleanly, as on Ctrl-C.
 * - SIGINT / SIGTERM during `run` (`stopOnSignals`): the run stops after what is complete is
 *   committed, no further included pipeline starts, and the command exits 130 (SIGINT) or 143
 *   (SIGTERM); a second signal exits at once with that code. Other commands keep Node's default:
 *   the signal ends them at once.
 */

export type StopReason = 'SIGINT' | 'SIGTERM' | 'EPIPE';

/** The exit code a stop ends a command with: 128 + the signal's number, as shells report it; 0 for a closed pipe. */
export const STOP_EXIT_CODE: Record<StopReason, number> = { SIGINT: 130, SIGTERM: 143, EPIPE: 0 };

const stopHandlers = new Set<(reason: StopReason) => void>();
let stdoutClosed = false;
let guarded = false;

/** Whether stdout's reader went away: output from now on is dropped. */
export function stdoutIsClosed(): boolean {
  return stdoutClosed;
}

/**
 * Installs, once per process, the handlers of a closed stdout (EPIPE) and stderr. Node otherwise
 * throws an unhandled 'error' event, a stack trace, for `spotify-pipeline transform | head`.
 */
export function guardOutput(exit: (code: number) => void = (code) => process.exit(code)): void {
  if (guarded) return;
  guarded = true;
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE' && e.code !== 'ERR_STREAM_DESTROYED') {
      // Any other failure to write results (a full disk) is no broken pipe: report it and fail.
      process.stderr.write(`error: cannot write the output: ${e.message}\n`);
      exit(1);
      return;
    }
    if (stdoutClosed) return;
    stdoutClosed = true;
    if (stopHandlers.size === 0) exit(STOP_EXIT_CODE.EPIPE);
    else for (const h of [...stopHandlers]) h('EPIPE');
  });
  // Nowhere left to say anything: a closed stderr must not crash the command.
  process.stderr.on('error', () => undefined);
}

export interface SignalStop {
  /** Aborted at the first stop request; hand it to the run. */
  readonly signal: AbortSignal;
  /** Why the command was asked to stop, if it was. */
  reason(): StopReason | undefined;
  /** Removes the handlers (the command ends). */
  dispose(): void;
}

/**
 * Turns the first SIGINT/SIGTERM (or a closed stdout) into a clean stop: `signal` aborts with
 * `abortWith(reason)` and `onStop` says so once; a second signal exits the process at once.
 */
export function stopOnSignals(opts: {
  abortWith: (reason: StopReason) => unknown;
  onStop?: (reason: StopReason) => void;
  exit?: (code: number) => void;
}): SignalStop {
  const ac = new AbortController();
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  let reason: StopReason | undefined;
  const stop = (r: StopReason) => {
    if (reason !== undefined) {
      // Asked twice: the user does not want to wait for the clean stop.
      if (r !== 'EPIPE') exit(STOP_EXIT_CODE[r]);
      return;
    }
    reason = r;
    opts.onStop?.(r);
    ac.abort(opts.abortWith(r));
  };
  const onInt = () => stop('SIGINT');
  const onTerm = () => stop('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  stopHandlers.add(stop);
  if (stdoutClosed) stop('EPIPE');
  return {
    signal: ac.signal,
    reason: () => reason,
    dispose() {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      stopHandlers.delete(stop);
    },
  };
}
