/**
 * The lake's names in AWS, derived from pipeline.yaml only: the deployment (terraform/names.ts
 * re-exports these) and `transform --explain`'s Athena DDL use the same ones, so the DDL it shows
 * names the bucket and database the deployment creates. Pure functions, no imports beyond types.
 */
import { createHash } from 'node:crypto';
import type { PipelineConfig } from '../config/types.ts';

const shortHash = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 8);

/** `name` if it fits in `max` characters, else a cut of it plus `-<hash>`. */
export function fit(name: string, max: number): string {
  if (name.length <= max) return name;
  const cut = name.slice(0, max - 9).replace(/[-_./]+$/, '');
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

/** Where the curated tables live in S3: `s3://<lake bucket>/<prefix>curated/`. */
export function curatedUrl(pipeline: PipelineConfig): string {
  return `s3://${lakeBucketName(pipeline)}/${lakePrefix(pipeline)}curated/`;
}

/** Glue and Athena want database names of lowercase letters, digits and `_`. */
export function glueDatabaseName(pipeline: PipelineConfig): string {
  return fit(pipeline.name.replace(/[^a-z0-9_]/g, '_'), 255);
}
