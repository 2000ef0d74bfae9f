/**
 * Reading pipeline.yaml: YAML syntax, then the JSON Schema, then normalization into the shapes
 * the engine expects. Every problem found is reported, not just the first.
 */
import { isScalar, LineCounter, parseDocument, visit, type Document } from 'yaml';
import schema from '../../config/pipeline.schema.json' with { type: 'json' };
import type { ConnectorPlugin, JsonSchema } from '../plugin-api.ts';
import type { LoadedPipeline, PipelineConfig } from './types.ts';
import { SchemaValidator } from './errors.ts';
import { formatPath, parsePath, type Segment } from './paths.ts';
import { ConfigError, sortProblems, throwIfErrors, type Problem } from './problem.ts';
import { applyAliases, registerSource, YamlSource, type PathAlias } from './source.ts';
import { validatePipeline } from './semantic.ts';
import { readConfigText } from './text.ts';

export const pipelineSchema = schema as JsonSchema;

let validator: SchemaValidator | undefined;
function schemaValidator(): SchemaValidator {
  return (validator ??= new SchemaValidator(pipelineSchema, { strict: true }));
}

export interface ReadResult {
  loaded: LoadedPipeline;
  /** Schema problems; the config is normalized as far as its shape allows even when there are some. */
  problems: Problem[];
}

/**
 * Parses and schema-checks a pipeline without throwing for schema problems, so a caller can add
 * the plugin's semantic problems and report everything at once. YAML syntax errors do throw:
 * nothing after them can be trusted.
 */
export function readPipeline(file: string): ReadResult {
  // A folder, a device, a huge or non-UTF-8 file: one line each (core/config/text.ts).
  return parsePipeline(readConfigText(file), file);
}

/**
 * What a pipeline file may expand to. YAML aliases make a small file a large (or, with an alias
 * inside its own anchor, endless) value: the yaml library's `maxAliasCount` stops the classic
 * "billion laughs", and these bounds stop the rest before anything walks the value.
 */
export const VALUE_LIMITS = { depth: 64, values: 250_000, aliases: 1000 };

