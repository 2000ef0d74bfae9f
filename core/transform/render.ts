/**
 * The one SQL renderer of a table: a TablePlan (plan.ts) becomes a query for the table's rows and
 * one for the rows that go to quarantine, in any engine's dialect (dialects/). The renderer owns
 * what the table means; the dialect how each engine writes it; the target (the caller) where the
 * raw lines come from and what the consumer needs around the rows.
 *
 * Steps, each a WITH relation: the raw lines of each stream; the raw values of the path columns
 * (the dialect's reading); their typed values; each derived column in declaration order (it may
 * use the ones before it); the reasons a row cannot be kept; latest_per; then `__judged`, every
 * candidate row with its reasons plus the malformed lines, which both queries share. The rows
 * query keeps the rows without reasons that pass the filter, dedupes, and formats partitions.
 */
import { type Step, type SqlDialect, rawPrecisionName, rawValueName } from './dialects/dialect.ts';
import { type ColumnPlan, type OrderKey, type PartitionPlan, type TablePlan, UNKNOWN_DATES } from './plan.ts';
import { withClause } from './sqltext.ts';
import { readKind } from './types.ts';

export interface RenderedTable {
  /** The table's rows: stored columns, then partition columns (as strings), then the target's extras. */
  select: string;
  /** Rejected rows: table, reasons, file, line, source_run_id, record. */
  quarantine: string;
  /**
   * The same two split at their shared part, so a builder can run the expensive JSON work once:
   * run `judged`, keep it as the relation `__judged`, then run `fromJudged.*` over it.
   */
  judged: string;
  fromJudged: { select: string; quarantine: string };
}

/** Where the raw lines come from and what the consumer of the queries needs. */
export interface RenderTarget {
  /**
   * The raw lines of one stream, with the columns __rec (the record; NULL for a line that is not
   * JSON, which goes to quarantine), __file, __line (1-based) and __run_id.
   */
  rawLines(stream: string): string;
  /** `__file` as the lake key (`raw/<stream>/dt=.../<file>`) that quarantine shows. */
  fileKey: string;
  /** Output columns after the partition columns. */
  extraOutputs?: string[];
  /** A clause after the rows query (e.g. an ORDER BY). */
  rowsOrder?: string;
  /** A clause after the quarantine query. */
  quarantineOrder?: string;
  /**
   * The runs whose read of `stream` was complete (the manifest's status), as a relation with the
   * one column __run_id; needed by a plan with `latestParents` (a complete read may have no lines).
   */
  completeRuns?(stream: string): string;
  /**
   * One row per raw line all the way to __judged (only for a plan that `canRenderLean`): a
   * malformed line is a row of NULL values with the reason "record: malformed JSON line" instead of
   * a branch of its own, and the reason list is built only for a row that has a reason. A builder
   * that materializes __judged in line order can then number the lines from the row position.
   */
  lean?: boolean;
  /** The quarantine's source_run_id from `__run_id` (default: `__run_id` as it is). */
  runIdText?: string;
  /**
   * How dedupe ranks deliveries of one key after its `order_by`: newest first. Default: by run,
   * then file, then line. A builder whose __judged carries the scan position (`__pos`, files in
   * path order, lines in order) may rank by run and that one number instead.
   */
  newestFirst?: string;
  /**
   * Instead of leaving a row with a reason to the quarantine query, the rows query raises this
   * error on it (DuckDB's error()): for a builder that writes the rows in one statement and takes
   * another way when the data has a bad row (compile.ts, renderDuckdbStreamed).
   */
  rejectReasons?: string;
}

/** Whether a plan keeps one row per raw line up to __judged (no root list, explode or latest_per). */
export function canRenderLean(plan: TablePlan): boolean {
  return !plan.explode && plan.sources.every((s) => !s.eachOf) && plan.latestPer.length === 0 && !plan.latestParents;
}

const MALFORMED = 'record: malformed JSON line';

/** Newest run first, then the latest file part and line: "the last delivery wins". */
const NEWEST_FIRST = '__run_id DESC NULLS LAST, __file DESC, __line DESC';

