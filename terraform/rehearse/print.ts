/** The rehearsal's summary, in the shape `run` prints: streams, tables, then the queries. */
import { humanBytes, textTable } from '../../core/cli/format.ts';
import type { RehearsalReport } from './index.ts';

interface StreamResult {
  stream: string;
  status: string;
  records: number;
  files: number;
  bytes: number;
  requests: number;
}

export function printRehearsal(r: RehearsalReport, out: (line: string) => void): void {
  out(`\nRehearsal: ${r.ok ? 'ok' : 'FAILED'}`);
  for (const step of r.extractor) {
    const res = step.invocation.result as { runId?: string; streams?: StreamResult[] } | undefined;
    out(`\nExtractor, ${step.trigger}: ${step.invocation.ok ? `run ${res?.runId ?? '?'} committed` : 'FAILED'} in ${step.invocation.seconds.toFixed(1)} s`);
    if (res?.streams?.length) out(textTable(['stream', 'status', 'records', 'files', 'bytes', 'requests'], res.streams.map((x) => ({ ...x, bytes: humanBytes(x.bytes) }))));
  }
  for (const g of r.glue) {
    const tables = (g.run.result as { tables?: Array<{ table: string; rows: number; quarantined: number }> } | undefined)?.tables ?? [];
    out(`\nGlue job for ${g.manifestKey.split('/').pop()} (${g.run.arguments['--run_id'] ? `--run_id ${g.run.arguments['--run_id']}` : 'every run'}): ${g.run.ok ? 'ok' : 'FAILED'} in ${g.run.seconds.toFixed(1)} s`);
    if (tables.length) out(textTable(['table', 'rows', 'quarantined'], tables));
  }
  if (r.catalog.length) {
    out('');
    out(textTable(['catalog table', 'files', 'location', 'unreachable by projection'], r.catalog.map((c) => ({ 'catalog table': c.table, files: c.files, location: c.location, 'unreachable by projection': c.unreachable.length }))));
  }
  if (r.queries.length) {
    out('');
    out(textTable(['named query', 'rows', 'error'], r.queries.map((q) => ({ 'named query': q.name, rows: q.rows, error: q.error ?? '' }))));
  }
  if (r.incremental.length) {
    out('');
    out(textTable(['table', 'partitions', 'rewritten by run 2', 'added by run 2'], r.incremental.map((i) => ({ table: i.table, partitions: i.partitions, 'rewritten by run 2': i.rewritten.length, 'added by run 2': i.added.length }))));
  }
  for (const rep of r.reports) {
    const res = rep.invocation.result as { panels?: number; empty?: number; bytes?: number; queries?: number } | undefined;
    out(`\nReport after ${rep.manifestKey.split('/').pop()}: ${rep.invocation.ok ? `${res?.panels} panels (${res?.empty} empty), ${humanBytes(res?.bytes ?? 0)}, ${res?.queries} Athena queries` : 'FAILED'} in ${rep.invocation.seconds.toFixed(1)} s`);
  }
  if (r.reportObject) {
    const o = r.reportObject;
    out(`Report object ${o.key}: ${humanBytes(o.bytes)}, ${o.contentType ?? 'no content type'}, ${o.articles} panels (${o.failed} failed); presigned URL ${o.fetched ? 'serves it' : 'does NOT serve it'}`);
  }
  for (const f of r.failures) out(`FAILED: ${f}`);
}
