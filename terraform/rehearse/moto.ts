/**
 * moto's server (a maintained emulator of AWS's wire protocols, from the project's Python venv)
 * on 127.0.0.1 and a free port, for the rehearsal: S3, Secrets Manager and Glue answer as AWS
 * would, to the real AWS SDK clients of the bundled Lambda, of Spark's S3A and of boto3.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';

/** Credentials moto accepts (it checks that requests are signed, not by whom). */
export const MOTO_CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' };
export const MOTO_REGION = 'us-east-1';

export interface MotoServer {
  /** http://127.0.0.1:PORT */
  endpoint: string;
  /** The standard AWS variables that point every SDK (JavaScript, boto3) at this server. */
  awsEnv(): Record<string, string>;
  /** Forgets every resource (POST /moto-api/reset). */
  reset(): Promise<void>;
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  const srv = createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

/** Starts `motoServer` (the venv's `moto_server`); resolves once it answers, within `readyMs`. */
export async function startMoto(motoServer: string, opts: { readyMs?: number; log?: (line: string) => void } = {}): Promise<MotoServer> {
  const readyMs = opts.readyMs ?? 30_000;
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const endpoint = `http://127.0.0.1:${port}`;
    const child: ChildProcess = spawn(motoServer, ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString('utf8')).slice(-4000);
    });
    const exited = once(child, 'exit');
    const deadline = Date.now() + readyMs;
    let ready = false;
    while (!ready && child.exitCode === null && Date.now() < deadline) {
      try {
        ready = (await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(1000) })).ok;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    if (!ready) {
      child.kill('SIGKILL');
      await exited;
      // The port was taken between choosing and binding it: once more on another.
      if (attempt < 3 && /Address already in use/.test(stderr)) continue;
      throw new Error(`moto_server did not answer on ${endpoint} within ${readyMs / 1000} s${stderr ? `: ${stderr.trim().split('\n').slice(-3).join(' | ')}` : ''}`);
    }
    opts.log?.(`moto server on ${endpoint}`);
    return {
      endpoint,
      awsEnv: () => ({
        AWS_ENDPOINT_URL: endpoint,
        AWS_ACCESS_KEY_ID: MOTO_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: MOTO_CREDENTIALS.secretAccessKey,
        AWS_REGION: MOTO_REGION,
        AWS_DEFAULT_REGION: MOTO_REGION,
        AWS_EC2_METADATA_DISABLED: 'true',
      }),
      async reset() {
        await fetch(`${endpoint}/moto-api/reset`, { method: 'POST', signal: AbortSignal.timeout(10_000) });
      },
      async close() {
        if (child.exitCode === null) {
          child.kill('SIGTERM');
          const t = setTimeout(() => child.kill('SIGKILL'), 5000);
          await exited;
          clearTimeout(t);
        }
      },
    };
  }
}
