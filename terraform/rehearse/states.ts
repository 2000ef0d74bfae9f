/**
 * Just enough of Step Functions' JSONPath input processing to run the stack's state machine on an
 * event the way AWS would: a `Parameters` (or `Arguments`) object whose keys ending in `.$` take a
 * path into the input (`$.detail.object.key`) or an intrinsic function. Only the intrinsics
 * listed are known; anything else is an error naming it (the rehearsal never guesses).
 */

type Json = unknown;

/** The value at a JSONPath of the simple form `$`, `$.a.b`, `$.a[0]`. */
export function jsonPath(input: Json, path: string): Json {
  if (path === '$') return input;
  if (!path.startsWith('$.') && !path.startsWith('$[')) throw new Error(`unsupported JSONPath ${path}`);
  let cur: Json = input;
  for (const m of path.slice(1).matchAll(/\.([A-Za-z0-9_-]+)|\[(\d+)\]/g)) {
    if (cur === null || typeof cur !== 'object') throw new Error(`JSONPath ${path}: no value`);
    cur = m[1] !== undefined ? (cur as Record<string, Json>)[m[1]] : (cur as Json[])[Number(m[2])];
  }
  if (cur === undefined) throw new Error(`JSONPath ${path}: no value in the input`);
  return cur;
}

/** Splits an intrinsic's argument list at top-level commas (strings and nested calls kept whole). */
function splitArgs(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quote = false;
  let cur = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quote) {
      cur += ch;
      if (ch === '\\') cur += text[++i] ?? '';
      else if (ch === "'") quote = false;
      continue;
    }
    if (ch === "'") quote = true;
    else if (ch === '(') depth++;
    else if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

/** An intrinsic function call, a JSONPath, a quoted string or a number. */
export function evaluate(expr: string, input: Json): Json {
  const e = expr.trim();
  if (e.startsWith("'") && e.endsWith("'")) return e.slice(1, -1).replace(/\\(.)/g, '$1');
  if (/^-?\d+(\.\d+)?$/.test(e)) return Number(e);
  if (e.startsWith('$')) return jsonPath(input, e);
  const m = /^(States\.[A-Za-z]+)\(([\s\S]*)\)$/.exec(e);
  if (!m) throw new Error(`unsupported expression ${e}`);
  const args = splitArgs(m[2]).map((a) => evaluate(a, input));
  switch (m[1]) {
    case 'States.Format': {
      const [tmpl, ...rest] = args as [string, ...Json[]];
      let i = 0;
      return tmpl.replace(/\{\}/g, () => String(rest[i++]));
    }
    case 'States.StringSplit': {
      const [s, sep] = args as [string, string];
      return s.split(new RegExp(`[${sep.replace(/[\]\\^-]/g, '\\$&')}]`)).filter((x) => x !== '');
    }
    case 'States.ArrayGetItem': {
      const [arr, i] = args as [Json[], number];
      return arr[i];
    }
    case 'States.ArrayLength':
      return (args[0] as Json[]).length;
    case 'States.MathAdd':
      return (args[0] as number) + (args[1] as number);
    case 'States.Array':
      return args;
    case 'States.JsonToString':
      return JSON.stringify(args[0]);
    case 'States.StringToJson':
      return JSON.parse(args[0] as string);
    default:
      throw new Error(`the rehearsal does not know the intrinsic ${m[1]}`);
  }
}

/** A Parameters/Arguments template applied to `input`: `key.$` values evaluated, others copied. */
export function applyTemplate(template: Json, input: Json): Json {
  if (Array.isArray(template)) return template.map((t) => applyTemplate(t, input));
  if (!template || typeof template !== 'object') return template;
  const out: Record<string, Json> = {};
  for (const [k, v] of Object.entries(template)) {
    if (k.endsWith('.$')) out[k.slice(0, -2)] = evaluate(String(v), input);
    else out[k] = applyTemplate(v, input);
  }
  return out;
}
