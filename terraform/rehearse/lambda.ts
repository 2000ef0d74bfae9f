/**
 * The extractor as Lambda runs it: the synthesized function's code asset (the zip the stack
 * deploys) unpacked, its handler imported in a separate Node process whose environment is the
 * function's own variables plus the AWS SDK's standard ones pointed at moto, and invoked with an
 * event the stack's schedules or rules send, under the function's timeout.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import yauzl from 'yauzl';
import type { Synthesized } from './artifacts.ts';

export interface DeployedFunction {
  name: string;
  /** The unpacked code folder and the handler (`index.handler`). */
  codeDir: string;
  handler: string;
  timeoutSeconds: number;
  environment: Record<string, string>;
}

export interface Invocation {
  ok: boolean;
  /** The handler's return value (ok) or the error it threw: `{ name, message }`. */
  result?: unknown;
  error?: { name: string; message: string };
  /** What the function logged (CloudWatch's stream, here stderr). */
  log: string;
  seconds: number;
}

/** Unpacks a function's code asset into `dir`: the one whose construct id is `construct` (`extractor`, `report`). */
export async function unpackFunction(s: Synthesized, dir: string, construct = 'extractor'): Promise<DeployedFunction> {
  const found = s.model.ofType('aws_lambda_function').filter((f) => f.address.startsWith(`aws_lambda_function.${construct}_function_`));
  if (found.length !== 1) throw new Error(`the synthesized stack has ${found.length} ${construct} functions, expected one`);
  const fn = found[0].config;
  const zip = join(s.stackDir, String(fn.filename));
  const z = await yauzl.openPromise(zip, { lazyEntries: true, autoClose: false });
  try {
    for await (const entry of z.eachEntry()) {
      if (entry.fileName.endsWith('/')) continue;
      if (entry.fileName.includes('..')) throw new Error(`${zip}: unsafe entry ${entry.fileName}`);
      const target = join(dir, entry.fileName);
      await mkdir(dirname(target), { recursive: true });
      await pipeline(await z.openReadStreamPromise(entry), createWriteStream(target));
    }
  } finally {
    z.close();
  }
  const variables: unknown = (fn.environment as { variables?: unknown } | undefined)?.variables;
  const env = (s.value(variables ?? {}) ?? {}) as Record<string, string>;
  return { name: String(fn.function_name), codeDir: dir, handler: String(fn.handler), timeoutSeconds: Number(fn.timeout), environment: env };
}

const DRIVER = `
import { pathToFileURL } from 'node:url';
const [file, exportName, event, timeoutMs] = process.argv.slice(2);
const mod = await import(pathToFileURL(file).href);
const deadline = Date.now() + Number(timeoutMs);
const context = { getRemainingTimeInMillis: () => deadline - Date.now(), awsRequestId: 'rehearsal' };
try {
  const result = await mod[exportName](JSON.parse(event), context);
  process.stdout.write(JSON.stringify({ ok: true, result }));
} catch (e) {
  process.stdout.write(JSON.stringify({ ok: false, error: { name: e?.name ?? 'Error', message: e?.message ?? String(e) } }));
}
`;

/** Invokes the function once with `event`; `env` is added to the function's own variables (moto, rehearsal overrides). */
export async function invoke(fn: DeployedFunction, event: unknown, env: Record<string, string>): Promise<Invocation> {
  const [file, exportName] = fn.handler.split('.');
  const driver = join(fn.codeDir, '.rehearsal-driver.mjs');
  await writeFile(driver, DRIVER);
  const t0 = Date.now();
  // Only what Lambda would give the function: its variables, the runtime's region and credentials (here moto's).
  const child = spawn(process.execPath, [driver, join(fn.codeDir, `${file}.mjs`), exportName, JSON.stringify(event), String(fn.timeoutSeconds * 1000)], {
    cwd: fn.codeDir,
    env: { PATH: process.env.PATH ?? '', ...fn.environment, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let log = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
  child.stderr.on('data', (d: Buffer) => (log += d.toString('utf8')));
  // Lambda stops a function at its timeout; so does the rehearsal (plus a margin for start-up).
  const kill = setTimeout(() => child.kill('SIGKILL'), fn.timeoutSeconds * 1000 + 10_000);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(kill);
  const seconds = (Date.now() - t0) / 1000;
  try {
    const parsed = JSON.parse(out) as { ok: boolean; result?: unknown; error?: { name: string; message: string } };
    return { ...parsed, log, seconds };
  } catch {
    return { ok: false, error: { name: 'Runtime.ExitError', message: `the function's process exited ${String(code)} without a result` }, log, seconds };
  }
}
