/**
 * The one test that runs the real cdktf-cli: `npx cdktf synth` in a fresh copy of the project
 * (the files git would check out, node_modules linked), with no AWS credentials in the
 * environment. Slow (~10-20 s), so it is the only one; every other suite synthesizes in-process.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import yauzl from 'yauzl';
import { ENV, ROOT } from './helpers.ts';

const NOT_IN_A_CLONE = new Set(['node_modules', '.git', 'cdktf.out', '.tmp', '.lake', 'coverage']);

function listFiles(root: string, rel = ''): string[] {
  return readdirSync(join(root, rel), { withFileTypes: true }).flatMap((e) => {
    const p = rel ? `${rel}/${e.name}` : e.name;
    if (NOT_IN_A_CLONE.has(p) || e.name === '.secrets.json' || e.name.endsWith('.log')) return [];
    return e.isDirectory() ? listFiles(root, p) : [p];
  });
}

function zipEntries(file: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    yauzl.open(file, { lazyEntries: true }, (err, zip) => {
      if (err || !zip) return reject(err ?? new Error(`yauzl opened ${file} without a zip file or an error`));
      const names: string[] = [];
      zip.on('entry', (e: { fileName: string }) => {
        names.push(e.fileName);
        zip.readEntry();
      });
      zip.on('end', () => resolve(names));
      zip.on('error', reject);
      zip.readEntry();
    });
  });
}

describe('npx cdktf synth (fresh copy, no credentials, no Terraform needed)', () => {
  it('writes cdktf.out with the stack and the extractor asset', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cdktf-fresh-'));
    try {
      const git = spawnSync('git', ['ls-files', '-co', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' });
      // Outside a git checkout: everything but what .gitignore keeps out of a clone.
      const files = git.status === 0 ? git.stdout.split('\n').filter(Boolean) : listFiles(ROOT);
      for (const f of files) {
        if (!existsSync(join(ROOT, f))) continue; // deleted in the working tree
        mkdirSync(dirname(join(dir, f)), { recursive: true });
        cpSync(join(ROOT, f), join(dir, f));
      }
      symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
      const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^AWS_|^TF_STATE_/.test(k)));
      const started = Date.now();
      // The deploy-time client id: without it the synth refuses (exit 2, naming the variable).
      const r = spawnSync('npx', ['cdktf', 'synth'], { cwd: dir, encoding: 'utf8', env: { ...env, ...ENV, CHECKPOINT_DISABLE: '1', CI: '1' }, timeout: 170_000 });
      const seconds = (Date.now() - started) / 1000;
      expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
      const stackDir = join(dir, 'cdktf.out', 'stacks', 'my-spotify-lake');
      const tf = JSON.parse(readFileSync(join(stackDir, 'cdk.tf.json'), 'utf8'));
      expect(Object.keys(tf.resource)).toContain('aws_lambda_function');
      const fn = Object.values(tf.resource.aws_lambda_function)[0] as { filename: string };
      const zip = join(stackDir, fn.filename);
      expect(await zipEntries(zip)).toEqual(['index.mjs']);
      // Nothing machine-specific: the local state path is relative.
      expect(JSON.stringify(tf)).not.toContain(dir);
      expect(readdirSync(join(dir, 'cdktf.out', 'stacks'))).toEqual(['my-spotify-lake']);
      console.log(`npx cdktf synth: ${seconds.toFixed(1)} s`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
