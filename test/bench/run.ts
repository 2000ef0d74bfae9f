/**
 * `npm run bench`: every benchmark, one after the other (figures are printed, never asserted).
 * `npm run bench -- transform` runs only the named ones.
 */
import { runTransformBench } from './transform.ts';
import { benchHistory } from './history.ts';
import { runCliBench } from './cli.ts';

const benches: Record<string, () => Promise<void>> = {
  cli: async () => runCliBench(),
  transform: () => runTransformBench(),
  history: () => benchHistory().then(() => undefined),
};

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const unknown = wanted.filter((w) => !(w in benches));
if (unknown.length) {
  process.stderr.write(`unknown bench(es): ${unknown.join(', ')} (known: ${Object.keys(benches).join(', ')})\n`);
  process.exit(2);
}
for (const [name, run] of Object.entries(benches)) {
  if (wanted.length && !wanted.includes(name)) continue;
  const t0 = performance.now();
  await run();
  process.stdout.write(`(${name}: ${((performance.now() - t0) / 1000).toFixed(1)} s in all)\n\n`);
}
