/**
 * Registers `login` and `check`; their implementation (core/cli/login.ts) is loaded when they run.
 */
import type { Command } from 'commander';
import { UserError } from '../errors.ts';
import type { CliContext } from './context.ts';
import { port, positive } from './options.ts';

export function registerLogin(program: Command, ctx: CliContext): void {
  program
    .command('login')
    .description("Authorize your account with the pipeline's connector in the browser (Spotify: Authorization Code + PKCE) and store the refresh token as a local secret")
    .option('-c, --config <file>', 'pipeline file', 'pipeline.yaml')
    .option('--port <n>', 'loopback port of the redirect URI http://127.0.0.1:PORT/callback (default 8888)', port)
    .option('--no-open', 'only print the URL; do not try to open a browser')
    .option('--timeout <seconds>', 'give up waiting for the browser after this long', positive('a number of seconds'), 300)
    .option('-v, --verbose', 'debug logging')
    .action(async (o: { config: string; port?: number; open: boolean; timeout: number; verbose?: boolean }) => {
      if (o.port !== undefined && !(Number.isInteger(o.port) && o.port >= 0 && o.port < 65536)) throw new UserError(`--port must be a port number, not "${o.port}"`);
      if (!(o.timeout > 0)) throw new UserError('--timeout must be a positive number of seconds');
      const { loginCommand } = await import('./login.ts');
      const ac = new AbortController();
      const onSignal = () => ac.abort(new UserError('login interrupted; nothing was stored'));
      process.once('SIGINT', onSignal);
      try {
        await loginCommand({ config: o.config, port: o.port, open: o.open, timeoutSeconds: o.timeout, verbose: o.verbose, signal: ac.signal, plugins: ctx.plugins });
      } finally {
        process.off('SIGINT', onSignal);
      }
    });
}

export function registerCheck(program: Command, ctx: CliContext): void {
  program
    .command('check')
    .description("Check that the configured credentials work for the pipeline's streams (exit 0 ok, 2 not)")
    .option('-c, --config <file>', 'pipeline file', 'pipeline.yaml')
    .option('--sandbox', "check against the connector's offline sandbox, ignoring credentials")
    .option('-v, --verbose', 'debug logging')
    .action(async (o: { config: string; sandbox?: boolean; verbose?: boolean }) => {
      const { checkCommand } = await import('./login.ts');
      await checkCommand({ ...o, plugins: ctx.plugins });
    });
}
