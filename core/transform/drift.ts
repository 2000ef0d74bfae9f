/**
 * Schema drift of a table's raw data, reported (never acted on) after a build:
 * - a field that the newest run delivers, earlier runs did not, and no column declares;
 * - a field whose JSON type changed between earlier runs and the newest run;
 * - a declared path that no record of the newest run has a value at (missing or always null),
 *   unless the stream's connector declares that field absent by design in the pipeline's API mode
 *   (`expectedAbsent`, e.g. `popularity` in Spotify's Development Mode).
 *
 * "The newest run" is the latest committed run of each source stream (the run being built, when it
 * delivered that stream); earlier runs are the stream's previous BASELINE_RUNS runs.
 * Cost stays small whatever the lake's size: declared paths are judged from the build's own
 * judged rows (no extra scan), and shapes (DuckDB's json_group_structure, seconds per 100k records)
 * from the first SAMPLE_ROWS row objects of each side; a new field seen there is confirmed against
 * every earlier record before it is reported. A field that only some records carry may go unnoticed
 * until it reaches the sample, never the reverse.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { ident, literal, sourceRows } from './dialects/duckdb.ts';
import { type PathSegment, formatPath } from './paths.ts';
import type { PathColumnPlan, SourcePlan, TablePlan } from './plan.ts';

/** How many earlier runs of a stream make the baseline that the newest run is compared with. */
export const BASELINE_RUNS = 10;
/** How many row objects per side the shapes are taken from. */
export const SAMPLE_ROWS = 5_000;

type Kind = 'string' | 'number' | 'boolean' | 'null' | 'object' | 'array' | 'mixed';

export interface DriftFile {
  stream: string;
  runId: string;
  /** Absolute path of the file. */
  path: string;
  /** Lines in the file (from the manifest): sizes the sample. */
  records: number;
}

/** `a.b[].c` -> kind of every key path of a DuckDB JSON structure (arrays as `[]`). */
export function flattenStructure(structure: unknown, prefix: PathSegment[] = [], out = new Map<string, Kind>()): Map<string, Kind> {
  const key = formatPath(prefix);
  if (Array.isArray(structure)) {
    if (prefix.length) out.set(key, 'array');
    flattenStructure(structure[0], [...prefix, { kind: 'each' }], out);
  } else if (structure && typeof structure === 'object') {
    if (prefix.length) out.set(key, 'object');
    for (const [k, v] of Object.entries(structure)) flattenStructure(v, [...prefix, { kind: 'key', name: k }], out);
  } else if (prefix.length && typeof structure === 'string') {
    out.set(key, kindOf(structure));
  }
  return out;
}

function kindOf(duckType: string): Kind {
  switch (duckType) {
    case 'VARCHAR':
      return 'string';
    case 'BOOLEAN':
      return 'boolean';
    case 'NULL':
      return 'null';
    case 'UBIGINT':
    case 'BIGINT':
    case 'HUGEINT':
    case 'UHUGEINT':
    case 'DOUBLE':
      return 'number';
    default:
      // JSON: the values disagree (or an object without keys); anything else is some other number.
      return duckType === 'JSON' ? 'mixed' : 'number';
  }
}

/** A declared path as a structure key: indexes become `[]` (the structure merges elements). */
function structureKey(segments: PathSegment[]): string {
  return formatPath(segments.map((s) => (s.kind === 'index' ? { kind: 'each' } : s)));
}

/** DuckDB test that the row object has the path (a JSON null counts: the key is there). */
function exists(segments: PathSegment[]): string {
  let path = '$';
  for (const s of segments) {
    if (s.kind === 'index') path += `[${s.index}]`;
    else if (s.kind === 'each') path += '[*]';
    else path += /^[A-Za-z_][A-Za-z0-9_]*$/.test(s.name) ? `.${s.name}` : `."${s.name}"`;
  }
  return segments.some((s) => s.kind === 'each') ? `len(json_extract(__row, ${literal(path)})) > 0` : `json_exists(__row, ${literal(path)})`;
}

