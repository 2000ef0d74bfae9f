/**
 * A loopback AWS Secrets Manager for tests: just enough of its JSON protocol (awsJson1_1:
 * `POST /`, `X-Amz-Target: secretsmanager.<Operation>`, a JSON body) for GetSecretValue and
 * PutSecretValue, so the real SDK client serializes, signs and parses as it would against AWS.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { randomUUID } from 'node:crypto';

export interface SecretsManagerRequest {
  operation: string;
  body: Record<string, unknown>;
  /** The SigV4 Authorization header the SDK sent. */
  authorization: string;
  contentType: string;
}

export interface LoopbackSecretsManager {
  /** http://127.0.0.1:PORT */
  endpoint: string;
  /** Current values by secret id. */
  secrets: Map<string, string>;
  /** Every request, in order. */
  requests: SecretsManagerRequest[];
  /** Secret ids whose reads answer AccessDeniedException. */
  denied: Set<string>;
  /** When true, PutSecretValue answers InternalServiceError. */
  failPuts: boolean;
  close(): Promise<void>;
}

const JSON_11 = 'application/x-amz-json-1.1';

export async function startLoopbackSecretsManager(initial: Record<string, string> = {}): Promise<LoopbackSecretsManager> {
  const secrets = new Map(Object.entries(initial));
  const requests: SecretsManagerRequest[] = [];
  const denied = new Set<string>();
  const state = { failPuts: false };
  const arn = (id: string) => `arn:aws:secretsmanager:us-east-1:000000000000:secret:${id}-AbCdEf`;

  const server: Server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const target = String(req.headers['x-amz-target'] ?? '');
      const operation = target.startsWith('secretsmanager.') ? target.slice('secretsmanager.'.length) : target;
      let input: Record<string, unknown> = {};
      try {
        input = body ? (JSON.parse(body) as Record<string, unknown>) : {};
      } catch {
        /* answered below */
      }
      requests.push({ operation, body: input, authorization: String(req.headers.authorization ?? ''), contentType: String(req.headers['content-type'] ?? '') });
      const answer = (status: number, payload: Record<string, unknown>) => {
        res.writeHead(status, { 'content-type': JSON_11, 'x-amzn-requestid': randomUUID() });
        res.end(JSON.stringify(payload));
      };
      const fail = (status: number, type: string, message: string) => answer(status, { __type: type, message });
      if (req.method !== 'POST' || req.url !== '/') return fail(404, 'UnknownOperationException', 'not found');
      const id = typeof input.SecretId === 'string' ? input.SecretId : '';
      switch (operation) {
        case 'GetSecretValue': {
          if (denied.has(id)) return fail(400, 'AccessDeniedException', `User is not authorized to perform: secretsmanager:GetSecretValue on resource: ${id}`);
          const v = secrets.get(id);
          if (v === undefined) return fail(400, 'ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
          return answer(200, { ARN: arn(id), Name: id, SecretString: v, VersionId: randomUUID(), VersionStages: ['AWSCURRENT'], CreatedDate: Date.now() / 1000 });
        }
        case 'PutSecretValue': {
          if (state.failPuts) return fail(500, 'InternalServiceError', 'An error occurred on the server side.');
          if (typeof input.SecretString !== 'string') return fail(400, 'InvalidParameterException', 'SecretString is required');
          secrets.set(id, input.SecretString);
          return answer(200, { ARN: arn(id), Name: id, VersionId: randomUUID(), VersionStages: ['AWSCURRENT'] });
        }
        default:
          return fail(400, 'UnknownOperationException', `operation ${operation} is not supported here`);
      }
    })();
  });
  server.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const { port } = server.address() as { port: number };
  return {
    endpoint: `http://127.0.0.1:${port}`,
    secrets,
    requests,
    denied,
    get failPuts() {
      return state.failPuts;
    },
    set failPuts(v: boolean) {
      state.failPuts = v;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
