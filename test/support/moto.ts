/**
 * AWS for tests: moto's server (`moto_server` from the project's venv, see scripts/python.mjs), a
 * maintained emulator of AWS's wire protocols, on 127.0.0.1 and a port the OS picks. The real AWS
 * SDK v3 clients talk to it as they would to AWS: S3's REST XML, Secrets Manager's JSON protocol,
 * signed requests, AWS's error shapes. One server per test file; its state lives until `close()`
 * (or `reset()`), so tests isolate themselves by bucket, prefix or secret name.
 *
 * Requests can be inspected where they arrive: moto's own request recorder
 * (`/moto-api/recorder/*`) writes every request it receives, headers and body, to a file of this
 * server; `recording` reads it back. That sees the requests of every client alike, those the test
 * builds and those inside the code under test (the bundled Lambda's), with nothing in between.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { pythonEnv } from './python.ts';
import { MOTO_CREDENTIALS, MOTO_REGION, startMoto as startMotoServer } from '../../terraform/rehearse/moto.ts';

export { MOTO_CREDENTIALS, MOTO_REGION };



export interface RecordedRequest {
  method: string;
  /** The URL as received (path and query). */
  url: string;
  /** Header names in lower case. */
  headers: Record<string, string>;
  body: Buffer;
}

/** A call of a JSON-protocol service (Secrets Manager): `X-Amz-Target: <service>.<Operation>` and a JSON body. */
export interface JsonCall {
  operation: string;
  input: Record<string, unknown>;
  authorization: string;
  contentType: string;
}

export interface MotoServer {
  /** http://127.0.0.1:PORT */
  endpoint: string;
  /** The server's process id. */
  pid: number;
  /**
   * The standard AWS environment of code that makes its own clients (the Lambda bundle, a
   * connector): every service at this server, fixed credentials and region.
   */
  env: Record<string, string>;
  /** A new S3 client (path-style); `spy` records the command names it sends. */
  s3(spy?: string[]): S3Client;
  secretsManager(): SecretsManagerClient;
  createBuckets(...names: string[]): Promise<void>;
  /** Forgets every resource of every service (`/moto-api/reset`). */
  reset(): Promise<void>;
  recording: {
    /** Records every request from now on (until `stop`). */
    start(): Promise<void>;
    stop(): Promise<void>;
    /** Forgets what was recorded so far. */
    clear(): Promise<void>;
    /** What was recorded, oldest first. */
    requests(): Promise<RecordedRequest[]>;
    /** The recorded calls of a JSON-protocol service, e.g. `secretsmanager`. */
    jsonCalls(service: string): Promise<JsonCall[]>;
  };
  close(): Promise<void>;
}

export async function startMoto(): Promise<MotoServer> {
  const dir = await mkdtemp(join(tmpdir(), 'moto-'));
  let server: Awaited<ReturnType<typeof startMotoServer>>;
  try {
    server = await startMotoServer(pythonEnv().bin('moto_server'), { env: { MOTO_RECORDER_FILEPATH: join(dir, 'recording.jsonl') } });
    // The recording's file exists from the start, so reading an empty recording is not an error.
    const created = await fetch(`${server.endpoint}/moto-api/recorder/reset-recording`, { method: 'POST', signal: AbortSignal.timeout(30_000) });
    if (!created.ok) throw new Error(`moto_server answered ${created.status} to reset-recording`);
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  const stop = async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  };
  const endpoint = server.endpoint;
  const clients: Array<{ destroy(): void }> = [];
  const api = async (path: string, method = 'POST'): Promise<string> => {
    const res = await fetch(`${endpoint}/moto-api/${path}`, { method, signal: AbortSignal.timeout(30_000) });
    const text = await res.text();
    if (!res.ok) throw new Error(`moto ${path}: ${res.status} ${text.slice(0, 200)}`);
    return text;
  };
  const requests = async (): Promise<RecordedRequest[]> =>
    (await api('recorder/download-recording', 'GET'))
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const r = JSON.parse(line) as { method: string; url: string; headers: Record<string, string>; body?: string | null; body_encoded?: boolean };
        return {
          method: r.method,
          url: r.url.replace(/^https?:\/\/[^/]+/, ''),
          headers: Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k.toLowerCase(), v])),
          body: Buffer.from(r.body ?? '', r.body_encoded ? 'base64' : 'utf8'),
        };
      });
  const common = { endpoint, region: MOTO_REGION, credentials: MOTO_CREDENTIALS, maxAttempts: 1 };
  const s3 = (spy?: string[]) => {
    // Path-style: a bucket as a host name would need `<bucket>.127.0.0.1` to resolve.
    const c = new S3Client({ ...common, forcePathStyle: true });
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
  };

  return {
    endpoint,
    pid: server.pid,
    env: {
      AWS_ACCESS_KEY_ID: MOTO_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: MOTO_CREDENTIALS.secretAccessKey,
      AWS_REGION: MOTO_REGION,
      AWS_ENDPOINT_URL: endpoint,
      AWS_EC2_METADATA_DISABLED: 'true',
    },
    s3,
    secretsManager() {
      const c = new SecretsManagerClient(common);
      clients.push(c);
      return c;
    },
    async createBuckets(...names) {
      const c = s3();
      for (const Bucket of names) await c.send(new CreateBucketCommand({ Bucket }));
    },
    async reset() {
      await api('reset');
    },
    recording: {
      start: async () => void (await api('recorder/start-recording')),
      stop: async () => void (await api('recorder/stop-recording')),
      clear: async () => void (await api('recorder/reset-recording')),
      requests,
      async jsonCalls(service) {
        return (await requests())
          .filter((r) => r.headers['x-amz-target']?.startsWith(`${service}.`))
          .map((r) => ({
            operation: r.headers['x-amz-target'].slice(service.length + 1),
            input: JSON.parse(r.body.toString('utf8') || '{}') as Record<string, unknown>,
            authorization: r.headers.authorization ?? '',
            contentType: r.headers['content-type'] ?? '',
          }));
      },
    },
    async close() {
      for (const c of clients) c.destroy();
      await stop();
    },
  };
}
