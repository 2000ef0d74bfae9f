/**
 * The `fields` filter of the playlist endpoints (doc §2.3), e.g.
 * `items(added_at,item(id,name)),next,total`, dot paths (`items.item(id)`) and `!` exclusions.
 * At one level, plain names keep only those keys; `!name` drops a key.
 */

export interface FieldNode {
  /** Keys to keep (with an optional filter for their value); empty = keep all. */
  include: Map<string, FieldNode | null>;
  exclude: Set<string>;
  /** Filters for values of kept keys that do not restrict this level (from `!a.b`). */
  nested: Map<string, FieldNode>;
}

export class FieldsSyntaxError extends Error {}

function emptyNode(): FieldNode {
  return { include: new Map(), exclude: new Set(), nested: new Map() };
}

export function parseFields(spec: string): FieldNode {
  let pos = 0;
  const parseList = (): FieldNode => {
    const node = emptyNode();
    for (;;) {
      let negate = false;
      if (spec[pos] === '!') { negate = true; pos++; }
      const start = pos;
      while (pos < spec.length && !',()!'.includes(spec[pos])) pos++;
      const path = spec.slice(start, pos).trim();
      if (!path || path.split('.').some((p) => p.trim() === '')) throw new FieldsSyntaxError('Invalid fields');
      let sub: FieldNode | null = null;
      if (spec[pos] === '(') {
        pos++;
        sub = parseList();
        if (spec[pos] !== ')') throw new FieldsSyntaxError('Invalid fields');
        pos++;
      }
      const parts = path.split('.').map((p) => p.trim());
      if (negate) {
        // `!a.b` drops b inside a; `!a` drops a.
        let target = node;
        for (const part of parts.slice(0, -1)) {
          let child = target.nested.get(part);
          if (!child) { child = emptyNode(); target.nested.set(part, child); }
          target = child;
        }
        target.exclude.add(parts[parts.length - 1]);
      } else insert(node, parts, sub);
      if (spec[pos] === ',') { pos++; continue; }
      return node;
    }
  };
  const root = parseList();
  if (pos !== spec.length) throw new FieldsSyntaxError('Invalid fields');
  return root;
}

function insert(node: FieldNode, parts: string[], leaf: FieldNode | null): void {
  const [head, ...rest] = parts;
  if (rest.length === 0) {
    const existing = node.include.get(head);
    node.include.set(head, existing && leaf ? merge(existing, leaf) : existing === null ? null : leaf);
    return;
  }
  let child = node.include.get(head);
  if (child === null) return; // already fully included
  if (!child) { child = emptyNode(); node.include.set(head, child); }
  insert(child, rest, leaf);
}

function merge(a: FieldNode, b: FieldNode): FieldNode {
  const out = emptyNode();
  for (const [k, v] of a.include) out.include.set(k, v);
  for (const [k, v] of b.include) {
    const prev = out.include.get(k);
    out.include.set(k, prev && v ? merge(prev, v) : prev === null || v === null ? null : v);
  }
  for (const k of a.exclude) out.exclude.add(k);
  for (const k of b.exclude) out.exclude.add(k);
  for (const [k, v] of a.nested) out.nested.set(k, v);
  for (const [k, v] of b.nested) out.nested.set(k, out.nested.has(k) ? merge(out.nested.get(k)!, v) : v);
  return out;
}

export function applyFields(value: unknown, node: FieldNode | null): unknown {
  if (node === null || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => applyFields(v, node));
  const obj = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  const keys = node.include.size > 0 ? Object.keys(obj).filter((k) => node.include.has(k)) : Object.keys(obj);
  for (const k of keys) {
    if (node.exclude.has(k)) continue;
    let v = applyFields(obj[k], node.include.get(k) ?? null);
    const nested = node.nested.get(k);
    if (nested) v = applyFields(v, nested);
    out[k] = v;
  }
  return out;
}
