/**
 * Checks that need the connector plugin (which endpoints exist, what each takes) or look across
 * sections (a table's stream, a partition's column). The schema has already judged the shape;
 * these checks skip values of the wrong type rather than report them twice.
 */
import type { ConnectorPlugin, EndpointDescriptor, JsonSchema, Removal, StreamSpec } from '../plugin-api.ts';
import type { LoadedPipeline } from './types.ts';
import { SchemaValidator, type Finding } from './errors.ts';
import { parsePath, valueAt, type Segment } from './paths.ts';
import { sortProblems, type Problem } from './problem.ts';
import { hasRef } from './refs.ts';
import { sourceOf, type Anchor } from './source.ts';
import { unknownWord } from './words.ts';

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => x !== null && typeof x === 'object' && !Array.isArray(x);
const entries = (x: unknown): [string, Obj][] =>
  isObj(x) ? Object.entries(x).filter((e): e is [string, Obj] => isObj(e[1])) : [];

type Report = (segments: Segment[], message: string, opts?: { anchor?: Anchor; severity?: Problem['severity'] }) => void;

/** Semantic problems of a loaded pipeline against its plugin: errors and warnings, by position. */
export function validatePipeline(loaded: LoadedPipeline, plugin: ConnectorPlugin): Problem[] {
  const source = sourceOf(loaded);
  const problems: Problem[] = [];
  const report: Report = (segments, message, opts = {}) => {
    const pos = source.position(segments, opts.anchor ?? 'value');
    problems.push({ ...pos, path: source.display(segments), message, severity: opts.severity ?? 'error' });
  };
  const config = loaded.config as unknown as Obj;
  checkConnector(config, plugin, report);
  checkStorage(config, report);
  checkStreams(config, plugin, report);
  checkTables(config, report);
  checkQueries(config, report);
  checkDashboards(config, report);
  checkRecommendations(config, report);
  checkWithPlugin(config, plugin, report);
  return sortProblems(problems);
}

const validators = new WeakMap<object, SchemaValidator>();
function validatorFor(schema: JsonSchema): SchemaValidator {
  let v = validators.get(schema);
  if (!v) validators.set(schema, (v = new SchemaValidator(schema)));
  return v;
}

function reportFindings(report: Report, base: Segment[], findings: Finding[]): void {
  for (const f of findings) report([...base, ...f.segments], f.message, { anchor: f.anchor });
}

function checkConnector(config: Obj, plugin: ConnectorPlugin, report: Report): void {
  const connector = config.connector;
  if (!isObj(connector) || !isObj(connector.config)) return;
  const values = connector.config;
  let findings: Finding[];
  try {
    findings = validatorFor(plugin.configSchema).check(values, {
      // A secret typed in clear must not be echoed back in an error message.
      hidden: (segments) => segments.length > 0 && plugin.secretKeys.includes(String(segments[0])),
    });
  } catch (e) {
    report(['connector', 'use'], `connector "${plugin.name}" has an invalid config schema: ${(e as Error).message}`);
    return;
  }
  // `${env:..}`/`${secret:..}` strings are resolved later; only their resolved value can be judged.
  findings = findings.filter((f) => !(f.anchor === 'value' && hasRef(valueAt(values, f.segments))));
  // Name the plugin whose schema said no: the user may not know which plugin owns these keys.
  reportFindings(report, ['connector', 'config'], findings.map((f) => ({ ...f, message: `${f.message} (connector "${plugin.name}" config)` })));
}

/**
 * `storage.local` may name its folder through `${env:NAME}` (resolved when the lake is opened:
 * core/config/locations.ts). A secret there would be printed as the lake's path, and any other
 * `${` is a mistyped reference, not a folder name.
 */
function checkStorage(config: Obj, report: Report): void {
  const local = isObj(config.storage) ? config.storage.local : undefined;
  if (typeof local !== 'string' || !local.includes('${')) return;
  const at: Segment[] = ['storage', 'local'];
  const refs = [...local.matchAll(/\$\{([^}]*)\}?/g)];
  for (const m of refs) {
    const ref = /^env:\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}$/.exec(m[0].slice(2));
    if (ref) continue;
    if (/^secret:/.test(m[1])) report(at, `a secret cannot name the lake folder (it would be printed as the lake's path); use \${env:NAME} or a path`);
    else report(at, `"${m[0]}" is not a reference storage.local understands; write \${env:NAME} (an environment variable) or a plain path`);
    return;
  }
}

