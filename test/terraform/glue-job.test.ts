/**
 * The deployed Glue job as Glue would start it, read from the synthesized JSON only: the code it
 * gets (the script and the `--extra-py-files` zip, run by the venv's Python 3.11, Glue 5.0's), the
 * arguments it gets (its default arguments with what the starter passes merged over them)
 * against the script's own list (glue-jobs/job-args.json) and its parser, and the starter state
 * machine evaluated on S3 Object Created events (terraform/rehearse/asl.ts).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, SHIPPED, extractorFn, only, synth, type Synth } from './helpers.ts';
import { execute } from '../../terraform/rehearse/asl.ts';
import { JOB_ARGUMENTS, scriptArguments } from '../../terraform/constructs/glue-transform.ts';
import { pythonEnv } from '../support/python.ts';

const JOB_ARGS_FILE = join(ROOT, 'glue-jobs', 'job-args.json');
const jobArgs = JSON.parse(readFileSync(JOB_ARGS_FILE, 'utf8')) as { required: string[]; optional: string[] };
const RUN_ID = '20261204T193436123Z-9f9da3';

/** Glue's own job parameters ("Using job parameters in AWS Glue jobs"): Glue reads them, the script ignores them. */
const GLUE_OWN = /^--(job-language|class|script-location|extra-py-files|extra-jars|extra-files|user-jars-first|job-bookmark-option|TempDir|enable-[\w-]+|continuous-log-[\w-]+|custom-logGroup-prefix|spark-event-logs-path|conf|additional-python-modules|python-modules-installer-option|datalake-formats|auto-stop)$/;