/** Keys the table's path columns read (relative to its row objects): not news when they appear. */
function declaredKeys(plan: TablePlan): string[] {
  const out: string[] = [];
  const each: PathSegment = { kind: 'each' };
  for (const c of plan.columns) {
    if (c.kind !== 'path') continue;
    const rel = (p: PathSegment[]) => (c.base === 'element' && plan.explode ? [...plan.explode.segments, each, ...p] : p);
    out.push(structureKey(rel(c.path.segments)));
    if (c.collect) out.push(structureKey([...c.path.segments, each, ...c.collect.segments]));
    if (c.precision) out.push(structureKey(rel(c.precision.segments)));
  }
  return out;
}

/**
 * The first SAMPLE_ROWS row objects of these files (files in the given order). Only the files
 * needed to reach that many lines are opened (the manifests' line counts say which): a scan with
 * a LIMIT over many files still starts reading several of them.
 */
function sampleRows(source: SourcePlan, all: DriftFile[], limit = true): string {
  let files = all;
  if (limit && !source.eachOf) {
    let lines = 0;
    const upTo = all.findIndex((f) => (lines += f.records) >= SAMPLE_ROWS);
    if (upTo >= 0) files = all.slice(0, upTo + 1);
  }
  const list = `[${files.map((f) => literal(f.path)).join(', ')}]`;
  const raw = `(SELECT json AS __rec, NULL AS __file, NULL AS __line, NULL AS __run_id FROM read_json_objects(${list}, format = 'newline_delimited', ignore_errors = true, hive_partitioning = false))`;
  return `${sourceRows(source, raw)}${limit ? ` LIMIT ${SAMPLE_ROWS}` : ''}`;
}

function newestRuns(plan: TablePlan, files: DriftFile[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const s of plan.sources) {
    const runs = files.filter((f) => f.stream === s.stream).map((f) => f.runId).sort();
    if (runs.length) out.set(s.stream, runs[runs.length - 1]);
  }
  return out;
}

/**
 * Declared path columns without a single value among the newest run's rows, per stream. Reads the
 * build's judged relation (`judged`: the declared columns plus __file, __run_id, __malformed), so it
 * must run while that still exists.
 */
export async function declaredGaps(
  conn: DuckDBConnection,
  plan: TablePlan,
  files: DriftFile[],
  judged: string,
  expectedAbsent: Record<string, string[]> = {},
  /** `__file`'s value in `judged` for a file path (default: the path itself). */
  fileRef: (path: string) => string = literal,
): Promise<string[]> {
  const cols = plan.columns.filter((c) => c.kind === 'path');
  const out: string[] = [];
  if (!cols.length) return out;
  for (const [stream, run] of newestRuns(plan, files)) {
    const paths = files.filter((f) => f.stream === stream && f.runId === run).map((f) => fileRef(f.path));
    const row = (
      await conn.runAndReadAll(
        `SELECT count(*) AS n, ${cols.map((c, i) => `count(${ident(c.name)}) AS c${i}`).join(', ')} FROM ${judged} WHERE __malformed IS NOT TRUE AND __file IN (${paths.join(', ')})`,
      )
    ).getRowObjectsJson()[0] as Record<string, string | number>;
    const n = Number(row.n);
    if (n === 0) continue;
    cols.forEach((c, i) => {
      if (Number(row[`c${i}`]) > 0 || c.kind !== 'path') return;
      if (absentByDesign(plan, stream, c, expectedAbsent[stream])) return;
      const path = c.base === 'element' && plan.explode ? `${plan.explode.text}[]${c.path.text ? `.${c.path.text}` : ''}` : c.path.text;
      out.push(`stream ${stream}: declared path ${path || '(the row itself)'} (column ${c.name}) has no value in any of the ${n} rows of run ${run}`);
    });
  }
  return out;
}

/**
 * Whether the column reads a field (or a field inside one) that the stream's connector declares
 * absent: judged on the column's path in the record, from every source root of the stream.
 */
function absentByDesign(plan: TablePlan, stream: string, c: PathColumnPlan, absent: string[] | undefined): boolean {
  if (!absent?.length) return false;
  const each: PathSegment = { kind: 'each' };
  const sources = plan.sources.filter((s) => s.stream === stream);
  return (
    sources.length > 0 &&
    sources.every((s) => {
      const key = structureKey([
        ...(s.eachOf ? [...s.eachOf.segments, each] : []),
        ...s.path.segments,
        ...(c.base === 'element' && plan.explode ? [...plan.explode.segments, each] : []),
        ...c.path.segments,
      ]);
      return absent.some((p) => key === p || key.startsWith(`${p}.`) || key.startsWith(`${p}[`));
    })
  );
}