/** The stream a `<stream>.<field>` reference reads from. */
const refStream = (ref: string): string => ref.split('.')[0];
/** Same as the schema's pattern; a malformed reference is the schema's to report. */
const FIELD_REF = /^[a-z][a-z0-9_]*(\.[A-Za-z0-9_]+(\[\d*\])?)+$/;

function checkStreams(config: Obj, plugin: ConnectorPlugin, report: Report): void {
  const streams = entries(config.streams);
  const names = streams.map(([n]) => n);
  const endpointNames = Object.keys(plugin.endpoints);
  const byInput = (input: EndpointDescriptor['input']) => endpointNames.filter((e) => plugin.endpoints[e].input === input);
  // Edges of the dependency graph, with the key that creates each one (for positions).
  const edges = new Map<string, Array<{ to: string; at: Segment[] }>>();

  for (const [name, s] of streams) {
    const base: Segment[] = ['streams', name];
    const refs: Array<{ ref: string; at: Segment[] }> = [];
    if (typeof s.for_each === 'string' && FIELD_REF.test(s.for_each)) refs.push({ ref: s.for_each, at: [...base, 'for_each'] });
    if (Array.isArray(s.ids_from)) {
      s.ids_from.forEach((r, i) => typeof r === 'string' && FIELD_REF.test(r) && refs.push({ ref: r, at: [...base, 'ids_from', i] }));
    }
    const deps: Array<{ to: string; at: Segment[] }> = [];
    for (const { ref, at } of refs) {
      const to = refStream(ref);
      if (to === name) report(at, `a stream cannot read from itself; "${ref}" names stream "${name}"`);
      else if (!names.includes(to)) report(at, unknownWord('stream', to, names.filter((n) => n !== name)));
      else deps.push({ to, at });
    }
    edges.set(name, deps);

    if (typeof s.endpoint !== 'string') continue;
    const endpoint = s.endpoint;
    const ep = Object.hasOwn(plugin.endpoints, endpoint) ? plugin.endpoints[endpoint] : undefined;
    if (!ep) {
      const retired = retiredEndpoint(plugin, endpoint);
      if (retired) {
        report([...base, 'endpoint'], `endpoint "${endpoint}" is not offered by connector "${plugin.name}": ${retired.change} (since ${retired.date}); use ${retired.instead}`);
      } else {
        report([...base, 'endpoint'], unknownWord('endpoint', endpoint, endpointNames));
      }
      continue;
    }

    if (ep.input === 'for_each') {
      if (s.for_each === undefined) {
        report(base, `endpoint "${endpoint}" makes one request per parent record; add for_each: <stream>.<field> (e.g. the parent's id)`, { anchor: 'container' });
      }
    } else if (s.for_each !== undefined) {
      report([...base, 'for_each'], `endpoint "${endpoint}" takes no parent record; for_each is only for ${listOrNone(byInput('for_each'))}`, { anchor: 'key' });
    }
    if (ep.input === 'ids') {
      if (s.ids_from === undefined && s.ids === undefined) {
        report(base, `endpoint "${endpoint}" fetches records by id; add ids_from: [<stream>.<field>] or ids: [...]`, { anchor: 'container' });
      }
    } else {
      for (const key of ['ids_from', 'ids'] as const) {
        if (s[key] !== undefined) {
          report([...base, key], `endpoint "${endpoint}" does not take ids; ${key} is only for ${listOrNone(byInput('ids'))}`, { anchor: 'key' });
        }
      }
    }

    const inc = s.incremental;
    if (inc === true || inc === 'cursor' || inc === 'field') {
      if (!ep.incremental) {
        report([...base, 'incremental'], `endpoint "${endpoint}" has no incremental reads (every run reads it whole); remove incremental`);
      } else if (inc !== true && inc !== ep.incremental.kind) {
        report(
          [...base, 'incremental'],
          `endpoint "${endpoint}" reads incrementally by ${ep.incremental.kind} (${ep.incremental.description}); use incremental: ${ep.incremental.kind} or true`,
        );
      }
    }

    if (typeof s.skip_unchanged === 'string') {
      // The version field belongs to the parent records, but the child endpoint declares it.
      if (!ep.versionField) {
        report([...base, 'skip_unchanged'], `endpoint "${endpoint}" declares no version field of its parent records, so nothing can be skipped; remove skip_unchanged`);
      } else if (s.skip_unchanged !== ep.versionField) {
        report([...base, 'skip_unchanged'], `expected "${ep.versionField}" (the version field endpoint "${endpoint}" compares), got "${s.skip_unchanged}"`);
      }
    }

    const params = s.params;
    if (params !== undefined && !isObj(params)) continue;
    if (ep.parameters) {
      let findings: Finding[];
      try {
        findings = validatorFor(ep.parameters).check(params ?? {});
      } catch (e) {
        report([...base, 'endpoint'], `connector "${plugin.name}" has an invalid parameters schema for "${endpoint}": ${(e as Error).message}`);
        continue;
      }
      reportFindings(report, [...base, 'params'], findings);
    } else if (params && Object.keys(params).length > 0) {
      report([...base, 'params'], `endpoint "${endpoint}" takes no params`, { anchor: 'key' });
    }
  }

  for (const cycle of findCycles(names, edges)) {
    const at = edges.get(cycle[0])!.find((e) => e.to === cycle[1])!.at;
    report(at, `streams depend on each other in a cycle: ${cycle.join(' -> ')}`);
  }
}

