/** Dot paths into JSON and `{name}` templates: how descriptors point at data. */
import type { JsonRecord } from '../plugin-api.ts';

/** The value at a dot path (`artists.items`); the whole value for an empty path. */
export function at(obj: unknown, path: string): unknown {
  if (!path) return obj;
  let cur = obj;
  for (const k of path.split('.')) cur = cur && typeof cur === 'object' ? (cur as JsonRecord)[k] : undefined;
  return cur;
}

/** The value at a path given as segments (a stream's `for_each` field). */
export function valueAt(record: JsonRecord, path: string[]): unknown {
  return path.reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as JsonRecord)[k] : undefined), record);
}

/** `{name}` in a template, URL-encoded, from `values`. */
export function fill(template: string, values: Record<string, string | number | undefined>): string {
  return template.replace(/\{(\w+)\}/g, (_m, k: string) => encodeURIComponent(String(values[k] ?? '')));
}

/** A JSON value as text: a scalar as `String` gives it, an object or list as its JSON (never "[object Object]"). */
export function textOf(v: unknown): string {
  switch (typeof v) {
    case 'string':
      return v;
    case 'object':
      return v === null ? 'null' : JSON.stringify(v);
    default: // number, boolean, bigint, undefined
      return String(v);
  }
}
