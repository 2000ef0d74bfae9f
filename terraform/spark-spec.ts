/**
 * The content of each table's spec object for the Glue job. core/transform's `sparkJobSpec(name,
 * spec)` (the table's Spark SQL plus its spec) is used when core exports it; until then the
 * object holds the table declaration from pipeline.yaml, and the plan summary says so.
 */
import { existsSync } from 'node:fs';
import type { TableSpec } from '../core/config/types.ts';

export type SparkJobSpecFn = (name: string, spec: TableSpec) => unknown;

async function load(): Promise<SparkJobSpecFn | undefined> {
  // jobspec.ts first: core/transform/index.ts also loads DuckDB, which synth does not need.
  for (const rel of ['../core/transform/jobspec.ts', '../core/transform/index.ts']) {
    const url = new URL(rel, import.meta.url);
    if (!existsSync(url)) continue;
    try {
      const m = (await import(url.href)) as { sparkJobSpec?: unknown };
      if (typeof m.sparkJobSpec === 'function') return m.sparkJobSpec as SparkJobSpecFn;
    } catch {
      // a module that does not load yet (work in progress) is the same as a missing one
    }
  }
  return undefined;
}

export const sparkJobSpec: SparkJobSpecFn | undefined = await load();

/** The spec object's text for one table. */
export function specObject(fn: SparkJobSpecFn | undefined, name: string, spec: TableSpec): string {
  if (!fn) return JSON.stringify({ table: name, spec, sql: null }, null, 2) + '\n';
  const v = fn(name, spec);
  return typeof v === 'string' ? v : JSON.stringify(v, null, 2) + '\n';
}
