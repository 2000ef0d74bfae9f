/**
 * A table's documentation, from its plan: a short markdown section (what it holds, where from,
 * its columns with types, its partition keys) for `transform --explain` and `transform --docs`,
 * and the JSON Schema of its rows as the query layer returns them (types from the registry).
 */
import { formatPath } from './paths.ts';
import { type SourcePlan, type TablePlan, storedColumnPlans } from './plan.ts';
import { COLUMN_TYPE_INFO, type JsonSchema } from './types.ts';

/** Text inside a markdown table cell: one line, no column breaks. */
const cell = (text: string) => text.replace(/\s*\n\s*/g, ' ').replaceAll('|', '\\|');
const code = (text: string) => `\`${text}\``;

function source(s: SourcePlan): string {
  const root = s.eachOf ? `${formatPath(s.eachOf.segments)}[]${s.path.segments.length ? `.${formatPath(s.path.segments)}` : ''}` : formatPath(s.path.segments);
  return root ? `${code(s.stream)} (each ${code(root)})` : code(s.stream);
}

export function tableDoc(plan: TablePlan): string {
  const facts = [
    `From ${plan.sources.map(source).join(', ')}${plan.explode ? `, one row per element of ${code(`${plan.explode.text}[]`)}` : ''}.`,
    ...(plan.filter ? [`Keeps the rows where ${code(cell(plan.filter))}.`] : []),
    ...(plan.latestPer.length ? [`Per ${plan.latestPer.map(code).join(', ')}, only the newest run's rows.`] : []),
    ...(plan.latestParents ? [`Only ${code(plan.latestPer[0])} values that the latest complete read of ${code(plan.latestParents.stream)} still lists (${code(plan.latestParents.path.text)}).`] : []),
    ...(plan.dedupe
      ? [`One row per ${plan.dedupe.key.map(code).join(', ')} (${plan.dedupe.orderBy ? plan.dedupe.orderBy.map((k) => `${k.desc ? 'greatest' : 'least'} ${code(k.column)}`).join(', then ') : 'newest run'} wins).`]
      : []),
  ];
  const rows = [
    ...storedColumnPlans(plan).map((c) => [code(c.name), c.type, [c.required ? 'required' : '', c.description ?? ''].filter(Boolean).join('; ')]),
    ...plan.partitions.map((p) => [code(p.name), 'string', `partition key: ${p.as} of ${code(p.from)}`]),
  ];
  return [
    `### ${code(plan.table)}`,
    '',
    ...(plan.description ? [plan.description, ''] : []),
    facts.join(' '),
    '',
    '| column | type | notes |',
    '|---|---|---|',
    ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
  ].join('\n');
}

/** The JSON Schema of one row of the table as queries return it (every column present, maybe null). */
export function rowJsonSchema(plan: TablePlan): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  for (const c of storedColumnPlans(plan)) {
    properties[c.name] = { ...(c.description ? { description: c.description } : {}), anyOf: [COLUMN_TYPE_INFO[c.type].json, { type: 'null' }] };
  }
  // Partition values are folder names; NULL is Hive's default partition.
  for (const p of plan.partitions) properties[p.name] = { description: `${p.as} of ${p.from}`, type: ['string', 'null'] };
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: plan.table,
    ...(plan.description ? { description: plan.description } : {}),
    type: 'object',
    properties,
    required: Object.keys(properties),
    additionalProperties: false,
  };
}
