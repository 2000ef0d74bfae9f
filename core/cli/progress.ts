/**
 * The live progress of a run or build on stderr (stdout keeps the summary and query results).
 * On a terminal: a cli-progress display, one line per stream (records, requests, pages, waits and
 * their reason, ETA when the total is known) and one for the table build. Otherwise (CI, a pipe):
 * the plain `progress:` lines of core/progress.ts, so a long run says what it does without
 * flooding its log.
 */
import { MultiBar } from 'cli-progress';
import { plainProgress, ProgressState, streamText, tablesText, type ProgressListener, type StreamLine, type TablesLine } from '../progress.ts';
import { terminalSafe } from '../terminal.ts';
import { redact } from '../log.ts';

export type ProgressMode = 'tty' | 'plain' | 'off';

export interface ProgressOptions {
  mode: ProgressMode;
  /** Where it writes (stderr). */
  out: NodeJS.WritableStream;
  /** Plain mode: the least time between two lines (0: a line at every page, table and stream end). */
  everyMs: number;
  now?: () => number;
}

export interface Reporter {
  listener: ProgressListener;
  /** Prints a log line without breaking the display. */
  log(line: string): void;
  /** Draws the final state and lets go of the terminal; call before printing the summary. */
  stop(): void;
}

/** The mode for this process: the display on a terminal (not TERM=dumb), plain lines otherwise. */
export function progressMode(stream: NodeJS.WriteStream, enabled = true, term = process.env.TERM): ProgressMode {
  if (!enabled) return 'off';
  return stream.isTTY && term !== 'dumb' ? 'tty' : 'plain';
}

function bar(fraction: number | undefined, width = 20): string {
  if (fraction === undefined) return ' '.repeat(width);
  const n = Math.max(0, Math.min(width, Math.round(fraction * width)));
  return '█'.repeat(n) + '░'.repeat(width - n);
}

interface Payload {
  name: string;
  text: () => string;
  fraction: () => number | undefined;
}

export function createReporter(o: ProgressOptions): Reporter {
  const safe = (s: string) => terminalSafe(redact(s));
  const write = (line: string) => o.out.write(safe(line) + '\n');
  if (o.mode === 'off') return { listener: () => undefined, log: write, stop: () => undefined };
  if (o.mode === 'plain') {
    const plain = plainProgress({ write, everyMs: o.everyMs, now: o.now });
    return { listener: plain.listener, log: write, stop: () => plain.stop() };
  }

  const state = new ProgressState(o.now);
  const multi = new MultiBar({
    stream: o.out,
    hideCursor: true,
    clearOnComplete: false,
    stopOnComplete: false,
    gracefulExit: false,
    autopadding: false,
    linewrap: false,
    format: (_opts, _params, p: Payload) => safe(`${p.name.padEnd(22)} ${bar(p.fraction())} ${p.text()}`),
  });
  const name = (s: string) => (s.length > 22 ? `${s.slice(0, 21)}…` : s);
  let stopped = false;
  let bars = 0;
  // A second Ctrl-C exits at once, past stop(): the cursor and line wrapping must come back.
  const restore = () => {
    if (!stopped && bars) o.out.write('\x1b[?25h\x1b[?7h\n');
  };
  process.once('exit', restore);
  const listener: ProgressListener = (e) => {
    if (stopped) return;
    state.apply(e);
    // The display redraws itself (10 times a second) from the state: a new line per stream and
    // one for the build; nothing more per event.
    if (e.type === 'stream-start') {
      const s: StreamLine = state.current!;
      bars++;
      multi.create(1, 0, { name: name(s.stream), text: () => streamText(s, state.now()), fraction: () => (s.total ? s.records / s.total : s.status ? 1 : undefined) } satisfies Payload);
    } else if (e.type === 'tables-start') {
      const t: TablesLine = state.tables!;
      bars++;
      multi.create(1, 0, { name: 'transform', text: () => tablesText(t, state.now()), fraction: () => (t.tables.length ? t.done / t.tables.length : 1) } satisfies Payload);
    }
  };
  return {
    listener,
    log: (line) => (stopped || !bars ? write(line) : multi.log(safe(line) + '\n')),
    stop: () => {
      if (stopped) return;
      stopped = true;
      process.off('exit', restore);
      if (!bars) return;
      multi.update(); // flushes log lines still buffered
      multi.stop();
    },
  };
}
