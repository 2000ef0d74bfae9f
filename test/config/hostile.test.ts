/**
 * A pipeline file that is not what it should be (a folder, a device, huge, not UTF-8, a YAML
 * bomb, endless nesting) is a ConfigError naming the file, line and column: never a hang, a
 * memory blow-up or a stack trace. The fuzzer (fuzz.test.ts) finds such inputs at random; these
 * pin the ones it and issue 12 found.
 */
import { describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, formatProblem, localSecrets, readPipeline } from '../../core/config/index.ts';
import { authorizationProblems } from '../../core/auth/expiry.ts';
import { MAX_CONFIG_BYTES, invalidUtf8 } from '../../core/config/text.ts';
import { HEAD, fixtureDir, problemsOf, writeFixture } from './fixtures.ts';

/** The one-line messages readPipeline throws (fails when it throws anything but a ConfigError). */
function rejected(file: string): string[] {
  try {
    readPipeline(file);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems.map(formatProblem);
    throw e;
  }
  throw new Error(`${file} was accepted`);
}

const STREAMS = 'streams:\n  s: { endpoint: me/playlists }\n';

describe('formatProblem', () => {
  it('keeps a problem on one line when its message quotes a value with line breaks (found by the config fuzzer)', () => {
    const line = formatProblem({ file: 'p.yaml', line: 3, col: 5, path: 'streams.s.endpoint', message: 'unknown endpoint "a\nb\r\nc\rd"', severity: 'error' });
    expect(line).toBe('p.yaml:3:5 streams.s.endpoint: unknown endpoint "a\\nb\\nc\\rd"');
    expect(line.split('\n')).toHaveLength(1);
  });
});

