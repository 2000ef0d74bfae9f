/**
 * The Glue job as Glue runs it: the script fetched from the job's `script_location`, the modules
 * of `--extra-py-files` fetched next to it and handed to Spark the same way (`--py-files`), the
 * arguments Glue passes (the job's `default_arguments`, merged with the ones the Step Functions
 * state machine sends for a committed run), on the Spark of the Glue version the stack selects
 * (pyspark 3.5.4 for Glue 5.0) with `s3://` served by Hadoop's S3A pointed at moto.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Synthesized } from './artifacts.ts';
import { execute } from './asl.ts';

export interface GlueRun {
  ok: boolean;
  arguments: Record<string, string>;
  scriptLocation: string;
  pyFiles: string[];
  /** The job's last JSON line (its result), when it printed one. */
  result?: unknown;
  log: string;
  seconds: number;
  exitCode: number | null;
}

/** What the rehearsal needs to start Spark: its launcher and environment, the S3A jars, moto. */
export interface SparkRuntime {
  sparkSubmit: string;
  env: Record<string, string | undefined>;
  jars: string[];
  moto: { endpoint: string; accessKeyId: string; secretAccessKey: string; region: string };
}

/** An S3 "Object Created" event as EventBridge delivers it for `key` in `bucket`. */
export function objectCreatedEvent(bucket: string, key: string, region: string, account: string): Record<string, unknown> {
  return {
    version: '0',
    id: 'rehearsal',
    'detail-type': 'Object Created',
    source: 'aws.s3',
    account,
    time: new Date().toISOString(),
    region,
    resources: [`arn:aws:s3:::${bucket}`],
    detail: { version: '0', bucket: { name: bucket }, object: { key, size: 0 }, reason: 'PutObject' },
  };
}

/** The job's name and the arguments the state machine starts it with, for an event (the machine run by the ASL interpreter). */
export function startJobRunArguments(s: Synthesized, event: unknown): { jobName: string; args: Record<string, string> } {
  const machine = s.one('aws_sfn_state_machine');
  const run = execute(JSON.parse(s.value(String(machine.config.definition))), event);
  const call = run.calls.find((c) => /:glue:startJobRun/.test(c.resource));
  if (!call) throw new Error(`the state machine reaches no glue:startJobRun task (path ${run.path.join(' -> ')})`);
  const params = call.parameters as { JobName?: string; Arguments?: Record<string, unknown> } | null;
  if (!params?.JobName) throw new Error(`state ${call.state} starts a Glue job without JobName`);
  return { jobName: params.JobName, args: Object.fromEntries(Object.entries(params.Arguments ?? {}).map(([k, v]) => [k, String(v)])) };
}

async function download(s3: S3Client, uri: string, dir: string): Promise<string> {
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
  if (!m) throw new Error(`not an s3:// object: ${uri}`);
  const target = join(dir, basename(m[2]));
  const body = (await s3.send(new GetObjectCommand({ Bucket: m[1], Key: m[2] }))).Body as Readable;
  await pipeline(body, createWriteStream(target));
  return target;
}