/** NULLS LAST either way: a row without the value never wins (DuckDB and Spark differ in defaults). */
export function orderBy(keys: OrderKey[], ident: (name: string) => string): string {
  return keys.map((k) => `${ident(k.column)} ${k.desc ? 'DESC' : 'ASC'} NULLS LAST`).join(', ');
}

export function renderTable(plan: TablePlan, d: SqlDialect, target: RenderTarget): RenderedTable {
  const steps: Step[] = [];
  const streams = [...new Set(plan.sources.map((s) => s.stream))];
  const rawName = (stream: string) => `__raw_${streams.indexOf(stream)}`;
  for (const stream of streams) steps.push([rawName(stream), target.rawLines(stream)]);

  const lean = !!target.lean;
  if (lean && !canRenderLean(plan)) throw new Error(`table ${plan.table}: a lean rendering needs one row per raw line`);
  const read = d.readValues(plan, (stream) => d.ident(rawName(stream)), { keepMalformed: lean });
  steps.push(...read.steps);
  let prev = read.last;

  const raw = (c: ColumnPlan) => d.ident(rawValueName(c));
  const precision = (c: ColumnPlan) => d.ident(rawPrecisionName(c));
  const readColumn = (c: ColumnPlan) => (c.kind === 'path' ? d.readPath(c, raw(c), precision(c)) : d.cast(raw(c), c.type));
  // `lower: true` (string columns): both dialects share lower().
  const typed = (c: ColumnPlan) => (c.lower ? `lower(${readColumn(c)})` : readColumn(c));
  const pathCols = plan.columns.filter((c) => c.kind === 'path');
  if (pathCols.length) {
    steps.push(['__typed', `SELECT *, ${pathCols.map((c) => `${typed(c)} AS ${d.ident(c.name)}`).join(', ')} FROM ${prev}`]);
    prev = '__typed';
  }
  plan.columns.forEach((c, i) => {
    if (c.kind !== 'sql') return;
    steps.push([`__derived_${i}`, `SELECT *, (${c.sql}) AS ${raw(c)} FROM ${d.stepRef(prev)}`]);
    steps.push([`__derived_${i}_typed`, `SELECT *, ${typed(c)} AS ${d.ident(c.name)} FROM ${d.stepRef(`__derived_${i}`)}`]);
    prev = `__derived_${i}_typed`;
  });

  const reasons = plan.columns.map((c) => reason(d, c)).filter((r): r is string => !!r);
  const none = `CAST(${d.array([])} AS ${d.type('array<string>')})`;
  if (lean) {
    // Each reason once, as a column; the list only for the (few) rows that have one.
    const why = reasons.map((_, i) => `__why_${i}`);
    if (reasons.length) steps.push(['__why', `SELECT *,\n  ${reasons.map((r, i) => `${r} AS ${why[i]}`).join(',\n  ')}\nFROM ${d.stepRef(prev)}`]);
    const list = reasons.length
      ? ` WHEN ${why.map((w) => `${w} IS NOT NULL`).join(' OR ')} THEN ${d.filterArray(d.array(why), '__r', '__r IS NOT NULL')}`
      : '';
    const reasonList = `CASE WHEN __rec IS NULL THEN ${d.array([d.literal(MALFORMED)])}${list} ELSE ${none} END`;
    steps.push(['__checked', `SELECT *,\n  ${reasonList} AS __reasons\nFROM ${d.stepRef(reasons.length ? '__why' : prev)}`]);
  } else {
    const reasonList = reasons.length ? d.filterArray(d.array(reasons, ',\n    '), '__r', '__r IS NOT NULL') : none;
    steps.push(['__checked', `SELECT *,\n  ${reasonList} AS __reasons\nFROM ${d.stepRef(prev)}`]);
  }

  // latest_per: a value (e.g. a playlist id) belongs to the newest run that delivered it; older
  // runs' rows for it are superseded entirely, even rows the newer run no longer contains.
  let judgedFrom = '__checked';
  if (plan.latestPer.length) {
    const by = plan.latestPer.map(d.ident).join(', ');
    const window = `max(__run_id) OVER (PARTITION BY ${by})`;
    steps.push(['__latest', d.qualify('__checked', window, (v) => d.notDistinct('__run_id', v), { column: '__newest_run', alias: '__l' })]);
    judgedFrom = '__latest';
  }
  // parents: a value missing from the parent stream's latest complete read (an unfollowed or
  // deleted playlist) is gone, rows and all. Before any complete read of it nothing is dropped;
  // a row without the value is left to its reasons (quarantined when required).
  if (plan.latestParents && plan.latestPer.length === 1) {
    if (!target.completeRuns) throw new Error(`table ${plan.table}: parents needs the complete reads of stream ${plan.latestParents.stream}`);
    const { stream, path } = plan.latestParents;
    const col = `__c.${d.ident(plan.latestPer[0])}`;
    steps.push(
      ['__parent_reads', target.completeRuns(stream)],
      ['__parent_run', 'SELECT max(__run_id) AS __run_id FROM __parent_reads'],
      ['__parent_lines', target.rawLines(stream)],
      ['__parent_keys', `SELECT DISTINCT ${d.jsonText('__l.__rec', path)} AS __k FROM __parent_lines __l JOIN __parent_run __p ON __l.__run_id = __p.__run_id`],
      [
        '__current',
        [
          `SELECT __c.* FROM ${judgedFrom} __c CROSS JOIN __parent_run __p LEFT JOIN __parent_keys __k ON CAST(${col} AS ${d.type('string')}) = __k.__k`,
          `WHERE __p.__run_id IS NULL OR ${col} IS NULL OR __k.__k IS NOT NULL`,
        ].join('\n'),
      ],
    );
    judgedFrom = '__current';
  }
  const judged = judgedRelation(plan, d, judgedFrom, lean ? [] : streams.map(rawName));

  const filter = plan.filter ? `(${plan.filter})` : undefined;
  // Bad rows never reach dedupe, so an older good delivery of a key wins over a newer bad one.
  const good = target.rejectReasons
    ? `CASE WHEN ${d.size('__reasons')} > 0 THEN error(${d.literal(target.rejectReasons)}) ELSE true END`
    : `${d.size('__reasons')} = 0`;
  const tail: Step[] = [['__kept', `SELECT * FROM __judged WHERE ${good}${filter ? ` AND ${filter}` : ''}`]];
  let last = '__kept';
  if (plan.dedupe) {
    const by = plan.dedupe.key.map(d.ident).join(', ');
    const newest = target.newestFirst ?? NEWEST_FIRST;
    const order = plan.dedupe.orderBy ? `${orderBy(plan.dedupe.orderBy, d.ident)}, ${newest}` : newest;
    const window = `row_number() OVER (PARTITION BY ${by} ORDER BY ${order})`;
    tail.push(['__deduped', d.qualify('__kept', window, (v) => `${v} = 1`, { column: '__rn', alias: '__d' })]);
    last = '__deduped';
  }
  const outputs = [
    ...plan.storedColumns.map(d.ident),
    ...plan.partitions.map((p) => `${partitionValue(d, p)} AS ${d.ident(p.name)}`),
    ...(target.extraOutputs ?? []),
  ];
  const selectTail = `SELECT ${outputs.join(', ')}\nFROM ${d.ident(last)}${target.rowsOrder ? `\n${target.rowsOrder}` : ''}`;

  // A row the filter drops on purpose is not an error; one it cannot judge (NULL) still is. In a
  // by-name union the good rows have no __malformed at all (NULL), hence IS TRUE there.
  const malformed = d.unionByName ? '__malformed IS TRUE' : '__malformed';
  const quarantineTail = [
    `SELECT ${d.literal(plan.table)} AS ${d.ident('table')}, __reasons AS reasons, ${target.fileKey} AS file, __line AS line, ${target.runIdText ?? '__run_id'} AS source_run_id, __rec AS record`,
    `FROM __judged WHERE ${d.size('__reasons')} > 0${filter ? ` AND (${malformed} OR ${filter} IS NOT FALSE)` : ''}`,
    ...(target.quarantineOrder ? [target.quarantineOrder] : []),
  ].join('\n');

  const shared: Step[] = [...steps, ['__judged', judged]];
  return {
    select: `${withClause([...shared, ...tail], d.ident)}\n${selectTail}`,
    quarantine: `${withClause(shared, d.ident)}\n${quarantineTail}`,
    judged: `${withClause(steps, d.ident)}\n${judged}`,
    fromJudged: { select: `${withClause(tail, d.ident)}\n${selectTail}`, quarantine: quarantineTail },
  };
}

