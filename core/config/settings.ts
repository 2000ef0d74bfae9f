/**
 * Keys of pipeline.yaml that the schema accepts but core/config/types.ts does not model yet
 * (infrastructure settings, the local secrets file). The lead may fold these into PipelineConfig.
 */
import type { PipelineConfig } from './types.ts';

export type { AwsSettings } from './types.ts';
import type { AwsSettings } from './types.ts';

export interface SecretsSettings {
  /** Untracked JSON file of local secrets, relative to pipeline.yaml. */
  file?: string;
}

export interface PipelineSettings {
  aws?: AwsSettings;
  secrets?: SecretsSettings;
}

export const DEFAULT_SECRETS_FILE = '.secrets.json';

export function settingsOf(config: PipelineConfig): PipelineSettings {
  return config;
}