function listOrNone(xs: string[]): string {
  return xs.length ? xs.join(', ') : '(no endpoint of this connector)';
}

/** Each elementary cycle found by a depth-first search, once, starting at its smallest name. */
function findCycles(names: string[], edges: Map<string, Array<{ to: string }>>): string[][] {
  const cycles = new Map<string, string[]>();
  const state = new Map<string, 'active' | 'done'>();
  const stack: string[] = [];
  const visit = (n: string) => {
    state.set(n, 'active');
    stack.push(n);
    for (const { to } of edges.get(n) ?? []) {
      if (state.get(to) === 'active') {
        const loop = stack.slice(stack.indexOf(to));
        const start = loop.indexOf([...loop].sort()[0]);
        const rotated = [...loop.slice(start), ...loop.slice(0, start)];
        cycles.set(rotated.join('>'), [...rotated, rotated[0]]);
      } else if (!state.has(to)) {
        visit(to);
      }
    }
    stack.pop();
    state.set(n, 'done');
  };
  for (const n of names) if (!state.has(n)) visit(n);
  return [...cycles.values()];
}

const TEMPORAL = ['date', 'timestamp', 'string'];

function checkTables(config: Obj, report: Report): void {
  const streamNames = entries(config.streams).map(([n]) => n);
  for (const [name, t] of entries(config.tables)) {
    const base: Segment[] = ['tables', name];
    const columns = entries(t.columns);
    const colNames = columns.map(([c]) => c);
    const typeOf = (c: string) => columns.find(([n]) => n === c)?.[1].type;
    const colRef = (at: Segment[], value: unknown) => {
      if (typeof value === 'string' && !colNames.includes(value)) report(at, unknownWord('column', value, colNames));
    };

    const sources = Array.isArray(t.from) ? t.from : [];
    sources.forEach((src, i) => {
      if (isObj(src) && typeof src.stream === 'string' && !streamNames.includes(src.stream)) {
        report([...base, 'from', i, 'stream'], unknownWord('stream', src.stream, streamNames));
      }
    });

    if (Array.isArray(t.partition_by)) {
      const seen = new Set<string>();
      t.partition_by.forEach((p, i) => {
        if (!isObj(p)) return;
        const at: Segment[] = [...base, 'partition_by', i];
        colRef([...at, 'from'], p.from);
        if (typeof p.name === 'string') {
          if (colNames.includes(p.name)) {
            report([...at, 'name'], `"${p.name}" is already a column; Glue and Athena need partition columns named apart from the table's columns (e.g. dt)`);
          } else if (seen.has(p.name)) {
            report([...at, 'name'], `partition "${p.name}" is declared twice`);
          }
          seen.add(p.name);
        }
        const fromType = typeof p.from === 'string' ? typeOf(p.from) : undefined;
        if (typeof p.as === 'string' && p.as !== 'value' && typeof fromType === 'string' && !TEMPORAL.includes(fromType)) {
          report([...at, 'as'], `as: ${p.as} formats a date or timestamp, but column "${String(p.from)}" is ${fromType}; use as: value`);
        }
      });
    }

    if (isObj(t.dedupe)) {
      if (Array.isArray(t.dedupe.key)) t.dedupe.key.forEach((k, i) => colRef([...base, 'dedupe', 'key', i], k));
      colRef([...base, 'dedupe', 'order_by'], t.dedupe.order_by);
    }
    if (Array.isArray(t.latest_per)) t.latest_per.forEach((k, i) => colRef([...base, 'latest_per', i], k));
    if (typeof t.parents === 'string') {
      const stream = t.parents.split('.')[0];
      if (!Array.isArray(t.latest_per) || t.latest_per.length !== 1) {
        report([...base, 'parents'], 'parents needs latest_per with exactly one column (the parent id each row belongs to)');
      } else if (!streamNames.includes(stream)) {
        report([...base, 'parents'], unknownWord('stream', stream, streamNames));
      }
    }

    checkExplodes(base, sources, columns, report);
  }
}

