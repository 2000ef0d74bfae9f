/**
 * One Secrets Manager secret per `${secret:NAME}` that pipeline.yaml references, with the id
 * `<pipeline>/<NAME>` (core/auth/store.ts `awsSecretId`, the rule the Lambda's resolver uses).
 *
 * The secrets are created empty: no aws_secretsmanager_secret_version, so no secret value is ever
 * in pipeline.yaml, the synthesized JSON, a plan or the Terraform state. The value is set out of
 * band (`aws secretsmanager put-secret-value`, or `spotify-pipeline login`'s printed command).
 */
import { Construct } from 'constructs';
import { SecretsmanagerSecret } from '@cdktf/provider-aws/lib/secretsmanager-secret/index.js';
import { awsSecretId } from '../../core/secrets/names.ts';
import type { ServiceRole } from './iam.ts';

export interface SecretRef {
  /** The NAME in `${secret:NAME}`. */
  name: string;
  /** Where pipeline.yaml references it, e.g. connector.config.refresh_token. */
  path: string;
  /** The pipeline whose secret it is (an included pipeline's); default `pipelineName`. */
  pipeline?: string;
}

export interface PipelineSecretsProps {
  pipelineName: string;
  refs: SecretRef[];
  /** Encrypt with this customer-managed key instead of the AWS-managed aws/secretsmanager key. */
  kmsKeyArn?: string;
  /**
   * Days a destroyed secret stays restorable (7..30), or 0: deleted at once. While it is
   * restorable its name is taken, so a redeploy within that time fails to create it.
   */
  recoveryWindowDays: number;
}

/**
 * Config keys whose value the provider rotates, so the extractor must write the new value back:
 * Spotify may return a new refresh token on every refresh, and the old one may already be dead.
 */
export const ROTATING_KEYS = ['refresh_token'];

export class PipelineSecrets extends Construct {
  readonly secrets = new Map<string, SecretsmanagerSecret>();
  /** Names of secrets the extractor writes back (rotating tokens). */
  readonly rotating = new Set<string>();
  private readonly kmsKeyArn?: string;

  constructor(scope: Construct, id: string, props: PipelineSecretsProps) {
    super(scope, id);
    this.kmsKeyArn = props.kmsKeyArn;
    for (const ref of props.refs) {
      const pipeline = ref.pipeline ?? props.pipelineName;
      // The main pipeline's secrets keep their bare names (and logical ids); an included one's are prefixed.
      const key = pipeline === props.pipelineName ? ref.name : `${pipeline}/${ref.name}`;
      if (!this.secrets.has(key)) {
        const secretId = awsSecretId(pipeline, ref.name);
        this.secrets.set(
          key,
          new SecretsmanagerSecret(this, key.replace(/[^A-Za-z0-9_-]/g, '_'), {
            name: secretId,
            description: `${ref.path} of pipeline ${pipeline}. Set the value out of band: aws secretsmanager put-secret-value --secret-id ${secretId} --secret-string ...`,
            kmsKeyId: props.kmsKeyArn,
            recoveryWindowInDays: props.recoveryWindowDays,
          }),
        );
      }
      if (ROTATING_KEYS.includes(ref.path.split('.').pop() ?? '')) this.rotating.add(key);
    }
  }

  get arns(): string[] {
    return [...this.secrets.values()].map((s) => s.arn);
  }

  /**
   * Read every secret (GetSecretValue), and write back the rotating ones (PutSecretValue): the only
   * Secrets Manager calls the extractor makes (core/secrets/aws.ts).
   */
  grantToExtractor(role: ServiceRole): void {
    if (this.secrets.size === 0) return;
    role.addToPolicy({ sid: 'ReadSecrets', actions: ['secretsmanager:GetSecretValue'], resources: this.arns });
    const rotating = [...this.rotating].map((n) => this.secrets.get(n)!.arn);
    if (rotating.length) role.addToPolicy({ sid: 'WriteRotatingSecrets', actions: ['secretsmanager:PutSecretValue'], resources: rotating });
    if (this.kmsKeyArn) {
      role.addToPolicy({
        sid: 'KmsForSecrets',
        actions: rotating.length ? ['kms:Decrypt', 'kms:GenerateDataKey'] : ['kms:Decrypt'],
        resources: [this.kmsKeyArn],
      });
    }
  }
}
