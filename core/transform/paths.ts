/**
 * The column path language of pipeline.yaml: `a.b`, `a[0].b` (index), `a[].b` (every element).
 * Parsed once into segments so every SQL backend (DuckDB now, Spark SQL later) renders the same
 * meaning instead of re-parsing strings.
 */

export type PathSegment =
  | { kind: 'key'; name: string }
  | { kind: 'index'; index: number }
  /** `[]`: every element of the array (explode for a row per element, or collect into a list). */
  | { kind: 'each' };

export interface JsonPath {
  /** The text as written, for error messages. */
  text: string;
  segments: PathSegment[];
}

export class PathError extends Error {
  constructor(path: string, reason: string) {
    super(`invalid path "${path}": ${reason}`);
    this.name = 'PathError';
  }
}

/**
 * Parses a path. Keys are bare (`track.album.id`) or double-quoted when they hold dots,
 * brackets or spaces (`"a.b"."c d"`). An empty string is the value itself (useful after `[]`).
 */
export function parsePath(text: string): JsonPath {
  const segments: PathSegment[] = [];
  let i = 0;
  let expectKey = true; // at the start or after a dot a key must follow
  while (i < text.length) {
    const ch = text[i];
    if (ch === '[') {
      const end = text.indexOf(']', i);
      if (end < 0) throw new PathError(text, `unclosed "[" at ${i}`);
      const inner = text.slice(i + 1, end).trim();
      if (inner === '' || inner === '*') segments.push({ kind: 'each' });
      else if (/^\d+$/.test(inner)) segments.push({ kind: 'index', index: Number(inner) });
      else throw new PathError(text, `"[${inner}]" is neither an index nor []`);
      i = end + 1;
      expectKey = false;
    } else if (ch === '.') {
      if (expectKey) throw new PathError(text, `empty key at ${i}`);
      i++;
      expectKey = true;
      if (i >= text.length) throw new PathError(text, 'ends with "."');
    } else if (ch === '"') {
      if (!expectKey) throw new PathError(text, `missing "." before key at ${i}`);
      const end = text.indexOf('"', i + 1);
      if (end < 0) throw new PathError(text, `unclosed quote at ${i}`);
      const name = text.slice(i + 1, end);
      if (name === '') throw new PathError(text, 'empty quoted key');
      segments.push({ kind: 'key', name });
      i = end + 1;
      expectKey = false;
    } else {
      if (!expectKey) throw new PathError(text, `missing "." before key at ${i}`);
      let end = i;
      while (end < text.length && !'.["]'.includes(text[end])) end++;
      const name = text.slice(i, end).trim();
      if (name === '') throw new PathError(text, `empty key at ${i}`);
      segments.push({ kind: 'key', name });
      i = end;
      expectKey = false;
    }
  }
  return { text, segments };
}

/** Index of the `[]` segment, or -1. */
export function eachIndex(path: JsonPath): number {
  return path.segments.findIndex((s) => s.kind === 'each');
}

export function countEach(path: JsonPath): number {
  return path.segments.filter((s) => s.kind === 'each').length;
}

/** Splits at the (single) `[]`: the path of the array and the path inside each element. */
export function splitAtEach(path: JsonPath): { array: JsonPath; element: JsonPath } | undefined {
  const at = eachIndex(path);
  if (at < 0) return undefined;
  const array = path.segments.slice(0, at);
  const element = path.segments.slice(at + 1);
  return {
    array: { text: formatPath(array), segments: array },
    element: { text: formatPath(element), segments: element },
  };
}

/** Canonical text of segments; equal texts mean the same path. */
export function formatPath(segments: PathSegment[]): string {
  let out = '';
  for (const s of segments) {
    if (s.kind === 'index') out += `[${s.index}]`;
    else if (s.kind === 'each') out += '[]';
    else {
      const bare = /^[A-Za-z0-9_$-]+$/.test(s.name);
      out += (out === '' ? '' : '.') + (bare ? s.name : `"${s.name}"`);
    }
  }
  return out;
}

export function concatPaths(a: JsonPath, b: JsonPath): JsonPath {
  const segments = [...a.segments, ...b.segments];
  return { text: formatPath(segments), segments };
}

/**
 * A JSONPath string as DuckDB's json_extract (and Spark's get_json_object) accept: `$.a[0]."b c"`.
 * Paths with `[]` must be split first; they have no single-value rendering.
 */
export function toJsonPathString(path: JsonPath): string {
  let out = '$';
  for (const s of path.segments) {
    if (s.kind === 'index') out += `[${s.index}]`;
    else if (s.kind === 'each') throw new PathError(path.text, '[] cannot be rendered as a single JSON path');
    else {
      if (s.name.includes('"')) throw new PathError(path.text, 'keys may not contain double quotes');
      out += /^[A-Za-z_][A-Za-z0-9_]*$/.test(s.name) ? `.${s.name}` : `."${s.name}"`;
    }
  }
  return out;
}
