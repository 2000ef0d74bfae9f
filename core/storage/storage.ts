/**
 * The lake's object store. Keys are the same on disk and in S3 (`raw/...`, `_runs/...`), so a
 * local lake is a valid S3 lake. Implementations: LocalStorage (a folder) and, for AWS, S3Storage.
 */
export interface Storage {
  /** Writes the whole object; readers never see a partial object. */
  put(key: string, body: Buffer | string): Promise<void>;
  /** The object's bytes, or undefined when it does not exist. */
  get(key: string): Promise<Buffer | undefined>;
  /** Keys under a prefix, sorted. */
  list(prefix: string): Promise<string[]>;
  delete(key: string): Promise<void>;
  /** For messages: where the lake is (`.lake`, `s3://bucket/prefix`). */
  readonly location: string;
}

export function assertKey(key: string): void {
  if (!key || key.startsWith('/') || key.split('/').some((p) => p === '..' || p === '.' || p === '')) {
    throw new Error(`invalid storage key "${key}"`);
  }
}
