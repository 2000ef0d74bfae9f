/**
 * `spotify-pipeline sandbox`: serves the offline sandbox of the pipeline's connector (or of
 * `--connector NAME`) on 127.0.0.1 until Ctrl-C, and prints how to point a client at it.
 */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UserError } from '../errors.ts';
import type { ConnectorPlugin, SandboxHandle } from '../plugin-api.ts';
import type { CliContext } from './context.ts';

const out = (s = '') => process.stdout.write(s + '\n');

export async function sandboxCommand(
  ctx: CliContext,
  o: { config: string; connector?: string; port: number; profile?: string; mode?: string; seed: number },
): Promise<void> {
  let plugin: ConnectorPlugin;
  let config = {};
  if (o.connector) {
    plugin = await ctx.plugins.loadPlugin(o.connector, existsSync(o.config) ? dirname(resolve(o.config)) : process.cwd());
  } else {
    if (!existsSync(o.config)) {
      throw new UserError(`no ${o.config} here to take the connector from`, `name one: --connector ${Object.keys(ctx.plugins.registry).join(' | ')}`);
    }
    const prep = await ctx.prepare(o.config);
    plugin = prep.plugin;
    // Plain settings (api_mode, ...) shape the sandbox; references (credentials) do not.
    config = Object.fromEntries(Object.entries(prep.loaded.config.connector.config ?? {}).filter(([, v]) => !(typeof v === 'string' && v.includes('${'))));
  }
  if (!plugin.sandbox) throw new UserError(`connector "${plugin.name}" has no sandbox`);
  const profile = o.profile ?? o.mode;
  let sb: SandboxHandle;
  try {
    sb = await plugin.sandbox({ port: o.port, seed: o.seed, config, ...(profile && { profile }) });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new UserError(`port ${o.port} is in use on 127.0.0.1`, 'stop what listens there, or pick another port: --port N (--port 0 takes any free one)');
    if (code === 'EACCES') throw new UserError(`port ${o.port} needs privileges this process does not have`, 'pick a port above 1023: --port N (--port 0 takes any free one)');
    throw e;
  }
  const label = plugin.displayName ?? plugin.name;
  out(`${label} sandbox (${profile ? `${profile}, ` : ''}seed ${o.seed}) on ${sb.url}`);
  out('Point connector.config at it (demo values, accepted by the sandbox only):');
  for (const [k, v] of Object.entries(sb.config)) out(`  ${k}: ${JSON.stringify(v)}`);
  // A file-based sandbox (the export) has no server keeping the process alive: a timer does.
  const alive = setInterval(() => undefined, 1 << 30);
  await new Promise<void>((done) => {
    process.once('SIGINT', () => done());
    process.once('SIGTERM', () => done());
  });
  clearInterval(alive);
  await sb.close();
}
