/**
 * The one stack, built from a loaded pipeline.yaml: lake storage, secrets, the scheduled
 * extractor function, the Glue catalog and Spark transform, Athena, alarms. Each concern is one
 * construct with typed props; the stack only wires them together and hands out grants.
 */
import { dirname, join } from 'node:path';
import { type Construct } from 'constructs';
import { Annotations, Aspects, LocalBackend, S3Backend, TerraformStack } from 'cdktf';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider/index.js';
import { DataAwsCallerIdentity } from '@cdktf/provider-aws/lib/data-aws-caller-identity/index.js';
import { DataAwsPartition } from '@cdktf/provider-aws/lib/data-aws-partition/index.js';
import { DataAwsRegion } from '@cdktf/provider-aws/lib/data-aws-region/index.js';
import type { PipelineConfig } from '../core/config/types.ts';
import type { ConnectorPlugin, ConnectorRegistry } from '../core/plugin-api.ts';
import type { Prepared } from '../core/pipeline.ts';
import { findRefs } from '../core/config/refs.ts';
import { loadPipeline } from '../core/config/load.ts';
import { sparkJobSpec } from '../core/transform/jobspec.ts';
import { derivedJobSpecs } from '../core/recs/jobspec.ts';
import { withRecommendations } from '../core/recs/table.ts';
import { PLAYLIST_REFRESH_SCHEDULE } from '../core/lambda/events.ts';
import { planTable } from '../core/transform/plan.ts';
import { deploySettings, type DeploySettings } from './settings.ts';
import { escapeTf, glueDatabaseName, lakeBucketName, lakePrefix, shortName } from './names.ts';
import { buildExtractorBundle, buildReportBundle, ROOT, type ExtractorBundle, type ReportBundle } from './bundle.ts';
import { reportSpec } from '../core/lambda/bundle.ts';
import { knownSecretValues, refuseSecretLeaks } from './secrets.ts';
import { refuseMissingEnv, type MissingEnv } from './deploy-env.ts';
import { LakeStorage, LAKE_AREAS } from './constructs/lake-storage.ts';
import { PipelineSecrets } from './constructs/pipeline-secrets.ts';
import { ExtractorFunction, type IncludedRuns } from './constructs/extractor-function.ts';
import { GlueCatalog } from './constructs/glue-catalog.ts';
import { GlueTransform, type AwsContext } from './constructs/glue-transform.ts';
import { AthenaAnalytics } from './constructs/athena-analytics.ts';
import { ReportFunction, reportFunctionName } from './constructs/report-function.ts';
import { QuickSight } from './constructs/quicksight.ts';
import { Alarms } from './constructs/alarms.ts';
import { PipelineTags } from './constructs/ownership.ts';
import { PipelineKey } from './constructs/pipeline-key.ts';

export interface PipelineStackProps {
  pipeline: PipelineConfig;
  /** The pipeline.yaml the config was loaded from (embedded in the extractor bundle). */
  pipelineFile: string;
  /**
   * The synth environment: TF_STATE_BUCKET/KEY/REGION choose the state backend, and each
   * `${env:NAME}` of connector.config is passed to the function from here (one that is not set
   * stops the synth: ConfigError naming the variable). Default: none.
   */
  env?: Record<string, string | undefined>;
  /** The shipped connectors (connectors/index.ts, handed in by the composition root): the extractor bundle imports each pipeline's from here. */
  connectors: ConnectorRegistry;
  /**
   * The loaded plugins of the pipeline and the pipelines it includes, by `connector.use`: the
   * stack reads their manifests (`uploads`: run the pipeline when its files are uploaded;
   * `secretKeys`: config keys that must be `${secret:NAME}`, see terraform/secrets.ts).
   */
  plugins?: Record<string, Pick<ConnectorPlugin, 'name' | 'uploads' | 'secretKeys'>>;
  /** The pipelines `include:` names (loaded from their files, relative to pipelineFile, when absent). */
  includes?: Array<{ config: PipelineConfig; file: string }>;
  /** A prebuilt extractor bundle (tests); built from pipelineFile when absent. */
  bundle?: ExtractorBundle;
  /** A prebuilt report bundle; built from the pipelines' dashboards when absent (none without dashboards). */
  reportBundle?: ReportBundle;
  /** Default glue-jobs/transform_job.py. */
  glueScript?: string;
  /** What the script imports and its modules read, shipped in one zip. Default glue-jobs/lake_io.py and glue-jobs/job-args.json. */
  glueModules?: string[];
}

