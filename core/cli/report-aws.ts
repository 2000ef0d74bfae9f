/** `report --aws`: a presigned URL of the report the deployed pipeline wrote (filled in by the AWS side). */
import { UserError } from '../errors.ts';
import type { Prepared } from '../pipeline.ts';

export async function reportAwsCommand(_prep: Prepared, _o: { expires?: number }): Promise<void> {
  await Promise.resolve();
  throw new UserError('report --aws is not available yet');
}
