/**
 * `npm run bench`: every benchmark, one after the other (figures are printed, never asserted).
 * `npm run bench -- transform` runs only the named ones; `npm run bench -- transform --engine spark`
 * also builds the same raw data on local Spark (the Glue job's code) and prints its records/s;
 * `--records N` sizes the transform bench (`--records 10000000`: peak RSS at 10M plays) and the
 * report bench (the history its dashboards draw); `recs` evaluates the recommendations on generated
 * listening with latent tastes (`--records`: its plays, default 200k).
 */
import { runTransformBench } from './transform.ts';
import { benchHistory } from './history.ts';
import { runCliBench } from './cli.ts';
import { runReportBench } from './report.ts';
import { runRecsBench } from './recs.ts';

// Options with a value: `--engine spark` (the transform bench also runs the Spark engine).
const args = process.argv.slice(2);
const option = (name: string) => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? args[at + 1] : undefined;
};
const engine = option('engine');
const records = option('records');
if (records !== undefined && !(Number.isInteger(Number(records)) && Number(records) > 0)) {
  process.stderr.write(`--records ${records}: expected a whole number of records\n`);
  process.exit(2);
}
if (engine !== undefined && !['duckdb', 'spark'].includes(engine)) {
  process.stderr.write(`--engine ${engine}: expected duckdb or spark\n`);
  process.exit(2);
}

const benches: Record<string, () => Promise<void>> = {
  cli: async () => runCliBench(),
  transform: () => runTransformBench({ spark: engine === 'spark', records: records === undefined ? undefined : Number(records) }),
  history: () => benchHistory().then(() => undefined),
  report: () => runReportBench({ records: records === undefined ? undefined : Number(records) }),
  recs: () => runRecsBench({ records: records === undefined ? undefined : Number(records) }),
};

const wanted = args.filter((a, i) => !a.startsWith('-') && args[i - 1] !== '--engine' && args[i - 1] !== '--records');
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