/** The list prefixes a path explodes: `a[].b[].c` -> [`a[]`, `a[].b[]`]. */
function explodes(path: string): string[] {
  const out: string[] = [];
  let i = path.indexOf('[]');
  while (i >= 0) {
    out.push(path.slice(0, i + 2));
    i = path.indexOf('[]', i + 2);
  }
  return out;
}

/** One row per item of one list is well defined; two lists would multiply rows (a cross join). */
function checkExplodes(base: Segment[], sources: unknown[], columns: [string, Obj][], report: Report): void {
  let first: { column: string; prefix: string } | undefined;
  for (const [column, spec] of columns) {
    if (typeof spec.path !== 'string') continue;
    const at = [...base, 'columns', column, 'path'];
    const lists = explodes(spec.path);
    if (lists.length > 1) {
      report(at, `explodes ${lists.length} lists (${lists.join(', ')}); a table can explode only one`);
      continue;
    }
    if (lists.length === 0) continue;
    if (!first) first = { column, prefix: lists[0] };
    else if (first.prefix !== lists[0]) {
      report(at, `a table can explode only one list; column "${first.column}" already explodes "${first.prefix}"`);
    }
  }
  sources.forEach((src, i) => {
    if (!isObj(src) || typeof src.root !== 'string') return;
    const lists = explodes(src.root);
    const at = [...base, 'from', i, 'root'];
    if (lists.length > 1) report(at, `explodes ${lists.length} lists (${lists.join(', ')}); a table can explode only one`);
    else if (lists.length === 1 && first) {
      report(at, `a table can explode only one list; this root explodes "${lists[0]}" and column "${first.column}" explodes "${first.prefix}"`);
    }
  });
}

function checkQueries(config: Obj, report: Report): void {
  const tables = entries(config.tables).map(([n]) => n);
  for (const [name, q] of entries(config.queries)) {
    if (typeof q.sql !== 'string' || q.sql.trim() === '') continue;
    const words = new Set((stripSql(q.sql).match(/[A-Za-z_][A-Za-z0-9_]*/g) ?? []).map((w) => w.toLowerCase()));
    if (!tables.some((t) => words.has(t))) {
      const message = tables.length
        ? `references none of the declared tables (${tables.join(', ')}); is a table name misspelled?`
        : 'references no table, and the pipeline declares none';
      report(['queries', name, 'sql'], message, { severity: 'warning' });
    }
  }
}

/** A panel has one query (a named query or its own SQL) and one way to show it (chart, table or number). */
function checkDashboards(config: Obj, report: Report): void {
  const queries = isObj(config.queries) ? config.queries : {};
  for (const [name, dash] of entries(config.dashboards)) {
    if (!Array.isArray(dash.panels)) continue;
    dash.panels.forEach((panel: unknown, i: number) => {
      if (!isObj(panel)) return;
      const at: Segment[] = ['dashboards', name, 'panels', i];
      const sources = ['query', 'sql'].filter((k) => panel[k] !== undefined);
      if (sources.length !== 1) report(sources.length ? [...at, sources[1]] : at, sources.length ? 'give either query (a named query) or sql, not both' : 'a panel needs a query: `query: <named query>` or `sql: ...`', { anchor: 'key' });
      const shows = ['chart', 'table', 'number'].filter((k) => panel[k] !== undefined);
      if (shows.length !== 1) report(shows.length ? [...at, shows[1]] : at, shows.length ? `a panel shows its rows one way: ${shows.join(' and ')} are both given` : 'a panel needs one of chart (Vega-Lite), table or number', { anchor: 'key' });
      if (typeof panel.query === 'string' && !Object.hasOwn(queries, panel.query)) {
        const names = Object.keys(queries);
        report([...at, 'query'], `no named query "${panel.query}"${names.length ? ` (queries: ${names.join(', ')})` : ' (the pipeline has no queries)'}`);
      }
    });
  }
}