/** Like readPipeline, for text already in memory; `file` is the name messages use. */
export function parsePipeline(text: string, file: string): ReadResult {
  const lines = new LineCounter();
  const fatal = (offset: number | undefined, message: string) => {
    const at = offset === undefined ? { line: 1, col: 1 } : lines.linePos(offset);
    return new ConfigError([{ file, line: at.line, col: at.col, path: '', message, severity: 'error' }]);
  };
  // The parser takes seconds on a megabyte of `[[[[`: flow nesting is measured first.
  const deep = flowTooDeep(text, VALUE_LIMITS.depth);
  if (deep !== undefined) {
    const before = text.slice(0, deep);
    const line = before.split('\n').length;
    throw new ConfigError([{ file, line, col: deep - before.lastIndexOf('\n'), path: '', message: DEEP, severity: 'error' }]);
  }
  let doc: Document;
  try {
    // The core schema whatever a `%YAML 1.1` directive says: no timestamps, binaries, sets or
    // yes/no booleans, only JSON's values. logLevel: the library must not print to the console.
    // uniqueKeys: false, checked below in one pass: the library compares every key with every
    // other (20,000 streams took seconds).
    doc = parseDocument(text, { lineCounter: lines, prettyErrors: true, uniqueKeys: false, schema: 'core', logLevel: 'error' });
  } catch (e) {
    throw fatal(undefined, tooDeep(e) ? DEEP : `YAML syntax: ${firstLine(String((e as Error).message))}`);
  }
  if (doc.errors.length > 0) {
    // Only the first: the parser's recovery turns one mistake into dozens of follow-up errors.
    const e = doc.errors[0];
    const message = /Maximum call stack/.test(e.message)
      ? DEEP
      : `YAML syntax: ${firstLine(e.message)}${/flow-(seq|map)|comma/.test(e.message) ? FLOW_HINT : ''}`;
    throw fatal(e.pos[0], message);
  }
  const duplicate = duplicateKey(doc);
  if (duplicate !== undefined) throw fatal(duplicate, 'YAML syntax: Map keys must be unique');
  const source = new YamlSource(doc, lines, file);
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: VALUE_LIMITS.aliases });
  } catch (e) {
    const message = String((e as Error).message);
    const unresolved = /Unresolved alias[^:]*: (.*)$/.exec(message)?.[1];
    if (unresolved !== undefined) throw fatal(aliasOffset(doc, unresolved), `YAML: alias *${unresolved} has no anchor &${unresolved} before it`);
    if (/resource exhaustion/.test(message)) throw fatal(aliasOffset(doc), ALIASES);
    throw fatal(undefined, tooDeep(e) ? DEEP : `YAML: ${firstLine(message)}`);
  }
  const bad = valueProblem(raw);
  if (bad) {
    const pos = source.position(bad.segments, 'value');
    throw new ConfigError([{ ...pos, path: formatPath(bad.segments), message: bad.message, severity: 'error' }]);
  }
  const problems: Problem[] = [];
  const push = (segments: Segment[], anchor: 'value' | 'key' | 'container', message: string, severity: Problem['severity'] = 'error') => {
    const pos = source.position(segments, anchor);
    problems.push({ ...pos, path: formatPath(segments), message, severity });
  };
  for (const w of doc.warnings) {
    const at = lines.linePos(w.pos[0]);
    problems.push({ file, line: at.line, col: at.col, path: '', message: `YAML: ${firstLine(w.message)}`, severity: 'warning' });
  }

  if (raw === null || raw === undefined) {
    push([], 'value', 'the file is empty; a pipeline needs at least version, name, connector and streams');
  } else {
    for (const f of schemaValidator().check(raw)) push(f.segments, f.anchor, f.message);
  }

  const aliases: PathAlias[] = [];
  const config = normalize(raw, aliases);
  const loaded: LoadedPipeline = {
    config,
    file,
    pos: (path) => source.position(applyAliases(parsePath(path), aliases), 'value'),
  };
  registerSource(loaded, {
    position: (segments, anchor) => source.position(applyAliases(segments, aliases), anchor),
    display: (segments) => formatPath(applyAliases(segments, aliases)),
  });
  return { loaded, problems: sortProblems(problems) };
}

/**
 * Schema and semantic problems together, sorted by position. A semantic problem at a key the
 * schema already rejected is dropped: one mistake, one message.
 */
export function checkPipeline(read: ReadResult, plugin: ConnectorPlugin): Problem[] {
  const rejected = new Set(read.problems.filter((p) => p.severity === 'error').map((p) => p.path));
  const semantic = validatePipeline(read.loaded, plugin).filter((p) => !rejected.has(p.path));
  return sortProblems([...read.problems, ...semantic]);
}

/**
 * Loads a pipeline or throws a ConfigError listing every problem. With the plugin, its semantic
 * checks run too, so a schema problem and an unknown endpoint are reported together.
 */
export function loadPipeline(file: string, plugin?: ConnectorPlugin): LoadedPipeline {
  const read = readPipeline(file);
  throwIfErrors(plugin ? checkPipeline(read, plugin) : read.problems);
  return read.loaded;
}

// `{ path: track.artists[0].id }` is the classic trap: inside braces, brackets end the value.
const FLOW_HINT = '; inside { } or [ ], quote values that contain [ ] { } or , (e.g. path: "track.artists[0].id")';

/**
 * The whole front door for callers that load the plugin named in the file: schema problems,
 * then the plugin's semantic problems, thrown together in one ConfigError. When the plugin
 * cannot be loaded, the schema problems (which may explain why) are reported first.
 */