const tmp = mkdtempSync(join(tmpdir(), 'glue-job-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The Object Created event EventBridge sends when the engine commits a run (shape from the S3 docs). */
function committed(bucket: string, key: string) {
  return {
    version: '0',
    id: '17793124-05d4-b198-2fde-7ededc63b103',
    'detail-type': 'Object Created',
    source: 'aws.s3',
    account: '123456789012',
    time: '2026-12-04T19:34:37Z',
    region: 'eu-west-1',
    resources: [`arn:aws:s3:::${bucket}`],
    detail: {
      version: '0',
      bucket: { name: bucket },
      object: { key, size: 812, etag: 'b1946ac92492d2347c6235b4d2611184', sequencer: '00617F08299329D189' },
      'request-id': 'N4N7GDK58NMKJ12R',
      requester: '123456789012',
      'source-ip-address': '1.2.3.4',
      reason: 'PutObject',
    },
  };
}

interface Started {
  jobName: string;
  /** The run's arguments (glue:StartJobRun `Arguments`). */
  runArguments: Record<string, string>;
  /** What the script gets: the job's default arguments with the run's merged over them. */
  glueGets: Record<string, string>;
  /** The states the execution went through. */
  path: string[];
}

/** Runs the synthesized starter on the event of a committed manifest key. */
function start(s: Synth, key: string): Started {
  const job = only(s, 'aws_glue_job');
  const rule = s.model.ofType('aws_cloudwatch_event_rule').find((r) => String(r.config.name).endsWith('-run-committed'))!;
  const target = s.model.ofType('aws_cloudwatch_event_target').find((t) => s.model.resolve(t.config.rule)?.address === rule.address)!;
  const machine = s.model.resolve(target.config.arn)!;
  const bucket = (JSON.parse(rule.config.event_pattern) as { detail: { bucket: { name: string[] } } }).detail.bucket.name[0];
  const run = execute(JSON.parse(machine.config.definition), committed(bucket, key));
  // The job run (waited for), then the report with the same arguments.
  expect(run.calls.map((c) => c.resource)).toEqual([
    expect.stringMatching(/^arn:\$\{data\.aws_partition\.[\w]+\.partition\}:states:::glue:startJobRun\.sync$/),
    expect.stringMatching(/^arn:\$\{data\.aws_partition\.[\w]+\.partition\}:states:::lambda:invoke$/),
  ]);
  expect(run.calls[1].parameters).toMatchObject({ Payload: { arguments: run.calls[0].parameters && (run.calls[0].parameters as { Arguments: unknown }).Arguments } });
  const params = run.calls[0].parameters as { JobName: string; Arguments?: Record<string, string> };
  expect(s.model.resolve(params.JobName)?.address, 'JobName is the transform job').toBe(s.model.ofType('aws_glue_job')[0].address);
  const runArguments = params.Arguments ?? {};
  return { jobName: job.name, runArguments, glueGets: { ...(job.default_arguments as Record<string, string>), ...runArguments }, path: run.path };
}

/** What is wrong between the arguments Glue gets and the script's list, each naming the argument. */
function argumentProblems(glueGets: Record<string, string>): string[] {
  const known = new Set([...jobArgs.required, ...jobArgs.optional].map((n) => `--${n}`));
  const problems: string[] = [];
  for (const name of jobArgs.required) {
    if (glueGets[`--${name}`] === undefined) problems.push(`the script requires --${name} (glue-jobs/job-args.json), which Glue does not pass`);
    else if (glueGets[`--${name}`] === '') problems.push(`--${name} is passed without a value`);
  }
  for (const arg of Object.keys(glueGets)) {
    if (!known.has(arg) && !GLUE_OWN.test(arg)) problems.push(`${arg} is passed to the job, but glue-jobs/job-args.json does not list it`);
  }
  return problems;
}

/** The shipped pipeline with its lake under a key prefix of the bucket. */
const underPrefix = (prefix: string) => {
  const text = SHIPPED.replace('  s3: { bucket: my-spotify-lake }\n', `  s3: { bucket: my-spotify-lake, prefix: ${prefix} }\n`);
  if (text === SHIPPED) throw new Error('the shipped pipeline no longer has the storage line this test replaces');
  return text;
};

const stacks = { 'the shipped pipeline (lake at the bucket root)': synth(SHIPPED), 'a lake under team/lake/': synth(underPrefix('team/lake')) };
const shipped = stacks['the shipped pipeline (lake at the bucket root)'];

describe("the job's arguments: one list, glue-jobs/job-args.json", () => {
  it('is the list the stack reads', () => {
    expect(JOB_ARGUMENTS).toEqual({ required: jobArgs.required, optional: jobArgs.optional });
    expect(jobArgs.required).toEqual(expect.arrayContaining(['lake_bucket', 'lake_prefix', 'spec_prefix']));
    expect(jobArgs.optional).toContain('run_id');
  });

  for (const [name, s] of Object.entries(stacks)) {
    it(`${name}: Glue passes every argument the script requires, and only arguments it knows`, () => {
      const started = start(s, `${extractorFn(s).environment.variables.LAKE_PREFIX}_runs/${RUN_ID}.json`);
      expect(argumentProblems(only(s, 'aws_glue_job').default_arguments as Record<string, string>)).toEqual([]);
      expect(argumentProblems(started.glueGets)).toEqual([]);
    });
  }

  it('names the argument when the stack and the list disagree (a renamed argument)', () => {
    const renamed = synth(SHIPPED, {
      mutate: (stack) => {
        stack.transform.job.addOverride('default_arguments.--spec_prefix', undefined);
        stack.transform.job.addOverride('default_arguments.--specs_uri', 's3://my-spotify-lake-artifacts/glue-jobs/specs/');
      },
    });
    expect(argumentProblems(start(renamed, `_runs/${RUN_ID}.json`).glueGets)).toEqual([
      'the script requires --spec_prefix (glue-jobs/job-args.json), which Glue does not pass',
      '--specs_uri is passed to the job, but glue-jobs/job-args.json does not list it',
    ]);
  });

  it('the construct refuses to synthesize a name the list does not know, or without a required one', () => {
    const ok = { lake_bucket: 'b', lake_prefix: '/', spec_prefix: 's3://a/specs/' };
    expect(scriptArguments(ok, ['run_id'])).toEqual({ '--lake_bucket': 'b', '--lake_prefix': '/', '--spec_prefix': 's3://a/specs/' });
    expect(() => scriptArguments({ ...ok, database: 'x' }, [])).toThrow(/passes --database to the Glue job, but glue-jobs\/job-args\.json does not list it/);
    expect(() => scriptArguments(ok, ['runid'])).toThrow(/passes --runid to the Glue job/);
    const { spec_prefix: _dropped, ...missing } = ok;
    expect(() => scriptArguments(missing, [])).toThrow(/glue-jobs\/job-args\.json requires --spec_prefix, but the stack does not pass it/);
  });
});

describe('the code Glue gets: the script, and lake_io with job-args.json in the --extra-py-files zip', () => {
  /** The synthesized objects written where Glue would download them, then the script loaded as Glue loads it. */
  function runScript(s: Synth, argv: string[]) {
    const objects = s.model.ofType('aws_s3_object');
    const job = only(s, 'aws_glue_job');
    const key = (url: string) => url.replace(/^s3:\/\/[^/]+\//, '');
    const zipObject = objects.find((o) => o.config.key === key(job.default_arguments['--extra-py-files']))!;
    const scriptObject = objects.find((o) => o.config.key === key(job.command.script_location))!;
    expect(zipObject, '--extra-py-files is an object of the stack').toBeDefined();
    expect(scriptObject, 'the script is an object of the stack').toBeDefined();
    const dir = mkdtempSync(join(tmp, 'glue-'));
    const zip = join(dir, 'lake_io.zip');
    const script = join(dir, 'transform_job.py');
    writeFileSync(zip, Buffer.from(String(zipObject.config.content_base64), 'base64'));
    // Terraform writes `$${` and `%%{` as `${` and `%{`.
    writeFileSync(script, String(scriptObject.config.content).replace(/\$\$\{/g, '${').replace(/%%\{/g, '%{'));
    // -I: nothing of glue-jobs/ or the environment on the path, only the zip (as Glue adds it).
    const code = [
      'import json, pkgutil, runpy, sys',
      'zip_path, script = sys.argv[1], sys.argv[2]',
      'sys.path.insert(0, zip_path)',
      // The script's top level (its imports) as Glue runs it, without main() (that needs Spark).
      'runpy.run_path(script, run_name="transform_job")',
      'import lake_io',
      'print(json.dumps({"module": lake_io.__file__, "job_args": pkgutil.get_data("lake_io", "job-args.json").decode(),',
      '  "lake_io": pkgutil.get_data("lake_io", "lake_io.py").decode(), "parsed": lake_io.parse_job_args(sys.argv[2:])}))',
    ].join('\n');
    const r = spawnSync(pythonEnv().python, ['-I', '-c', code, zip, script, ...argv], { encoding: 'utf8', timeout: 60_000, cwd: dir });
    expect(r.status, `python: ${r.stderr}`).toBe(0);
    return { zip, ...(JSON.parse(r.stdout) as { module: string; job_args: string; lake_io: string; parsed: Record<string, unknown> }) };
  }

  /** argv as Glue builds it: the script, its own --JOB_* arguments, then every job and run argument. */
  const argvOf = (started: Started) => ['--JOB_ID', 'j_0123', '--JOB_RUN_ID', 'jr_0123', '--JOB_NAME', started.jobName, ...Object.entries(started.glueGets).flat()];

  it('imports lake_io from the zip alone, which reads job-args.json from its own package', () => {
    const started = start(shipped, `_runs/${RUN_ID}.json`);
    const r = runScript(shipped, argvOf(started));
    expect(r.module).toBe(join(r.zip, 'lake_io.py'));
    expect(r.job_args).toBe(readFileSync(JOB_ARGS_FILE, 'utf8'));
    expect(r.lake_io).toBe(readFileSync(join(ROOT, 'glue-jobs', 'lake_io.py'), 'utf8'));
  });

  it('the script parses what Glue passes: the lake, its specs and the committed run', () => {
    for (const [name, s] of Object.entries(stacks)) {
      const prefix = String(extractorFn(s).environment.variables.LAKE_PREFIX);
      const { parsed } = runScript(s, argvOf(start(s, `${prefix}_runs/${RUN_ID}.json`)));
      const bucket = String(only(s, 'aws_glue_job').default_arguments['--lake_bucket']);
      expect(parsed, name).toMatchObject({
        lake_bucket: bucket,
        lake_prefix: prefix,
        spec_prefix: `s3://${bucket}-artifacts/glue-jobs/specs/`,
        run_id: RUN_ID,
        tables: [],
      });
    }
  });
});

describe('the starter: the committed run’s id from the event, as --run_id (incremental builds)', () => {
  it.each([
    ['the lake at the bucket root', shipped, `_runs/${RUN_ID}.json`],
    ['a lake under one prefix segment', synth(underPrefix('lake')), `lake/_runs/${RUN_ID}.json`],
    ['a lake under two prefix segments', stacks['a lake under team/lake/'], `team/lake/_runs/${RUN_ID}.json`],
  ])('%s', (_name, s, key) => {
    const started = start(s, key);
    expect(started.runArguments).toEqual({ '--run_id': RUN_ID });
    expect(started.path).toEqual(['RunOfKey', 'OneRun', 'Incremental', 'StartTransform', 'Report']);
  });

  it('takes any run id the engine writes (letters, digits, - and _ around the timestamp)', () => {
    for (const id of ['20261204T193436123Z-9f9da3', '20250101T000000000Z-000000', 'manual_backfill-2', 'R1']) {
      expect(start(shipped, `_runs/${id}.json`).runArguments).toEqual({ '--run_id': id });
    }
  });

  it('rebuilds everything (no --run_id) for a manifest name it cannot take the run id from', () => {
    // A dot inside the run id (lake_io allows one): splitting at dots would cut the id short.
    for (const key of ['_runs/2026.12.04-ab.json', '_runs/a..json', '_runs/.json']) {
      const started = start(shipped, key);
      expect(started.runArguments, key).toEqual({});
      expect(started.path, key).toEqual(['RunOfKey', 'OneRun', 'FullRebuild', 'StartTransform', 'Report']);
      expect(argumentProblems(started.glueGets)).toEqual([]);
    }
  });

  it('retries while the previous transform is still running', () => {
    const rule = shipped.model.ofType('aws_cloudwatch_event_rule').find((r) => r.config.name === 'my-spotify-lake-run-committed')!;
    const target = shipped.model.ofType('aws_cloudwatch_event_target').find((t) => shipped.model.resolve(t.config.rule)?.address === rule.address)!;
    const def = JSON.parse(shipped.model.resolve(target.config.arn)!.config.definition);
    expect(def.States.StartTransform.Retry).toEqual([{ ErrorEquals: ['Glue.ConcurrentRunsExceededException'], IntervalSeconds: 120, BackoffRate: 2, MaxAttempts: 6 }]);
  });
});
