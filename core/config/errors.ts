/**
 * JSON Schema validation with messages a YAML author can act on. Ajv reports what its
 * algorithm tried (every oneOf branch, a pattern in regex syntax); this module turns that into
 * one message per key, in words, at the key's position.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import formats from 'ajv-formats';
import type { JsonSchema } from '../plugin-api.ts';
import type { Anchor } from './source.ts';
import { formatPath, pointerToSegments, type Segment } from './paths.ts';
import { closest, describeValue, quote, typeWord, unknownWord } from './words.ts';

/** One translated schema error, positioned relative to the validated value. */
export interface Finding {
  segments: Segment[];
  anchor: Anchor;
  message: string;
  /** For dropping a "missing key" that an unknown key next to it already explains (`endpiont`). */
  missing?: string;
  suggestion?: string;
}

export interface TranslateOptions {
  /** Values under these paths are never echoed (connector secrets typed in clear). */
  hidden?: (segments: readonly Segment[]) => boolean;
}

type AnyAjv = InstanceType<typeof Ajv> | InstanceType<typeof Ajv2020>;

function makeAjv(draft2020: boolean, strict: boolean): AnyAjv {
  // strictRequired would reject `oneOf: [{required: [path]}, {required: [sql]}]`, the standard
  // way to say "exactly one of these keys".
  const options = { allErrors: true, verbose: true, strict, strictRequired: false, strictTypes: false, allowUnionTypes: true };
  const ajv = draft2020 ? new Ajv2020(options) : new Ajv(options);
  formats.default(ajv);
  // Editor-only annotations (yaml-language-server / VS Code); ajv must accept them in strict mode.
  for (const k of ['patternErrorMessage', 'errorMessage', 'markdownDescription', 'deprecationMessage', 'defaultSnippets']) {
    if (!ajv.getKeyword(k)) ajv.addKeyword(k);
  }
  return ajv;
}

/**
 * A compiled schema. Our own schema compiles strictly (a typo in it is our bug); a plugin's
 * compiles leniently, since an unknown annotation keyword there must not break a user's run.
 */
export class SchemaValidator {
  private readonly ajv: AnyAjv;
  private readonly validateFn: ValidateFunction;
  private readonly branches = new Map<unknown, ValidateFunction>();

  constructor(
    private readonly schema: JsonSchema,
    options: { strict?: boolean } = {},
  ) {
    const draft = typeof schema.$schema === 'string' ? schema.$schema : '';
    this.ajv = makeAjv(/2019-09|2020-12/.test(draft), options.strict ?? false);
    this.validateFn = this.ajv.compile(schema);
  }

  /** Findings for `data`; empty when it is valid. */
  check(data: unknown, options: TranslateOptions = {}): Finding[] {
    if (this.validateFn(data)) return [];
    return withoutExplained(onePerKey(this.translate(this.validateFn.errors ?? [], data, options)));
  }

  private translate(errors: ErrorObject[], root: unknown, options: TranslateOptions): Finding[] {
    // Keys a propertyNames rule already reported: their additionalProperties error is noise.
    const badNames = new Set(
      errors.filter((e) => e.keyword === 'propertyNames').map((e) => `${e.instancePath}/${String(e.params.propertyName)}`),
    );
    const out: Finding[][] = [];
    // Backwards, because ajv appends a oneOf's own error after its branches' errors.
    let i = errors.length - 1;
    while (i >= 0) {
      const e = errors[i];
      if (e.keyword === 'oneOf' || e.keyword === 'anyOf') {
        const { findings, consumed } = this.combinator(e, errors.slice(0, i), root, options);
        out.unshift(findings);
        i -= consumed + 1;
      } else {
        out.unshift(single(e, root, badNames, options));
        i -= 1;
      }
    }
    return out.flat();
  }