export async function loadPipelineWith(
  file: string,
  pluginFor: (use: string, loaded: LoadedPipeline) => Promise<ConnectorPlugin>,
): Promise<{ loaded: LoadedPipeline; plugin: ConnectorPlugin; warnings: Problem[] }> {
  const read = readPipeline(file);
  const use = (read.loaded.config.connector as { use?: unknown } | undefined)?.use;
  if (typeof use !== 'string' || use === '') {
    throwIfErrors(read.problems);
    throw new ConfigError([{ ...read.loaded.pos('connector'), path: 'connector', message: 'missing required key "use"', severity: 'error' }]);
  }
  let plugin: ConnectorPlugin;
  try {
    plugin = await pluginFor(use, read.loaded);
  } catch (e) {
    throwIfErrors(read.problems);
    throw e;
  }
  const warnings = throwIfErrors(checkPipeline(read, plugin));
  return { loaded: read.loaded, plugin, warnings };
}

const DEEP = `YAML: nested too deeply; a pipeline nests a few levels, at most ${VALUE_LIMITS.depth}`;
const ALIASES = 'YAML: the aliases (*name) expand to too many values; write the repeated values out, or alias less';

const TOO_MANY = `YAML: more than ${VALUE_LIMITS.values.toLocaleString('en-US')} values (an alias counts its values each time it is used); a pipeline needs far fewer`;

function tooDeep(e: unknown): boolean {
  return e instanceof RangeError && /call stack/.test(e.message);
}

/**
 * The offset where flow collections (`[`, `{`) nest deeper than `limit`, if they do. A quick scan,
 * not a parser: it skips comments and quoted scalars, and in block context counts a bracket only
 * where a value starts (so `path: a[0]` is no nesting); it may miss odd nesting, never invent it.
 */
export function flowTooDeep(text: string, limit: number): number | undefined {
  const blank = (ch: string | undefined) => ch === undefined || ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n';
  let depth = 0;
  let valueStart = true;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\n') {
      if (depth === 0) valueStart = true;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r') continue;
    if (c === '#' && (i === 0 || blank(text[i - 1]))) {
      const nl = text.indexOf('\n', i);
      if (nl < 0) break;
      i = nl - 1;
      continue;
    }
    if ((c === '"' || c === "'") && (valueStart || depth > 0)) {
      // A quoted scalar, to its closing quote ('' and \" do not close it).
      for (i++; i < text.length; i++) {
        if (c === "'" && text[i] === "'" && text[i + 1] === "'") i++;
        else if (c === '"' && text[i] === '\\') i++;
        else if (text[i] === c) break;
      }
      valueStart = false;
      continue;
    }
    if ((c === '[' || c === '{') && (valueStart || depth > 0)) {
      if (++depth > limit) return i;
      valueStart = true;
      continue;
    }
    if ((c === ']' || c === '}') && depth > 0) {
      depth--;
      valueStart = false;
      continue;
    }
    if (depth > 0 && c === ',') {
      valueStart = true;
      continue;
    }
    if ((c === ':' || c === '-' || c === '?') && blank(text[i + 1])) {
      valueStart = true;
      continue;
    }
    if ((c === '&' || c === '!') && valueStart) {
      // An anchor or a tag before the value: the value still starts after it.
      while (i + 1 < text.length && !blank(text[i + 1])) i++;
      continue;
    }
    valueStart = false;
  }
  return undefined;
}

/** Where the first key that repeats a key of the same mapping is (as the yaml library's uniqueKeys checks). */
function duplicateKey(doc: Document): number | undefined {
  let offset: number | undefined;
  try {
    visit(doc, {
      Map(_, map) {
        const seen = new Set<unknown>();
        for (const pair of map.items) {
          if (!isScalar(pair.key)) continue;
          if (seen.has(pair.key.value)) {
            offset = pair.key.range?.[0];
            return visit.BREAK;
          }
          seen.add(pair.key.value);
        }
        return undefined;
      },
    });
  } catch {
    // too deep to walk: the nesting is reported after toJS
  }
  return offset;
}

