/**
 * moto's server (a maintained emulator of AWS's wire protocols, `moto_server` from the project's
 * Python venv) on 127.0.0.1 and a port the OS picks: S3, Secrets Manager and Glue answer as AWS
 * would, to the real AWS SDK clients of the bundled Lambda, of Spark's S3A and of boto3. The
 * rehearsal and the test harness (test/support/moto.ts) both start it here.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';

export const MOTO_REGION = 'us-east-1';
/** moto takes any key pair; these are fake and look it, so no credential scanner mistakes them. */
export const MOTO_CREDENTIALS = { accessKeyId: 'MOTOTESTKEY', secretAccessKey: 'moto-test-secret-key-not-a-credential' };

/** Bounded waits: the server starts in well under a second on an idle machine, the bounds allow a loaded one. */
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 5_000;

export interface MotoServer {
  /** http://127.0.0.1:PORT */
  endpoint: string;
  pid: number;
  /** The standard AWS variables that point every SDK (JavaScript, boto3) at this server. */
  awsEnv(): Record<string, string>;
  /** Forgets every resource of every service (`/moto-api/reset`). */
  reset(): Promise<void>;
  close(): Promise<void>;
}

export interface MotoOptions {
  /** Extra environment of the server process (e.g. MOTO_RECORDER_FILEPATH). */
  env?: Record<string, string>;
  log?: (line: string) => void;
}

/** Starts `motoServer` (the venv's `moto_server`); resolves once it answers its own API. */
export async function startMoto(motoServer: string, opts: MotoOptions = {}): Promise<MotoServer> {
  const child = spawn(motoServer, ['-H', '127.0.0.1', '-p', '0'], {
    stdio: ['ignore', 'ignore', 'pipe'],
    // Nothing of this process's AWS environment: moto is configured here only.
    env: { PATH: process.env.PATH ?? '', PYTHONDONTWRITEBYTECODE: '1', ...opts.env },
  });
  // A process that dies without close() must not leave the server behind.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const exited = once(child, 'exit');

  // Werkzeug logs to stderr: first the address it bound, then a line per request. It is read to
  // the end (a full pipe would stall the server); the last lines explain a failure.
  const tail: string[] = [];
  let port: number | undefined;
  const listening = new Promise<number>((resolve) => {
    let buffer = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      buffer += chunk;
      const lines = buffer.split('\n');
      buffer = lines.pop()!;
      for (const line of lines) {
        tail.push(line);
        if (tail.length > 20) tail.shift();
        const m = port === undefined && /Running on http:\/\/127\.0\.0\.1:(\d+)/.exec(line);
        if (m) resolve((port = Number(m[1])));
      }
    });
  });
  let timer: NodeJS.Timeout | undefined;
  const stop = async () => {
    process.removeListener('exit', killOnExit);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const force = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(force);
    }
  };
  try {
    const bound = await Promise.race([
      listening,
      exited.then(([code]) => {
        throw new Error(`moto_server exited before listening (code ${String(code)}): ${tail.join(' | ')}`);
      }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`moto_server did not listen within ${START_TIMEOUT_MS / 1000} s: ${tail.join(' | ')}`)), START_TIMEOUT_MS);
      }),
    ]);
    // Ready: it answers its own API, not just accepts connections.
    const res = await fetch(`http://127.0.0.1:${bound}/moto-api/config`, { signal: AbortSignal.timeout(START_TIMEOUT_MS) });
    if (!res.ok) throw new Error(`moto_server answered ${res.status} to its readiness check`);
  } catch (e) {
    await stop();
    throw e;
  } finally {
    clearTimeout(timer);
  }
  const endpoint = `http://127.0.0.1:${port!}`;
  opts.log?.(`moto server on ${endpoint}`);
  return {
    endpoint,
    pid: child.pid!,
    awsEnv: () => ({
      AWS_ENDPOINT_URL: endpoint,
      AWS_ACCESS_KEY_ID: MOTO_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: MOTO_CREDENTIALS.secretAccessKey,
      AWS_REGION: MOTO_REGION,
      AWS_DEFAULT_REGION: MOTO_REGION,
      AWS_EC2_METADATA_DISABLED: 'true',
    }),
    async reset() {
      const r = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST', signal: AbortSignal.timeout(30_000) });
      if (!r.ok) throw new Error(`moto reset: ${r.status}`);
    },
    close: stop,
  };
}