  /**
   * A failed oneOf/anyOf becomes one message: the branch whose type fits the value explains
   * what is wrong inside it; if none fits, "expected A or B". Each branch is re-validated on
   * its own to know which of the preceding errors are its own.
   */
  private combinator(
    e: ErrorObject,
    before: ErrorObject[],
    root: unknown,
    options: TranslateOptions,
  ): { findings: Finding[]; consumed: number } {
    const at = pointerToSegments(e.instancePath, root);
    const branches = Array.isArray(e.schema) ? (e.schema as JsonSchema[]) : [];
    let results: Array<ErrorObject[] | null>;
    try {
      results = branches.map((b) => this.branchErrors(b, e.data));
    } catch {
      // A branch that cannot stand alone (a ref relative to something other than the root).
      results = [];
    }
    const failing = results.filter((r): r is ErrorObject[] => r !== null);
    let consumed = failing.reduce((n, r) => n + r.length, 0);
    const tail = before.slice(before.length - consumed);
    if (results.length === 0 || consumed > before.length || !tail.every((x) => x.instancePath.startsWith(e.instancePath))) {
      // Fall back to the branch errors ajv marks by schema path, and a plain message.
      consumed = 0;
      for (let j = before.length - 1; j >= 0 && before[j].schemaPath.startsWith(`${e.schemaPath}/`); j--) consumed++;
      if (results.length === 0) {
        return { findings: [{ segments: at, anchor: 'value', message: `expected ${unique(branches.map(title)).join(' or ')}` }], consumed };
      }
    }
    const requiredOnly = branches.every((b) => Object.keys(b).length === 1 && Array.isArray(b.required));
    const keys = branches.flatMap((b) => (Array.isArray(b.required) ? (b.required as string[]) : []));
    const passing = (e.params as { passingSchemas?: number[] | null }).passingSchemas;
    if (passing) {
      const message = requiredOnly
        ? `give either ${keys.map((k) => `"${k}"`).join(' or ')}, not both`
        : `matches more than one of the allowed forms (${branches.map(title).join('; ')})`;
      return { findings: [{ segments: at, anchor: 'container', message }], consumed };
    }
    if (requiredOnly) {
      return { findings: [{ segments: at, anchor: 'container', message: `missing required key ${keys.map((k) => `"${k}"`).join(' or ')}` }], consumed };
    }
    // A branch "fits" when the value has its type: an enum of strings does not fit a number.
    const misfit = (x: ErrorObject) =>
      x.instancePath === '' &&
      (x.keyword === 'type' ||
        ((x.keyword === 'enum' || x.keyword === 'const') &&
          !(x.keyword === 'enum' ? (x.schema as unknown[]) : [x.schema]).some((v) => jsonType(v) === jsonType(e.data))));
    const fitting = failing.filter((errs) => !errs.some(misfit));
    if (fitting.length === 0) {
      const hidden = options.hidden?.(at) ?? false;
      const message = `expected ${unique(branches.map(title)).join(' or ')}, got ${describeValue(e.data, hidden)}`;
      return { findings: [{ segments: at, anchor: 'value', message }], consumed };
    }
    const best = fitting.reduce((a, b) => (b.length < a.length ? b : a));
    const rebased = best.map((x) => ({ ...x, instancePath: e.instancePath + x.instancePath }));
    return { findings: this.translate(rebased, root, options), consumed };
  }

  /** Errors of one branch against the value (null when it passes), sharing the root's definitions. */
  private branchErrors(branch: JsonSchema, data: unknown): ErrorObject[] | null {
    let fn = this.branches.get(branch);
    if (!fn) {
      const wrapper: JsonSchema = { allOf: [branch] };
      for (const k of ['$schema', 'definitions', '$defs']) if (k in this.schema) wrapper[k] = this.schema[k];
      fn = this.ajv.compile(wrapper);
      this.branches.set(branch, fn);
    }
    return fn(data) ? null : [...(fn.errors ?? [])];
  }
}

function title(schema: JsonSchema): string {
  if (typeof schema.title === 'string') return schema.title;
  const t = schema.type;
  if (typeof t === 'string') return typeWord(t);
  if (Array.isArray(t)) return t.map((x) => typeWord(String(x))).join(' or ');
  if ('const' in schema) return JSON.stringify(schema.const);
  if (Array.isArray(schema.enum)) return `one of ${schema.enum.map(listItem).join(', ')}`;
  return 'another form';
}

