/**
 * The loopback half of a browser login (RFC 8252): a one-shot HTTP server on 127.0.0.1 that
 * receives the provider's redirect, checks its `state`, and answers the browser with a page once
 * the caller knows how the login ended. Bounded: it gives up after `timeoutMs` or on `signal`,
 * so a login never hangs forever.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { UserError } from '../errors.ts';

export interface CallbackPage {
  ok: boolean;
  title: string;
  message: string;
}

export interface CallbackResult {
  /** The redirect's query (`code`, or `error`), its `state` already checked. */
  params: URLSearchParams;
  /** Answer the waiting browser; later calls are ignored. `close()` answers if nobody did. */
  respond(page: CallbackPage): void;
}

export interface LoopbackOptions {
  /** 0 picks a free port (tests); a real provider needs the port its redirect URI allows. */
  port: number;
  /** Path of the redirect URI, e.g. `/callback`. */
  path: string;
  /** The `state` sent in the authorize URL; any other value fails the login. */
  state: string;
  /** How long to wait for the browser. */
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface LoopbackCallback {
  /** `http://127.0.0.1:PORT/path` (an IP literal: providers refuse `localhost`). */
  redirectUri: string;
  port: number;
  /** Resolves with the first request on `path` carrying the right state; rejects on a wrong state, timeout or abort. */
  wait(): Promise<CallbackResult>;
  close(): Promise<void>;
}

const HOST = '127.0.0.1';

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export function callbackHtml(page: CallbackPage): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(page.title)}</title></head>` +
    `<body style="font-family:sans-serif;max-width:40em;margin:4em auto"><h1>${page.ok ? '&#10003; ' : ''}${escapeHtml(page.title)}</h1>` +
    `<p>${escapeHtml(page.message)}</p><p>You can close this tab and return to the terminal.</p></body></html>`;
}

function send(res: ServerResponse, status: number, page: CallbackPage): void {
  if (res.writableEnded) return;
  // `Connection: close` lets the server shut down as soon as the page is delivered.
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', connection: 'close' });
  res.end(callbackHtml(page));
}

export async function startLoopbackCallback(opts: LoopbackOptions): Promise<LoopbackCallback> {
  let settle!: { resolve: (r: CallbackResult) => void; reject: (e: unknown) => void };
  const result = new Promise<CallbackResult>((resolve, reject) => {
    settle = { resolve, reject };
  });
  result.catch(() => undefined); // rejections before wait() is called are not "unhandled"
  let done = false;
  let pending: ServerResponse | undefined;
  const finish = (fn: () => void) => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onAbort);
    fn();
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    const url = new URL(req.url ?? '/', `http://${HOST}`);
    if (req.method !== 'GET' || url.pathname !== opts.path) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not found');
      return;
    }
    if (done) {
      send(res, 409, { ok: false, title: 'Already handled', message: 'This login already received its answer.' });
      return;
    }
    const params = url.searchParams;
    if (params.get('state') !== opts.state) {
      send(res, 400, { ok: false, title: 'Login refused', message: 'The answer does not belong to the login the terminal started (state mismatch). Nothing was stored.' });
      finish(() =>
        settle.reject(
          new UserError(
            'the login callback carried a different `state` than this login sent (a stale browser tab, or a request this login did not start); nothing was stored',
            'run the login again and use the URL it prints',
          ),
        ),
      );
      return;
    }
    pending = res;
    finish(() =>
      settle.resolve({
        params,
        respond: (page) => send(res, page.ok ? 200 : 400, page),
      }),
    );
  });

  const timer = setTimeout(() => {
    const minutes = Math.round((opts.timeoutMs / 60_000) * 10) / 10;
    finish(() =>
      settle.reject(new UserError(`no answer from the browser within ${opts.timeoutMs >= 60_000 ? `${minutes} minute(s)` : `${opts.timeoutMs} ms`}; nothing was stored`, 'run the login again and open the URL it prints')),
    );
  }, opts.timeoutMs);
  const onAbort = () => finish(() => settle.reject(opts.signal?.reason ?? new UserError('login interrupted')));
  if (opts.signal?.aborted) onAbort();
  else opts.signal?.addEventListener('abort', onAbort, { once: true });

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port, HOST, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (e) {
    finish(() => undefined);
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') {
      throw new UserError(
        `port ${opts.port} on ${HOST} is already in use, so the login cannot receive the browser's redirect`,
        'stop the program using it, or pass another port with --port (the redirect URI registered with the provider must allow that port)',
      );
    }
    throw new UserError(`cannot listen on ${HOST}:${opts.port} for the login callback (${code ?? (e as Error).message})`);
  }
  const port = (server.address() as AddressInfo).port;

  return {
    redirectUri: `http://${HOST}:${port}${opts.path}`,
    port,
    wait: () => result,
    close: () => {
      finish(() => settle.reject(new UserError('login closed before the browser answered')));
      if (pending) send(pending, 200, { ok: true, title: 'Done', message: 'The terminal has finished the login.' });
      return new Promise<void>((resolve) => {
        // Delivered pages close their sockets (Connection: close); drop idle and stuck ones.
        const force = setTimeout(() => server.closeAllConnections(), 1000);
        force.unref();
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        server.closeIdleConnections();
      });
    },
  };
}
