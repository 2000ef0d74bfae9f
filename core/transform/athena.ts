/**
 * Athena DDL of a table, from its plan through the same catalog model the deployment's Glue
 * table is built from (catalog.ts): what `transform --explain` shows next to the SQL, and what a
 * user could run in Athena to create the table by hand.
 */
import { type CatalogColumn, catalogTable } from './catalog.ts';
import type { TablePlan } from './plan.ts';

/** Hive DDL identifiers (Athena runs DDL through Hive's grammar). */
const ident = (name: string) => `\`${name.replaceAll('`', '``')}\``;

/** Hive DDL strings take backslash escapes. */
const str = (text: string) => `'${text.replaceAll('\\', '\\\\').replaceAll("'", "\\'").replaceAll('\n', '\\n').replaceAll('\r', '\\r')}'`;

const columnList = (cols: CatalogColumn[]) =>
  cols.map((c) => `  ${ident(c.name)} ${c.type}${c.comment ? ` COMMENT ${str(c.comment)}` : ''}`).join(',\n');

/** `CREATE EXTERNAL TABLE` of the plan's table, its data under `curatedUrl` (`s3://bucket/prefix/curated/`). */
export function athenaDdl(plan: TablePlan, curatedUrl: string, database?: string): string {
  const t = catalogTable(plan, curatedUrl);
  return [
    `CREATE EXTERNAL TABLE ${database ? `${ident(database)}.` : ''}${ident(t.name)} (`,
    columnList(t.columns),
    ')',
    ...(t.description ? [`COMMENT ${str(t.description)}`] : []),
    ...(t.partitionKeys.length ? ['PARTITIONED BY (', columnList(t.partitionKeys), ')'] : []),
    'STORED AS PARQUET',
    `LOCATION ${str(t.location)}`,
    'TBLPROPERTIES (',
    Object.entries(t.properties)
      .map(([k, v]) => `  ${str(k)}=${str(v)}`)
      .join(',\n'),
    ')',
  ].join('\n');
}
