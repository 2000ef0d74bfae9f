/**
 * The synthesized stack, resource kind by resource kind, with its secure settings. In-process
 * (Testing.synth): no cdktf-cli, no Terraform binary, no AWS credentials.
 */
import { TrinoSQL } from 'dt-sql-parser';
import { describe, expect, it } from 'vitest';
import { ENV, SHIPPED, check, connectors, extractorFn, loadText, only, policyOf, synth, withAws, type Synth } from './helpers.ts';
import { LOG_RETENTION_DAYS } from '../../terraform/settings.ts';
import { ConfigError, formatProblem } from '../../core/config/index.ts';
import { PipelineStack } from '../../terraform/stack.ts';
import { Testing } from 'cdktf';
import { curatedUrl, glueDatabaseName } from '../../core/storage/names.ts';
import { athenaDdl } from '../../core/transform/athena.ts';
import { catalogTable } from '../../core/transform/catalog.ts';
import { sparkJobSpec } from '../../core/transform/jobspec.ts';
import { planTable } from '../../core/transform/plan.ts';

const FULL = `
version: 1
name: full-lake
connector:
  use: spotify
  config:
    api_mode: development
    client_id: \${env:SPOTIFY_CLIENT_ID}
    client_secret: \${secret:spotify/client_secret}
    refresh_token: \${secret:spotify/refresh_token}
storage: { s3: { bucket: full-lake-bucket, prefix: lake } }
schedule: rate(2 hours)
streams:
  recently_played: { endpoint: me/player/recently-played }
  saved_tracks: { endpoint: me/tracks, schedule: cron(0 6 * * ? *) }
tables:
  typed:
    description: every column type
    from: recently_played
    columns:
      s:   { path: a, type: string, description: "a \${literal} and %{directive}" }
      i:   { path: b, type: int }
      bi:  { path: c, type: bigint }
      d:   { path: d, type: double }
      bo:  { path: e, type: boolean }
      da:  { path: f, type: date }
      ts:  { path: g, type: timestamp }
      de:  { path: h, type: decimal }
      arr: { path: i, type: "array<string>" }
    partition_by:
      - { name: dt, from: ts, as: date }
      - { name: mon, from: ts, as: month }
      - { name: yr, from: ts, as: year }
      - { name: kind, from: s, as: value }
queries:
  q1: { description: first, sql: "SELECT * FROM typed WHERE dt = '2026-01-01' AND s <> '\${x}'" }
aws:
  region: eu-west-1
  lambda: { memory_mb: 1024, timeout_seconds: 600 }
  glue: { workers: 5, worker_type: G.2X, timeout_minutes: 30 }
  athena: { bytes_scanned_cutoff: 20971520 }
  alarm_email: ops@example.com
  log_retention_days: 14
  lifecycle: { raw_transition_days: 60, raw_archive_days: 120, query_results_expiration_days: 7 }
  access_logging: { prefix: s3-logs/ }
`;

 
const byBucket = (s: Synth, type: string, bucket: string): any =>
  s.model.ofType(type).find((r) => s.model.resolve(String(r.config.bucket))?.config.bucket === bucket)?.config;

