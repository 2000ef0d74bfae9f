/**
 * `spotify-pipeline report`: the dashboards of pipeline.yaml as one self-contained HTML file
 * (core/report/), from the local lake (DuckDB); `npm start` writes it too (`run --report`).
 */
import { spawn } from 'node:child_process';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { lakeDir } from '../config/index.ts';
import { listManifests } from '../engine/manifest.ts';
import { UserError } from '../errors.ts';
import { redact } from '../log.ts';
import { registerLocalSecrets, viewTables, type Prepared } from '../pipeline.ts';
import { assertLakeFolder, openLake, tablesNamed } from '../query/index.ts';
import { buildReport, latestRuns, type Report } from '../report/index.ts';
import { LocalStorage } from '../storage/local.ts';
import { terminalSafe } from '../terminal.ts';
import { CommandFailed, type CliContext } from './context.ts';
import { humanBytes } from './format.ts';
import { redactResult } from './run.ts';

const out = (s = '') => process.stdout.write(`${terminalSafe(redact(s))}\n`);
const err = (s: string) => process.stderr.write(`${terminalSafe(redact(s))}\n`);

/** The report's default place: inside the lake, beside what it shows. */
export const REPORT_FILE = join('reports', 'report.html');

/** Builds the local lake's report and writes it (atomically) to `file`. */
export async function writeLocalReport(prep: Prepared, dir: string, file: string): Promise<Report & { file: string }> {
  const dashboards = prep.loaded.config.dashboards ?? {};
  if (Object.keys(dashboards).length === 0) throw new UserError(`${prep.loaded.file} declares no dashboards`, 'add a `dashboards:` section (see README, "The report")');
  registerLocalSecrets(prep);
  const tables = viewTables(prep);
  const lake = await openLake(dir, tables);
  let report: Report;
  try {
    // The report only reads: a corrupt manifest (which `run --repair` deals with) is left out, said on stderr.
    const manifests = await listManifests(new LocalStorage(dir), { skipCorrupt: (key, why) => err(`warning: run manifest ${key} is corrupt (${why}); the report leaves it out`) });
    report = await buildReport({
      title: `${prep.loaded.config.name}: your listening`,
      dashboards,
      queries: prep.loaded.config.queries,
      source: {
        query: async (sql) => redactResult(await lake.query(sql)),
        emptyTables: lake.emptyTables,
        tablesOf: (sql) => tablesNamed(sql, Object.keys(tables)),
      },
      from: `the local lake ${shownPath(dir)}`,
      latestRuns: latestRuns(manifests),
    });
  } finally {
    lake.close();
  }
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, report.html);
  await rename(tmp, file);
  return { ...report, file };
}

/** A path relative to the working folder when it is inside it, else absolute. */
function shownPath(p: string): string {
  const rel = relative(process.cwd(), p);
  return rel && !rel.startsWith('..') ? rel : p;
}

/** One line: where the report is, its weight, its panels. */
export function reportLine(r: Report & { file: string }): string {
  const empty = r.panels.filter((p) => p.status === 'empty').length;
  const failed = r.panels.filter((p) => p.status === 'failed').length;
  const where = shownPath(r.file);
  return `Report: ${where} (${humanBytes(r.bytes)}, ${r.panels.length} panels${empty ? `, ${empty} empty` : ''}${failed ? `, ${failed} failed` : ''}; queries ${r.querySeconds.toFixed(2)} s)`;
}

export async function reportCommand(ctx: CliContext, o: { config: string; lake?: string; out?: string; open?: boolean; aws?: boolean; expires?: number }): Promise<void> {
  const prep = await ctx.prepare(o.config);
  if (o.aws) {
    const { reportAwsCommand } = await import('./report-aws.ts');
    await reportAwsCommand(prep, o);
    return;
  }
  const dir = lakeDir(prep.loaded, o.lake);
  await assertLakeFolder(dir);
  const file = resolve(o.out ?? join(dir, REPORT_FILE));
  const report = await writeLocalReport(prep, dir, file);
  for (const p of report.panels.filter((x) => x.status === 'failed')) err(`error: panel "${p.title}" (${p.dashboard}): ${p.message}`);
  out(reportLine(report));
  if (o.open) openFile(file);
  if (report.panels.some((p) => p.status === 'failed')) throw new CommandFailed('some panels failed (the report shows which)', 1);
}

/** Opens the report in the system's browser (xdg-open, open, start); says so when it cannot. */
function openFile(file: string): void {
  const cmd = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'cmd' : 'xdg-open';
  const args = process.platform === 'win32' ? ['/c', 'start', '', file] : [file];
  const child = spawn(cmd, args, { stdio: 'ignore', detached: true });
  child.on('error', () => err(`note: could not open a browser (${cmd} is missing): open ${file} yourself`));
  child.unref();
}
