/**
 * The conformance kit, rule by rule: the scaffold as generated passes every suite; a temp copy
 * broken in one way fails exactly the rule that names the breakage, with its stream (and record).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RULES, SUITES, runConformance, scaffoldConnector, type ConformanceOptions, type SuiteName } from '../../core/conformance/index.ts';

let parent: string;
let pristine: string;

beforeAll(async () => {
  parent = await mkdtemp(join(tmpdir(), 'kit-'));
  pristine = (await scaffoldConnector('demo', parent)).dir;
});

afterAll(async () => {
  await rm(parent, { recursive: true, force: true });
});

type Edit = [file: 'index.ts' | 'sandbox.ts', from: string, to: string];

/** A copy of the scaffold with `edits` applied (each must match, or the test would prove nothing). */
async function broken(name: string, edits: Edit[]): Promise<string> {
  const dir = join(parent, name);
  await cp(pristine, dir, { recursive: true });
  for (const [file, from, to] of edits) {
    const text = await readFile(join(dir, file), 'utf8');
    if (!text.includes(from)) throw new Error(`case ${name}: "${from}" is not in the scaffold's ${file}`);
    await writeFile(join(dir, file), text.replace(from, to));
  }
  return dir;
}

// The scaffold reads through core's declarative reader (`read: restReader,`); most breakages wrap
// it as a misbehaving plugin would, or break the record hook or the sandbox.
const READ = 'read: restReader,';
const TO_RECORD = 'function toRecord(item: JsonRecord): JsonRecord {';
const TAGS = 'tags: Array.isArray(item.tags) ? item.tags.map(String) : [],';
const AFTER = 'const rest = items.filter((it) => String(it.updated_at) > after);';
/** The plugin's `read` replaced by `fn`, which may call the scaffold's reader, `restReader(stream, ctx)`. */
const wrapRead = (fn: string): Edit => ['index.ts', READ, `read: ${fn},`];
/** The reader's `setState(s)` replaced by `set`. */
const withSetState = (set: string): Edit => wrapRead(`(stream, ctx) => restReader(stream, { ...ctx, setState: (s) => ${set} })`);

interface Case {
  suite: SuiteName;
  rule: string;
  edits: Edit[];
  stream?: string;
  record?: number;
  options?: ConformanceOptions;
}

