/**
 * Where a key path sits in the YAML source. Kept apart from the parsed values because the
 * engine works on plain objects, while messages need the line and column the user typed.
 */
import { isAlias, isCollection, isMap, isPair, isScalar, isSeq, type Document, type LineCounter, type Node, type Pair, type YAMLMap } from 'yaml';
import type { LoadedPipeline, SourcePos } from './types.ts';
import { formatPath, type Segment } from './paths.ts';

/**
 * - `value`: the value the user wrote (a block mapping or list starts on the next line, so the
 *   key is the better mark for those);
 * - `key`: the key itself (unknown keys, bad names);
 * - `container`: the mapping a key is missing from, marked by its own key.
 */
export type Anchor = 'value' | 'key' | 'container';

export class YamlSource {
  constructor(
    private readonly doc: Document,
    private readonly lines: LineCounter,
    readonly file: string,
  ) {}

  position(segments: readonly Segment[], anchor: Anchor): SourcePos {
    const found = this.walk(segments);
    // A path that does not exist in the file (a default, a normalized shape) falls back to
    // the deepest part that does, marked like a value.
    const mode: Anchor = found.complete ? anchor : 'value';
    const { node, pair } = found;
    let offset: number | undefined;
    const keyStart = pair && isNode(pair.key) ? pair.key.range?.[0] : undefined;
    if (mode === 'key' || mode === 'container') {
      offset = keyStart ?? node?.range?.[0];
    } else if (!node || isEmptyScalar(node) || (isCollection(node) && !node.flow)) {
      offset = keyStart ?? node?.range?.[0];
    } else {
      offset = node.range?.[0];
    }
    if (offset === undefined) return { file: this.file, line: 1, col: 1 };
    const { line, col } = this.lines.linePos(offset);
    return { file: this.file, line, col };
  }

  private walk(segments: readonly Segment[]): { node: Node | null; pair?: Pair; complete: boolean } {
    let node = this.resolve(this.doc.contents);
    let pair: Pair | undefined;
    for (const seg of segments) {
      if (isMap(node)) {
        const next = this.pairs(node).get(String(seg));
        if (!next) return { node, pair, complete: false };
        pair = next;
        node = this.resolve(next.value as Node | null);
      } else if (isSeq(node) && typeof seg === 'number' && seg < node.items.length) {
        pair = undefined;
        node = this.resolve(node.items[seg] as Node | null);
      } else {
        return { node, pair, complete: false };
      }
    }
    return { node, pair, complete: true };
  }

  /** A mapping's pairs by key text, built once per mapping: a problem's position is then no scan. */
  private readonly index = new WeakMap<object, Map<string, Pair>>();
  private pairs(map: YAMLMap): Map<string, Pair> {
    let byKey = this.index.get(map);
    if (!byKey) {
      byKey = new Map();
      for (const p of map.items) {
        const k = isPair(p) ? keyText(p.key) : undefined;
        // The first pair of a key wins, as Array.find did.
        if (k !== undefined && !byKey.has(k)) byKey.set(k, p);
      }
      this.index.set(map, byKey);
    }
    return byKey;
  }

  private resolve(node: Node | null): Node | null {
    // Positions of aliased values point at the anchor's value, which is where they were typed.
    return isAlias(node) ? ((node.resolve(this.doc) as Node | undefined) ?? node) : node;
  }
}

function isNode(x: unknown): x is Node {
  return x !== null && typeof x === 'object' && 'range' in x;
}

function keyText(key: unknown): string | undefined {
  return isScalar(key) ? String(key.value) : undefined;
}

function isEmptyScalar(node: Node): boolean {
  return isScalar(node) && node.value === null && !node.source;
}

/** The source behind a LoadedPipeline, plus the aliases its normalization introduced. */
export interface PipelineSource {
  position(segments: readonly Segment[], anchor: Anchor): SourcePos;
  /** The path as the user wrote it (`tables.t.dedupe[1]`, not the normalized `dedupe.key[1]`). */
  display(segments: readonly Segment[]): string;
}

/** A normalized path prefix and the path it was written as; `absorb` drops the rest of the path. */
export interface PathAlias {
  from: Segment[];
  to: Segment[];
  absorb?: boolean;
}

export function applyAliases(segments: readonly Segment[], aliases: readonly PathAlias[]): Segment[] {
  for (const a of aliases) {
    if (a.from.length <= segments.length && a.from.every((s, i) => s === segments[i])) {
      return a.absorb ? [...a.to] : [...a.to, ...segments.slice(a.from.length)];
    }
  }
  return [...segments];
}

const sources = new WeakMap<LoadedPipeline, PipelineSource>();

export function registerSource(loaded: LoadedPipeline, source: PipelineSource): void {
  sources.set(loaded, source);
}

/** Works for any LoadedPipeline; one built by hand (tests, tools) just gets its own `pos`. */
export function sourceOf(loaded: LoadedPipeline): PipelineSource {
  return (
    sources.get(loaded) ?? {
      position: (segments) => loaded.pos(formatPath(segments)),
      display: (segments) => formatPath(segments),
    }
  );
}

