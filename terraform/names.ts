/**
 * Physical names of the deployment's resources, derived only from the pipeline name and the
 * stream/table/query names: the same pipeline.yaml always yields the same names, and adding a
 * stream never renames an unrelated resource. Names that would exceed a service's limit are cut
 * and suffixed with a short hash of the full name, which stays deterministic and unique.
 */
import { fit } from '../core/storage/names.ts';

// The lake's own names are core's too (`transform --explain` shows them in Athena DDL).
export { bucketName, fit, glueDatabaseName, lakeBucketName, lakePrefix } from '../core/storage/names.ts';

/** IAM role names: at most 64 characters. */
export const roleName = (name: string) => fit(name, 64);

/** Lambda function, EventBridge rule and schedule names: at most 64 characters. */
export const shortName = (name: string) => fit(name, 64);

/** Terraform evaluates `${...}` and `%{...}` inside strings; user text must not be evaluated. */
export function escapeTf(s: string): string {
  // Function replacements: in a replacement string `$$` would mean one `$`.
  return s.replace(/\$\{/g, () => '$${').replace(/%\{/g, () => '%%{');
}