/** Where the first alias (named `name`, or any) is, for a message about aliases. */
function aliasOffset(doc: Document, name?: string): number | undefined {
  let offset: number | undefined;
  try {
    visit(doc, {
      Alias(_, node) {
        if (name !== undefined && node.source !== name) return undefined;
        offset = node.range?.[0];
        return visit.BREAK;
      },
    });
  } catch {
    // too deep to walk: the message stands without a position
  }
  return offset;
}

/**
 * The first value a pipeline cannot hold: nesting deeper than VALUE_LIMITS.depth (an alias
 * inside its own anchor makes a cycle, which is endless nesting), more than VALUE_LIMITS.values
 * values once aliases are expanded, or a number that is not finite (`.inf`, `.nan`).
 */
export function valueProblem(raw: unknown): { segments: Segment[]; message: string } | undefined {
  let count = 0;
  const at: Segment[] = [];
  const walk = (v: unknown): string | undefined => {
    if (++count > VALUE_LIMITS.values) return TOO_MANY;
    if (typeof v === 'number' && !Number.isFinite(v)) return `${String(v)} is not a number a pipeline can use; write a finite number`;
    if (v === null || typeof v !== 'object') return undefined;
    if (at.length >= VALUE_LIMITS.depth) return DEEP;
    const items: Array<[Segment, unknown]> = Array.isArray(v) ? v.map((x, i) => [i, x]) : Object.entries(v);
    for (const [k, x] of items) {
      at.push(k);
      const m = walk(x);
      if (m) return m;
      at.pop();
    }
    return undefined;
  };
  const message = walk(raw);
  // A nesting problem is marked at the top-level key it sits under, not 64 levels down.
  return message ? { segments: message === DEEP || message === TOO_MANY ? at.slice(0, 1) : [...at], message } : undefined;
}

/** The yaml library appends a source excerpt to its messages; the excerpt could hold a secret. */
function firstLine(message: string): string {
  return message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '').replace(/:$/, '');
}

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => x !== null && typeof x === 'object' && !Array.isArray(x);

/**
 * Shorthands become their long form (`from: s` -> `[{stream: s}]`, `dedupe: [a]` -> `{key: [a]}`,
 * `as` defaults to value, absent sections become empty). Tolerates a config that failed the
 * schema: it only rewrites what has the expected shape, and records where each rewritten key
 * was written so messages point at the user's text.
 */
function normalize(raw: unknown, aliases: PathAlias[]): PipelineConfig {
  const c: Obj = isObj(raw) ? { ...raw } : {};
  c.connector = isObj(c.connector) ? { ...c.connector } : c.connector;
  if (isObj(c.connector) && c.connector.config === undefined) c.connector.config = {};
  if (c.storage === undefined) c.storage = {};
  if (c.streams === undefined) c.streams = {};
  if (c.tables === undefined) c.tables = {};
  if (c.queries === undefined) c.queries = {};
  if (isObj(c.tables)) {
    const tables: Obj = {};
    for (const [name, t] of Object.entries(c.tables)) tables[name] = isObj(t) ? normalizeTable(name, t, aliases) : t;
    c.tables = tables;
  }
  return c as unknown as PipelineConfig;
}

function normalizeTable(name: string, t: Obj, aliases: PathAlias[]): Obj {
  const out: Obj = { ...t };
  if (typeof t.from === 'string') {
    out.from = [{ stream: t.from }];
    aliases.push({ from: ['tables', name, 'from', 0], to: ['tables', name, 'from'], absorb: true });
  }
  if (Array.isArray(t.dedupe)) {
    out.dedupe = { key: t.dedupe };
    aliases.push({ from: ['tables', name, 'dedupe', 'key'], to: ['tables', name, 'dedupe'] });
  }
  if (Array.isArray(t.partition_by)) {
    out.partition_by = t.partition_by.map((p: unknown) => (isObj(p) && p.as === undefined ? { ...p, as: 'value' } : p));
  }
  return out;
}
