/**
 * The live progress of a run or build on stderr (stdout keeps the summary and query results).
 * On a terminal: a cli-progress display, one line per stream (records, requests, pages, waits and
 * their reason, ETA when the total is known) and one for the table build. Otherwise (CI, Lambda
 * logs, a pipe): plain `progress:` lines, at most one per `everyMs` (and one at once for a wait
 * that long), so a long run says what it does without flooding its log.
 */
import { MultiBar, type SingleBar } from 'cli-progress';
import type { ProgressEvent, ProgressListener } from '../progress.ts';
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

interface StreamLine {
  stream: string;
  records: number;
  requests: number;
  pages: number;
  total?: number;
  started: number;
  waitedMs: number;
  /** The current wait's text, until the next request. */
  waiting?: string;
  status?: string;
  bar?: SingleBar;
}

interface TablesLine {
  tables: string[];
  done: number;
  rows: number;
  current?: string;
  /** The table built last and its rows. */
  built?: string;
  started: number;
  bar?: SingleBar;
}

const secs = (ms: number) => (ms >= 10_000 ? `${Math.round(ms / 1000)} s` : `${(ms / 1000).toFixed(1)} s`);

function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return s < 60 ? `${s}s` : s < 3600 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** `records 120/400 (30%), 7 requests, 7 pages, waited 60 s, ETA 2m10s` for one stream. */
export function streamText(s: StreamLine, now: number): string {
  const parts = [s.total !== undefined ? `${s.records}/${s.total} records (${s.total ? Math.min(100, Math.floor((100 * s.records) / s.total)) : 100}%)` : `${s.records} records`];
  // A stream read from files (an export) sends no requests: no counts of them.
  if (s.requests || s.pages) parts.push(`${s.requests} request${s.requests === 1 ? '' : 's'}`, `${s.pages} page${s.pages === 1 ? '' : 's'}`);
  if (s.waiting) parts.push(s.waiting);
  else if (s.waitedMs >= 1000) parts.push(`waited ${secs(s.waitedMs)}`);
  if (s.status) parts.push(s.status);
  else if (s.total !== undefined && s.records > 0 && s.records < s.total) {
    const elapsed = now - s.started;
    parts.push(`ETA ${duration((elapsed / s.records) * (s.total - s.records))}`);
  }
  return parts.join(', ');
}

function tablesText(t: TablesLine, now: number): string {
  const head = `${t.done}/${t.tables.length} tables, ${t.rows} rows`;
  if (t.current) return `${head}, building ${t.current} (${duration(now - t.started)})`;
  return t.built ? `${head}, built ${t.built}` : head;
}

function bar(fraction: number | undefined, width = 20): string {
  if (fraction === undefined) return ' '.repeat(width);
  const n = Math.max(0, Math.min(width, Math.round(fraction * width)));
  return '█'.repeat(n) + '░'.repeat(width - n);
}

