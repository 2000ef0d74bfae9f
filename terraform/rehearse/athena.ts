/**
 * The queries' side of the rehearsal, standing in for Athena (which cannot run here): the catalog
 * is read back from Glue (moto), each table's files are taken from its declared S3 location, the
 * partition folders are held to the table's partition projection (a file Athena's projection would
 * not reach is a failure), and every named query the stack declares runs on DuckDB over those
 * files, typed from the catalog, through the same Trino compatibility layer as local queries.
 */
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { GetTablesCommand, type GlueClient, type Table } from '@aws-sdk/client-glue';
import { openCatalogLake, type CatalogTableView } from '../../core/query/index.ts';
import type { Synthesized } from './artifacts.ts';

export interface QueryOutcome {
  name: string;
  rows: number;
  columns: string[];
  error?: string;
}

export interface CatalogCheck {
  table: string;
  location: string;
  files: number;
  /** Files under the location that the partition projection would not read, with why. */
  unreachable: string[];
}

function splitS3(uri: string): { bucket: string; key: string } {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (!m) throw new Error(`not an s3:// location: ${uri}`);
  return { bucket: m[1], key: m[2] };
}

const FORMAT_RE: Record<string, RegExp> = { 'yyyy-MM-dd': /^\d{4}-\d{2}-\d{2}$/, 'yyyy-MM': /^\d{4}-\d{2}$/, yyyy: /^\d{4}$/ };

/** Why a data file's partition folders are not what the table's projection reads (undefined: fine). */
export function projectionProblem(table: Table, relative: string): string | undefined {
  const keys = (table.PartitionKeys ?? []).map((k) => k.Name!);
  const parts = relative.split('/');
  const folders = parts.slice(0, -1);
  if (folders.length !== keys.length) return `${relative}: ${folders.length} partition folder(s), the table has ${keys.length} partition key(s)`;
  const p = table.Parameters ?? {};
  for (const [i, key] of keys.entries()) {
    const m = /^([^=]+)=(.*)$/.exec(folders[i]);
    if (!m || m[1] !== key) return `${relative}: folder ${folders[i]} is not ${key}=<value>`;
    const value = decodeURIComponent(m[2]);
    const type = p[`projection.${key}.type`];
    if (type === 'date') {
      const re = FORMAT_RE[p[`projection.${key}.format`] ?? ''];
      if (!re?.test(value)) return `${relative}: ${key}=${value} does not have the projected format ${p[`projection.${key}.format`]}`;
      const [from] = (p[`projection.${key}.range`] ?? '').split(',');
      if (from && value < from) return `${relative}: ${key}=${value} is before the projected range ${p[`projection.${key}.range`]}`;
    } else if (type !== 'injected' && p['projection.enabled'] === 'true') {
      return `${relative}: partition key ${key} has no projection`;
    }
  }
  return undefined;
}

/** Copies each catalog table's files to `dir` and checks them against the projection. */
export async function mirrorCatalog(glue: GlueClient, s3: S3Client, database: string, dir: string): Promise<{ views: CatalogTableView[]; checks: CatalogCheck[] }> {
  const tables: Table[] = [];
  let token: string | undefined;
  for (let page = 0; page < 100; page++) {
    const res = await glue.send(new GetTablesCommand({ DatabaseName: database, NextToken: token }));
    tables.push(...(res.TableList ?? []));
    token = res.NextToken;
    if (!token) break;
  }
  const views: CatalogTableView[] = [];
  const checks: CatalogCheck[] = [];
  for (const t of tables) {
    const location = t.StorageDescriptor?.Location ?? '';
    const { bucket, key: prefix } = splitS3(location);
    const local = join(dir, t.Name!);
    const check: CatalogCheck = { table: t.Name!, location, files: 0, unreachable: [] };
    let next: string | undefined;
    for (let page = 0; page < 10_000; page++) {
      const res = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: next }));
      for (const o of res.Contents ?? []) {
        const rel = o.Key!.slice(prefix.length);
        // Athena skips files whose name starts with _ or . (Spark's _SUCCESS, checksums).
        if (!rel || rel.split('/').some((x) => x.startsWith('_') || x.startsWith('.'))) continue;
        const problem = projectionProblem(t, rel);
        if (problem) check.unreachable.push(problem);
        const target = join(local, rel);
        await mkdir(dirname(target), { recursive: true });
        const body = (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: o.Key! }))).Body as Readable;
        await pipeline(body, createWriteStream(target));
        check.files++;
      }
      next = res.NextContinuationToken;
      if (!res.IsTruncated) break;
    }
    checks.push(check);
    views.push({
      name: t.Name!,
      dir: local,
      columns: (t.StorageDescriptor?.Columns ?? []).map((c) => ({ name: c.Name!, glueType: c.Type! })),
      partitionKeys: (t.PartitionKeys ?? []).map((k) => k.Name!),
    });
  }
  return { views, checks };
}

/** Every named query of the stack, on DuckDB over the catalog's tables. */
export async function runNamedQueries(s: Synthesized, views: CatalogTableView[]): Promise<QueryOutcome[]> {
  const lake = await openCatalogLake(views);
  const out: QueryOutcome[] = [];
  try {
    for (const q of s.model.ofType('aws_athena_named_query')) {
      const name = s.value(String(q.config.name));
      try {
        const res = await lake.query(s.value(String(q.config.query)));
        out.push({ name, rows: res.rows.length, columns: res.columns });
      } catch (e) {
        out.push({ name, rows: 0, columns: [], error: e instanceof Error ? e.message.split('\n')[0] : String(e) });
      }
    }
  } finally {
    lake.close();
  }
  return out;
}
