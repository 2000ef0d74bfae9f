/**
 * Live progress of a run, as events: the engine (streams, records), the HTTP client (requests,
 * pages, waits) and the table build emit them; a reporter in core/cli draws them (a display on a
 * terminal, periodic plain lines otherwise). A leaf module (it imports nothing), so every layer
 * may use it: the plain-line reporter is here too (the Lambda logs it); the terminal display, which
 * needs cli-progress, is core/cli/progress.ts.
 */

export type ProgressEvent =
  /** A stream starts; `total` is the records it is expected to yield, when known (ids to fetch). */
  | { type: 'stream-start'; stream: string; endpoint: string; total?: number }
  /** The stream learned (more of) its expected total, e.g. an offset page's `total`. */
  | { type: 'stream-total'; stream: string; add: number }
  | { type: 'record'; stream: string }
  | { type: 'stream-end'; stream: string; status: 'ok' | 'partial' | 'failed' }
  /** One HTTP request sent (retries included); `label` is the endpoint's label. */
  | { type: 'request'; label: string }
  /** One successful response: a page read. */
  | { type: 'page'; label: string }
  /** The client sleeps `ms` before the next request, and why (Retry-After, backoff, rate limit). */
  | { type: 'wait'; ms: number; reason: string }
  | { type: 'tables-start'; tables: string[] }
  | { type: 'table-start'; table: string }
  | { type: 'table-end'; table: string; rows: number }
  | { type: 'tables-end' };

export type ProgressListener = (e: ProgressEvent) => void;

/** What one stream's progress line shows. */
export interface StreamLine {
  stream: string;
  records: number;
  requests: number;
  pages: number;
  total?: number;
  started: number;
  waitedMs: number;
  /** The current wait's text, until the next request. */
  waiting?: string;
  /** Its outcome, once it ended: `ok in 2.1 s`. */
  status?: string;
}

/** What the table build's progress line shows. */
export interface TablesLine {
  tables: string[];
  done: number;
  rows: number;
  current?: string;
  /** The table built last and its rows. */
  built?: string;
  started: number;
}

const secs = (ms: number) => (ms >= 10_000 ? `${Math.round(ms / 1000)} s` : `${(ms / 1000).toFixed(1)} s`);

function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return s < 60 ? `${s}s` : s < 3600 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** `120/400 records (30%), 7 requests, 7 pages, waited 60 s, ETA 2m10s` for one stream. */
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

/** `2/5 tables, 1499 rows, building tracks (3s)`. */
export function tablesText(t: TablesLine, now: number): string {
  const head = `${t.done}/${t.tables.length} tables, ${t.rows} rows`;
  if (t.current) return `${head}, building ${t.current} (${duration(now - t.started)})`;
  return t.built ? `${head}, built ${t.built}` : head;
}

/** The state the events build up: the current stream's line (streams run one after another) and the build's. */
export class ProgressState {
  current?: StreamLine;
  tables?: TablesLine;
  constructor(readonly now: () => number = Date.now) {}

  apply(e: ProgressEvent): void {
    const s = this.current;
    const t = this.tables;
    switch (e.type) {
      case 'stream-start':
        this.current = { stream: e.stream, records: 0, requests: 0, pages: 0, total: e.total, started: this.now(), waitedMs: 0 };
        break;
      case 'stream-total':
        if (s) s.total = (s.total ?? 0) + e.add;
        break;
      case 'record':
        if (s) s.records++;
        break;
      case 'request':
        if (s) {
          s.requests++;
          s.waiting = undefined;
        }
        break;
      case 'page':
        if (s) s.pages++;
        break;
      case 'wait':
        if (s) {
          s.waitedMs += e.ms;
          s.waiting = `waiting ${secs(e.ms)} (${e.reason})`;
        }
        break;
      case 'stream-end':
        if (s) {
          s.waiting = undefined;
          s.status = `${e.status} in ${secs(this.now() - s.started)}`;
          if (s.total !== undefined && e.status === 'ok') s.total = Math.max(s.total, s.records);
        }
        break;
      case 'tables-start':
        this.tables = { tables: e.tables, done: 0, rows: 0, started: this.now() };
        break;
      case 'table-start':
        if (t) {
          t.current = e.table;
          t.started = this.now();
        }
        break;
      case 'table-end':
        if (t) {
          t.done++;
          t.rows += e.rows;
          t.current = undefined;
          t.built = `${e.table} (${e.rows} rows)`;
        }
        break;
      case 'tables-end':
        if (t) t.current = undefined;
        break;
    }
  }
}

/**
 * Progress as plain `progress: ...` lines (CI, a pipe, Lambda logs): at most one per `everyMs`
 * (the first only after that long, so a short run prints none), on pages, stream ends, every
 * 1000th record and tables; a wait that long at once; with `everyMs` of 1 s or more, a timer
 * also reports a stream that sleeps or a table that builds for minutes. `stop()` ends the timer.
 */
export function plainProgress(o: { write: (line: string) => void; everyMs: number; now?: () => number }): { listener: ProgressListener; stop(): void } {
  const state = new ProgressState(o.now);
  const now = state.now;
  let last = now();
  const print = (line: string) => {
    last = now();
    o.write(`progress: ${line}`);
  };
  const due = () => now() - last >= o.everyMs;
  const streamLine = () => state.current && print(`${state.current.stream} ${streamText(state.current, now())}`);
  let timer: ReturnType<typeof setInterval> | undefined;
  if (o.everyMs >= 1000) {
    timer = setInterval(() => {
      if (!due()) return;
      if (state.tables?.current) print(`transform ${tablesText(state.tables, now())}`);
      else if (state.current && !state.current.status) streamLine();
    }, Math.min(o.everyMs, 10_000));
    timer.unref();
  }
  const listener: ProgressListener = (e) => {
    state.apply(e);
    const s = state.current;
    if (e.type === 'wait' && s && e.ms >= Math.max(o.everyMs, 1000)) print(`${s.stream} ${s.waiting!}`);
    else if ((e.type === 'page' || e.type === 'stream-end') && s && due()) streamLine();
    else if (e.type === 'record' && s && s.records % 1000 === 0 && due()) streamLine();
    else if (e.type === 'table-end' && state.tables && due()) print(`transform ${tablesText(state.tables, now())}`);
  };
  return { listener, stop: () => timer && clearInterval(timer) };
}