/** What a prepared pipeline (core/pipeline.ts) gives the stack: the config, its includes and every plugin. */
export function stackInputs(prep: Prepared): Pick<PipelineStackProps, 'pipeline' | 'includes' | 'plugins'> {
  const all = [prep, ...(prep.includes ?? [])];
  return {
    pipeline: prep.loaded.config,
    includes: (prep.includes ?? []).map((i) => ({ config: i.loaded.config, file: i.loaded.file })),
    plugins: Object.fromEntries(all.map((p) => [p.loaded.config.connector.use, p.plugin])),
  };
}

/** The pipelines a pipeline includes, loaded from their files (relative to the pipeline's folder). */
export function loadIncludes(pipeline: PipelineConfig, pipelineFile: string): Array<{ config: PipelineConfig; file: string }> {
  return (pipeline.include ?? []).map((rel) => ({ config: loadPipeline(join(dirname(pipelineFile), rel)).config, file: rel }));
}

/** Longest region name (ap-southeast-5, us-gov-west-1, ...) with room to spare: bucket names are fitted to leave space for it. */
const MAX_REGION_LENGTH = 16;

/** `aws.buckets.name_suffix` as text for the bucket names (Terraform references, resolved at plan time) and its longest resolved length. */
function bucketNameSuffix(settings: DeploySettings, aws: AwsContext): { text: string; maxLength: number } {
  switch (settings.buckets.nameSuffix) {
    case 'account':
      return { text: `-${aws.accountId}`, maxLength: 13 };
    case 'region':
      return { text: `-${aws.region}`, maxLength: 1 + MAX_REGION_LENGTH };
    case 'account-region':
      return { text: `-${aws.accountId}-${aws.region}`, maxLength: 14 + MAX_REGION_LENGTH };
    default:
      return { text: '', maxLength: 0 };
  }
}

export class PipelineStack extends TerraformStack {
  readonly pipeline: PipelineConfig;
  /** The pipelines the main one includes, deployed into the same lake by the same extractor. */
  readonly includes: PipelineConfig[];
  readonly settings: DeploySettings;
  readonly lake: LakeStorage;
  readonly secrets: PipelineSecrets;
  readonly extractor: ExtractorFunction;
  readonly catalog: GlueCatalog;
  readonly transform: GlueTransform;
  readonly athena: AthenaAnalytics;
  /** The report function, when the pipeline declares dashboards. */
  readonly report?: ReportFunction;
  /** QuickSight's data source and datasets (aws.quicksight). */
  readonly quicksight?: QuickSight;
  readonly alarms?: Alarms;
  /** Profile hardened without aws.kms_key_arn: the key the stack creates (settings.kmsKeyArn is its ARN). */
  readonly key?: PipelineKey;
  /** Things a reviewer should know that are not policy violations (printed by `plan`). */
  readonly warnings: string[] = [];
  /** How the deployment behaves where a reviewer might expect otherwise (printed by `plan` as notes). */
  readonly notes: string[] = [];