/** Runs the job once, as a committed run's event would start it. */
export async function runGlueJob(s: Synthesized, s3: S3Client, runtime: SparkRuntime, event: unknown, workDir: string): Promise<GlueRun> {
  const job = s.value(s.one('aws_glue_job').config) as { name: string; command: { script_location: string }; default_arguments?: Record<string, string> };
  const started = startJobRunArguments(s, event);
  if (started.jobName !== job.name) throw new Error(`the state machine starts ${started.jobName}, the stack's job is ${job.name}`);
  // StartJobRun's arguments replace the job's defaults of the same name (Glue's rule).
  const args: Record<string, string> = { ...(job.default_arguments ?? {}), ...started.args };
  await mkdir(join(workDir, 'tmp'), { recursive: true });
  const script = await download(s3, job.command.script_location, workDir);
  const extra = (args['--extra-py-files'] ?? '').split(',').map((x) => x.trim()).filter(Boolean);
  const pyFiles: string[] = [];
  for (const uri of extra) pyFiles.push(await download(s3, uri, workDir));
  const m = runtime.moto;
  const conf: Record<string, string> = {
    'spark.ui.enabled': 'false',
    'spark.sql.shuffle.partitions': '4',
    // Fewer S3 round trips to moto per write: tasks commit straight into the output (Glue's own
    // S3-optimized committer renames nothing either), and S3A keeps directory markers.
    'spark.hadoop.mapreduce.fileoutputcommitter.algorithm.version': '2',
    'spark.hadoop.fs.s3a.directory.marker.retention': 'keep',
    'spark.local.dir': join(workDir, 'spark-local'),
    // Glue reads s3:// through its own file system; here Hadoop's S3A does, against moto.
    'spark.hadoop.fs.s3.impl': 'org.apache.hadoop.fs.s3a.S3AFileSystem',
    'spark.hadoop.fs.s3a.endpoint': m.endpoint,
    'spark.hadoop.fs.s3a.endpoint.region': m.region,
    'spark.hadoop.fs.s3a.path.style.access': 'true',
    'spark.hadoop.fs.s3a.connection.ssl.enabled': 'false',
    'spark.hadoop.fs.s3a.aws.credentials.provider': 'org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider',
    'spark.hadoop.fs.s3a.access.key': m.accessKeyId,
    'spark.hadoop.fs.s3a.secret.key': m.secretAccessKey,
  };
  // Spark's INFO log runs to megabytes a job; warnings and the job's own lines are what a reader needs.
  const log4j = join(workDir, 'log4j2.properties');
  await writeFile(
    log4j,
    ['rootLogger.level = warn', 'rootLogger.appenderRef.stderr.ref = stderr', 'appender.stderr.type = Console', 'appender.stderr.name = stderr', 'appender.stderr.target = SYSTEM_ERR', 'appender.stderr.layout.type = PatternLayout', 'appender.stderr.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n', ''].join('\n'),
  );
  // A short-lived JVM of many small jobs: the C1 JIT only (C2's warm-up never pays off here) and
  // the serial collector (no concurrent GC threads on two cores). Measured on the shipped
  // rehearsal: 198 s of CPU -> 108 s, 132 s -> 104 s of wall time.
  const jvm = '-XX:TieredStopAtLevel=1 -XX:+UseSerialGC';
  const sparkArgs = [
    '--master', 'local[2]',
    '--driver-java-options', `${jvm} -Dlog4j2.configurationFile=file:${log4j} -Djava.io.tmpdir=${join(workDir, 'tmp')}`,
    '--name', job.name,
    '--jars', runtime.jars.join(','),
    ...Object.entries(conf).flatMap(([k, v]) => ['--conf', `${k}=${v}`]),
    ...(pyFiles.length ? ['--py-files', pyFiles.join(',')] : []),
    script,
    // What Glue passes the script: its own --JOB_NAME, then every argument as `--name value`.
    '--JOB_NAME', job.name,
    ...Object.entries(args).flatMap(([k, v]) => [k, v]),
  ];
  const t0 = Date.now();
  const child = spawn(runtime.sparkSubmit, sparkArgs, { cwd: workDir, env: { ...runtime.env, AWS_ENDPOINT_URL: m.endpoint, AWS_ACCESS_KEY_ID: m.accessKeyId, AWS_SECRET_ACCESS_KEY: m.secretAccessKey, AWS_DEFAULT_REGION: m.region, AWS_REGION: m.region }, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const keep = (d: Buffer) => {
    log = (log + d.toString('utf8')).slice(-200_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const timeout = setTimeout(() => child.kill('SIGKILL'), 15 * 60 * 1000);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timeout);
  // Spark's and the job's output, kept beside the run (rehearse --keep shows where).
  await writeFile(join(workDir, 'job.log'), log);
  const last = log.split('\n').reverse().find((l) => l.startsWith('{') && l.endsWith('}'));
  let result: unknown;
  try {
    result = last ? JSON.parse(last) : undefined;
  } catch {
    result = undefined;
  }
  return { ok: code === 0, arguments: args, scriptLocation: job.command.script_location, pyFiles: extra, result, log, seconds: (Date.now() - t0) / 1000, exitCode: code };
}
