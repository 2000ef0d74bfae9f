/** core/config: load pipeline.yaml, validate it (schema, then against the plugin), resolve references. */
export type { ColumnSpec, ColumnType, LoadedPipeline, PartitionSpec, PipelineConfig, QuerySpec, SourcePos, StreamConfig, TableSource, TableSpec } from './types.ts';
export { ConfigError, formatProblem, sortProblems, throwIfErrors, type Problem } from './problem.ts';
export { checkPipeline, loadPipeline, loadPipelineWith, parsePipeline, pipelineSchema, readPipeline, type ReadResult } from './load.ts';
export { validatePipeline } from './semantic.ts';
export { findRefs, hasRef, localSecrets, localSecretValues, resolveRefs, type RefSources, type RefUse } from './refs.ts';
export { DEFAULT_SECRETS_FILE, settingsOf, type AwsSettings, type PipelineSettings, type SecretsSettings } from './settings.ts';
export { SchemaValidator, type Finding } from './errors.ts';
export { formatPath, parsePath, type Segment } from './paths.ts';
export { lakeDir, secretsFile } from './locations.ts';
