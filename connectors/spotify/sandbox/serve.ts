/**
 * Run the sandbox by hand, for poking at it with curl:
 *   npx tsx connectors/spotify/sandbox/serve.ts [--port 8888] [--seed 42] [--profile development]
 * Prints the URLs, the demo credentials and a ready user access token.
 */
import { startSandbox, type SandboxProfile } from './index.ts';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const sb = await startSandbox({
  port: Number(arg('port') ?? 0),
  seed: arg('seed') !== undefined ? Number(arg('seed')) : undefined,
  profile: (arg('profile') as SandboxProfile | undefined) ?? 'development',
});
console.log(JSON.stringify({
  url: sb.url, apiUrl: sb.apiUrl, tokenUrl: `${sb.accountsUrl}/api/token`, profile: sb.profile,
  credentials: sb.credentials, userAccessToken: sb.issueUserToken(),
}, null, 2));
const stop = () => { void sb.close().then(() => process.exit(0)); };
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