export function createReporter(o: ProgressOptions): Reporter {
  const now = o.now ?? Date.now;
  const streams = new Map<string, StreamLine>();
  let current: StreamLine | undefined;
  let tables: TablesLine | undefined;
  const safe = (s: string) => terminalSafe(redact(s));

  if (o.mode === 'off') {
    return { listener: () => undefined, log: (line) => o.out.write(safe(line) + '\n'), stop: () => undefined };
  }

  if (o.mode === 'tty') {
    const multi = new MultiBar({
      stream: o.out,
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
      gracefulExit: false,
      autopadding: false,
      linewrap: false,
      format: (_opts, _params, payload: { name: string; text: () => string; fraction: () => number | undefined }) =>
        safe(`${payload.name.padEnd(22)} ${bar(payload.fraction())} ${payload.text()}`),
    });
    const name = (s: string) => (s.length > 22 ? `${s.slice(0, 21)}…` : s);
    const stopped = { yes: false };
    let bars = 0;
    // A second Ctrl-C exits at once, past stop(): the cursor and line wrapping must come back.
    const restore = () => {
      if (!stopped.yes && bars) o.out.write('\x1b[?25h\x1b[?7h\n');
    };
    process.once('exit', restore);
    const listener: ProgressListener = (e) => {
      if (stopped.yes) return;
      applyEvent(e);
      if (e.type === 'stream-start') {
        const s = current!;
        bars++;
        s.bar = multi.create(1, 0, {
          name: name(s.stream),
          text: () => streamText(s, now()),
          fraction: () => (s.total ? s.records / s.total : s.status ? 1 : undefined),
        });
      } else if (e.type === 'tables-start') {
        const t = tables!;
        bars++;
        t.bar = multi.create(1, 0, { name: 'transform', text: () => tablesText(t, now()), fraction: () => (t.tables.length ? t.done / t.tables.length : 1) });
      }
      // The display redraws itself (10 times a second) from this state: nothing more per event.
    };
    return {
      listener,
      log: (line) => (stopped.yes || !bars ? o.out.write(safe(line) + '\n') : multi.log(safe(line) + '\n')),
      stop: () => {
        if (stopped.yes) return;
        stopped.yes = true;
        process.off('exit', restore);
        if (!bars) return;
        multi.update(); // flushes log lines still buffered
        multi.stop();
      },
    };
  }

  // Plain lines: at most one per everyMs (the first after everyMs: a short run prints none), on
  // pages, stream ends and tables; a wait that long at once.
  let last = now();
  const print = (line: string) => {
    last = now();
    o.out.write(safe(`progress: ${line}`) + '\n');
  };
  const due = () => now() - last >= o.everyMs;
  let timer: NodeJS.Timeout | undefined;
  if (o.everyMs >= 1000) {
    // A stream that sleeps or a table that builds for minutes still gets its line.
    timer = setInterval(() => {
      if (!due()) return;
      if (tables?.current) print(`transform ${tablesText(tables, now())}`);
      else if (current && !current.status) print(`${current.stream} ${streamText(current, now())}`);
    }, Math.min(o.everyMs, 10_000));
    timer.unref();
  }
  const listener: ProgressListener = (e) => {
    applyEvent(e);
    if (e.type === 'wait' && current && e.ms >= Math.max(o.everyMs, 1000)) print(`${current.stream} ${current.waiting!}`);
    else if ((e.type === 'page' || e.type === 'stream-end') && current && due()) print(`${current.stream} ${streamText(current, now())}`);
    else if (e.type === 'record' && current && current.records % 1000 === 0 && due()) print(`${current.stream} ${streamText(current, now())}`);
    else if (e.type === 'table-end' && tables && due()) print(`transform ${tablesText(tables, now())}`);
  };
  return {
    listener,
    log: (line) => o.out.write(safe(line) + '\n'),
    stop: () => {
      if (timer) clearInterval(timer);
    },
  };

  /** Updates the lines' state from one event. */
  function applyEvent(e: ProgressEvent): void {
    switch (e.type) {
      case 'stream-start':
        current = { stream: e.stream, records: 0, requests: 0, pages: 0, total: e.total, started: now(), waitedMs: 0 };
        streams.set(e.stream, current);
        break;
      case 'stream-total':
        if (current) current.total = (current.total ?? 0) + e.add;
        break;
      case 'record':
        if (current) current.records++;
        break;
      case 'request':
        if (current) {
          current.requests++;
          current.waiting = undefined;
        }
        break;
      case 'page':
        if (current) current.pages++;
        break;
      case 'wait':
        if (current) {
          current.waitedMs += e.ms;
          current.waiting = `waiting ${secs(e.ms)} (${e.reason})`;
        }
        break;
      case 'stream-end':
        if (current) {
          current.waiting = undefined;
          current.status = `${e.status} in ${secs(now() - current.started)}`;
          if (current.total !== undefined && e.status === 'ok') current.total = Math.max(current.total, current.records);
        }
        break;
      case 'tables-start':
        tables = { tables: e.tables, done: 0, rows: 0, started: now() };
        break;
      case 'table-start':
        if (tables) {
          tables.current = e.table;
          tables.started = now();
        }
        break;
      case 'table-end':
        if (tables) {
          tables.done++;
          tables.rows += e.rows;
          tables.current = undefined;
          tables.built = `${e.table} (${e.rows} rows)`;
        }
        break;
      case 'tables-end':
        if (tables) tables.current = undefined;
        break;
    }
  }
}
