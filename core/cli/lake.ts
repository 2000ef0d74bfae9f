/**
 * `spotify-pipeline lake gc [--delete]`: the lake's garbage (core/engine/gc.ts), listed, and removed
 * with --delete under the lake lock. Registered by lake-command.ts, loaded when the command runs.
 */
import { lakeDir } from '../config/index.ts';
import { deleteGarbage, findGarbage } from '../engine/gc.ts';
import { lockHolder, withLakeLock } from '../engine/lock.ts';
import { QUARANTINE } from '../engine/quarantine.ts';
import { createLogger } from '../log.ts';
import { LocalStorage } from '../storage/local.ts';
import type { CliContext } from './context.ts';
import { humanBytes, textTable } from './format.ts';

const out = (s = '') => process.stdout.write(s + '\n');

export interface GcOptions {
  config: string;
  lake?: string;
  delete?: boolean;
}

export async function gcCommand(ctx: CliContext, o: GcOptions): Promise<void> {
  const prep = await ctx.prepare(o.config);
  const dir = lakeDir(prep.loaded, o.lake);
  const storage = new LocalStorage(dir);
  const logger = createLogger();
  const show = async (report: Awaited<ReturnType<typeof findGarbage>>) => {
    const total = report.items.reduce((n, i) => n + i.bytes, 0);
    out(`Lake ${dir}: ${report.items.length} item(s) to collect, ${humanBytes(total)}`);
    if (report.items.length) out(textTable(['kind', 'path', 'bytes', 'why'], report.items.map((i) => ({ ...i, bytes: humanBytes(i.bytes) })), 96));
    if (report.quarantined.files) out(`Kept: ${QUARANTINE}/ holds ${report.quarantined.files} file(s), ${humanBytes(report.quarantined.bytes)} set aside for you to inspect (never collected; delete it by hand when done).`);
  };
  if (!o.delete) {
    const holder = await lockHolder(dir);
    if (holder) out(`The lake is in use by ${holder.command} (pid ${holder.pid} on host ${holder.host}, since ${holder.since}): what it has written since is not listed.`);
    await show(await findGarbage(dir, storage, { holder }));
    out('Nothing deleted (lake gc --delete removes these).');
    return;
  }
  await withLakeLock(dir, { command: 'lake gc --delete', logger }, async () => {
    const report = await findGarbage(dir, storage, { quarantine: logger });
    await show(report);
    await deleteGarbage(dir, report.items);
    out(`Deleted ${report.items.length} item(s).`);
  });
}
