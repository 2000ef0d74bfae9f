/**
 * A minimal Amazon States Language interpreter for the synthesized state machines (the tests of
 * the starter, and the rehearsal, which starts the Glue job as the machine would): JSONPath
 * states (Pass, Choice, Task, Succeed, Fail), `Parameters` with `.$` keys, simple `$.a.b` paths,
 * and only the intrinsic functions and Choice operators the stack uses, each as the Step
 * Functions documentation specifies it. A Task is not run: the interpreter records the resource
 * and the parameters it would be called with and continues with `taskOutput`.
 *
 * Anything else throws, naming it, rather than guessing: a definition that starts using another
 * intrinsic or operator fails its test until the interpreter learns it from the docs.
 */

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export interface TaskCall {
  state: string;
  resource: string;
  parameters: Json;
}

export interface Execution {
  /** The Task states reached, in order, with what they would be called with. */
  calls: TaskCall[];
  /** The states visited, in order. */
  path: string[];
  output: Json;
}

interface State {
  Type: string;
  Next?: string;
  End?: boolean;
  Parameters?: Json;
  Result?: Json;
  ResultPath?: string | null;
  InputPath?: string | null;
  OutputPath?: string | null;
  Resource?: string;
  Choices?: Array<Record<string, Json>>;
  Default?: string;
}

/** Runs a definition (parsed JSON) on an input. */
export function execute(machine: unknown, input: unknown, taskOutput: Json = {}): Execution {
  const definition = machine as { StartAt: string; States: Record<string, State>; QueryLanguage?: string };
  if (definition.QueryLanguage && definition.QueryLanguage !== 'JSONPath') throw new Error(`query language ${definition.QueryLanguage} is not implemented`);
  const calls: TaskCall[] = [];
  const path: string[] = [];
  let name: string | undefined = definition.StartAt;
  let data = input as Json;
  while (name !== undefined) {
    if (path.length > 100) throw new Error(`more than 100 transitions: a loop through ${path.slice(-5).join(' -> ')}`);
    const state: State | undefined = definition.States[name];
    if (!state) throw new Error(`state ${name} is not defined`);
    path.push(name);
    for (const field of ['InputPath', 'OutputPath'] as const) {
      if (state[field] !== undefined && state[field] !== '$') throw new Error(`${name}: ${field} is not implemented`);
    }
    switch (state.Type) {
      case 'Pass': {
        const result = state.Parameters !== undefined ? parameters(state.Parameters, data) : state.Result !== undefined ? state.Result : data;
        data = place(data, result, state.ResultPath, name);
        break;
      }
      case 'Task': {
        calls.push({ state: name, resource: String(state.Resource), parameters: state.Parameters !== undefined ? parameters(state.Parameters, data) : data });
        data = place(data, taskOutput, state.ResultPath, name);
        break;
      }
      case 'Choice': {
        const here: string = name;
        const rule: Record<string, Json> | undefined = (state.Choices ?? []).find((c) => matches(c, data, here));
        const next: string | undefined = rule ? text(rule.Next, `${name}: a choice's Next`) : state.Default;
        if (next === undefined) throw new Error(`${name}: no choice matched and there is no Default (States.NoChoiceMatched)`);
        name = next;
        continue;
      }
      case 'Succeed':
        return { calls, path, output: data };
      case 'Fail':
        throw new Error(`${name}: the execution fails`);
      default:
        throw new Error(`${name}: state type ${state.Type} is not implemented`);
    }
    if (state.End) return { calls, path, output: data };
    name = state.Next;
    if (name === undefined) throw new Error(`${path[path.length - 1]}: neither Next nor End`);
  }
  return { calls, path, output: data };
}

function place(input: Json, result: Json, resultPath: string | null | undefined, state: string): Json {
  if (resultPath === undefined || resultPath === '$') return result;
  if (resultPath === null) return input;
  throw new Error(`${state}: ResultPath ${resultPath} is not implemented`);
}

