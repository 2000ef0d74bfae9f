/**
 * Physical names of the deployment's resources, derived only from the pipeline name and the
 * stream/table/query names: the same pipeline.yaml always yields the same names, and adding a
 * stream never renames an unrelated resource. Names that would exceed a service's limit are cut
 * and suffixed with a short hash of the full name, which stays deterministic and unique.
 */
import { createHash } from 'node:crypto';
import type { PipelineConfig } from '../core/config/types.ts';

const shortHash = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 8);

/** `name` if it fits in `max` characters, else a cut of it plus `-<hash>`. */
export function fit(name: string, max: number): string {
  if (name.length <= max) return name;
  const cut = name.slice(0, max - 9).replace(/[-_.\/]+$/, '');
  return `${cut}-${shortHash(name)}`;
}

/** S3 bucket names: 3-63 lowercase letters, digits, `-` and `.`. */
export const bucketName = (name: string) => fit(name, 63);

export function lakeBucketName(pipeline: PipelineConfig): string {
  return pipeline.storage.s3?.bucket ?? bucketName(`${pipeline.name}-lake`);
}

/** The lake's key prefix inside its bucket: '' or `prefix/`. */
export function lakePrefix(pipeline: PipelineConfig): string {
  const p = pipeline.storage.s3?.prefix ?? '';
  return p === '' || p.endsWith('/') ? p : `${p}/`;
}

/** Glue and Athena want database names of lowercase letters, digits and `_`. */
export function glueDatabaseName(pipeline: PipelineConfig): string {
  return fit(pipeline.name.replace(/[^a-z0-9_]/g, '_'), 255);
}

/** IAM role names: at most 64 characters. */
export const roleName = (name: string) => fit(name, 64);

/** Lambda function, EventBridge rule and schedule names: at most 64 characters. */
export const shortName = (name: string) => fit(name, 64);

/** Terraform evaluates `${...}` and `%{...}` inside strings; user text must not be evaluated. */
export function escapeTf(s: string): string {
  // Function replacements: in a replacement string `$$` would mean one `$`.
  return s.replace(/\$\{/g, () => '$${').replace(/%\{/g, () => '%%{');
}
