/** Writing a fuzz case's files, and judging what `validate` did with them (shared by the worker and the test). */
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { hasControlCharacters } from '../../../core/terminal.ts';
import type { FuzzCase } from './mutate.ts';

export function writeCase(c: FuzzCase, folder: string): void {
  rmSync(folder, { recursive: true, force: true });
  mkdirSync(folder, { recursive: true });
  for (const [path, data] of c.files) {
    const file = join(folder, path);
    mkdirSync(dirname(file), { recursive: true });
    if (typeof data === 'object' && 'symlink' in data) symlinkSync(data.symlink, file);
    else writeFileSync(file, data);
  }
}

/** What is wrong with one outcome of `validate` (undefined: a success, or a user error well reported). */
export function judge(code: number, stdout: string, stderr: string): string | undefined {
  if (code !== 0 && code !== 2) return `exit ${code}`;
  if (/^\s+at .+[(:]\d+/m.test(stderr) || /\(unexpected: run again with --debug/.test(stderr)) return 'a stack trace or an unexpected error';
  if (hasControlCharacters(stdout.replace(/\n/g, '')) || hasControlCharacters(stderr.replace(/\n/g, ''))) return 'raw control characters in the output';
  if (code === 0 && !/: valid \(/.test(stdout)) return 'exit 0 without "valid"';
  if (code === 2 && stderr.trim() === '') return 'exit 2 without a message';
  // A user error is lines of `file:line:col path: message`, `error: ...`, `  fix: ...` or `warning: ...`.
  const odd = stderr
    .split('\n')
    .filter((l) => l !== '')
    .find((l) => !/^(error: |warning: | {2}fix: |… and [\d,]+ more problems? |\S.*?(:\d+:\d+)?( \S+)?: )/.test(l));
  if (odd !== undefined) return `an unexpected line on stderr: ${odd.slice(0, 200)}`;
  return undefined;
}