const CASES: Record<string, Case> = {
  // spec
  'api version 99': { suite: 'spec', rule: 'api-version', edits: [['index.ts', 'apiVersion: PLUGIN_API_VERSION,', 'apiVersion: 99,']] },
  'no read()': { suite: 'spec', rule: 'loads', edits: [['index.ts', READ, 'reed: restReader,']] },
  'bad name': { suite: 'spec', rule: 'name', edits: [['index.ts', "name: 'demo',", "name: 'Demo Plugin',"]] },
  'bad version': { suite: 'spec', rule: 'version', edits: [['index.ts', "version: '0.1.0',", "version: 'one',"]] },
  'no description': { suite: 'spec', rule: 'description', edits: [['index.ts', "description: 'TODO: one line on what demo reads',", "description: '',"]] },
  'config schema does not compile': { suite: 'spec', rule: 'config-schema', edits: [['index.ts', "required: ['base_url', 'api_key'],", "required: ['base_url', 'api_key'], type: 'objekt',"]] },
  'record schema does not compile': { suite: 'spec', rule: 'record-schema', stream: 'items', edits: [['index.ts', "score: { type: 'integer' },", "score: { type: 'integr' },"]] },
  'parameters schema does not compile': { suite: 'spec', rule: 'parameters-schema', stream: 'items', edits: [['index.ts', "primaryKey: ['id'],", "primaryKey: ['id'], parameters: { type: 'nope' },"]] },
  'unknown secret key': { suite: 'spec', rule: 'secret-keys', edits: [['index.ts', "secretKeys: ['api_key'],", "secretKeys: ['api_key', 'token'],"]] },
  'no sandbox': { suite: 'spec', rule: 'sandbox', edits: [['index.ts', 'async sandbox(options) {', 'async sandboxx(options) {']] },
  'sandbox config fails the schema': { suite: 'spec', rule: 'sandbox-config', edits: [['sandbox.ts', 'config: { base_url: url, api_key: apiKey },', "config: { base_url: url, api_key: apiKey, colour: 'blue' },"]] },
  // check
  'check fails on the sandbox': { suite: 'check', rule: 'check-passes', edits: [['sandbox.ts', "url.pathname === '/ping') return send(200, { ok: true });", "url.pathname === '/pong') return send(200, { ok: true });"]] },
  'check accepts any key': {
    suite: 'check',
    rule: 'check-rejects-bad-secrets',
    edits: [['index.ts', "await ctx.http.get('/ping', { label: 'ping', auth: bearer(ctx.config) });", "await ctx.http.get('/ping', { label: 'ping', auth: bearer(ctx.config) }).catch(() => undefined);"]],
  },
  // discovery
  'endpoint without description': { suite: 'discovery', rule: 'endpoints', stream: 'items', edits: [['index.ts', "description: 'Every item, oldest change first',", "description: '',"]] },
  'cursor field not in the schema': { suite: 'discovery', rule: 'incremental-field', stream: 'items', edits: [['index.ts', "field: 'updated_at'", "field: 'modified_at'"]] },
  'primary key not in the schema': { suite: 'discovery', rule: 'primary-key', stream: 'items', edits: [['index.ts', "primaryKey: ['id'],", "primaryKey: ['uuid'],"]] },
  'validate() rejects every stream': {
    suite: 'discovery',
    rule: 'streams',
    edits: [['index.ts', 'async check(ctx) {', "validate() {\n    return [{ path: 'streams.items.endpoint', message: 'not today' }];\n  },\n\n  async check(ctx) {"]],
  },
  // basic_read
  'read throws mid-way': { suite: 'basic_read', rule: 'read-completes', stream: 'items', record: 10, edits: [['index.ts', TO_RECORD, `${TO_RECORD}\n  if (item.id === 'item-0011') throw new Error('boom');`]] },
  'sandbox serves nothing': { suite: 'basic_read', rule: 'records', stream: 'items', edits: [['sandbox.ts', 'add(45);', 'add(0);']] },
  'record with an undefined value': { suite: 'basic_read', rule: 'record-object', stream: 'items', record: 0, edits: [['index.ts', TAGS, `${TAGS}\n    note: undefined,`]] },
  'record violates its schema': {
    suite: 'basic_read',
    rule: 'record-schema',
    stream: 'items',
    record: 2,
    edits: [['index.ts', 'score: Number(item.score),', "score: item.id === 'item-0003' ? String(item.score) : Number(item.score),"]],
  },
  'record differs from the sandbox': { suite: 'basic_read', rule: 'matches-sandbox', stream: 'items', record: 0, edits: [['index.ts', 'name: String(item.name),', 'name: String(item.name).toUpperCase(),']] },
  // incremental
  'resume fails': {
    suite: 'incremental',
    rule: 'read-completes',
    stream: 'items',
    edits: [wrapRead("(stream, ctx) => { if (ctx.state.cursor && stream.incremental) throw new Error('cannot resume'); return restReader(stream, ctx); }")],
  },
  'state never set': { suite: 'incremental', rule: 'state-saved', stream: 'items', edits: [withSetState('undefined')] },
  'state not JSON': { suite: 'incremental', rule: 'state-json', stream: 'items', edits: [withSetState('ctx.setState({ ...s, at: new Date() })')] },
  'cursor re-reads the last item': { suite: 'incremental', rule: 'no-duplicate', stream: 'items', record: 0, edits: [['sandbox.ts', AFTER, AFTER.replace('> after', '>= after')]] },
  'state that loses records (cursor from the clock)': { suite: 'incremental', rule: 'no-loss', stream: 'items', edits: [withSetState('ctx.setState({ cursor: new Date().toISOString() })')] },
  'state that never moves on': {
    suite: 'incremental',
    rule: 'caught-up',
    stream: 'items',
    record: 0,
    edits: [withSetState('ctx.setState(stream.incremental && Object.keys(ctx.state).length ? ctx.state : s)')],
  },
  // rerun
  'second read fails': {
    suite: 'rerun',
    rule: 'read-completes',
    stream: 'items',
    edits: [wrapRead("(stream, ctx) => { if (++reads === 2) throw new Error('flaky'); return restReader(stream, ctx); }"), ['index.ts', 'export default definePlugin', 'let reads = 0;\n\nexport default definePlugin']],
  },
  'records differ between reads': { suite: 'rerun', rule: 'same-records', stream: 'items', edits: [['index.ts', 'name: String(item.name),', 'name: `${String(item.name)} ${Math.random()}`,']] },
  'read changes its input state': {
    suite: 'rerun',
    rule: 'state-unchanged',
    stream: 'items',
    edits: [wrapRead('(stream, ctx) => { delete ctx.state.cursor; return restReader(stream, ctx); }')],
  },
  // faults
  'no retries (own fetch)': {
    suite: 'faults',
    rule: 'survives-faults',
    stream: 'items',
    edits: [
      wrapRead(
        '(stream, ctx) => restReader(stream, { ...ctx, http: { get: async (url, o) => {\n' +
          '    const q = new URLSearchParams(Object.entries(o.params ?? {}).filter(([, v]) => v !== undefined).map(([k, v]) => [k, String(v)]));\n' +
          '    const res = await fetch(`${ctx.config.base_url}${url}?${q}`, { headers: { authorization: `Bearer ${ctx.config.api_key}` } });\n' +
          '    if (!res.ok) throw new Error(`HTTP ${res.status}`);\n' +
          '    return { status: res.status, data: await res.json(), headers: {} };\n' +
          '  } } })',
      ),
    ],
  },
  'gives up on a 429 and keeps what it has': {
    suite: 'faults',
    rule: 'same-records',
    stream: 'items',
    edits: [wrapRead('(stream, ctx) => restReader(stream, { ...ctx, http: { get: (url, o) => ctx.http.get(url, { ...o, accept: [429, 503] }) } })')],
  },
  // secrets
  'secret in a record': {
    suite: 'secrets',
    rule: 'secret-in-record',
    stream: 'items',
    record: 0,
    edits: [wrapRead('async function* (stream, ctx) { for await (const r of restReader(stream, ctx)) yield { ...r, name: `${String(r.name)} (${ctx.config.api_key})` }; }')],
  },
  'secret in a log line': {
    suite: 'secrets',
    rule: 'secret-in-log',
    stream: 'items',
    edits: [wrapRead('(stream, ctx) => { ctx.logger.debug(`GET /items with key ${ctx.config.api_key}`); return restReader(stream, ctx); }')],
  },
  'secret in an error': {
    suite: 'secrets',
    rule: 'secret-in-error',
    options: { suites: ['check', 'secrets'] },
    edits: [['index.ts', "throw new UserError('demo rejected the api_key (HTTP 401)',", 'throw new UserError(`demo rejected the api_key ${ctx.config.api_key} (HTTP 401)`,']],
  },
  'undeclared secret': { suite: 'secrets', rule: 'undeclared-secret', edits: [['index.ts', "base_url: { type: 'string',", "access_token: { type: 'string' },\n    base_url: { type: 'string',"]] },
  // abort
  'yields before looking at the signal': {
    suite: 'abort',
    rule: 'before-start',
    stream: 'items',
    record: 0,
    edits: [wrapRead("async function* (stream, ctx) { yield { id: 'item-0000', name: 'cached', updated_at: '2024-01-01T00:00:00.000Z', score: 0, tags: [] }; yield* restReader(stream, ctx); }")],
  },
  'ignores the abort': {
    suite: 'abort',
    rule: 'stops-promptly',
    stream: 'items',
    options: { abortTimeoutMs: 300 },
    edits: [wrapRead('async function* (stream, ctx) { for await (const r of restReader(stream, ctx)) { yield r; if (ctx.signal.aborted) await new Promise((res) => setTimeout(res, 200)); } }')],
  },
};

