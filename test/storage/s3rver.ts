/**
 * A loopback S3 for tests: s3rver (a local S3-compatible server) on 127.0.0.1, a free port and a
 * temp folder, and S3 clients configured for it through the real AWS SDK (path-style, s3rver's
 * fixed key pair so signatures are checked, no network beyond loopback).
 *
 * s3rver runs in a child process (./s3rver-process.mjs) with --openssl-legacy-provider: its
 * paging tokens use DES, which Node's default OpenSSL 3 provider refuses (a 500 on page two).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { S3Client } from '@aws-sdk/client-s3';

/** s3rver checks SigV4 signatures made with this key pair (so the SDK's signing is exercised too). */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export interface LoopbackS3 {
  /** http://127.0.0.1:PORT */
  endpoint: string;
  /** A new client for the server; `spy` records the command names it sends. */
  client(spy?: string[]): S3Client;
  close(): Promise<void>;
}

export async function startLoopbackS3(buckets: string[]): Promise<LoopbackS3> {
  const directory = await mkdtemp(join(tmpdir(), 's3rver-'));
  const child = spawn(process.execPath, ['--openssl-legacy-provider', join(import.meta.dirname, 's3rver-process.mjs'), directory, ...buckets], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { PATH: process.env.PATH ?? '' },
  });
  const exited = once(child, 'exit');
  const lines = createInterface({ input: child.stdout });
  const first = await Promise.race([
    once(lines, 'line').then(([l]) => l as string),
    exited.then(([code]) => {
      throw new Error(`s3rver exited before listening (code ${String(code)})`);
    }),
  ]);
  const { port } = JSON.parse(first) as { port: number };
  const endpoint = `http://127.0.0.1:${port}`;
  const clients: S3Client[] = [];
  return {
    endpoint,
    client(spy) {
      const c = new S3Client({ endpoint, forcePathStyle: true, region: 'us-east-1', credentials: S3RVER_CREDENTIALS, maxAttempts: 1 });
      if (spy) {
        c.middlewareStack.add(
          (next, context) => (args) => {
            spy.push(String(context.commandName));
            return next(args);
          },
          { step: 'initialize', name: 'commandSpy' },
        );
      }
      clients.push(c);
      return c;
    },
    async close() {
      for (const c of clients) c.destroy();
      lines.close();
      child.stdin.end(); // the server closes and exits when its stdin ends
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
      await rm(directory, { recursive: true, force: true });
    },
  };
}
