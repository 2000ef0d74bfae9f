/** Registers `transform`; its implementation (core/cli/transform.ts) is loaded when it runs. */
import type { Command } from 'commander';
import type { CliContext } from './context.ts';
import type { TransformOptions } from './transform.ts';
import { positive } from './options.ts';

export function registerTransform(program: Command, ctx: CliContext): void {
  program
    .command('transform')
    .description('Rebuild every table from the raw data committed in the lake (no extraction), or --explain one table\'s SQL')
    .option('-c, --config <file>', 'pipeline file', 'pipeline.yaml')
    .option('--lake <dir>', 'local lake folder (default: storage.local of pipeline.yaml)')
    .option('-t, --table <name...>', 'build only these tables')
    .option('--explain <table>', 'print the docs, the DuckDB SQL, the Spark SQL (Glue) and the Athena DDL of a table instead of building')
    .option('--docs', 'print the markdown docs of the tables (all, or those of --table) instead of building')
    .option('--spark-specs <dir>', 'write the Glue job spec (<table>.json) of every table into <dir> instead of building')
    .option('--target-file-mb <n>', 'split partitions into Parquet files of about this size (default 128)', positive('a number of MiB'))
    .option('--engine <engine>', 'build with duckdb (the local engine) or spark (the Glue job\'s code on Spark, via spark-submit)', 'duckdb')
    .option('--master <url>', 'with --engine spark: the Spark master (default local[*]; e.g. spark://host:7077 for a cluster that sees the lake folder)')
    .option('--full', 'rebuild every table from all its raw files (by default a table with nothing new is skipped and new runs rewrite only the partitions they touch)')
    .action(async (o: TransformOptions) => {
      const { transformCommand } = await import('./transform.ts');
      await transformCommand(ctx, o);
    });
}