/** `Parameters`: a key ending in `.$` takes the value of its path or intrinsic function. */
function parameters(template: Json, data: Json): Json {
  if (Array.isArray(template)) return template.map((t) => parameters(t, data));
  if (template === null || typeof template !== 'object') return template;
  const out: Record<string, Json> = {};
  for (const [k, v] of Object.entries(template)) {
    if (k.endsWith('.$')) {
      if (typeof v !== 'string') throw new Error(`${k}: the value of a .$ key must be a string`);
      out[k.slice(0, -2)] = v.startsWith('States.') ? intrinsic(v, data) : jsonPath(v, data);
    } else {
      out[k] = parameters(v, data);
    }
  }
  return out;
}

/** Reference paths: `$` and `$.name.name...`. */
export function jsonPath(path: string, data: Json): Json {
  if (path === '$') return data;
  const m = /^\$((?:\.[A-Za-z_][A-Za-z0-9_-]*)+)$/.exec(path);
  if (!m) throw new Error(`path ${path} is not implemented (only $.a.b)`);
  let v: Json = data;
  for (const part of m[1].slice(1).split('.')) {
    if (v === null || typeof v !== 'object' || Array.isArray(v) || !(part in v)) throw new Error(`States.Runtime: path ${path} does not exist in the input`);
    v = v[part];
  }
  return v;
}

function matches(rule: Record<string, Json>, data: Json, state: string): boolean {
  if (rule.Not !== undefined) return !matches(rule.Not as Record<string, Json>, data, state);
  if (rule.And !== undefined) return (rule.And as Array<Record<string, Json>>).every((r) => matches(r, data, state));
  if (rule.Or !== undefined) return (rule.Or as Array<Record<string, Json>>).some((r) => matches(r, data, state));
  const value = jsonPath(text(rule.Variable, `${state}: a choice's Variable`), data);
  if (typeof rule.StringEquals === 'string') return typeof value === 'string' && value === rule.StringEquals;
  if (typeof rule.StringMatches === 'string') return typeof value === 'string' && wildcard(rule.StringMatches).test(value);
  const ops = Object.keys(rule).filter((k) => !['Variable', 'Next'].includes(k));
  throw new Error(`${state}: Choice operator ${ops.join(', ')} is not implemented`);
}

/** StringMatches: `*` is any run of characters (none included); `\*` and `\\` are literal. */
function wildcard(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\' && i + 1 < pattern.length) re += escapeRe(pattern[++i]);
    else if (c === '*') re += '[\\s\\S]*';
    else re += escapeRe(c);
  }
  return new RegExp(`^${re}$`);
}

const escapeRe = (c: string) => c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

// ---- intrinsic functions ---------------------------------------------------------------------

type Arg = { kind: 'call'; name: string; args: Arg[] } | { kind: 'path'; path: string } | { kind: 'value'; value: Json };

export function intrinsic(expression: string, input: unknown): Json {
  const data = input as Json;
  const p = { s: expression, i: 0 };
  const call = parseArg(p);
  skipSpace(p);
  if (p.i !== p.s.length || call.kind !== 'call') throw new Error(`not one intrinsic function call: ${expression}`);
  return evaluate(call, data, 1);
}

function skipSpace(p: { s: string; i: number }): void {
  while (p.s[p.i] === ' ') p.i++;
}

function parseArg(p: { s: string; i: number }): Arg {
  skipSpace(p);
  const rest = p.s.slice(p.i);
  if (rest.startsWith("'")) {
    // A string literal; `\'`, `\{`, `\}` and `\\` are escapes.
    let value = '';
    p.i++;
    while (p.i < p.s.length && p.s[p.i] !== "'") {
      if (p.s[p.i] === '\\') p.i++;
      value += p.s[p.i++];
    }
    if (p.s[p.i] !== "'") throw new Error(`unterminated string in ${p.s}`);
    p.i++;
    return { kind: 'value', value };
  }
  const number = /^-?\d+(\.\d+)?/.exec(rest);
  if (number) {
    p.i += number[0].length;
    return { kind: 'value', value: Number(number[0]) };
  }
  const path = /^\$(\.[A-Za-z_][A-Za-z0-9_-]*)*/.exec(rest);
  if (path) {
    p.i += path[0].length;
    return { kind: 'path', path: path[0] };
  }
  const name = /^States\.[A-Za-z]+/.exec(rest);
  if (!name) throw new Error(`cannot read an argument at "${rest}" in ${p.s}`);
  p.i += name[0].length;
  if (p.s[p.i] !== '(') throw new Error(`${name[0]} without arguments in ${p.s}`);
  p.i++;
  const args: Arg[] = [];
  skipSpace(p);
  if (p.s[p.i] === ')') p.i++;
  else {
    for (;;) {
      args.push(parseArg(p));
      skipSpace(p);
      const c = p.s[p.i++];
      if (c === ')') break;
      if (c !== ',') throw new Error(`expected , or ) in ${p.s} at ${p.i - 1}`);
    }
  }
  return { kind: 'call', name: name[0], args };
}