describe('the scaffold as generated', () => {
  it('passes every suite of the kit', async () => {
    const r = await runConformance(pristine);
    expect(r.suites.filter((s) => s.status === 'failed').flatMap((s) => s.failures)).toEqual([]);
    expect(r.ok).toBe(true);
    expect(Object.fromEntries(r.suites.map((s) => [s.suite, s.status]))).toEqual(Object.fromEntries(SUITES.map((s) => [s, 'passed'])));
    expect(r.streams).toEqual(['items']);
  });
});

describe.concurrent('each rule of the kit catches its breakage', () => {
  for (const [name, c] of Object.entries(CASES)) {
    it(`${c.suite}.${c.rule}: ${name}`, async () => {
      const dir = await broken(name.replace(/[^a-z0-9]+/gi, '-'), c.edits);
      const r = await runConformance(dir, { suites: [c.suite], ...c.options });
      expect(r.ok, 'the kit must fail').toBe(false);
      const failures = r.suites.flatMap((s) => s.failures);
      const hit = failures.find((f) => f.suite === c.suite && f.rule === c.rule);
      expect(hit, `expected ${c.suite}.${c.rule} among ${JSON.stringify(failures, null, 1)}`).toBeDefined();
      if (c.stream) expect(hit!.stream).toBe(c.stream);
      if (c.record !== undefined) expect(hit!.record).toBe(c.record);
    });
  }

  it('covers every rule', () => {
    const covered = new Set(Object.values(CASES).map((c) => `${c.suite}.${c.rule}`));
    const all = SUITES.flatMap((s) => Object.keys(RULES[s]).map((r) => `${s}.${r}`));
    expect(all.filter((r) => !covered.has(r))).toEqual([]);
  });
});