describe('hostile pipeline files', () => {
  it('refuses a "billion laughs" of YAML aliases at the first alias, quickly', () => {
    const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 9; i++) {
      const prev = String.fromCharCode(96 + i);
      levels.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${prev}`).join(',')}]`);
    }
    const file = writeFixture(`${HEAD}${levels.join('\n')}\n`);
    const t0 = Date.now();
    expect(rejected(file)).toEqual([`${file}:7:${levels[1].indexOf('*') + 1}: YAML: the aliases (*name) expand to too many values; write the repeated values out, or alias less`]);
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('refuses aliases that stay under the alias count but expand to too many values', () => {
    // One big list, aliased 100 times: 100 x 5,000 values.
    const big = `big: &big [${Array(5000).fill('1').join(',')}]`;
    const file = writeFixture(`${HEAD}${big}\nmany: [${Array(100).fill('*big').join(', ')}]\n`);
    expect(rejected(file)).toEqual([expect.stringMatching(/:7:7 many: YAML: more than 250,000 values \(an alias counts its values each time it is used\); a pipeline needs far fewer$/)]);
  });

  it('refuses an alias inside its own anchor (a cycle) and an alias without an anchor', () => {
    expect(rejected(writeFixture(`${HEAD}loop: &x [1, *x]\n`))[0]).toMatch(/:6:10 loop: YAML: nested too deeply; a pipeline nests a few levels, at most 64$/);
    expect(rejected(writeFixture(`${HEAD}streams:\n  s: *nowhere\n`))[0]).toMatch(/:7:6: YAML: alias \*nowhere has no anchor &nowhere before it$/);
  });

  it('refuses nesting deeper than the parser or 64 levels, at its line', () => {
    // A megabyte of brackets is measured before the parser (which took seconds on it) sees it.
    const t0 = Date.now();
    expect(rejected(writeFixture(`${HEAD}deep: ${'['.repeat(1_000_000)}\n`))).toEqual([expect.stringMatching(/:6:71: YAML: nested too deeply; a pipeline nests a few levels, at most 64$/)]);
    expect(rejected(writeFixture(`${HEAD}deep: ${'{a: '.repeat(100_000)}1${'}'.repeat(100_000)}\n`))[0]).toMatch(/:6:\d+: YAML: nested too deeply/);
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(rejected(writeFixture(`${HEAD}deep: ${'['.repeat(64)}${']'.repeat(64)}\n`))[0]).toMatch(/:6:7 deep: YAML: nested too deeply/);
    const block = (n: number) => Array.from({ length: n }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n');
    expect(rejected(writeFixture(`${HEAD}${block(70)} 1\n`))[0]).toMatch(/:6:1 k0: YAML: nested too deeply/);
    expect(rejected(writeFixture(`${HEAD}${block(1200)} 1\n`))[0]).toMatch(/: YAML: nested too deeply/);
    // Brackets inside values, quotes and comments are no nesting.
    expect(readPipeline(writeFixture(`${HEAD}${STREAMS}x: a${'['.repeat(100)}\ny: "${'{'.repeat(100)}"\n# ${'['.repeat(100)}\n`)).problems.map((p) => p.path)).toEqual(['x', 'y']);
  });

  it('refuses .inf and .nan, YAML 1.1 values, and never prints the yaml library\'s console warnings', () => {
    expect(rejected(writeFixture(`${HEAD}${STREAMS}tables:\n  t:\n    from: s\n    target_file_mb: .inf\n    columns: { a: { path: a, type: string } }\n`))).toEqual([
      expect.stringMatching(/:11:21 tables\.t\.target_file_mb: Infinity is not a number a pipeline can use; write a finite number$/),
    ]);
    // %YAML 1.1 does not bring back timestamps, binaries or yes/no: the values stay text.
    const { loaded } = readPipeline(writeFixture(`%YAML 1.1\n---\n${HEAD}${STREAMS}x: 2001-12-14\ny: !!binary aGVsbG8=\nz: yes\n? [a, b]\n: 1\n`));
    const c = loaded.config as unknown as Record<string, unknown>;
    expect([c.x, c.y, c.z]).toEqual(['2001-12-14', 'aGVsbG8=', 'yes']);
  });

  it('refuses a folder, a device, a FIFO-like path and a missing file without opening them', () => {
    const dir = join(fixtureDir(), 'a-folder');
    mkdirSync(dir, { recursive: true });
    expect(rejected(dir)).toEqual([`${dir}: is a folder, not a pipeline file`]);
    expect(rejected('/dev/zero')).toEqual(['/dev/zero: is not a regular file']);
    expect(rejected(join(fixtureDir(), 'nope.yaml'))).toEqual([`${join(fixtureDir(), 'nope.yaml')}: file not found`]);
    expect(rejected(join(fixtureDir(), 'pipeline-1.yaml', 'x.yaml'))[0]).toMatch(/: file not found/);
  });

  it('refuses a file larger than 1 MiB by its size', () => {
    const file = join(fixtureDir(), 'huge.yaml');
    writeFileSync(file, `${HEAD}description: "${'x'.repeat(MAX_CONFIG_BYTES)}"\n`);
    expect(rejected(file)).toEqual([`${file}: is 1.0 MiB; a pipeline file may be at most 1.0 MiB`]);
  });

  it('refuses UTF-16, invalid UTF-8 (at the bad byte) and NUL bytes; accepts a UTF-8 byte order mark', () => {
    const text = `${HEAD}${STREAMS}`;
    const utf16 = join(fixtureDir(), 'utf16.yaml');
    writeFileSync(utf16, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]));
    expect(rejected(utf16)).toEqual([`${utf16}:1:1: is UTF-16 encoded; save it as UTF-8`]);
    const latin1 = join(fixtureDir(), 'latin1.yaml');
    writeFileSync(latin1, Buffer.from(`${HEAD}description: "caf\u00e9 \u00e0 la carte"\n`, 'latin1'));
    expect(rejected(latin1)).toEqual([`${latin1}:6:18: is not valid UTF-8 (byte 0xe9); save it as UTF-8`]);
    const nul = join(fixtureDir(), 'nul.yaml');
    writeFileSync(nul, `${HEAD}name2: "a\u0000b"\n`);
    expect(rejected(nul)).toEqual([`${nul}:6:10: contains a NUL byte; a pipeline file is text`]);
    const bom = join(fixtureDir(), 'bom.yaml');
    writeFileSync(bom, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]));
    expect(readPipeline(bom).problems).toEqual([]);
  });

  it('tells well-formed UTF-8 from overlong forms, surrogates, truncated and stray bytes', () => {
    const ok = Buffer.from('añ€😀', 'utf8');
    expect(invalidUtf8(ok)).toBeUndefined();
    for (const bad of [[0xc0, 0xaf], [0xe0, 0x80, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82], [0x80], [0xff]]) {
      expect(invalidUtf8(Buffer.from([0x61, ...bad]))).toBe(1);
    }
  });

  it('a secrets file that is a device, a folder or huge is one line, never read (secrets.file: /dev/zero hung validate)', () => {
    const secretsError = (file: string) => {
      try {
        localSecrets(file);
      } catch (e) {
        if (e instanceof ConfigError) return e.problems.map(formatProblem);
        throw e;
      }
      return [];
    };
    expect(secretsError('/dev/zero')).toEqual(['/dev/zero: is not a regular file']);
    expect(secretsError(fixtureDir())).toEqual([`${fixtureDir()}: is a folder, not a secrets file`]);
    expect(secretsError(join(fixtureDir(), 'no-secrets.json'))).toEqual([]);
    const { loaded } = readPipeline(writeFixture(`${HEAD}secrets: { file: /dev/zero }\n${STREAMS}`));
    expect(authorizationProblems(loaded).map((p) => p.message)).toEqual(['cannot check the stored authorizations: /dev/zero: is not a regular file']);
  });
});

