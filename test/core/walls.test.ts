/**
 * The walls of the architecture (docs/architecture.md): core/ imports no connector and no
 * infrastructure, connectors import only the plugin API of core, terraform/ imports no connector,
 * the plugin API's own imports are leaves. The lint rules that keep them are checked to fire, and
 * the tree is checked as it is (static and dynamic imports).
 */
import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { UserError as Original } from '../../core/errors.ts';
import { ConfigError } from '../../core/config/problem.ts';

const ROOT = join(import.meta.dirname, '..', '..');

function files(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => relative(ROOT, join(e.parentPath, e.name)));
}

/** Relative imports of a file (static, re-exports and dynamic import()), resolved to project paths; type-only ones flagged. */
function importsOf(file: string): Array<{ target: string; typeOnly: boolean }> {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const out: Array<{ target: string; typeOnly: boolean }> = [];
  for (const m of text.matchAll(/^\s*(import|export)\s+(type\s+)?[^'"]*?from\s+'(\.[^']+)'|import\(\s*'(\.[^']+)'\s*\)/gm)) {
    const spec = m[3] ?? m[4];
    out.push({ target: relative(ROOT, resolve(ROOT, dirname(file), spec)), typeOnly: !!m[2] });
  }
  return out;
}

describe('the import walls, on the tree as it is', () => {
  it('nothing under core/ imports connectors/ or terraform/ (nor test/)', () => {
    const bad = files('core').flatMap((f) => importsOf(f).filter((i) => /^(connectors|terraform|test)\//.test(i.target)).map((i) => `${f} -> ${i.target}`));
    expect(bad).toEqual([]);
  });

  it('connectors import only core/plugin-api.ts of core, and nothing of terraform/', () => {
    const bad = files('connectors')
      .filter((f) => !f.endsWith('.test.ts'))
      .flatMap((f) => importsOf(f).filter((i) => (i.target.startsWith('core/') && i.target !== 'core/plugin-api.ts') || i.target.startsWith('terraform/')).map((i) => `${f} -> ${i.target}`));
    expect(bad).toEqual([]);
  });

  it('terraform/ imports no connector (the registry is handed in by bin/)', () => {
    const bad = files('terraform').flatMap((f) => importsOf(f).filter((i) => i.target.startsWith('connectors/')).map((i) => `${f} -> ${i.target}`));
    expect(bad).toEqual([]);
  });

  it("the plugin API's runtime imports are leaves: errors, redaction, plugin-author helpers; never the engine", () => {
    // Everything core/plugin-api.ts loads at run time, transitively.
    const seen = new Set<string>();
    const visit = (f: string) => {
      for (const i of importsOf(f)) {
        if (i.typeOnly || seen.has(i.target)) continue;
        seen.add(i.target);
        visit(i.target);
      }
    };
    visit('core/plugin-api.ts');
    const engine = [...seen].filter((f) => /^core\/(http|log|pipeline|plugins|config|engine|storage|transform|query|cli|lambda|secrets|conformance)(\.ts|\/)/.test(f));
    expect(engine).toEqual([]);
    expect(seen.has('core/errors.ts')).toBe(true);
    expect(seen.has('core/plugin-api.ts')).toBe(false); // no loop back into the API
  });
});

describe('the lint rules that keep the walls', () => {
  // Type-aware parsing needs a file of the project; the import rules do not.
  const eslint = new ESLint({
    cwd: ROOT,
    overrideConfig: [{ ...tseslint.configs.disableTypeChecked, languageOptions: { parserOptions: { projectService: false, project: null } } }],
  });
  const lint = async (file: string, code: string) => (await eslint.lintText(code, { filePath: join(ROOT, file) }))[0].messages.map((m) => `${m.ruleId}: ${m.message}`);

  it('fail on core/ importing connectors/ or terraform/, statically or dynamically', async () => {
    const messages = await lint(
      'core/cli/probe.ts',
      "import spotify from '../../connectors/spotify/index.ts';\nexport const x = spotify;\nexport const y = () => import('../../terraform/stack.ts');\n",
    );
    expect(messages).toEqual([
      expect.stringMatching(/^no-restricted-imports: .*core\/ must not import connectors\//),
      expect.stringMatching(/^no-restricted-syntax: core\/ must not import terraform\//),
    ]);
  });

  it('fail on a connector importing core beyond the plugin API, and pass the plugin API itself', async () => {
    expect(await lint('connectors/acme/index.ts', "import { HttpClient } from '../../core/http.ts';\nexport const h = HttpClient;\n")).toEqual([
      expect.stringMatching(/^no-restricted-imports: .*connectors import only core\/plugin-api\.ts/),
    ]);
    expect(await lint('connectors/acme/index.ts', "import { definePlugin } from '../../core/plugin-api.ts';\nexport const d = definePlugin;\n")).toEqual([]);
  });

  it('fail on terraform/ importing connectors/, and on product code importing test/', async () => {
    expect(await lint('terraform/probe.ts', "import { connectors } from '../connectors/index.ts';\nexport const c = connectors;\n")).toEqual([expect.stringMatching(/terraform\/ must not import connectors\//)]);
    expect(await lint('core/probe.ts', "import { x } from '../test/helpers.ts';\nexport const y = x;\n")).toEqual([expect.stringMatching(/nothing outside test\/ imports test\//)]);
  });
});

describe('error classes across module copies', () => {
  // A TypeScript plugin loaded by the built CLI has its own copy of core/errors.ts: simulate one.
  const foreign = (name: string, props: Record<string, unknown> = {}) => {
    const e = Object.assign(new Error('from another copy'), props);
    Object.defineProperty(e, Symbol.for(`spotify-pipeline:${name}`), { value: true });
    return e;
  };

  it("recognise another copy's UserError, HttpError and StopRun", async () => {
    const { HttpError, StopRun } = await import('../../core/errors.ts');
    expect(foreign('UserError')).toBeInstanceOf(Original);
    expect(foreign('HttpError')).toBeInstanceOf(HttpError);
    expect(foreign('StopRun')).toBeInstanceOf(StopRun);
    expect(new Error('plain')).not.toBeInstanceOf(Original);
    expect(foreign('StopRun')).not.toBeInstanceOf(Original);
  });

  it('keep the prototype check for subclasses: a UserError is not a ConfigError', () => {
    expect(new Original('x')).not.toBeInstanceOf(ConfigError);
    expect(foreign('UserError')).not.toBeInstanceOf(ConfigError);
    expect(new ConfigError([])).toBeInstanceOf(ConfigError);
    expect(new ConfigError([])).toBeInstanceOf(Original);
  });
});
