/**
 * The README's plugin API reference is checked against the types: every member core/plugin-api.ts
 * exports has a row, and every row names an export (read with the TypeScript compiler).
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

const ROOT = join(import.meta.dirname, '..', '..');

function exportsOf(file: string): string[] {
  const program = ts.createProgram([file], { noResolve: true, noLib: true, types: [], noEmit: true, target: ts.ScriptTarget.ES2022 });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(file)!;
  const module = checker.getSymbolAtLocation(source)!;
  return checker.getExportsOfModule(module).map((s) => s.getName()).sort();
}

function referenceTable(readme: string): string[] {
  const start = readme.indexOf('### Plugin API reference');
  expect(start, 'README has a "### Plugin API reference" section').toBeGreaterThan(0);
  const section = readme.slice(start, readme.indexOf('\n#', start + 10));
  return [...section.matchAll(/^\| `([A-Za-z_][A-Za-z0-9_]*)` \|/gm)].map((m) => m[1]).sort();
}

describe('README "Write a connector"', () => {
  it('lists every export of core/plugin-api.ts in its reference table, and nothing else', () => {
    const exported = exportsOf(join(ROOT, 'core', 'plugin-api.ts'));
    const listed = referenceTable(readFileSync(join(ROOT, 'README.md'), 'utf8'));
    expect(exported.length).toBeGreaterThan(20);
    expect(exported.filter((e) => !listed.includes(e)), 'exports missing from the README table').toEqual([]);
    expect(listed.filter((l) => !exported.includes(l)), 'README rows that are not exports').toEqual([]);
  });

  it('documents every suite of the kit', async () => {
    const { SUITES } = await import('../../core/conformance/types.ts');
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    for (const s of SUITES) expect(readme).toMatch(new RegExp(`^\\| \`${s}\` \\|`, 'm'));
  });
});