/** Whether the raw value was there at all (JSON null, and an unknown-date placeholder, count as absent). */
function present(d: SqlDialect, c: ColumnPlan, raw: string): string {
  if (c.kind === 'path' && c.precision) return `(${raw} IS NOT NULL AND ${raw} NOT IN (${UNKNOWN_DATES.map(d.literal).join(', ')}))`;
  return d.rawPresent(c, raw);
}

/** Why a row cannot be kept because of this column (a CASE that is NULL when it can), if it ever can. */
function reason(d: SqlDialect, c: ColumnPlan): string | undefined {
  const raw = d.ident(rawValueName(c));
  const name = d.ident(c.name);
  const parts: string[] = [];
  // A path column read as text takes any value; everything else can fail to read.
  if (!(c.kind === 'path' && readKind(c.type) === 'text')) {
    const shown = `left(${d.rawText(c, raw)}, 200)`;
    const as =
      c.kind === 'path' && c.precision
        ? [d.literal(' as date of precision '), `coalesce(${d.ident(rawPrecisionName(c))}, ${d.literal('(none)')})`]
        : [d.literal(` as ${c.type}`)];
    parts.push(`WHEN ${name} IS NULL AND ${present(d, c, raw)} THEN ${d.concat([d.literal(`${c.name}: cannot read `), shown, ...as])}`);
  }
  if (c.required) parts.push(`WHEN ${name} IS NULL THEN ${d.literal(`${c.name}: required value is missing`)}`);
  return parts.length ? `CASE ${parts.join(' ')} END` : undefined;
}