describe('synthesized stack: shipped pipeline', () => {
  const s = synth(SHIPPED);
  const buckets = s.model.ofType('aws_s3_bucket').map((b) => b.config.bucket).sort();

  it('passes every policy check', () => {
    expect(s.checks.filter((c) => !c.ok)).toEqual([]);
  });

  it('has a lake, an Athena results and an artifacts bucket, each with the secure defaults', () => {
    expect(buckets).toEqual(['my-spotify-lake', 'my-spotify-lake-artifacts', 'my-spotify-lake-athena-results']);
    for (const b of buckets) {
      expect(byBucket(s, 'aws_s3_bucket_public_access_block', b)).toMatchObject({
        block_public_acls: true, block_public_policy: true, ignore_public_acls: true, restrict_public_buckets: true,
      });
      expect(byBucket(s, 'aws_s3_bucket_server_side_encryption_configuration', b).rule[0].apply_server_side_encryption_by_default.sse_algorithm).toBe('AES256');
      expect(byBucket(s, 'aws_s3_bucket_ownership_controls', b).rule.object_ownership).toBe('BucketOwnerEnforced');
      const deny = policyOf(byBucket(s, 'aws_s3_bucket_policy', b)).Statement.find((x) => x.Effect === 'Deny');
      expect(deny).toMatchObject({ Action: 's3:*', Principal: '*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } });
    }
  });

  it('versions the lake bucket (raw) and gives every bucket lifecycle rules', () => {
    expect(byBucket(s, 'aws_s3_bucket_versioning', 'my-spotify-lake').versioning_configuration.status).toBe('Enabled');
    expect(byBucket(s, 'aws_s3_bucket_versioning', 'my-spotify-lake-athena-results')).toBeUndefined();
    const rules = byBucket(s, 'aws_s3_bucket_lifecycle_configuration', 'my-spotify-lake').rule;
    expect(rules.find((r: { id: string }) => r.id === 'raw-to-cheaper-storage')).toMatchObject({
      status: 'Enabled', filter: [{ prefix: 'raw/' }], transition: [{ days: 90, storage_class: 'STANDARD_IA' }],
    });
    expect(rules.find((r: { id: string }) => r.id === 'abort-incomplete-multipart-uploads').abort_incomplete_multipart_upload).toEqual([{ days_after_initiation: 7 }]);
    expect(rules.find((r: { id: string }) => r.id === 'expire-noncurrent-versions')).toMatchObject({
      filter: [{}], noncurrent_version_expiration: [{ noncurrent_days: 30 }], expiration: [{ expired_object_delete_marker: true }],
    });
    // Every area rewritten by runs and builds has its own, shorter noncurrent expiration.
    const noncurrent = Object.fromEntries(rules.filter((r: { filter: [{ prefix?: string }] }) => r.filter[0].prefix && !r.filter[0].prefix.startsWith('raw')).map((r: any) => [r.filter[0].prefix, r.noncurrent_version_expiration[0].noncurrent_days]));
    expect(noncurrent).toEqual({ 'curated/': 7, 'quarantine/': 7, '_state/': 7, '_lease/': 7 });
    const results = byBucket(s, 'aws_s3_bucket_lifecycle_configuration', 'my-spotify-lake-athena-results').rule[0];
    expect(results).toMatchObject({ expiration: [{ days: 30 }], abort_incomplete_multipart_upload: [{ days_after_initiation: 7 }] });
    // Object Created events go to EventBridge (the transform's trigger).
    expect(byBucket(s, 'aws_s3_bucket_notification', 'my-spotify-lake').eventbridge).toBe(true);
    expect(s.model.ofType('aws_s3_bucket_logging')).toEqual([]);
  });

  it('runs the extractor on nodejs22.x arm64 without reserved concurrency (one run at a time by the lease), a DLQ and retained logs', () => {
    const fn = extractorFn(s);
    expect(fn).toMatchObject({
      function_name: 'my-spotify-lake-extractor',
      runtime: 'nodejs22.x',
      architectures: ['arm64'],
      handler: 'index.handler',
      memory_size: 512,
      timeout: 900,
    });
    // New accounts (concurrency quota 10) cannot reserve any: the lease is what SP008 checks.
    expect(fn.reserved_concurrent_executions).toBeUndefined();
    expect(check(s, 'SP008').ok).toBe(true);
    expect(fn.filename).toMatch(/^assets\/extractor_code_[A-Z0-9]+\/[0-9a-f]{32}\/archive\.zip$/);
    expect(fn.source_code_hash).toBe(s.bundle.hash);
    expect(fn.environment.variables).toEqual({
      LAKE_BUCKET: 'my-spotify-lake',
      LAKE_PREFIX: '',
      SECRETS_PREFIX: 'my-spotify-lake',
      NODE_OPTIONS: '--enable-source-maps',
      SPOTIFY_CLIENT_ID: ENV.SPOTIFY_CLIENT_ID,
      // The included export pipeline's `path: ${env:SPOTIFY_EXPORT_PATH}`, pointed at its uploads.
      SPOTIFY_EXPORT_PATH: 's3://my-spotify-lake/imports/my-spotify-history/',
    });
    const logs = s.model.ofType('aws_cloudwatch_log_group').find((g) => g.config.name === '/aws/lambda/my-spotify-lake-extractor')!;
    expect(logs.config.retention_in_days).toBe(30);
    expect(fn.logging_config.log_group).toBe(`\${${logs.address}.name}`);
    const queue = s.model.ofType('aws_sqs_queue')[0];
    expect(queue.config).toMatchObject({ sqs_managed_sse_enabled: true });
    expect(s.model.ofType('aws_lambda_function_event_invoke_config').find((c) => String(c.config.function_name).includes('extractor_function'))!.config).toMatchObject({
      maximum_retry_attempts: 0,
      destination_config: { on_failure: { destination: `\${${queue.address}.arn}` } },
    });
  });

  it('schedules the extractor with EventBridge Scheduler and its own role', () => {
    const sch = only(s, 'aws_scheduler_schedule');
    expect(sch).toMatchObject({ schedule_expression: 'rate(1 hour)', flexible_time_window: { mode: 'OFF' }, state: 'ENABLED' });
    expect(JSON.parse(sch.target.input)).toEqual({ pipeline: 'my-spotify-lake', streams: ['recently_played', 'my_playlists', 'playlist_items', 'artists'] });
    const role = s.model.resolve(sch.target.role_arn)!;
    expect(JSON.parse(role.config.assume_role_policy).Statement[0].Principal).toEqual({ Service: 'scheduler.amazonaws.com' });
    const p = s.model.ofType('aws_iam_role_policy').find((x) => s.model.resolve(x.config.role)?.address === role.address)!;
    expect(policyOf(p.config).Statement.map((x) => x.Action).flat()).toEqual(['lambda:InvokeFunction', 'sqs:SendMessage']);
  });

  it('creates one secret per ${secret:...} without a value, readable (refresh_token writable) only by the extractor', () => {
    expect(s.model.ofType('aws_secretsmanager_secret').map((x) => x.config.name).sort()).toEqual(['my-spotify-lake/spotify/client_secret', 'my-spotify-lake/spotify/refresh_token']);
    expect(s.model.ofType('aws_secretsmanager_secret_version')).toEqual([]);
    const fn = extractorFn(s);
    const policy = s.model.ofType('aws_iam_role_policy').find((x) => s.model.resolve(x.config.role)?.address === s.model.resolve(fn.role)?.address)!;
    const st = policyOf(policy.config).Statement;
    const read = st.find((x) => x.Sid === 'ReadSecrets')!;
    const write = st.find((x) => x.Sid === 'WriteRotatingSecrets')!;
    // Only the calls core/secrets/aws.ts makes: no DescribeSecret.
    expect(read.Action).toEqual(['secretsmanager:GetSecretValue']);
    for (const sec of s.model.ofType('aws_secretsmanager_secret')) expect(sec.config.recovery_window_in_days).toBe(7);
    expect(read.Resource).toHaveLength(2);
    expect(write.Action).toEqual(['secretsmanager:PutSecretValue']);
    expect(write.Resource).toEqual([expect.stringContaining('secrets_spotify_refresh_token')]);
    expect(check(s, 'SP015').ok).toBe(true);
  });

  it('catalogs every table as Parquet with partition projection', () => {
    expect(only(s, 'aws_glue_catalog_database').name).toBe('my_spotify_lake');
    const tables = s.model.ofType('aws_glue_catalog_table');
    // The included export pipeline's table too: one lake, one catalog; and the recommendations the job derives.
    expect(tables.map((t) => t.config.name).sort()).toEqual(['artists', 'listening_history', 'playlist_tracks', 'playlists', 'plays', 'recommendations', 'tracks']);
    const recs = tables.find((t) => t.config.name === 'recommendations')!.config;
    expect(recs.storage_descriptor.location).toBe('s3://my-spotify-lake/curated/recommendations/');
    expect(recs.partition_keys ?? []).toEqual([]);
    expect(recs.storage_descriptor.columns.map((c: { name: string; type: string }) => `${c.name} ${c.type}`)).toEqual([
      'rank int', 'track_id string', 'track_name string', 'artist_name string', 'score double', 'reason string', 'source string', 'generated_at timestamp',
    ]);
    const plays = tables.find((t) => t.config.name === 'plays')!.config;
    expect(plays.storage_descriptor).toMatchObject({
      location: 's3://my-spotify-lake/curated/plays/',
      input_format: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
      output_format: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
      ser_de_info: { serialization_library: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' },
    });
    expect(plays.partition_keys).toEqual([expect.objectContaining({ name: 'dt', type: 'string' })]);
    expect(plays.parameters).toMatchObject({
      'projection.enabled': 'true',
      'projection.dt.type': 'date',
      'projection.dt.format': 'yyyy-MM-dd',
      'projection.dt.range': '2006-01-01,NOW',
      // $${dt}: Terraform writes the literal ${dt} Athena expects.
      'storage.location.template': 's3://my-spotify-lake/curated/plays/dt=$${dt}/',
    });
  });

  it('runs a Glue 5.0 Spark job with a security configuration, continuous logging and an S3 script', () => {
    const job = only(s, 'aws_glue_job');
    expect(job).toMatchObject({
      name: 'my-spotify-lake-transform',
      glue_version: '5.0',
      command: { name: 'glueetl', python_version: '3', script_location: 's3://my-spotify-lake-artifacts/glue-jobs/transform_job.py' },
      worker_type: 'G.1X',
      number_of_workers: 2,
      execution_property: { max_concurrent_runs: 1 },
    });
    expect(job.default_arguments['--enable-continuous-cloudwatch-log']).toBe('true');
    // The script's arguments (glue-jobs/job-args.json; checked against the script in glue-job.test.ts).
    expect(job.default_arguments).toMatchObject({
      '--lake_bucket': 'my-spotify-lake',
      // The lake at the bucket's root: `/`, never an empty value.
      '--lake_prefix': '/',
      '--spec_prefix': 's3://my-spotify-lake-artifacts/glue-jobs/specs/',
      // lake_io and the job-args.json it reads, in one zip next to the script.
      '--extra-py-files': 's3://my-spotify-lake-artifacts/glue-jobs/lake_io.zip',
    });
    expect(job.default_arguments['--database']).toBeUndefined();
    const sec = s.model.resolve(job.security_configuration)!.config.encryption_configuration;
    expect(sec.s3_encryption.s3_encryption_mode).toBe('SSE-S3');
    expect(sec.cloudwatch_encryption.cloudwatch_encryption_mode).toBe('SSE-KMS');
    expect(sec.job_bookmarks_encryption.job_bookmarks_encryption_mode).toBe('CSE-KMS');
    expect(only(s, 'aws_kms_key')).toMatchObject({ enable_key_rotation: true });
    const objects = s.model.ofType('aws_s3_object').map((o) => o.config.key).sort();
    expect(objects).toEqual([
      'glue-jobs/lake_io.zip', 'glue-jobs/specs/artists.json', 'glue-jobs/specs/derived/recommendations.json', 'glue-jobs/specs/listening_history.json', 'glue-jobs/specs/playlist_tracks.json',
      'glue-jobs/specs/playlists.json', 'glue-jobs/specs/plays.json', 'glue-jobs/specs/tracks.json', 'glue-jobs/transform_job.py',
    ]);
    // The recommendations' spec: core's, compiled from the pipeline's recommendations: and its lake's tables.
    const derived = JSON.parse(s.model.ofType('aws_s3_object').find((o) => o.config.key === 'glue-jobs/specs/derived/recommendations.json')!.config.content);
    expect(derived).toMatchObject({ kind: 'recommendations', table: 'recommendations', now_token: '__RECS_NOW__' });
    expect(derived.inputs.map((i: { table: string }) => i.table)).toEqual(['listening_history', 'plays', 'playlist_tracks', 'playlists']);
    expect(derived.sql).toContain('__RECS_NOW__');
    const spec = JSON.parse(s.model.ofType('aws_s3_object').find((o) => o.config.key === 'glue-jobs/specs/plays.json')!.config.content);
    expect(spec.table).toBe('plays');
    // Always core's job spec with the Spark SQL (a missing or broken core/transform fails the synth).
    expect(spec).toEqual(sparkJobSpec('plays', loadText(SHIPPED).config.tables.plays));
    expect(spec.sql).toContain('FROM `raw_lines` WHERE _stream = ');
    expect(s.stack.warnings.join('\n')).not.toMatch(/sparkJobSpec|spec object/);
    for (const g of s.model.ofType('aws_cloudwatch_log_group')) expect(g.config.retention_in_days).toBe(30);
  });

  it('starts the transform when a run commits: EventBridge rule on _runs/*.json -> state machine -> glue:StartJobRun', () => {
    const rule = s.model.ofType('aws_cloudwatch_event_rule').find((r) => r.config.name === 'my-spotify-lake-run-committed')!;
    expect(JSON.parse(rule.config.event_pattern)).toEqual({
      source: ['aws.s3'],
      'detail-type': ['Object Created'],
      detail: { bucket: { name: ['my-spotify-lake'] }, object: { key: [{ wildcard: '_runs/*.json' }] } },
    });
    const target = s.model.ofType('aws_cloudwatch_event_target').find((t) => s.model.resolve(t.config.rule)?.config.name === 'my-spotify-lake-run-committed')!.config;
    const sm = s.model.resolve(target.arn)!;
    expect(sm.type).toBe('aws_sfn_state_machine');
    const def = JSON.parse(sm.config.definition);
    // It waits for the job (.sync), then renders the report (below).
    expect(def.States.StartTransform.Resource).toMatch(/:states:::glue:startJobRun\.sync$/);
    expect(def.States.StartTransform.Retry[0].ErrorEquals).toEqual(['Glue.ConcurrentRunsExceededException']);
    expect(def.States.StartTransform.Next).toBe('Report');
  });

  it('renders the report after each transform: a report Lambda the state machine invokes, least privilege, retained logs', () => {
    const machine = only(s, 'aws_sfn_state_machine');
    const report = JSON.parse(machine.definition).States.Report;
    const fn = s.model.ofType('aws_lambda_function').find((f) => f.config.function_name === 'my-spotify-lake-report')!;
    expect(report).toMatchObject({ Type: 'Task', Resource: expect.stringMatching(/:states:::lambda:invoke$/), End: true, Parameters: { Payload: { 'arguments.$': '$.arguments' } } });
    expect(s.model.resolve(report.Parameters.FunctionName)?.address).toBe(fn.address);
    // Only Lambda's own transient errors are retried; the function's errors fail the execution (its alarm).
    expect(report.Retry[0].ErrorEquals.every((e: string) => e.startsWith('Lambda.'))).toBe(true);
    expect(report.Catch).toBeUndefined();
    expect(fn.config).toMatchObject({ runtime: 'nodejs22.x', handler: 'index.handler', architectures: ['arm64'], timeout: 600 });
    expect(fn.config.environment.variables).toMatchObject({ LAKE_PREFIX: '', ATHENA_WORKGROUP: 'my-spotify-lake', ATHENA_DATABASE: 'my_spotify_lake' });
    expect(s.model.ofType('aws_cloudwatch_log_group').find((g) => g.config.name === '/aws/lambda/my-spotify-lake-report')!.config.retention_in_days).toBe(30);
    // The starter may follow the job run and invoke the report function, nothing more.
    const starterRole = s.model.resolve(machine.role_arn)!;
    const starter = policyOf(s.model.ofType('aws_iam_role_policy').find((x) => s.model.resolve(x.config.role)?.address === starterRole.address)!.config).Statement;
    expect(starter.find((x) => x.Sid === 'StartTransform')!.Action).toEqual(['glue:StartJobRun', 'glue:GetJobRun', 'glue:GetJobRuns', 'glue:BatchStopJobRun']);
    expect(starter.find((x) => x.Sid === 'InvokeReport')).toMatchObject({ Action: ['lambda:InvokeFunction'], Resource: [`\${${fn.address}.arn}`] });
    const role = s.model.resolve(fn.config.role)!;
    const st = policyOf(s.model.ofType('aws_iam_role_policy').find((x) => s.model.resolve(x.config.role)?.address === role.address)!.config).Statement;
    const by = (sid: string) => st.find((x) => x.Sid === sid)!;
    expect(by('QueryInWorkgroup')).toMatchObject({ Action: ['athena:StartQueryExecution', 'athena:GetQueryExecution', 'athena:GetQueryResults', 'athena:StopQueryExecution'] });
    expect(by('QueryInWorkgroup').Resource).toEqual([expect.stringMatching(/:athena:.*:workgroup\/my-spotify-lake$/)]);
    expect(by('ReadCatalog').Resource).toEqual([expect.stringMatching(/:catalog$/), expect.stringMatching(/:database\/my_spotify_lake$/), expect.stringMatching(/:table\/my_spotify_lake\/\*$/)]);
    const lake = s.model.ofType('aws_s3_bucket').find((b) => b.config.bucket === 'my-spotify-lake')!;
    const results = s.model.ofType('aws_s3_bucket').find((b) => b.config.bucket === 'my-spotify-lake-athena-results')!;
    const writes = st.filter((x) => [x.Action].flat().includes('s3:PutObject')).flatMap((x) => [x.Resource].flat());
    expect(writes.sort()).toEqual([`\${${lake.address}.arn}/reports/*`, `\${${results.address}.arn}/*`].sort());
    const reads = st.filter((x) => [x.Action].flat().includes('s3:GetObject')).flatMap((x) => [x.Resource].flat());
    expect(reads).toEqual(expect.arrayContaining([`\${${lake.address}.arn}/curated/*`, `\${${lake.address}.arn}/_runs/*`]));
    expect(reads.filter((r: string) => r.includes(lake.address))).toHaveLength(2);
    // Nothing of the secrets, and no write to the lake's data.
    expect(st.flatMap((x) => [x.Action].flat()).filter((a: string) => a.startsWith('secretsmanager:') || a === 's3:DeleteObject')).toEqual([]);
    expect(check(s, 'SP008').ok && check(s, 'SP009').ok && check(s, 'SP014').ok).toBe(true);
  });

  it('has an Athena workgroup that enforces its configuration, and a named query per query', () => {
    const wg = only(s, 'aws_athena_workgroup');
    expect(wg.configuration).toMatchObject({
      enforce_workgroup_configuration: true,
      bytes_scanned_cutoff_per_query: 1024 ** 3,
      result_configuration: { output_location: 's3://my-spotify-lake-athena-results/', encryption_configuration: { encryption_option: 'SSE_S3' } },
    });
    const qs = s.model.ofType('aws_athena_named_query');
    expect(qs.map((q) => q.config.name).sort()).toEqual([
      'artists_across_playlists', 'history_hours_per_year', 'history_top_tracks', 'hours_per_artist_per_year', 'listening_minutes_per_day', 'playlist_sizes', 'top_artists_last_7_days',
    ]);
    for (const q of qs) expect(q.config.database).toBe('my_spotify_lake');
  });

  it('gives each function and job its own role, with no wildcard action', () => {
    const trusts = s.model.ofType('aws_iam_role').map((r) => JSON.parse(r.config.assume_role_policy).Statement[0].Principal.Service).sort();
    // Two functions (the extractor, the report), each with its own role.
    expect(trusts).toEqual(['events.amazonaws.com', 'glue.amazonaws.com', 'lambda.amazonaws.com', 'lambda.amazonaws.com', 'scheduler.amazonaws.com', 'states.amazonaws.com']);
    for (const p of s.model.ofType('aws_iam_role_policy')) {
      for (const st of policyOf(p.config).Statement) {
        for (const a of [st.Action].flat()) expect(a).not.toContain('*');
        for (const r of [st.Resource].flat()) expect(r).not.toBe('*');
      }
    }
    expect(s.model.ofType('aws_iam_role_policy_attachment')).toEqual([]);
  });

  it('gives the Glue job no Glue catalog access (the script reads and writes by path, with temp views only)', () => {
    const glue = s.model.ofType('aws_iam_role').find((r) => r.config.name === 'my-spotify-lake-transform')!;
    const policy = s.model.ofType('aws_iam_role_policy').find((p) => s.model.resolve(p.config.role)?.address === glue.address)!;
    const actions = policyOf(policy.config).Statement.flatMap((x) => [x.Action].flat());
    expect(actions.filter((a: string) => a.startsWith('glue:'))).toEqual([]);
    expect(only(s, 'aws_glue_job').default_arguments['--database']).toBeUndefined();
  });

  it('raises no alarms when nobody would receive them, keeps state local, tags every taggable resource', () => {
    expect(s.model.ofType('aws_sns_topic')).toEqual([]);
    expect(s.model.ofType('aws_cloudwatch_metric_alarm')).toEqual([]);
    expect(s.json.terraform.backend).toEqual({ local: { path: '../../../terraform.my-spotify-lake.tfstate' } });
    const taggable = s.model.resources.filter((r) => r.config.tags !== undefined);
    expect(taggable.length).toBeGreaterThan(15);
    for (const r of taggable) expect(r.config.tags['spotify-pipeline:pipeline']).toBe('my-spotify-lake');
    for (const r of s.model.ofType('aws_s3_object').filter((o) => o.config.key.includes('/specs/'))) {
      expect(r.config.tags['spotify-pipeline:table']).toBe(r.config.key.replace(/^.*\/(\w+)\.json$/, '$1'));
    }
  });

  it('is deterministic: the same pipeline synthesizes to the same JSON', () => {
    expect(synth(SHIPPED).json).toEqual(s.json);
  });
});

describe('synthesized stack: settings from pipeline.yaml', () => {
  const s = synth(FULL);

  it('maps every column type and partition kind to the Glue table', () => {
    const t = only(s, 'aws_glue_catalog_table');
    expect(Object.fromEntries(t.storage_descriptor.columns.map((c: { name: string; type: string }) => [c.name, c.type]))).toEqual({
      s: 'string', i: 'int', bi: 'bigint', d: 'double', bo: 'boolean', da: 'date', ts: 'timestamp', de: 'decimal(18,3)', arr: 'array<string>',
    });
    expect(t.storage_descriptor.columns[0].comment).toBe('a $${literal} and %%{directive}');
    expect(t.partition_keys.map((k: { name: string; type: string }) => `${k.name}:${k.type}`)).toEqual(['dt:string', 'mon:string', 'yr:string', 'kind:string']);
    expect(t.parameters).toMatchObject({
      'projection.mon.type': 'date', 'projection.mon.format': 'yyyy-MM', 'projection.mon.range': '2006-01,NOW', 'projection.mon.interval.unit': 'MONTHS',
      'projection.yr.type': 'date', 'projection.yr.format': 'yyyy', 'projection.yr.range': '2006,NOW', 'projection.yr.interval.unit': 'YEARS',
      'projection.kind.type': 'injected',
      'storage.location.template': 's3://full-lake-bucket/lake/curated/typed/dt=$${dt}/mon=$${mon}/yr=$${yr}/kind=$${kind}/',
    });
    expect(t.storage_descriptor.location).toBe('s3://full-lake-bucket/lake/curated/typed/');
  });

  it('escapes user SQL so Terraform does not interpolate it', () => {
    expect(only(s, 'aws_athena_named_query').query).toBe("SELECT * FROM typed WHERE dt = '2026-01-01' AND s <> '$${x}'");
  });

  it('takes Lambda, Glue, Athena, log and lifecycle settings from aws:', () => {
    expect(extractorFn(s)).toMatchObject({ memory_size: 1024, timeout: 600 });
    expect(extractorFn(s).environment.variables.LAKE_PREFIX).toBe('lake/');
    expect(only(s, 'aws_glue_job').default_arguments['--lake_prefix']).toBe('lake/');
    expect(only(s, 'aws_glue_job')).toMatchObject({ worker_type: 'G.2X', number_of_workers: 5, timeout: 30 });
    expect(only(s, 'aws_athena_workgroup').configuration.bytes_scanned_cutoff_per_query).toBe(20971520);
    for (const g of s.model.ofType('aws_cloudwatch_log_group')) expect(g.config.retention_in_days).toBe(14);
    const raw = byBucket(s, 'aws_s3_bucket_lifecycle_configuration', 'full-lake-bucket').rule.find((r: { id: string }) => r.id === 'raw-to-cheaper-storage');
    expect(raw).toMatchObject({ filter: [{ prefix: 'lake/raw/' }], transition: [{ days: 60, storage_class: 'STANDARD_IA' }, { days: 120, storage_class: 'GLACIER_IR' }] });
    expect(byBucket(s, 'aws_s3_bucket_lifecycle_configuration', 'full-lake-bucket-athena-results').rule[0].expiration).toEqual([{ days: 7 }]);
    expect(s.json.provider.aws[0].region).toBe('eu-west-1');
    expect(JSON.parse(s.model.ofType('aws_cloudwatch_event_rule').find((r) => r.config.name === 'full-lake-run-committed')!.config.event_pattern).detail.object.key).toEqual([{ wildcard: 'lake/_runs/*.json' }]);
  });

  it('schedules streams that declare a schedule separately, payload naming the streams', () => {
    const schedules = s.model.ofType('aws_scheduler_schedule').map((r) => ({ name: r.config.name, expr: r.config.schedule_expression, input: JSON.parse(r.config.target.input), owner: r.owner }));
    expect(schedules).toEqual([
      { name: 'full-lake-extractor', expr: 'rate(2 hours)', input: { pipeline: 'full-lake', streams: ['recently_played'] }, owner: undefined },
      { name: 'full-lake-extractor-saved_tracks', expr: 'cron(0 6 * * ? *)', input: { pipeline: 'full-lake', streams: ['saved_tracks'] }, owner: { kind: 'stream', name: 'saved_tracks' } },
    ]);
  });

  it('logs bucket access to a created log bucket', () => {
    const logs = s.model.ofType('aws_s3_bucket_logging');
    expect(logs).toHaveLength(3);
    expect(logs.map((l) => l.config.target_prefix).sort()).toEqual(['s3-logs/full-lake-bucket-artifacts/', 's3-logs/full-lake-bucket-athena-results/', 's3-logs/full-lake-bucket/']);
    for (const l of logs) expect(l.config.target_bucket).toBe('full-lake-bucket-access-logs');
    expect(byBucket(s, 'aws_s3_bucket_server_side_encryption_configuration', 'full-lake-bucket-access-logs').rule[0].apply_server_side_encryption_by_default.sse_algorithm).toBe('AES256');
    const delivery = policyOf(byBucket(s, 'aws_s3_bucket_policy', 'full-lake-bucket-access-logs')).Statement.find((x) => x.Effect === 'Allow')!;
    expect(delivery.Principal).toEqual({ Service: 'logging.s3.amazonaws.com' });
    expect(check(s, 'SP001').ok && check(s, 'SP002').ok && check(s, 'SP003').ok).toBe(true);
  });

  it('sends failures to an SNS topic with an e-mail subscription when alarm_email is set', () => {
    expect(only(s, 'aws_sns_topic_subscription')).toMatchObject({ protocol: 'email', endpoint: 'ops@example.com' });
    const alarms = s.model.ofType('aws_cloudwatch_metric_alarm').map((a) => `${a.config.namespace}/${a.config.metric_name}`).sort();
    expect(alarms).toEqual(['AWS/Lambda/Errors', 'AWS/SQS/ApproximateNumberOfMessagesVisible', 'AWS/States/ExecutionsFailed']);
    const failed = s.model.ofType('aws_cloudwatch_event_rule').find((r) => r.config.name === 'full-lake-transform-failed')!;
    expect(JSON.parse(failed.config.event_pattern)).toMatchObject({ source: ['aws.glue'], 'detail-type': ['Glue Job State Change'], detail: { state: ['FAILED', 'TIMEOUT', 'ERROR'] } });
    expect(s.checks.filter((c) => !c.ok)).toEqual([]);
  });
});

describe('synthesized stack: KMS, existing alarm topic, state backends', () => {
  const KEY = 'arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555';

  it('uses SSE-KMS with a bucket key, and the key for secrets, Glue and Athena, when kms_key_arn is set', () => {
    const s = synth(withAws(`kms_key_arn: ${KEY}\nalarm_topic_arn: arn:aws:sns:eu-west-1:123456789012:ops`));
    for (const sse of s.model.ofType('aws_s3_bucket_server_side_encryption_configuration')) {
      expect(sse.config.rule[0]).toEqual({ apply_server_side_encryption_by_default: { sse_algorithm: 'aws:kms', kms_master_key_id: KEY }, bucket_key_enabled: true });
    }
    for (const sec of s.model.ofType('aws_secretsmanager_secret')) expect(sec.config.kms_key_id).toBe(KEY);
    expect(only(s, 'aws_athena_workgroup').configuration.result_configuration.encryption_configuration).toEqual({ encryption_option: 'SSE_KMS', kms_key_arn: KEY });
    expect(only(s, 'aws_glue_security_configuration').encryption_configuration.s3_encryption).toEqual({ s3_encryption_mode: 'SSE-KMS', kms_key_arn: KEY });
    expect(s.model.ofType('aws_kms_key')).toEqual([]);
    expect(s.model.ofType('aws_sns_topic')).toEqual([]);
    for (const a of s.model.ofType('aws_cloudwatch_metric_alarm')) expect(a.config.alarm_actions).toEqual(['arn:aws:sns:eu-west-1:123456789012:ops']);
    const extractor = policyOf(s.model.ofType('aws_iam_role_policy').find((p) => p.config.role.includes('extractor_role'))!.config).Statement;
    expect(extractor.find((x) => x.Sid === 'KmsForBuckets')).toMatchObject({ Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: [KEY] });
    expect(s.checks.filter((c) => !c.ok)).toEqual([]);
  });

  it('keeps state in S3 when TF_STATE_BUCKET is set (env wins over aws.backend), encrypted with native locking', () => {
    const text = withAws('backend: { s3: { bucket: cfg-state, region: eu-west-1 } }');
    expect(synth(text).json.terraform.backend.s3).toEqual({ bucket: 'cfg-state', key: 'my-spotify-lake/terraform.tfstate', region: 'eu-west-1', encrypt: true, use_lockfile: true });
    const env = synth(text, { env: { ...ENV, TF_STATE_BUCKET: 'env-state', TF_STATE_KEY: 'k/state.tfstate' } });
    expect(env.json.terraform.backend.s3).toMatchObject({ bucket: 'env-state', key: 'k/state.tfstate', encrypt: true, use_lockfile: true });
  });

  it('refuses lifecycle settings S3 would reject, naming the key', () => {
    const { file, config } = loadText(withAws('lifecycle: { raw_transition_days: 90, raw_archive_days: 100 }'));
    expect(() => new PipelineStack(Testing.app(), 'x', { pipeline: config, pipelineFile: file, env: ENV, bundle: synth(SHIPPED).bundle, connectors })).toThrow(/aws\.lifecycle\.raw_archive_days/);
  });

  it('refuses (ConfigError, one line) an ${env:...} the extractor needs that is not set at synth, naming it and the fix', () => {
    let err: unknown;
    try {
      synth(SHIPPED, { env: {} });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const lines = (err as ConfigError).problems.map(formatProblem);
    expect(lines).toEqual([expect.stringMatching(/^\S+pipeline-\d+\.yaml:\d+:\d+ connector\.config\.client_id: takes \$\{env:SPOTIFY_CLIENT_ID\}, which is not set in the synth environment: .*export SPOTIFY_CLIENT_ID=\.\.\. and synthesize \(or plan\) again$/)]);
  });

  it('only accepts CloudWatch retention values', () => {
    expect(LOG_RETENTION_DAYS).toContain(30);
    expect(() => loadText(withAws('log_retention_days: 31'))).toThrow(/log_retention_days/);
  });
});

describe('synthesized stack: a table partitioned by its own value column', () => {
  // playlist_tracks with one folder per playlist: `playlist_id` is only in the folder names.
  const text = SHIPPED.replace(
    '    dedupe: [playlist_id, position]\n',
    '    dedupe: [playlist_id, position]\n    partition_by:\n      - { name: playlist_id, from: playlist_id, as: value }\n',
  );
  const s = synth(text);
  const table = s.model.ofType('aws_glue_catalog_table').find((t) => t.config.name === 'playlist_tracks')!.config;
  const names = (cols: Array<{ name: string }>) => cols.map((c) => c.name);

  it('has playlist_id exactly once, as a partition key, not among the storage descriptor columns', () => {
    expect(text).not.toBe(SHIPPED);
    expect(names(table.partition_keys)).toEqual(['playlist_id']);
    expect(table.partition_keys[0]).toMatchObject({ name: 'playlist_id', type: 'string' });
    expect(names(table.storage_descriptor.columns)).toEqual(['position', 'added_at', 'added_by', 'is_local', 'item_type', 'track_id', 'track_name', 'artist_id', 'duration_ms']);
    expect(table.parameters).toMatchObject({
      'projection.enabled': 'true',
      'projection.playlist_id.type': 'injected',
      'storage.location.template': 's3://my-spotify-lake/curated/playlist_tracks/playlist_id=$${playlist_id}/',
    });
  });

  it('matches the Athena DDL that `transform --explain` prints: same columns, keys, location and database', () => {
    const { config } = loadText(text);
    const plan = planTable('playlist_tracks', config.tables.playlist_tracks);
    const model = catalogTable(plan, curatedUrl(config));
    expect(table.storage_descriptor.columns.map((c: { name: string; type: string }) => [c.name, c.type])).toEqual(model.columns.map((c) => [c.name, c.type]));
    expect(table.partition_keys.map((c: { name: string; type: string }) => [c.name, c.type])).toEqual(model.partitionKeys.map((c) => [c.name, c.type]));
    expect(table.storage_descriptor.location).toBe(model.location);
    expect(only(s, 'aws_glue_catalog_database').name).toBe(glueDatabaseName(config));
    const ddl = athenaDdl(plan, curatedUrl(config), glueDatabaseName(config));
    expect(ddl).toContain(`LOCATION '${table.storage_descriptor.location}'`);
    expect(ddl.match(/`playlist_id` string/g)).toHaveLength(1);
  });

  it('ships the same partition columns to the Glue job', () => {
    const object = s.model.ofType('aws_s3_object').find((o) => o.config.key === 'glue-jobs/specs/playlist_tracks.json')!;
    const spec = JSON.parse(object.config.content);
    expect(spec.partition_by).toEqual([{ name: 'playlist_id', from: 'playlist_id', as: 'value' }]);
    expect(names(spec.columns)).toEqual(names(table.storage_descriptor.columns));
  });
});

describe('synthesized stack: the pipelines the shipped pipeline includes (the export)', () => {
  const s = synth(SHIPPED);
  const fn = () => extractorFn(s);

  it('runs the export pipeline when a file is uploaded to imports/my-spotify-history/ (S3 event -> EventBridge -> the extractor)', () => {
    const rule = s.model.ofType('aws_cloudwatch_event_rule').find((r) => r.config.name === 'my-spotify-history-uploaded')!;
    expect(rule, 'upload rule').toBeDefined();
    expect(JSON.parse(rule.config.event_pattern)).toEqual({
      source: ['aws.s3'],
      'detail-type': ['Object Created'],
      detail: { bucket: { name: ['my-spotify-lake'] }, object: { key: [{ prefix: 'imports/my-spotify-history/' }] } },
    });
    const target = s.model.ofType('aws_cloudwatch_event_target').find((t) => s.model.resolve(t.config.rule)?.address === rule.address)!.config;
    expect(s.model.resolve(target.arn)?.type).toBe('aws_lambda_function');
    // The extractor runs the pipeline the event names, from the pipelines embedded in its bundle.
    expect(JSON.parse(target.input)).toEqual({ pipeline: 'my-spotify-history' });
    const permission = s.model.ofType('aws_lambda_permission').find((p) => s.model.resolve(p.config.source_arn)?.address === rule.address)!.config;
    expect(permission).toMatchObject({ action: 'lambda:InvokeFunction', principal: 'events.amazonaws.com' });
    expect(s.model.resolve(permission.function_name)?.config.function_name).toBe(fn().function_name);
    // Its `path` points at that prefix, and the lake bucket sends Object Created events at all.
    expect(fn().environment.variables.SPOTIFY_EXPORT_PATH).toBe('s3://my-spotify-lake/imports/my-spotify-history/');
    expect(s.model.ofType('aws_s3_bucket_notification').some((n) => n.config.eventbridge === true)).toBe(true);
    expect(s.stack.warnings.join('\n')).not.toMatch(/nothing runs it/);
  });

  it('lets the extractor read the uploaded exports, and only read them', () => {
    const role = s.model.resolve(fn().role)!;
    const statements = s.model
      .ofType('aws_iam_role_policy')
      .filter((p) => s.model.resolve(p.config.role)?.address === role.address)
      .flatMap((p) => policyOf(p.config).Statement);
    const on = (action: string) => statements.filter((st) => ([] as string[]).concat(st.Action).includes(action)).flatMap((st) => ([] as string[]).concat(st.Resource));
    const imports = (rs: string[]) => rs.filter((r) => /^\$\{aws_s3_bucket\.lake_bucket_\w+\.arn\}\/imports\/\*$/.test(r));
    expect(imports(on('s3:GetObject'))).toHaveLength(1);
    expect(imports(on('s3:PutObject'))).toEqual([]);
    expect(imports(on('s3:DeleteObject'))).toEqual([]);
  });

  it("catalogs the export's listening_history table, partitioned by year (once, as a partition key)", () => {
    const t = s.model.ofType('aws_glue_catalog_table').find((x) => x.config.name === 'listening_history')!.config;
    expect(t.storage_descriptor.location).toBe('s3://my-spotify-lake/curated/listening_history/');
    expect(t.partition_keys.map((k: { name: string }) => k.name)).toEqual(['year']);
    expect(t.storage_descriptor.columns.map((c: { name: string }) => c.name)).toContain('play_id');
    expect(t.storage_descriptor.columns.map((c: { name: string }) => c.name)).not.toContain('year');
  });

  it('has every table each named query reads in the Glue catalog (so each works in Athena)', () => {
    const catalog = new Set(s.model.ofType('aws_glue_catalog_table').map((t) => String(t.config.name)));
    const parser = new TrinoSQL();
    const queries = s.model.ofType('aws_athena_named_query');
    expect(queries.length).toBeGreaterThan(5);
    for (const q of queries) {
      const sql = String(q.config.query);
      // Tables of the query, without its own CTE names and UNNEST(...) relations.
      const ctes = new Set([...sql.matchAll(/(?:\bWITH|,)\s+([A-Za-z_]\w*)\s+AS\s*\(/gi)].map((m) => m[1].toLowerCase()));
      const tables = (parser.getAllEntities(sql) ?? [])
        .filter((e) => String(e.entityContextType) === 'table' && /^[A-Za-z_]\w*$/.test(e.text) && !ctes.has(e.text.toLowerCase()))
        .map((e) => e.text);
      expect(tables.length, `query ${String(q.config.name)} reads some table`).toBeGreaterThan(0);
      for (const t of tables) expect(catalog.has(t), `query ${String(q.config.name)} reads table ${t}`).toBe(true);
    }
  });
});

describe('no placeholder deploys', () => {
  it('a missing Glue job script fails the synth instead of uploading a script that fails', () => {
    expect(() => synth(SHIPPED, { props: { glueScript: '/nonexistent/transform_job.py' } })).toThrow(/the Glue job script \/nonexistent\/transform_job\.py does not exist/);
  });

  it('a missing module of the script fails the synth instead of a job that cannot import it', () => {
    expect(() => synth(SHIPPED, { props: { glueModules: ['/nonexistent/lake_io.py'] } })).toThrow(/\/nonexistent\/lake_io\.py does not exist: the Glue job script imports it/);
  });
});

describe('synthesized stack: deploy settings a first deploy needs (issue 13)', () => {
  const ACCOUNT = '${data.aws_caller_identity.account.account_id}';
  const REGION = '${data.aws_region.region.region}';
  const s = synth(withAws([
    'lambda: { reserved_concurrency: 1 }',
    'secrets: { recovery_window_days: 0 }',
    'buckets: { name_suffix: account-region }',
    'lifecycle: { noncurrent_version_expiration_days: 60, curated_noncurrent_days: 3, state_noncurrent_days: 2, expired_delete_markers: false }',
  ].join('\n')));
  const buckets = s.model.ofType('aws_s3_bucket').map((b) => String(b.config.bucket)).sort();

  it('reserves concurrency only when aws.lambda.reserved_concurrency asks, and says so in the note plan prints', () => {
    expect(extractorFn(s).reserved_concurrent_executions).toBe(1);
    expect(s.stack.notes.join('\n')).toMatch(/lease _lease\/extractor\.json .*reserved concurrency 1 \(aws\.lambda\.reserved_concurrency; needs an account concurrency quota of at least 11\)/);
    expect(check(s, 'SP008').ok).toBe(true);
  });

  it('force-deletes secrets on destroy with recovery_window_days: 0', () => {
    const secrets = s.model.ofType('aws_secretsmanager_secret');
    expect(secrets).toHaveLength(2);
    for (const sec of secrets) expect(sec.config.recovery_window_in_days).toBe(0);
  });

  it('appends the account id and region, resolved at plan time from the data sources, to every bucket name', () => {
    expect(buckets).toEqual([
      `my-spotify-lake-${ACCOUNT}-${REGION}`,
      `my-spotify-lake-artifacts-${ACCOUNT}-${REGION}`,
      `my-spotify-lake-athena-results-${ACCOUNT}-${REGION}`,
    ]);
    expect(s.json.data.aws_caller_identity.account).toEqual({});
    // What reads the lake follows the name: the function's environment, the Glue job, the catalog.
    expect(extractorFn(s).environment.variables.LAKE_BUCKET).toBe(`my-spotify-lake-${ACCOUNT}-${REGION}`);
    expect(only(s, 'aws_glue_job').default_arguments['--lake_bucket']).toBe(`my-spotify-lake-${ACCOUNT}-${REGION}`);
    for (const t of s.model.ofType('aws_glue_catalog_table')) expect(t.config.storage_descriptor.location).toMatch(new RegExp(`^s3://my-spotify-lake-\\$\\{data`));
    expect(s.checks.filter((c) => !c.ok)).toEqual([]);
  });

  it('leaves room for the suffix in long names (63 characters once resolved)', () => {
    const bucket = `lake-${'x'.repeat(40)}`;
    const long = synth(withAws('buckets: { name_suffix: account }', SHIPPED.replace('bucket: my-spotify-lake', `bucket: ${bucket}`)));
    const names = long.model.ofType('aws_s3_bucket').map((b) => String(b.config.bucket));
    expect(names).toHaveLength(3);
    for (const name of names) {
      expect(name.endsWith(`-${ACCOUNT}`)).toBe(true);
      // An account id is 12 digits.
      expect(name.length - ACCOUNT.length + 12).toBeLessThanOrEqual(63);
    }
    // The lake keeps its name; the longer derived names are cut and hashed (names.ts fit).
    expect(names).toContain(`${bucket}-${ACCOUNT}`);
    expect(names.filter((n) => /-[0-9a-f]{8}-\$\{data/.test(n))).toHaveLength(2);
  });

  it('takes the noncurrent-version periods and the delete-marker rule from aws.lifecycle', () => {
    const rules = s.model.ofType('aws_s3_bucket_lifecycle_configuration').find((r) => s.model.resolve(r.config.bucket)?.config.bucket === buckets[0])!.config.rule;
    const days = Object.fromEntries(rules.filter((r: any) => r.noncurrent_version_expiration).map((r: any) => [r.filter[0].prefix ?? '*', r.noncurrent_version_expiration[0].noncurrent_days]));
    expect(days).toEqual({ '*': 60, 'curated/': 3, 'quarantine/': 3, '_state/': 2, '_lease/': 2 });
    expect(rules.find((r: { id: string }) => r.id === 'expire-noncurrent-versions').expiration).toBeUndefined();
  });

  it('keeps the bucket names and a 7-day recovery window by default', () => {
    const shipped = synth(SHIPPED);
    expect(shipped.model.ofType('aws_s3_bucket').map((b) => b.config.bucket).sort()).toEqual(['my-spotify-lake', 'my-spotify-lake-artifacts', 'my-spotify-lake-athena-results']);
    expect(extractorFn(shipped).reserved_concurrent_executions).toBeUndefined();
  });

  it('refuses what AWS would refuse, naming the key', () => {
    expect(() => loadText(withAws('secrets: { recovery_window_days: 3 }'))).toThrow(/aws\.secrets\.recovery_window_days/);
    expect(() => loadText(withAws('secrets: { recovery_window_days: 31 }'))).toThrow(/aws\.secrets\.recovery_window_days/);
    expect(() => loadText(withAws('buckets: { name_suffix: random }'))).toThrow(/aws\.buckets\.name_suffix/);
    expect(() => loadText(withAws('lambda: { reserved_concurrency: 0 }'))).toThrow(/aws\.lambda\.reserved_concurrency/);
  });
});

describe('synthesized stack: QuickSight (aws.quicksight, opt-in)', () => {
  const ALICE = 'arn:aws:quicksight:us-east-1:123456789012:user/default/alice';
  const s = synth(withAws(`quicksight:\n  principal_arn: ${ALICE}\n  readers: 2`));

  it('creates an Athena data source on the stack workgroup and one direct-query dataset per catalog table, owned by the principal', () => {
    const ds = only(s, 'aws_quicksight_data_source');
    expect(ds).toMatchObject({ type: 'ATHENA', data_source_id: 'my-spotify-lake-athena', ssl_properties: { disable_ssl: false } });
    expect(s.model.resolve(ds.parameters.athena.work_group)?.type).toBe('aws_athena_workgroup');
    expect(ds.permission).toEqual([{ principal: ALICE, actions: expect.arrayContaining(['quicksight:DescribeDataSource', 'quicksight:PassDataSource']) }]);
    const sets = s.model.ofType('aws_quicksight_data_set');
    const tables = s.model.ofType('aws_glue_catalog_table');
    expect(sets.map((x) => x.config.physical_table_map[0].relational_table.name).sort()).toEqual(tables.map((t) => t.config.name).sort());
    for (const set of sets) {
      const rel = set.config.physical_table_map[0].relational_table;
      expect(set.config.import_mode).toBe('DIRECT_QUERY');
      expect(s.model.resolve(rel.data_source_arn)?.type).toBe('aws_quicksight_data_source');
      expect(rel).toMatchObject({ catalog: 'AwsDataCatalog', schema: 'my_spotify_lake' });
      expect(set.config.permissions).toEqual([{ principal: ALICE, actions: expect.arrayContaining(['quicksight:DescribeDataSet', 'quicksight:PassDataSet']) }]);
      // Its columns are the catalog table's (file columns, then partition keys), typed for QuickSight.
      const table = tables.find((t) => t.config.name === rel.name)!.config;
      const cols = [...table.storage_descriptor.columns, ...(table.partition_keys ?? [])];
      expect(rel.input_columns.map((c: { name: string }) => c.name)).toEqual(cols.map((c: { name: string }) => c.name));
    }
    const plays = sets.find((x) => x.config.physical_table_map[0].relational_table.name === 'plays')!.config.physical_table_map[0].relational_table.input_columns as Array<{ name: string; type: string }>;
    const typeOf = (n: string) => plays.find((c) => c.name === n)?.type;
    expect([typeOf('played_at'), typeOf('track_id'), typeOf('duration_ms')]).toEqual(['DATETIME', 'STRING', 'INTEGER']);
    expect(s.stack.notes.some((n) => /QuickSight \(aws\.quicksight\).*monthly subscription/.test(n))).toBe(true);
    expect(s.checks.filter((c) => !c.ok)).toEqual([]);
  });

  it('is off by default', () => {
    const shipped = synth(SHIPPED);
    expect(shipped.model.ofType('aws_quicksight_data_source')).toEqual([]);
    expect(shipped.model.ofType('aws_quicksight_data_set')).toEqual([]);
  });

  it('refuses a principal that is no QuickSight user or group ARN, at its line', () => {
    expect(() => loadText(withAws('quicksight:\n  principal_arn: alice'))).toThrow(/aws\.quicksight\.principal_arn.*QuickSight user or group ARN/);
  });
});


describe('synthesized stack: the weekly playlist refresh (recommendations.playlist, opt-in)', () => {
  const withPlaylist = (text: string) => text.replace(/\nrecommendations:\n/, '\nrecommendations:\n  playlist: { name: "Recommended for you" }\n');
  const s = synth(withPlaylist(SHIPPED));
  const extractorPolicy = (x: Synth) => {
    const fn = extractorFn(x);
    const p = x.model.ofType('aws_iam_role_policy').find((r) => x.model.resolve(r.config.role)?.address === x.model.resolve(fn.role)?.address)!;
    return policyOf(p.config).Statement;
  };

  it('schedules the extractor weekly with the write-playlist event, and lets it query the recommendations through Athena', () => {
    const schedule = s.model.ofType('aws_scheduler_schedule').find((x) => x.config.name === 'my-spotify-lake-extractor-playlist')!.config;
    expect(schedule).toMatchObject({ schedule_expression: 'rate(7 days)', state: 'ENABLED' });
    expect(JSON.parse(schedule.target.input)).toEqual({ pipeline: 'my-spotify-lake', action: 'write-playlist' });
    expect(s.model.resolve(schedule.target.arn)?.config.function_name).toBe('my-spotify-lake-extractor');
    expect(schedule.description).toContain('"Recommended for you"');
    expect(extractorFn(s).environment.variables).toMatchObject({ ATHENA_WORKGROUP: 'my-spotify-lake', ATHENA_DATABASE: 'my_spotify_lake' });
    const query = extractorPolicy(s).find((x) => x.Sid === 'QueryInWorkgroup')!;
    expect(query.Action).toEqual(['athena:StartQueryExecution', 'athena:GetQueryExecution', 'athena:GetQueryResults', 'athena:StopQueryExecution']);
    expect(query.Resource).toEqual([expect.stringMatching(/:workgroup\/my-spotify-lake$/)]);
    expect(s.checks.filter((c) => !c.ok)).toEqual([]);
  });

  it('is off without recommendations.playlist (the shipped pipeline): no schedule, no Athena for the extractor', () => {
    const shipped = synth(SHIPPED);
    expect(shipped.model.ofType('aws_scheduler_schedule').map((x) => x.config.name)).not.toContain('my-spotify-lake-extractor-playlist');
    expect(extractorFn(shipped).environment.variables.ATHENA_WORKGROUP).toBeUndefined();
    expect(extractorPolicy(shipped).map((x) => x.Sid)).not.toContain('QueryInWorkgroup');
  });
});