describe('large pipelines are checked in linear time', () => {
  it('20,000 streams with unknown endpoints: every problem found and positioned within seconds (it took 14 s: keys and positions were quadratic)', () => {
    const streams = Array.from({ length: 20_000 }, (_, i) => `  s${i}: { endpoint: nope${i % 7} }`).join('\n');
    const t0 = Date.now();
    const problems = problemsOf(`${HEAD}streams:\n${streams}\n`);
    // Each stream's, and one for the count (at most 1000 streams).
    expect(problems).toHaveLength(20_001);
    expect(problems.filter((p) => p.path === 'streams').map((p) => p.message)).toEqual(['expected at most 1000 entries']);
    expect(formatProblem(problems[20_000])).toMatch(/:20006:\d+ streams\.s19999\.endpoint: unknown endpoint "nope0"; expected one of/);
    expect(Date.now() - t0).toBeLessThan(8000);
  });

  it('a repeated key is still an error at the repeat, in any mapping', () => {
    expect(rejected(writeFixture(`${HEAD}${STREAMS}tables:\n  t:\n    from: s\n    from: s\n`))).toEqual([expect.stringMatching(/:11:5: YAML syntax: Map keys must be unique$/)]);
  });
});

describe('sizes a pipeline cannot need are refused by the schema, before any table is compiled', () => {
  it('more than 1000 columns in a table (20,000 took 17 s to compile and bind), streams, tables, queries, includes', () => {
    const cols = Array.from({ length: 1001 }, (_, i) => `      c${i}: { path: a${i}, type: string }`).join('\n');
    const t0 = Date.now();
    const problems = problemsOf(`${HEAD}${STREAMS}tables:\n  t:\n    from: s\n    columns:\n${cols}\n`);
    expect(problems.map((p) => `${p.path}: ${p.message}`)).toEqual(['tables.t.columns: expected at most 1000 entries']);
    expect(Date.now() - t0).toBeLessThan(3000);
    const many = (n: number, f: (i: number) => string) => Array.from({ length: n }, (_, i) => f(i)).join('\n');
    expect(problemsOf(`${HEAD}streams:\n${many(1001, (i) => `  s${i}: { endpoint: me/playlists }`)}\n`).map((p) => p.message)).toContain('expected at most 1000 entries');
    expect(problemsOf(`${HEAD}${STREAMS}queries:\n${many(501, (i) => `  q${i}: { sql: SELECT ${i} }`)}\n`).filter((p) => p.path === 'queries').map((p) => p.message)).toEqual(['expected at most 500 entries']);
    expect(problemsOf(`${HEAD}${STREAMS}include: [${many(51, (i) => `x${i}.yaml`).replace(/\n/g, ', ')}]\n`).map((p) => `${p.path}: ${p.message}`)).toEqual(['include: expected at most 50 items']);
  });
});