function jsonType(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

function unique<T>(xs: T[]): T[] {
  return [...new Set(xs)];
}

function listItem(v: unknown): string {
  return typeof v === 'string' && !/[\s,]/.test(v) && v !== '' ? v : JSON.stringify(v);
}

function single(e: ErrorObject, root: unknown, badNames: Set<string>, options: TranslateOptions): Finding[] {
  const at = pointerToSegments(e.instancePath, root);
  const hidden = options.hidden?.(at) ?? false;
  const got = describeValue(e.data, hidden);
  const parent = (e.parentSchema ?? {}) as JsonSchema;
  const shown = typeof e.data === 'string' && !hidden ? ` ${quote(e.data)}` : '';
  const p = e.params as Record<string, unknown>;
  const value = (message: string): Finding[] => [{ segments: at, anchor: 'value', message }];
  switch (e.keyword) {
    case 'required':
      return [{ segments: at, anchor: 'container', message: `missing required key "${String(p.missingProperty)}"`, missing: String(p.missingProperty) }];
    case 'additionalProperties': {
      const key = String(p.additionalProperty);
      if (badNames.has(`${e.instancePath}/${key}`)) return [];
      const allowed = Object.keys((parent.properties as object | undefined) ?? {});
      return [{ segments: [...at, key], anchor: 'key', message: unknownWord('key', key, allowed), suggestion: closest(key, allowed) }];
    }
    case 'propertyNames':
    case 'if':
      // Their sub-errors say it better (a name's pattern; the then/else branch).
      return [];
    case 'type': {
      const types = Array.isArray(p.type) ? p.type : String(p.type).split(',');
      return value(`expected ${types.map((t) => typeWord(String(t))).join(' or ')}, got ${got}`);
    }
    case 'enum': {
      const allowed = (e.schema as unknown[]) ?? [];
      const guess = typeof e.data === 'string' && !hidden ? closest(e.data, allowed.filter((a): a is string => typeof a === 'string')) : undefined;
      return value(`expected one of ${allowed.map(listItem).join(', ')}; got ${got}${guess ? ` (did you mean "${guess}"?)` : ''}`);
    }
    case 'const':
      return value(`expected ${JSON.stringify(p.allowedValue)}, got ${got}`);
    case 'pattern': {
      const why = typeof parent.patternErrorMessage === 'string' ? parent.patternErrorMessage : `must match the pattern ${String(p.pattern)}`;
      if (e.propertyName !== undefined) {
        return [{ segments: [...at, e.propertyName], anchor: 'key', message: `invalid name "${e.propertyName}": ${why}` }];
      }
      return value(`invalid value${shown}: ${why}`);
    }
    case 'format':
      return value(`invalid value${shown}: expected ${String(p.format)} format`);
    case 'minLength':
      return value(p.limit === 1 ? 'must not be empty' : `must be at least ${String(p.limit)} characters long`);
    case 'maxLength':
      return value(`must be at most ${String(p.limit)} characters long`);
    case 'minItems':
      return value(p.limit === 1 ? 'must not be an empty list' : `expected at least ${String(p.limit)} items`);
    case 'maxItems':
      return value(`expected at most ${String(p.limit)} items`);
    case 'minProperties':
      return value(p.limit === 1 ? 'must not be empty' : `expected at least ${String(p.limit)} entries`);
    case 'maxProperties':
      return value(`expected at most ${String(p.limit)} entries`);
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return value(`must be ${String(p.comparison)} ${String(p.limit)}, got ${got}`);
    case 'multipleOf':
      return value(`must be a multiple of ${String(p.multipleOf)}, got ${got}`);
    case 'uniqueItems':
      return value(`items ${String(p.j)} and ${String(p.i)} are the same; list each value once`);
    case 'dependentRequired':
    case 'dependencies':
      return [{ segments: at, anchor: 'container', message: `"${String(p.property)}" needs "${String(p.missingProperty)}" as well` }];
    case 'not':
      return value('this value is not allowed here');
    case 'false schema':
      return [{ segments: at, anchor: 'key', message: 'this key is not allowed here' }];
    default:
      return value(e.message ?? `fails the ${e.keyword} rule`);
  }
}

/** `endpiont: x` is one mistake: "unknown key endpiont, did you mean endpoint" says it all. */
function withoutExplained(findings: Finding[]): Finding[] {
  const typos = new Set(
    findings.filter((f) => f.suggestion).map((f) => `${formatPath(f.segments.slice(0, -1))}|${f.suggestion}`),
  );
  return findings.filter((f) => !(f.missing && typos.has(`${formatPath(f.segments)}|${f.missing}`)));
}

/** At most one message per key (a wrong type makes its other complaints moot); missing keys each count. */
function onePerKey(findings: Finding[]): Finding[] {
  const slot = (f: Finding) => `${formatPath(f.segments)}|${f.message.startsWith('missing required key') ? f.message : ''}`;
  const chosen = new Map<string, Finding>();
  for (const f of findings) {
    const k = slot(f);
    const prev = chosen.get(k);
    if (!prev || (f.message.startsWith('expected ') && !prev.message.startsWith('expected '))) chosen.set(k, f);
  }
  const keep = new Set(chosen.values());
  return findings.filter((f) => keep.has(f));
}
