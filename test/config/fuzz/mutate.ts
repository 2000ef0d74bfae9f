/**
 * The hostile-config fuzzer's cases: random but reproducible mutations of the shipped
 * pipeline.yaml (and of the export pipeline it includes). A case is a pure function of
 * (seed, index): the same pair always builds the same files, so any finding is replayed with
 * FUZZ_SEED and FUZZ_CASE (see fuzz.test.ts).
 *
 * Mutation kinds (weights in KINDS): values of other types in random places, keys deleted,
 * renamed (to names like `__proto__`), added and duplicated, YAML aliases (reuse, bombs, cycles,
 * undefined ones, merge keys), tags and directives, encodings (BOM, UTF-16, invalid UTF-8, NUL,
 * latin1), deep nesting, huge strings and maps, includes (self, mutual, chains, folders, devices,
 * binary and huge files, symlink loops), SQL fragments where SQL goes and where it does not,
 * `${...}` references in odd places, weird `connector.use` values, and raw text damage (lines
 * deleted, duplicated, swapped, re-indented, truncated, characters inserted, CRLF).
 */
import { isCollection, isMap, isPair, isScalar, isSeq, parseDocument, Scalar, type Document, type Node } from 'yaml';
import { seededRandom } from '../../../core/plugin-api.ts';

export const MAIN = 'pipeline.yaml';
export const HISTORY = 'connectors/spotify-history/pipeline.yaml';

export type FileData = string | Uint8Array | { symlink: string };

export interface FuzzCase {
  seed: number;
  index: number;
  /** What was done, in order: the case's description in a finding. */
  steps: string[];
  /** Relative path -> content; written into an empty folder before the case runs. */
  files: Map<string, FileData>;
}

export interface Base {
  main: string;
  history: string;
}

class Rng {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = seededRandom(seed);
  }
  float(): number {
    return this.next();
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
}

