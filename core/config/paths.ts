/**
 * Key paths into pipeline.yaml. Messages show them as `streams.plays.endpoint` and
 * `tables.plays.partition_by[0].from`; code works on segment arrays so list indices stay numbers.
 */
export type Segment = string | number;

export function formatPath(segments: readonly Segment[]): string {
  let out = '';
  for (const s of segments) {
    if (typeof s === 'number') out += `[${s}]`;
    else out += out === '' ? s : `.${s}`;
  }
  return out;
}

/** Accepts `a.b[0].c` and `a.b.0.c` (plugins may write either). */
export function parsePath(path: string): Segment[] {
  const out: Segment[] = [];
  for (const m of path.matchAll(/\[(\d+)\]|([^.[\]]+)/g)) {
    if (m[1] !== undefined) out.push(Number(m[1]));
    else if (/^\d+$/.test(m[2])) out.push(Number(m[2]));
    else out.push(m[2]);
  }
  return out;
}

/** Ajv reports JSON pointers (`/streams/plays/ids/0`); indices become numbers where the data is a list. */
export function pointerToSegments(pointer: string, data: unknown): Segment[] {
  if (pointer === '') return [];
  const out: Segment[] = [];
  let cur: unknown = data;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(cur) && /^\d+$/.test(key)) {
      out.push(Number(key));
      cur = cur[Number(key)];
    } else {
      out.push(key);
      cur = cur !== null && typeof cur === 'object' ? (cur as Record<string, unknown>)[key] : undefined;
    }
  }
  return out;
}

export function valueAt(data: unknown, segments: readonly Segment[]): unknown {
  let cur = data;
  for (const s of segments) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[s as string];
  }
  return cur;
}
