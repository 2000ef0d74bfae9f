/**
 * References to another stream's field, as written in pipeline.yaml: `recently_played.track.artists.id`.
 * Arrays met on the way are flattened, so one reference may yield many values.
 */
export interface FieldRef {
  stream: string;
  path: string[];
}

export function parseFieldRef(ref: string): FieldRef {
  const [stream, ...rest] = ref.split('.');
  return { stream, path: rest.map((p) => p.replace(/\[\d*\]$/, '')) };
}

export function valuesAt(record: unknown, path: string[]): unknown[] {
  let current: unknown[] = [record];
  for (const key of path) {
    const next: unknown[] = [];
    for (const v of current) {
      if (Array.isArray(v)) {
        for (const el of v) if (el && typeof el === 'object') next.push((el as Record<string, unknown>)[key]);
      } else if (v && typeof v === 'object') {
        next.push((v as Record<string, unknown>)[key]);
      }
    }
    current = next.flatMap((v): unknown[] => (Array.isArray(v) ? v : [v]));
  }
  return current.filter((v) => v !== null && v !== undefined);
}
