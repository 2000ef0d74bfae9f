/**
 * Live progress of a run, as events: the engine (streams, records), the HTTP client (requests,
 * pages, waits) and the table build emit them; a reporter in core/cli draws them (a display on a
 * terminal, periodic plain lines otherwise). A leaf module: types only, so every layer may use it.
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