function sourceName(s: SourcePlan): string {
  const root = s.eachOf ? `${formatPath(s.eachOf.segments)}[]${s.path.segments.length ? `.${s.path.text}` : ''}` : s.path.text;
  return root ? `stream ${s.stream} (root ${root})` : `stream ${s.stream}`;
}

/** New undeclared fields and changed JSON types of the newest run against the earlier ones. */
export async function shapeDrift(conn: DuckDBConnection, plan: TablePlan, files: DriftFile[]): Promise<string[]> {
  const declared = declaredKeys(plan);
  const isDeclared = (key: string) => declared.some((d) => d === key || d.startsWith(`${key}.`) || d.startsWith(`${key}[`));
  const out: string[] = [];
  const shape = async (sql: string) => {
    const row = (await conn.runAndReadAll(`SELECT count(*) AS n, CAST(json_group_structure(__row) AS VARCHAR) AS s FROM (${sql})`)).getRowObjectsJson()[0];
    return Number(row.n) ? flattenStructure(typeof row.s === 'string' && row.s ? JSON.parse(row.s) : null) : undefined;
  };
  const newest = newestRuns(plan, files);
  for (const source of plan.sources) {
    const run = newest.get(source.stream);
    if (!run) continue;
    const mine = files.filter((f) => f.stream === source.stream);
    const runs = [...new Set(mine.map((f) => f.runId))].sort();
    const baselineRuns = runs.slice(-1 - BASELINE_RUNS, -1);
    if (!baselineRuns.length) continue;
    // The most recent earlier run first, so the baseline sample is the freshest.
    const byRunDesc = (a: DriftFile, b: DriftFile) => (a.runId === b.runId ? (a.path < b.path ? -1 : 1) : a.runId < b.runId ? 1 : -1);
    const baselineFiles = mine.filter((f) => baselineRuns.includes(f.runId)).sort(byRunDesc);
    const nowShape = await shape(sampleRows(source, mine.filter((f) => f.runId === run).sort(byRunDesc)));
    const beforeShape = await shape(sampleRows(source, baselineFiles));
    if (!nowShape || !beforeShape) continue;
    const name = sourceName(source);

    const newKeys = [...nowShape.keys()].filter((k) => !beforeShape.has(k));
    const candidates = newKeys
      .filter((key) => {
        // Only the outermost new key: a new object's own keys are part of the same news.
        const parentIsNew = newKeys.some((p) => p !== key && (key.startsWith(`${p}.`) || key.startsWith(`${p}[`)));
        return !parentIsNew && !isDeclared(key) && nowShape.get(key) !== 'null';
      })
      .slice(0, 20);
    if (candidates.length) {
      // The baseline shape was a sample: confirm against every earlier record.
      const seen = (
        await conn.runAndReadAll(
          `SELECT ${candidates.map((key, i) => `count(*) FILTER (WHERE ${exists(keySegments(key))}) AS c${i}`).join(', ')} FROM (${sampleRows(source, baselineFiles, false)})`,
        )
      ).getRowObjectsJson()[0] as Record<string, string | number>;
      candidates.forEach((key, i) => {
        if (Number(seen[`c${i}`]) === 0) out.push(`${name}: new field ${key} (not declared) in run ${run}`);
      });
    }
    for (const [key, kind] of nowShape) {
      const was = beforeShape.get(key);
      if (!was || was === 'null' || was === 'mixed' || kind === 'null' || kind === was) continue;
      out.push(`${name}: ${key} changed type from ${was} to ${kind === 'mixed' ? 'mixed types' : kind} in run ${run}`);
    }
  }
  return out;
}

/** Segments of a flattened structure key (keys were formatted by formatPath). */
function keySegments(key: string): PathSegment[] {
  const out: PathSegment[] = [];
  const re = /\[\]|"((?:[^"])*)"|([^.[\]"]+)/g;
  for (const m of key.matchAll(re)) {
    if (m[0] === '[]') out.push({ kind: 'each' });
    else out.push({ kind: 'key', name: m[1] ?? m[2] });
  }
  return out;
}