/** The case's own seed: the run's seed and the index, mixed (splitmix-like). */
export function caseSeed(seed: number, index: number): number {
  let h = (seed ^ Math.imul(index + 0x9e3779b9, 0x85ebca6b)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

interface Ctx {
  rng: Rng;
  files: Map<string, FileData>;
  steps: string[];
}

type Mutation = (c: Ctx, target: string) => string | undefined;

const text = (c: Ctx, f: string): string | undefined => {
  const d = c.files.get(f);
  return typeof d === 'string' ? d : undefined;
};

// ---------------------------------------------------------------------------------------------
// Pools of hostile values

const REFS = [
  '${env:HOME}', '${env:SPOTIFY_CLIENT_ID}', '${env:FUZZ_NOT_SET}', '${secret:spotify/client_secret}', '${secret:}', '${env:}', '${}', '${',
  '${env:X', '$${env:HOME}', '${env:${env:HOME}}', '${unknown:x}', '${ENV:HOME}', '${env:HOME}/../..', '${secret:../../etc/passwd}',
  '${env:PATH}'.repeat(50), `\${${'x'.repeat(5000)}}`, 'lake-${env:HOME}', '${env: HOME }', '${secret:spotify/refresh_token}x',
];

const SQL = [
  "'; DROP TABLE plays; --", "SELECT * FROM read_csv_auto('/etc/passwd')", "COPY (SELECT 1) TO 'pwned.csv'", "ATTACH 'pwned.db' AS p",
  'SELECT 1; SELECT 2', '/*', "'", '"', '$$', `SELECT ${'('.repeat(3000)}1${')'.repeat(3000)}`,
  "SELECT * FROM plays WHERE track_id = '${env:HOME}'", 'PRAGMA enable_profiling', "SELECT getenv('HOME')", "SELECT * FROM glob('/*')",
  'SET threads = 1000', "SELECT repeat('x', 1000)", 'WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t) SELECT * FROM t',
  'SELECT', '', ' ', 'track_id IS NOT NULL) OR (1=1', "played_at > now() - INTERVAL '7' DAY", 'SELECT * FROM plays, plays, plays, plays, plays',
  'SELECT \u0000', 'SELECT 1 -- \u001b[31m', "SELECT '\u202e'",
  // Not here: SQL that makes DuckDB fetch an extension (an https:// path, INSTALL, dbgen): the
  // tests use no network but loopback. `validate` binding such a query is core/query's to fence.
];

const NAMES = [
  '__proto__', 'constructor', 'toString', 'hasOwnProperty', 'prototype', 'valueOf', '', ' ', 'a'.repeat(1000), 'UPPER', 'with space', 'ü',
  'x.y', 'select', 'from', 'a-b', '1abc', '${env:HOME}', "a'b", 'a"b', 'a;DROP TABLE x', '\u001b[31m', '夜', 'plays', 'artists', 'null', '<<',
];

const USES = [
  './pipeline.yaml', `./${HISTORY}`, `${'../'.repeat(20)}dev/zero`, '/dev/zero', '/dev/stdin', '/etc/passwd', 'spotify-history', 'SPOTIFY',
  ' spotify', 'spotify ', 'connectors/spotify', './connectors/spotify', '@scope/nope', 'nope-nope', 'node:fs', 'fs', 'yaml', 'ajv', 'commander',
  'data:text/javascript,export default 1', 'http://127.0.0.1:1/x.mjs', 'file:///etc/passwd', '.', '..', '/', '__proto__', 'constructor', '',
];

const PATHS = ['../../../../etc/passwd', '/dev/zero', '/dev/stdin', '/proc/self/environ', '.', '..', '/', '~', 'C:\\x', 'file:///etc/passwd', 'connectors', MAIN];

const CONTROL = ['\u001b[31m', '\u001b]0;pwned\u0007', '\u009b2J', '\u202e', '\r', '\u0000', '\u0007', '\u2028', '\ud800', '\ufeff', '\u0085'];

function hugeString(r: Rng): string {
  const n = r.pick([1_000, 20_000, 200_000, 600_000]);
  return r.pick(['x', 'ab ', '夜', '🚗', '${env:HOME}', "'", '\\']).repeat(Math.max(1, Math.floor(n / 2)));
}

function randomText(r: Rng, alphabet: string, max = 40): string {
  const chars = [...alphabet];
  let s = '';
  for (let i = r.int(max) + 1; i > 0; i--) s += r.pick(chars);
  return s;
}

const YAML_CHARS = ':-[]{}#&*!|>\'"%@`,? \t\nabc0123';

/** A value of any JSON type, mostly hostile. */
function weirdValue(r: Rng, depth = 0): unknown {
  switch (r.int(14)) {
    case 0:
      return r.pick([0, -1, 1.5, 1e308, -0, 2 ** 53 + 1, 1e21, 65536, 99999, 2 ** 32]);
    case 1:
      return r.pick([true, false, null]);
    case 2:
      return r.pick(['', ' ', '\t', 'null', '~', 'yes', 'no', '0x1F', '1e3', '-', '---', '...', '.inf', '.nan', 'true']);
    case 3:
      return depth > 2 ? [] : r.pick([[], {}, [[]], [{}], { a: { b: { c: 1 } } }, [weirdValue(r, depth + 1)], { [r.pick(NAMES)]: weirdValue(r, depth + 1) }]);
    case 4:
      return hugeString(r);
    case 5:
      return r.pick(['夜のドライブ', '🚗'.repeat(100), 'e\u0301', '\u0000', ...CONTROL]);
    case 6:
      return r.pick(NAMES);
    case 7:
      return r.pick(PATHS);
    case 8:
      return r.pick(REFS);
    case 9:
      return r.pick(SQL);
    case 10:
      return randomText(r, 'abcdefghijklmnopqrstuvwxyz_0123456789.[]');
    case 11:
      return randomText(r, YAML_CHARS);
    case 12:
      return r.pick(USES);
    default:
      return `${r.pick(['a', 'x'])}${r.pick(CONTROL)}${r.pick(['b', ''])}`;
  }
}

// ---------------------------------------------------------------------------------------------
// Structural mutations: on the YAML document, so comments and the rest of the file stay

interface Spot {
  path: (string | number)[];
  node: Node | null;
  /** The pair holding the node, when its parent is a map. */
  pair?: { key: unknown; value: unknown };
}

function spots(doc: Document, max = 5000): Spot[] {
  const out: Spot[] = [];
  const walk = (node: unknown, path: (string | number)[], depth: number) => {
    if (out.length >= max || depth > 10) return;
    if (isMap(node)) {
      for (const p of node.items) {
        if (!isPair(p)) continue;
        const key = isScalar(p.key) ? String(p.key.value) : '?';
        out.push({ path: [...path, key], node: p.value as Node | null, pair: p });
        walk(p.value, [...path, key], depth + 1);
      }
    } else if (isSeq(node)) {
      node.items.forEach((x, i) => {
        out.push({ path: [...path, i], node: x as Node | null });
        walk(x, [...path, i], depth + 1);
      });
    }
  };
  walk(doc.contents, [], 0);
  return out;
}

function document(t: string): Document | undefined {
  try {
    const doc = parseDocument(t, { uniqueKeys: false, logLevel: 'silent' });
    return doc.errors.length ? undefined : doc;
  } catch {
    return undefined;
  }
}

function emit(r: Rng, doc: Document): string {
  if (r.chance(0.1)) {
    try {
      // JSON is YAML too: the same config in flow style, on one line or indented. The yaml
      // library's own alias limit stays on: an earlier alias bomb (5^9) expanded here took the
      // generating process past 4 GB (the test's vitest worker died in CI).
      return JSON.stringify(doc.toJS({ maxAliasCount: 100 }), null, r.pick([0, 2]));
    } catch {
      // an alias cycle or bomb: fall through to YAML, which keeps the aliases as they are
    }
  }
  return doc.toString({ lineWidth: 0, verifyAliasOrder: false });
}

/** Applies `op` to a random spot of the target's document; undefined when the file is not YAML. */
function onDocument(c: Ctx, target: string, op: (doc: Document, spot: Spot, all: Spot[]) => string | undefined, prefer?: RegExp): string | undefined {
  const t = text(c, target);
  const doc = t === undefined ? undefined : document(t);
  if (!doc) return undefined;
  const all = spots(doc);
  if (all.length === 0) return undefined;
  const preferred = prefer ? all.filter((s) => prefer.test(s.path.join('.'))) : [];
  const spot = preferred.length && c.rng.chance(0.8) ? c.rng.pick(preferred) : c.rng.pick(all);
  const what = op(doc, spot, all);
  if (what === undefined) return undefined;
  c.files.set(target, emit(c.rng, doc));
  return `${what} at ${spot.path.join('.') || '(root)'}`;
}

const show = (v: unknown) => {
  const s = typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v) ?? String(v);
  return s.length > 60 ? `${s.slice(0, 57)}...(${s.length} chars)` : s;
};

const setValue: Mutation = (c, target) =>
  onDocument(c, target, (doc, spot) => {
    const v = weirdValue(c.rng);
    doc.setIn(spot.path, doc.createNode(v));
    return `value ${show(v)}`;
  });

const deleteKey: Mutation = (c, target) =>
  onDocument(c, target, (doc, spot) => {
    doc.deleteIn(spot.path);
    return 'delete';
  });

const renameKey: Mutation = (c, target) =>
  onDocument(c, target, (doc, spot) => {
    if (!spot.pair) return undefined;
    const name = c.rng.chance(0.5) ? c.rng.pick(NAMES) : `${String(spot.path.at(-1))}${c.rng.pick(['x', '_', 's', ''])}`.slice(1);
    spot.pair.key = new Scalar(name);
    return `rename to ${show(name)}`;
  }, /^(streams|tables|queries|connector|storage)\.|columns\.[^.]+$/);

const addKey: Mutation = (c, target) =>
  onDocument(c, target, (doc, spot) => {
    if (!isMap(spot.node)) return undefined;
    const name = c.rng.pick([...NAMES, 'extra', 'incremental', 'for_each', 'include', 'aws', 'schedule', 'secrets']);
    const v = weirdValue(c.rng);
    spot.node.set(doc.createNode(name), doc.createNode(v));
    return `add ${show(name)}: ${show(v)}`;
  });

const copySubtree: Mutation = (c, target) =>
  onDocument(c, target, (doc, spot, all) => {
    const from = c.rng.pick(all);
    const value = from.node && typeof (from.node as { clone?: unknown }).clone === 'function' ? (from.node as unknown as { clone(): Node }).clone() : from.node;
    doc.setIn(spot.path, value);
    return `copy of ${from.path.join('.')}`;
  });

const wrap: Mutation = (c, target) =>
  onDocument(c, target, (doc, spot) => {
    const v: unknown = doc.getIn(spot.path, false);
    const plain: unknown = v && typeof v === 'object' && 'toJSON' in v ? (v as { toJSON(): unknown }).toJSON() : v;
    const wrapped = c.rng.pick([[plain], { value: plain }, [[plain]], [plain, plain]]);
    doc.setIn(spot.path, doc.createNode(wrapped));
    return 'wrap';
  });

// ---------------------------------------------------------------------------------------------
// Aliases

const aliasReuse: Mutation = (c, target) =>
  onDocument(c, target, (doc, spot, all) => {
    const source = c.rng.pick(all.filter((s) => s.node));
    if (!source.node) return undefined;
    // An alias to the spot's own node or one above it is a cycle: a finding if it hangs.
    const alias = doc.createAlias(source.node as Parameters<Document['createAlias']>[0], `a${c.rng.int(1000)}`);
    doc.setIn(spot.path, alias);
    return `alias of ${source.path.join('.')}`;
  });

const aliasCycle: Mutation = (c, target) =>
  onDocument(c, target, (doc, spot) => {
    if (!isCollection(spot.node)) return undefined;
    const alias = doc.createAlias(spot.node, 'loop');
    if (isMap(spot.node)) spot.node.set(doc.createNode('loop'), alias);
    else spot.node.items.push(alias);
    return 'alias cycle';
  });

const aliasBomb: Mutation = (c, target) => {
  const t = text(c, target);
  if (t === undefined) return undefined;
  const depth = 2 + c.rng.int(9);
  const width = 2 + c.rng.int(9);
  const lines = [`bomb0: &b0 [${Array(width).fill('"lol"').join(', ')}]`];
  for (let i = 1; i < depth; i++) lines.push(`bomb${i}: &b${i} [${Array(width).fill(`*b${i - 1}`).join(', ')}]`);
  const where = c.rng.int(3);
  const block = lines.join('\n');
  c.files.set(target, where === 0 ? `${block}\n${t}` : where === 1 ? `${t}\n${block}\n` : t.replace(/^streams:\n/m, `streams:\n${block.replace(/^/gm, '  ')}\n`));
  return `alias bomb ${width}^${depth}`;
};

const aliasText: Mutation = (c, target) => {
  const t = text(c, target);
  if (t === undefined) return undefined;
  const snippet = c.rng.pick([
    'x: *nowhere\n', '*nowhere : 1\n', 'base: &base { endpoint: me/playlists }\nmerged:\n  <<: *base\n', 'a: &a b\n*a : c\n', '&x x: 1\n',
    'anchor: &a [*a]\n', 'streams2: &s\n  s: *s\n', 'k: &a\n  - &a x\n  - *a\n',
  ]);
  const lines = t.split('\n');
  lines.splice(c.rng.int(lines.length + 1), 0, ...snippet.trimEnd().split('\n'));
  c.files.set(target, lines.join('\n'));
  return `alias text ${show(snippet)}`;
};

// ---------------------------------------------------------------------------------------------
// Tags, directives, documents

const tags: Mutation = (c, target) => {
  const t = text(c, target);
  if (t === undefined) return undefined;
  const kind = c.rng.int(5);
  if (kind === 0) {
    c.files.set(target, `%YAML ${c.rng.pick(['1.1', '1.2', '1.3', '2.0'])}\n---\n${t}`);
    return 'directive %YAML';
  }
  if (kind === 1) {
    c.files.set(target, `${t}\n---\n${c.rng.pick(['x: 1', t, '', '...'])}\n`);
    return 'second document';
  }
  const tag = c.rng.pick(['!!binary', '!!timestamp', '!!set', '!!omap', '!!pairs', '!custom', '!!js/function', '!!str', '!!int', '!!float', '!!null', '!<tag:x>', '!!map', '!!seq']);
  const lines = t.split('\n');
  const candidates = lines.map((l, i) => (/: \S/.test(l) && !/^\s*#/.test(l) ? i : -1)).filter((i) => i >= 0);
  if (candidates.length === 0) return undefined;
  const i = c.rng.pick(candidates);
  lines[i] = lines[i].replace(/: (\S)/, `: ${tag} $1`);
  c.files.set(target, lines.join('\n'));
  return `tag ${tag} on line ${i + 1}`;
};

// ---------------------------------------------------------------------------------------------
// Encodings (the file becomes bytes)

const encoding: Mutation = (c, target) => {
  const t = text(c, target);
  if (t === undefined) return undefined;
  const utf8 = Buffer.from(t, 'utf8');
  const at = c.rng.int(utf8.length + 1);
  const insert = (bytes: number[]) => Buffer.concat([utf8.subarray(0, at), Buffer.from(bytes), utf8.subarray(at)]);
  switch (c.rng.int(9)) {
    case 0:
      c.files.set(target, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), utf8]));
      return 'UTF-8 BOM';
    case 1: {
      const le = Buffer.from(t, 'utf16le');
      c.files.set(target, c.rng.chance(0.7) ? Buffer.concat([Buffer.from([0xff, 0xfe]), le]) : le);
      return 'UTF-16LE';
    }
    case 2: {
      const be = Buffer.from(t, 'utf16le').swap16();
      c.files.set(target, Buffer.concat([Buffer.from([0xfe, 0xff]), be]));
      return 'UTF-16BE';
    }
    case 3:
      c.files.set(target, Buffer.from(`${t.slice(0, at)}caf\u00e9${t.slice(at)}`, 'latin1'));
      return 'latin1';
    case 4:
      c.files.set(target, insert([0]));
      return `NUL at byte ${at}`;
    case 5:
      c.files.set(target, Buffer.concat([Buffer.from([0x00, 0x00, 0xfe, 0xff]), utf8]));
      return 'UTF-32 BOM';
    default: {
      const bad = c.rng.pick([[0xff], [0xfe], [0xc0, 0xaf], [0x80], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80]]);
      c.files.set(target, insert(bad));
      return `invalid UTF-8 ${bad.map((b) => b.toString(16)).join(' ')} at byte ${at}`;
    }
  }
};