export function partitionValue(d: SqlDialect, p: PartitionPlan): string {
  const col = d.ident(p.from);
  // NULL stays NULL: it is written as <name>=__HIVE_DEFAULT_PARTITION__ (Hive's convention). An
  // empty string is NULL too, as Spark and Hive write it (a folder `name=` reads back oddly).
  return p.as === 'value' ? `nullif(CAST(${col} AS ${d.type('string')}), '')` : d.formatDate(col, p.as);
}

/**
 * Every candidate row with its reasons, plus the malformed lines of each stream. Only what later
 * steps need is kept; the raw record only for bad rows (quarantine shows it).
 */
function judgedRelation(plan: TablePlan, d: SqlDialect, from: string, raws: string[]): string {
  const columns = plan.columns.map((c) => d.ident(c.name));
  const meta = '__reasons, __file, __line, __run_id';
  const rec = `CASE WHEN ${d.size('__reasons')} > 0 THEN __rec END AS __rec`;
  // Lean (no branches): the malformed lines are the rows without a record.
  if (!raws.length) return `SELECT ${[...columns, meta, rec, '__rec IS NULL AS __malformed'].join(', ')} FROM ${d.ident(from)}`;
  // By name, a branch lists only what it has; by position, every branch spells every column.
  const good = [...columns, meta, rec, ...(d.unionByName ? [] : ['false AS __malformed'])];
  const bad = [
    ...(d.unionByName ? [] : plan.columns.map((c) => `CAST(NULL AS ${d.type(c.type)}) AS ${d.ident(c.name)}`)),
    `${d.array([d.literal(MALFORMED)])} AS __reasons, __file, __line, __run_id`,
    // The record of a malformed line is NULL: by name it is that NULL, by position a typed one (the line's text).
    d.unionByName ? '__rec' : `CAST(NULL AS ${d.type('string')}) AS __rec`,
    'true AS __malformed',
  ];
  return [
    `SELECT ${good.join(', ')} FROM ${d.ident(from)}`,
    ...raws.map((r) => `SELECT ${bad.join(', ')} FROM ${d.ident(r)} WHERE __rec IS NULL`),
  ].join(d.unionByName ? '\nUNION ALL BY NAME\n' : '\nUNION ALL\n');
}