  constructor(scope: Construct, id: string, props: PipelineStackProps) {
    super(scope, id);
    const pipeline = (this.pipeline = props.pipeline);
    const env = props.env ?? {};
    const includeFiles = props.includes ?? loadIncludes(pipeline, props.pipelineFile);
    // Before anything is built: a credential the config would put in clear text into the Lambda
    // environment, the bundle or the state stops the synth (ConfigError: exit 2, key and fix).
    refuseSecretLeaks([{ config: pipeline, file: props.pipelineFile }, ...includeFiles], props.pipelineFile, props.plugins);
    const settings = (this.settings = deploySettings(pipeline, env));

    new AwsProvider(this, 'aws', settings.region ? { region: settings.region } : {});
    if (settings.backend) {
      const backend = new S3Backend(this, { bucket: settings.backend.bucket, key: settings.backend.key, region: settings.backend.region, encrypt: true });
      // Native S3 state locking (Terraform 1.10+): no DynamoDB table to manage.
      backend.addOverride('use_lockfile', true);
    } else {
      // cdktf's default local backend writes an absolute path; a relative one (from
      // cdktf.out/stacks/<stack>/ to the project root) keeps the synthesized JSON the same on every machine.
      new LocalBackend(this, { path: `../../../terraform.${id}.tfstate` });
    }
    const aws: AwsContext = {
      accountId: new DataAwsCallerIdentity(this, 'account').accountId,
      region: new DataAwsRegion(this, 'region').region,
      partition: new DataAwsPartition(this, 'partition').partition,
    };

    if (settings.hardening.createKey) {
      this.key = new PipelineKey(this, 'key', {
        pipelineName: pipeline.name,
        alias: shortName(pipeline.name),
        // The extractor's, the Glue job's and the report's log groups (names as their constructs derive them).
        logGroups: [
          `/aws/lambda/${shortName(`${pipeline.name}-extractor`)}*`,
          `/aws-glue/jobs/${shortName(`${pipeline.name}-transform`)}*`,
          ...(Object.keys(pipeline.dashboards ?? {}).length ? [`/aws/lambda/${reportFunctionName(pipeline.name)}*`] : []),
        ],
        aws,
      });
      // From here on every construct sees the created key as the pipeline's key.
      settings.kmsKeyArn = this.key.arn;
    }

    const prefix = lakePrefix(pipeline);
    this.lake = new LakeStorage(this, 'lake', { bucketName: lakeBucketName(pipeline), prefix, settings, accountId: aws.accountId, nameSuffix: bucketNameSuffix(settings, aws) });

    const includes = (this.includes = includeFiles.map((i) => i.config));
    const lakePipelines = [pipeline, ...includes];
    const refsOf = (p: PipelineConfig) => findRefs(p.connector?.config ?? {}, 'connector.config');
    this.secrets = new PipelineSecrets(this, 'secrets', {
      pipelineName: pipeline.name,
      refs: lakePipelines.flatMap((p) => refsOf(p).filter((r) => r.kind === 'secret').map((r) => ({ ...r, pipeline: p.name }))),
      kmsKeyArn: settings.kmsKeyArn,
      recoveryWindowDays: settings.secrets.recoveryWindowDays,
    });

    const environment: Record<string, string> = {
      LAKE_BUCKET: this.lake.lake.name,
      LAKE_PREFIX: prefix,
      SECRETS_PREFIX: pipeline.name,
    };
    const missingEnv: MissingEnv[] = [];
    // Where an included pipeline's uploaded files are: its connector's `uploads` key points there.
    const uploads = new Map<string, { keyPrefix: string; url: string }>();
    for (const p of includes) {
      const key = props.plugins?.[p.connector.use]?.uploads?.configKey;
      if (!key) continue;
      const keyPrefix = `${prefix}${LAKE_AREAS.imports}${p.name}/`;
      uploads.set(p.name, { keyPrefix, url: `s3://${this.lake.lake.name}/${keyPrefix}` });
    }
    for (const p of lakePipelines) {
      const upload = uploads.get(p.name);
      const uploadKey = upload && props.plugins?.[p.connector.use]?.uploads?.configKey;
      const where = p === pipeline ? '' : ` of included pipeline ${p.name}`;
      if (upload && uploadKey) {
        const v = p.connector.config?.[uploadKey];
        const ref = findRefs(v ?? null, `connector.config.${uploadKey}`)[0];
        if (ref?.kind === 'env' && v === `\${env:${ref.name}}`) environment[ref.name] = upload.url;
        else if (!(typeof v === 'string' && /^s3:\/\//i.test(v))) {
          this.warnings.push(`connector.config.${uploadKey}${where} is neither \${env:NAME} nor an s3:// path: the deployed extractor cannot read it (uploads go to ${upload.keyPrefix})`);
        }
      }
      for (const r of refsOf(p).filter((x) => x.kind === 'env')) {
        if (environment[r.name] !== undefined) continue;
        const v = env[r.name];
        if (v) environment[r.name] = escapeTf(v);
        else missingEnv.push({ file: p === pipeline ? props.pipelineFile : (includeFiles.find((i) => i.config === p)?.file ?? props.pipelineFile), ref: r, where });
      }
    }
    refuseMissingEnv(missingEnv, props.pipelineFile);
    const included: IncludedRuns[] = includes.map((p) => {
      const own = Object.entries(p.streams).filter(([, s]) => s.schedule);
      const rest = Object.keys(p.streams).filter((s) => !p.streams[s].schedule);
      const upload = uploads.get(p.name);
      if (!upload && !p.schedule && own.length === 0) {
        this.warnings.push(`included pipeline ${p.name} has no schedule and its connector reads no uploads: nothing runs it in AWS (give it a schedule:)`);
      }
      return {
        pipeline: p.name,
        ...(p.schedule && rest.length ? { schedule: { expression: p.schedule, streams: rest } } : {}),
        streamSchedules: own.map(([stream, s]) => ({ stream, expression: s.schedule! })),
        ...(upload ? { upload: { bucketName: this.lake.lake.name, keyPrefix: upload.keyPrefix, streams: Object.keys(p.streams) } } : {}),
      };
    });
    // Bundled once the config is known to be deployable (the checks above are cheap, esbuild is not).
    const bundle = props.bundle ?? buildExtractorBundle({ pipelineFile: props.pipelineFile, connectors: props.connectors });
    if (bundle.placeholder) {
      Annotations.of(this).addError(`the extractor Lambda could not be bundled (${bundle.placeholder}); its code would be a placeholder that fails every run`);
    }
    const scheduled = Object.entries(pipeline.streams).filter(([, s]) => s.schedule);
    // The weekly playlist refresh (recommendations.playlist): the extractor reads the
    // recommendations through Athena, in the stack's workgroup and the lake's database.
    const playlist = pipeline.recommendations?.playlist;
    if (playlist) Object.assign(environment, { ATHENA_WORKGROUP: pipeline.name, ATHENA_DATABASE: glueDatabaseName(pipeline) });
    this.extractor = new ExtractorFunction(this, 'extractor', {
      pipelineName: pipeline.name,
      ...(playlist ? { playlistRefresh: { expression: PLAYLIST_REFRESH_SCHEDULE, playlist: playlist.name } } : {}),
      bundle,
      memoryMb: settings.lambda.memoryMb,
      timeoutSeconds: settings.lambda.timeoutSeconds,
      architecture: settings.lambda.architecture,
      reservedConcurrency: settings.lambda.reservedConcurrency,
      logRetentionDays: settings.logRetentionDays,
      environment,
      schedule: { expression: settings.schedule, streams: Object.keys(pipeline.streams).filter((s) => !pipeline.streams[s].schedule) },
      streamSchedules: scheduled.map(([stream, s]) => ({ stream, expression: s.schedule! })),
      included,
      kmsKeyArn: settings.kmsKeyArn,
      tracing: settings.hardening.tracing,
      deadLetterQueue: settings.hardening.deadLetterQueue,
      accountId: aws.accountId,
    });
    // The extractor lands raw data, commits runs, keeps stream state; it deletes only the raw
    // files of a stream that failed mid-run (never committed). It holds the lake's lease while it
    // runs (written and deleted), and moves a corrupt state file aside (copied to _quarantine/,
    // deleted from _state/).
    this.lake.grantReadWrite(this.extractor.role, 'raw', 'runs', 'state', 'lease', 'aside');
    this.lake.grantDelete(this.extractor.role, 'raw', 'state', 'lease');
    // Uploaded exports are read, never changed.
    if (uploads.size) this.lake.grantRead(this.extractor.role, 'imports');
    this.secrets.grantToExtractor(this.extractor.role);

    const databaseName = glueDatabaseName(pipeline);
    const lakeTables = Object.assign({}, ...includes.map((p) => p.tables ?? {}), pipeline.tables ?? {}) as PipelineConfig['tables'];
    this.catalog = new GlueCatalog(this, 'catalog', {
      databaseName,
      pipelineName: pipeline.name,
      // A declaration the plan rejects stops the synth with its key (TableSpecError).
      // Every table of the lake: the included pipelines' too (the export's listening_history),
      // and the recommendations the job derives from them when the pipeline declares them.
      tables: Object.entries(withRecommendations(lakeTables, pipeline.recommendations !== undefined)).map(([name, spec]) => planTable(name, spec)),
      curatedUrl: this.lake.lake.url(`${prefix}${LAKE_AREAS.curated}`),
      arnPrefix: `arn:${aws.partition}:glue:${aws.region}:${aws.accountId}`,
    });

    if (playlist) this.extractor.grantPlaylistRefresh({ aws, workgroup: pipeline.name, catalog: this.catalog, lake: this.lake });

    // The report: the main pipeline's dashboards, rendered from Athena after each transform.
    if (Object.keys(pipeline.dashboards ?? {}).length) {
      const reportBundle = props.reportBundle ?? buildReportBundle({ spec: reportSpec(pipeline, includes), secretValues: knownSecretValues(props.pipelineFile) });
      if (reportBundle.placeholder) Annotations.of(this).addError(`the report Lambda could not be bundled (${reportBundle.placeholder})`);
      this.report = new ReportFunction(this, 'report', {
        pipelineName: pipeline.name,
        bundle: reportBundle,
        lake: this.lake,
        catalog: this.catalog,
        workgroup: pipeline.name,
        architecture: settings.lambda.architecture,
        logRetentionDays: settings.logRetentionDays,
        kmsKeyArn: settings.kmsKeyArn,
        tracing: settings.hardening.tracing,
        failures: this.extractor.failures,
        deadLetterQueue: settings.hardening.deadLetterQueue,
        aws,
      });
    }

    this.transform = new GlueTransform(this, 'transform', {
      pipelineName: pipeline.name,
      lake: this.lake,
      tables: lakeTables,
      scriptFile: props.glueScript ?? join(ROOT, 'glue-jobs', 'transform_job.py'),
      // What the script imports (lake_io) and what lake_io reads at import (its argument names).
      moduleFiles: props.glueModules ?? [join(ROOT, 'glue-jobs', 'lake_io.py'), join(ROOT, 'glue-jobs', 'job-args.json')],
      // The table's Spark SQL and what the job needs around it (core/transform/jobspec.ts).
      specFor: (name, s) => `${JSON.stringify(sparkJobSpec(name, s), null, 2)}\n`,
      derivedSpecs: Object.fromEntries(Object.entries(derivedJobSpecs(pipeline.recommendations, lakeTables)).map(([name, s]) => [name, `${JSON.stringify(s, null, 2)}\n`])),
      workers: settings.glue.workers,
      workerType: settings.glue.workerType,
      timeoutMinutes: settings.glue.timeoutMinutes,
      logRetentionDays: settings.logRetentionDays,
      kmsKeyArn: settings.kmsKeyArn,
      tracing: settings.hardening.tracing,
      ...(this.report ? { reportFunctionArn: this.report.fn.arn } : {}),
      aws,
    });

    this.athena = new AthenaAnalytics(this, 'athena', {
      workgroupName: pipeline.name,
      pipelineName: pipeline.name,
      databaseName,
      resultsUrl: this.lake.results.url(),
      bytesScannedCutoff: settings.athena.bytesScannedCutoff,
      kmsKeyArn: settings.kmsKeyArn,
      queries: Object.assign({}, ...includes.map((p) => p.queries ?? {}), pipeline.queries ?? {}) as PipelineConfig['queries'],
    });

    if (settings.quicksight) {
      this.quicksight = new QuickSight(this, 'quicksight', {
        pipelineName: pipeline.name,
        workgroup: this.athena.workgroup.name,
        databaseName,
        tables: this.catalog.columns,
        principalArn: settings.quicksight.principalArn,
      });
      this.notes.push(`QuickSight (aws.quicksight): a data source on workgroup ${pipeline.name} and ${this.catalog.columns.size} direct-query datasets owned by ${settings.quicksight.principalArn}; QuickSight is a monthly subscription per user (see the cost estimate)`);
    }

    if (settings.alarmEmail || settings.alarmTopicArn) {
      this.alarms = new Alarms(this, 'alarms', {
        pipelineName: pipeline.name,
        email: settings.alarmEmail,
        topicArn: settings.alarmTopicArn,
        extractor: this.extractor,
        transform: this.transform,
        kmsKeyArn: settings.kmsKeyArn,
        accountId: aws.accountId,
      });
    } else {
      this.warnings.push('no aws.alarm_email or aws.alarm_topic_arn: failed runs raise no alarm');
    }

    const reserved = settings.lambda.reservedConcurrency;
    this.notes.push(
      `one extractor run at a time: each invocation takes the lease ${prefix}${LAKE_AREAS.lease}extractor.json in the lake bucket and skips while another holds it; ` +
        (reserved === undefined
          ? 'no reserved concurrency (new accounts, quota 10, cannot reserve any; aws.lambda.reserved_concurrency: 1 adds it)'
          : `reserved concurrency ${reserved} (aws.lambda.reserved_concurrency; needs an account concurrency quota of at least ${reserved + 10})`),
    );

    Aspects.of(this).add(new PipelineTags(pipeline.name));
  }

  get bundle(): ExtractorBundle {
    return this.extractor.bundle;
  }
}