// ---------------------------------------------------------------------------------------------
// Nesting and size

const deepNesting: Mutation = (c, target) =>
  onDocument(c, target, (doc, spot) => {
    const depth = c.rng.pick([10, 63, 64, 65, 100, 1000, 5000, 100_000]);
    const flow = c.rng.int(3);
    const nested =
      flow === 0 ? `${'['.repeat(depth)}${']'.repeat(depth)}` : flow === 1 ? `${'{a: '.repeat(depth)}1${'}'.repeat(depth)}` : `${'[{a: '.repeat(depth)}1${'}]'.repeat(depth)}`;
    // A placeholder, replaced in the text: the document API would nest by recursion itself.
    doc.setIn(spot.path, doc.createNode('FUZZ_DEEP_PLACEHOLDER'));
    return `nesting ${depth} (${['lists', 'maps', 'both'][flow]})\u0000${nested}`;
  });

function placeDeep(c: Ctx, target: string, step: string): string {
  const [desc, nested] = step.split('\u0000');
  const t = text(c, target);
  if (t !== undefined && nested !== undefined) c.files.set(target, t.replace(/"?FUZZ_DEEP_PLACEHOLDER"?/, nested));
  return desc;
}

const blockNesting: Mutation = (c, target) => {
  const t = text(c, target);
  if (t === undefined) return undefined;
  const depth = c.rng.pick([70, 500, 1200]);
  const block = Array.from({ length: depth }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n');
  c.files.set(target, `${t}\ndeep:\n${block.replace(/^/gm, ' ')} 1\n`);
  return `block nesting ${depth}`;
};

const huge: Mutation = (c, target) => {
  const t = text(c, target);
  if (t === undefined) return undefined;
  const kind = c.rng.int(6);
  const n = c.rng.pick([100, 1000, 5000, 20_000]);
  if (kind === 0) {
    const entries = Array.from({ length: n }, (_, i) => `  s${i}: { endpoint: ${c.rng.pick(['me/playlists', 'artists', 'nope'])} }`).join('\n');
    c.files.set(target, t.replace(/^streams:\n/m, `streams:\n${entries}\n`));
    return `${n} streams`;
  }
  if (kind === 1) {
    const cols = Array.from({ length: n }, (_, i) => `      c${i}: { path: a${i}.b, type: string }`).join('\n');
    c.files.set(target, t.replace(/^ {4}columns:\n/m, `    columns:\n${cols}\n`));
    return `${n} columns`;
  }
  if (kind === 2) {
    const q = Math.min(n, 200);
    const entries = Array.from({ length: q }, (_, i) => `  q${i}: { sql: "SELECT ${i} AS n" }`).join('\n');
    c.files.set(target, /^queries:\n/m.test(t) ? t.replace(/^queries:\n/m, `queries:\n${entries}\n`) : `${t}\nqueries:\n${entries}\n`);
    return `${q} queries`;
  }
  if (kind === 3) {
    const ids = Array.from({ length: n * 5 }, (_, i) => `"${i.toString(36).padStart(22, '0')}"`).join(', ');
    c.files.set(target, t.replace(/^ {4}endpoint: artists\n/m, `    endpoint: artists\n    ids: [${ids}]\n`));
    return `${n * 5} ids`;
  }
  if (kind === 4) {
    c.files.set(target, `${t}\n${'k'.repeat(c.rng.pick([1000, 100_000, 1_100_000]))}: 1\n`);
    return 'huge key';
  }
  c.files.set(target, `${t}\ndescription: "${'x'.repeat(c.rng.pick([100_000, 1_048_576]))}"\n`);
  return 'huge file';
};

// ---------------------------------------------------------------------------------------------
// Includes

const includes: Mutation = (c, target) => {
  const t = text(c, MAIN);
  if (t === undefined) return undefined;
  const r = c.rng;
  const set = (list: string) => c.files.set(MAIN, /^include:\n(\s+- .*\n)+/m.test(t) ? t.replace(/^include:\n(\s+- .*\n)+/m, `include: ${list}\n`) : `${t}\ninclude: ${list}\n`);
  const history = text(c, HISTORY) ?? '';
  switch (r.int(16)) {
    case 0:
      set('[pipeline.yaml]');
      return 'include itself';
    case 1:
      set('[b.yaml]');
      c.files.set('b.yaml', `${history.replace('name: my-spotify-history', 'name: fuzz-b')}\ninclude: [pipeline.yaml]\n`);
      return 'include each other';
    case 2:
      set('[b.yaml]');
      c.files.set('b.yaml', `${history.replace('name: my-spotify-history', 'name: fuzz-b')}\ninclude: [c.yaml]\n`);
      c.files.set('c.yaml', `${history.replace('name: my-spotify-history', 'name: fuzz-c')}\ninclude: [b.yaml]\n`);
      return 'include a chain that loops';
    case 3:
      c.files.set(HISTORY, `${history}\ninclude: [../../pipeline.yaml]\n`);
      return 'included pipeline includes the main one';
    case 4:
      c.files.set(HISTORY, `${history}\ninclude: [pipeline.yaml]\n`);
      return 'included pipeline includes itself';
    case 5:
      set(r.pick(['[connectors]', '[nope.yaml]', '[pipeline.yaml/]', '[""]', '["."]', '[/]']));
      return 'include a folder or nothing';
    case 6:
      set(`[${'../'.repeat(20)}dev/zero]`);
      return 'include /dev/zero';
    case 7: {
      const bytes = new Uint8Array(1 + r.int(4096));
      for (let i = 0; i < bytes.length; i++) bytes[i] = r.int(256);
      c.files.set('bin.yaml', bytes);
      set('[bin.yaml]');
      return 'include a binary file';
    }
    case 8:
      c.files.set('huge.yaml', `description: "${'x'.repeat(1_100_000)}"\n`);
      set('[huge.yaml]');
      return 'include a huge file';
    case 9:
      set(`[${HISTORY}, ./${HISTORY}]`);
      return 'include twice';
    case 10:
      set(`[${Array.from({ length: 50 }, (_, i) => `x${i}.yaml`).join(', ')}]`);
      return 'include 50 missing files';
    case 11:
      set(r.pick(['[1, null, {}]', '"x"', '{}', 'null', '[[a]]', `[${r.pick(REFS)}]`]));
      return 'include of other types';
    case 12:
      c.files.set('loop.yaml', { symlink: 'loop.yaml' });
      set('[loop.yaml]');
      return 'include a symlink loop';
    case 13:
      c.files.set('empty.yaml', r.pick(['', '\n', '# nothing\n', '---\n', '~\n', '[]\n', '"text"\n']));
      set('[empty.yaml]');
      return 'include an empty file';
    case 14:
      // Mutate the included pipeline as well.
      return mutateOnce(c, HISTORY);
    default:
      c.files.set('b.yaml', t.replace(/name: my-spotify-lake/, 'name: fuzz-b').replace(/^include:\n(\s+- .*\n)+/m, ''));
      set('[b.yaml]');
      return `include a copy of itself (target ${target})`;
  }
};

// ---------------------------------------------------------------------------------------------
// SQL, references, connector.use

const sql: Mutation = (c, target) =>
  onDocument(
    c,
    target,
    (doc, spot) => {
      const fragment = c.rng.pick(SQL);
      const v = doc.getIn(spot.path);
      const next = typeof v === 'string' && c.rng.chance(0.5) ? `${v} ${fragment}` : fragment;
      doc.setIn(spot.path, doc.createNode(next));
      return `SQL ${show(next)}`;
    },
    /(\.sql|\.filter|\.order_by|\.path|\.from)$/,
  );

const refs: Mutation = (c, target) =>
  onDocument(
    c,
    target,
    (doc, spot) => {
      const ref = c.rng.pick(REFS);
      doc.setIn(spot.path, doc.createNode(ref));
      return `reference ${show(ref)}`;
    },
    /^(storage\.local|include\.\d+|connector\.use|name|version|secrets\.file|streams\.[^.]+\.endpoint|connector\.config\.[^.]+)$/,
  );

const use: Mutation = (c, target) =>
  onDocument(
    c,
    target,
    (doc, spot) => {
      const v = c.rng.pick(USES);
      doc.setIn(spot.path, doc.createNode(v));
      return `connector ${show(v)}`;
    },
    /^connector\.use$/,
  );

const secretsFile: Mutation = (c, target) => {
  const t = text(c, target);
  if (t === undefined) return undefined;
  const choice = c.rng.int(4);
  if (choice === 0) {
    c.files.set(target, `${t}\nsecrets: { file: ${c.rng.pick(['/dev/zero', 'connectors', 'nope.json', `${'../'.repeat(20)}dev/zero`])} }\n`);
    return 'secrets.file hostile';
  }
  c.files.set('.secrets.json', c.rng.pick(['{', '[]', '{"spotify/client_secret": 1}', '\u0000', `{"_meta": ${'['.repeat(5000)}${']'.repeat(5000)}}`, 'x'.repeat(2_000_000)]));
  return '.secrets.json hostile';
};

// ---------------------------------------------------------------------------------------------
// Raw text damage

const textDamage: Mutation = (c, target) => {
  const t = text(c, target);
  if (t === undefined) return undefined;
  const r = c.rng;
  const lines = t.split('\n');
  const i = r.int(lines.length);
  const j = r.int(lines.length);
  switch (r.int(11)) {
    case 0:
      lines.splice(i, 1);
      c.files.set(target, lines.join('\n'));
      return `delete line ${i + 1}`;
    case 1:
      lines.splice(i, 0, lines[j]);
      c.files.set(target, lines.join('\n'));
      return `copy line ${j + 1} to ${i + 1}`;
    case 2:
      [lines[i], lines[j]] = [lines[j], lines[i]];
      c.files.set(target, lines.join('\n'));
      return `swap lines ${i + 1} and ${j + 1}`;
    case 3: {
      const d = r.pick([-4, -2, -1, 1, 2, 3]);
      lines[i] = d > 0 ? ' '.repeat(d) + lines[i] : lines[i].slice(-d);
      c.files.set(target, lines.join('\n'));
      return `indent line ${i + 1} by ${d}`;
    }
    case 4:
      lines[i] = `\t${lines[i]}`;
      c.files.set(target, lines.join('\n'));
      return `tab on line ${i + 1}`;
    case 5: {
      const at = r.int(t.length + 1);
      c.files.set(target, t.slice(0, at));
      return `truncate at ${at}`;
    }
    case 6: {
      const at = r.int(t.length + 1);
      const ins = randomText(r, YAML_CHARS, 6);
      c.files.set(target, t.slice(0, at) + ins + t.slice(at));
      return `insert ${show(ins)} at ${at}`;
    }
    case 7:
      c.files.set(target, r.chance(0.5) ? t.replace(/\n/g, '\r\n') : t.replace(/\n/g, '\r'));
      return 'CR line ends';
    case 8: {
      const at = r.int(t.length + 1);
      const ctl = r.pick(CONTROL);
      c.files.set(target, t.slice(0, at) + ctl + t.slice(at));
      return `control ${show(ctl)} at ${at}`;
    }
    case 9:
      lines[i] = lines[i].replace(': ', ':');
      c.files.set(target, lines.join('\n'));
      return `no space after colon on line ${i + 1}`;
    default: {
      const at = r.int(t.length + 1);
      c.files.set(target, t.slice(0, at) + t.slice(r.int(t.length)));
      return `splice text at ${at}`;
    }
  }
};

// ---------------------------------------------------------------------------------------------

const KINDS: Array<[number, string, Mutation]> = [
  [14, 'value', setValue],
  [5, 'delete', deleteKey],
  [6, 'rename', renameKey],
  [5, 'add', addKey],
  [3, 'copy', copySubtree],
  [3, 'wrap', wrap],
  [3, 'alias', aliasReuse],
  [2, 'alias-cycle', aliasCycle],
  [2, 'alias-bomb', aliasBomb],
  [2, 'alias-text', aliasText],
  [3, 'tags', tags],
  [5, 'encoding', encoding],
  [3, 'deep', deepNesting],
  [1, 'block-deep', blockNesting],
  [3, 'huge', huge],
  [8, 'include', includes],
  [6, 'sql', sql],
  [6, 'refs', refs],
  [3, 'use', use],
  [2, 'secrets', secretsFile],
  [12, 'text', textDamage],
];
const TOTAL = KINDS.reduce((n, [w]) => n + w, 0);

function mutateOnce(c: Ctx, target: string): string | undefined {
  for (let attempt = 0; attempt < 5; attempt++) {
    let x = c.rng.float() * TOTAL;
    const kind = KINDS.find(([w]) => (x -= w) < 0) ?? KINDS[0];
    const before = new Map(c.files);
    try {
      const step = kind[2](c, target);
      if (step !== undefined) return `${kind[1]}: ${kind[1] === 'deep' ? placeDeep(c, target, step) : step}`;
    } catch {
      // The mutation itself failed (the yaml library cannot print an alias cycle it was handed):
      // undo it and draw another. Deterministic, so the case stays the same for its seed.
      c.files.clear();
      for (const [k, v] of before) c.files.set(k, v);
    }
  }
  return undefined;
}

/** The case `index` of the run seeded `seed`: the shipped pipelines, mutated 1 to 4 times. */
export function fuzzCase(seed: number, index: number, base: Base): FuzzCase {
  const c: Ctx = {
    rng: new Rng(caseSeed(seed, index)),
    files: new Map<string, FileData>([
      [MAIN, base.main],
      [HISTORY, base.history],
    ]),
    steps: [],
  };
  const n = c.rng.chance(0.7) ? 1 : 2 + c.rng.int(3);
  for (let k = 0; k < n; k++) {
    const target = c.rng.chance(0.85) ? MAIN : HISTORY;
    const step = mutateOnce(c, target);
    if (step) c.steps.push(target === MAIN ? step : `${step} (in ${HISTORY})`);
  }
  return { seed, index, steps: c.steps, files: c.files };
}
