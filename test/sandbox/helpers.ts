/** Shared helpers for the sandbox suites: real HTTP against a sandbox on port 0. */
import { startSandbox, type SandboxServerOptions, type SpotifySandbox } from '../../connectors/spotify/sandbox/index.ts';

/** A fixed `now` keeps data identical across runs and machines. */
export const NOW = Date.UTC(2026, 10, 20, 12, 0, 0);

export function start(opts: SandboxServerOptions = {}): Promise<SpotifySandbox> {
  return startSandbox({ now: NOW, ...opts });
}

export interface Res<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export async function call<T = any>(url: string, init: RequestInit = {}): Promise<Res<T>> {
  const r = await fetch(url, init);
  const text = await r.text();
  let body: any;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  return { status: r.status, headers: r.headers, body, text };
}

export function basic(sb: SpotifySandbox): string {
  return 'Basic ' + Buffer.from(`${sb.credentials.client_id}:${sb.credentials.client_secret}`).toString('base64');
}

export function tokenRequest(sb: SpotifySandbox, form: Record<string, string>, authorization?: string) {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (authorization) headers.authorization = authorization;
  return call(`${sb.accountsUrl}/api/token`, { method: 'POST', headers, body: new URLSearchParams(form).toString() });
}

/** A user access token through the real refresh grant with the demo credentials. */
export async function userToken(sb: SpotifySandbox): Promise<string> {
  const r = await tokenRequest(sb, { grant_type: 'refresh_token', refresh_token: sb.credentials.refresh_token }, basic(sb));
  if (r.status !== 200) throw new Error(`token: ${r.status} ${r.text}`);
  return r.body.access_token;
}

export async function clientToken(sb: SpotifySandbox): Promise<string> {
  const r = await tokenRequest(sb, { grant_type: 'client_credentials' }, basic(sb));
  if (r.status !== 200) throw new Error(`token: ${r.status} ${r.text}`);
  return r.body.access_token;
}

export function api<T = any>(sb: SpotifySandbox, token: string, path: string, headers: Record<string, string> = {}): Promise<Res<T>> {
  const url = path.startsWith('http') ? path : `${sb.apiUrl}${path}`;
  return call<T>(url, { headers: { authorization: `Bearer ${token}`, ...headers } });
}

/** Follow `next` links from `path` to the end; returns all items and the request count. */
export async function pageAll(sb: SpotifySandbox, token: string, path: string, key?: string): Promise<{ items: any[]; requests: number; totals: number[] }> {
  const items: any[] = [];
  const totals: number[] = [];
  let url: string | null = `${sb.apiUrl}${path}`;
  let requests = 0;
  while (url) {
    const r: Res = await api(sb, token, url);
    requests++;
    if (r.status !== 200) throw new Error(`${url}: ${r.status} ${r.text}`);
    const page = key ? r.body[key] : r.body;
    items.push(...page.items);
    totals.push(page.total);
    url = page.next;
  }
  return { items, requests, totals };
}
