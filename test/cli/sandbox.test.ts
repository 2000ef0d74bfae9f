/**
 * `spotify-pipeline sandbox`: serves the sandbox of the pipeline's connector, or of the one
 * `--connector` names, through the plugin's own `sandbox()` (core knows no connector by name).
 * The child is started, its announced server is asked a question, then it is stopped (SIGTERM).
 */
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'spotify-pipeline.mjs');

/** Starts the command and collects stdout until `done` says enough (bounded by a timeout). */
async function serve(args: string[], cwd: string, done: (out: string) => boolean): Promise<{ out: string; code: number | null }> {
  const child = spawn(process.execPath, [BIN, 'sandbox', '--port', '0', ...args], { cwd, env: { ...process.env, FORCE_COLOR: '0' } });
  const exited = once(child, 'exit');
  let out = '';
  child.stdout.on('data', (d) => (out += String(d)));
  child.stderr.on('data', (d) => (out += String(d)));
  const deadline = Date.now() + 30_000;
  while (!done(out) && child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (child.exitCode === null) child.kill('SIGTERM');
  const [code] = (await exited) as [number | null];
  return { out, code };
}

describe('spotify-pipeline sandbox', () => {
  it("serves the pipeline's connector's sandbox (Spotify) and prints the config that points at it", async () => {
    // The server answers while the command runs: an unauthenticated call gets Spotify's 401.
    let status: number | undefined;
    const r = await serve(['-c', join(ROOT, 'pipeline.yaml'), '--profile', 'extended'], ROOT, (out) => {
      const m = /api_base_url: "(http:\/\/127\.0\.0\.1:\d+[^"]*)"/.exec(out);
      if (m && status === undefined) {
        status = 0;
        void fetch(`${m[1]}/me`).then((res) => (status = res.status));
      }
      return !!status;
    });
    expect(status).toBe(401);
    expect(r.out).toMatch(/^Spotify sandbox \(extended, seed 42\) on http:\/\/127\.0\.0\.1:\d+/m);
    expect(r.out).toMatch(/client_id: "/);
    expect(r.code).toBe(0);
  });

  it('serves another connector by --connector (the export: a generated download on disk), and removes it on stop', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'sandbox-cli-'));
    try {
      const r = await serve(['--connector', 'spotify-history', '--seed', '7'], cwd, (out) => /path: "/.test(out));
      expect(r.out).toMatch(/^Spotify export sandbox \(seed 7\) on file:\/\//m);
      const url = /on (file:\/\/\S+)/.exec(r.out)![1];
      expect(r.code).toBe(0);
      // close() removes the generated export
      expect(existsSync(fileURLToPath(url))).toBe(false);
    } finally {
      await rm(cwd, { recursive: true, force: true });
    }
  });

  it('names the choices when there is no pipeline here and no --connector', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'sandbox-cli-'));
    try {
      const r = await serve([], cwd, () => false);
      expect(r.code).toBe(2);
      expect(r.out).toMatch(/no pipeline\.yaml here to take the connector from/);
      expect(r.out).toMatch(/--connector spotify \| spotify-history/);
    } finally {
      await rm(cwd, { recursive: true, force: true });
    }
  });
});