/**
 * `recommendations:` across its keys (each key's range is the schema's): something must propose
 * candidates, the seed plays must not all be excluded, and "long ago" must be older than "recently".
 */
function checkRecommendations(config: Obj, report: Report): void {
  const recs = config.recommendations;
  if (!isObj(recs)) return;
  const base: Segment[] = ['recommendations'];
  const sources = isObj(recs.sources) ? recs.sources : {};
  const co = isObj(sources.co_occurrence) ? sources.co_occurrence : {};
  const red = isObj(sources.rediscovery) ? sources.rediscovery : {};
  const exclude = isObj(recs.exclude) ? recs.exclude : {};
  const num = (o: Obj, key: string, fallback: number) => (typeof o[key] === 'number' ? o[key] : fallback);
  // Defaults as in core/recs/settings.ts.
  if (num(co, 'weight', 1) === 0 && num(red, 'weight', 0.3) === 0) {
    const at = isObj(sources.co_occurrence) && typeof co.weight === 'number' ? [...base, 'sources', 'co_occurrence', 'weight'] : [...base, 'sources'];
    report(at, 'every source has weight 0: nothing would be recommended; give co_occurrence or rediscovery a weight above 0');
  }
  const recent = num(exclude, 'recently_played_days', 14);
  if (num(red, 'weight', 0.3) > 0 && typeof red.quiet_days === 'number' && red.quiet_days < recent) {
    report([...base, 'sources', 'rediscovery', 'quiet_days'], `quiet_days (${red.quiet_days}) is shorter than exclude.recently_played_days (${recent}): tracks played in between are excluded anyway; use at least ${recent}`);
  }
  if (typeof red.min_age_days === 'number' && typeof red.quiet_days === 'number' && red.min_age_days < red.quiet_days) {
    report([...base, 'sources', 'rediscovery', 'min_age_days'], `min_age_days (${red.min_age_days}) is shorter than quiet_days (${red.quiet_days}): "played long ago" must be older than "not played recently"`);
  }
}

/** Literals and comments may mention a table without using it. */
function stripSql(sql: string): string {
  return sql.replace(/'(?:[^']|'')*'/g, "''").replace(/--[^\n]*/g, ' ').replace(/\/\*[\s\S]*?\*\//g, ' ');
}

/** The removal a plugin declares for an endpoint it no longer offers, however a tutorial spelt its name. */
function retiredEndpoint(plugin: ConnectorPlugin, endpoint: string): Removal | undefined {
  const retired = plugin.retiredEndpoints;
  if (!retired) return undefined;
  const key = endpoint
    .trim()
    .replace(/^\/+/, '')
    .replace(/^v1\//, '')
    .replace(/\{[^}]*\}/g, '{id}')
    .replace(/_/g, '-')
    .replace(/\/+$/, '');
  return Object.hasOwn(retired, key) ? retired[key] : undefined;
}

/** The plugin's own rules (e.g. an endpoint its API mode forbids), at the paths it names. */
function checkWithPlugin(config: Obj, plugin: ConnectorPlugin, report: Report): void {
  if (!plugin.validate) return;
  const specs: StreamSpec[] = entries(config.streams)
    .filter(([, s]) => typeof s.endpoint === 'string' && Object.hasOwn(plugin.endpoints, s.endpoint))
    .map(([name, s]) => ({
      name,
      endpoint: s.endpoint as string,
      params: isObj(s.params) ? s.params : {},
      incremental: s.incremental === true || s.incremental === 'cursor' || s.incremental === 'field',
      ...(typeof s.skip_unchanged === 'string' ? { skipUnchanged: s.skip_unchanged } : {}),
    }));
  const connectorConfig = isObj(config.connector) && isObj(config.connector.config) ? config.connector.config : {};
  let issues;
  try {
    // Unresolved on purpose: validation must not need secrets (refs are still `${...}` strings).
    issues = plugin.validate(connectorConfig, specs);
  } catch (e) {
    report(['connector', 'use'], `connector "${plugin.name}" failed while validating the pipeline: ${(e as Error).message}`);
    return;
  }
  for (const issue of issues) report(parsePath(issue.path), issue.message, { severity: issue.severity ?? 'error' });
}
