// Runs s3rver (a loopback S3-compatible server) for the tests, in its own process: its
// ListObjectsV2 continuation tokens use DES, which Node 17+ only offers with
// --openssl-legacy-provider, a flag the test process itself should not need.
// argv: <directory> <bucket>...; prints {"port": N} once listening; exits when stdin closes.
import { createRequire } from 'node:module';

const S3rver = createRequire(import.meta.url)('s3rver');
const [directory, ...buckets] = process.argv.slice(2);
const server = new S3rver({
  address: '127.0.0.1',
  port: 0,
  silent: true,
  directory,
  resetOnClose: true,
  // Path-style only: virtual-host buckets would need `<bucket>.localhost` name resolution.
  vhostBuckets: false,
  configureBuckets: buckets.map((name) => ({ name })),
});
const { port } = await server.run();
process.stdout.write(JSON.stringify({ port }) + '\n');
const stop = () => server.close().finally(() => process.exit(0));
process.stdin.on('end', stop);
process.stdin.resume();
process.on('SIGTERM', stop);