function evaluate(arg: Arg, data: Json, depth: number): Json {
  if (arg.kind === 'value') return arg.value;
  if (arg.kind === 'path') return jsonPath(arg.path, data);
  // "You can nest up to 10 intrinsic functions within a field."
  if (depth > 10) throw new Error('more than 10 nested intrinsic functions');
  const args = arg.args.map((a) => evaluate(a, data, depth + 1));
  const fn = INTRINSICS[arg.name];
  if (!fn) throw new Error(`intrinsic function ${arg.name} is not implemented`);
  return fn(args);
}

const str = (v: Json, fn: string): string => {
  if (typeof v !== 'string') throw new Error(`States.Runtime: ${fn} expects a string, got ${JSON.stringify(v)}`);
  return v;
};
const int = (v: Json, fn: string): number => {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new Error(`States.Runtime: ${fn} expects an integer, got ${JSON.stringify(v)}`);
  return v;
};
const arr = (v: Json, fn: string): Json[] => {
  if (!Array.isArray(v)) throw new Error(`States.Runtime: ${fn} expects an array, got ${JSON.stringify(v)}`);
  return v;
};
const arity = (args: Json[], n: number, fn: string) => {
  if (args.length !== n) throw new Error(`${fn} takes ${n} arguments, got ${args.length}`);
};

const INTRINSICS: Record<string, (args: Json[]) => Json> = {
  /**
   * "Splits a string into an array of values ... the delimiting character(s)": every character of
   * the splitter is a delimiter ("This.is+a,test=string" with ".+,=" gives five words). Whether
   * AWS keeps or drops the empty pieces between adjacent delimiters is not documented, so an
   * input where it would matter throws instead of picking an answer.
   */
  'States.StringSplit': (args) => {
    arity(args, 2, 'States.StringSplit');
    const s = str(args[0], 'States.StringSplit');
    const splitter = str(args[1], 'States.StringSplit');
    const pieces: string[] = [];
    let piece = '';
    for (const c of s) {
      if (splitter.includes(c)) {
        pieces.push(piece);
        piece = '';
      } else piece += c;
    }
    pieces.push(piece);
    if (pieces.some((x) => x === '')) throw new Error(`States.StringSplit(${JSON.stringify(s)}, ${JSON.stringify(splitter)}): empty pieces, whose handling AWS does not document`);
    return pieces;
  },
  'States.ArrayGetItem': (args) => {
    arity(args, 2, 'States.ArrayGetItem');
    const a = arr(args[0], 'States.ArrayGetItem');
    const i = int(args[1], 'States.ArrayGetItem');
    if (i < 0 || i >= a.length) throw new Error(`States.Runtime: States.ArrayGetItem index ${i} is outside an array of ${a.length}`);
    return a[i];
  },
  'States.ArrayLength': (args) => {
    arity(args, 1, 'States.ArrayLength');
    return arr(args[0], 'States.ArrayLength').length;
  },
  /** "Both arguments ... integer values" between -2147483648 and 2147483647. */
  'States.MathAdd': (args) => {
    arity(args, 2, 'States.MathAdd');
    const sum = int(args[0], 'States.MathAdd') + int(args[1], 'States.MathAdd');
    if (sum < -2147483648 || sum > 2147483647) throw new Error('States.Runtime: States.MathAdd overflows a 32-bit integer');
    return sum;
  },
};

/** A field the definition must give as a string (a state name, a path). */
function text(v: Json | undefined, what: string): string {
  if (typeof v !== 'string') throw new Error(`${what} is not a string`);
  return v;
}
