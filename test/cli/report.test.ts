/** How main() reports an error: one line (and a fix), the exit code, a stack only with --debug. */
import { describe, expect, it, vi } from 'vitest';
import { main, report } from '../../core/cli/main.ts';
import { CommandFailed } from '../../core/cli/context.ts';
import { ConfigError } from '../../core/config/index.ts';
import { UserError } from '../../core/errors.ts';

function reported(e: unknown, debug = false): { code: number; lines: string[] } {
  const written: string[] = [];
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => (written.push(String(s)), true));
  try {
    const code = report(e, debug);
    return { code, lines: written.join('').trimEnd().split('\n') };
  } finally {
    spy.mockRestore();
  }
}

describe('report', () => {
  it('a user error: its message and fix, exit 2; a config error: one line per problem', () => {
    expect(reported(new UserError('no query named "x"', 'expected one of a, b'))).toEqual({ code: 2, lines: ['error: no query named "x"', '  fix: expected one of a, b'] });
    const problems = [1, 2].map((line) => ({ file: 'p.yaml', line, col: 3, path: 'name', message: `bad ${line}`, severity: 'error' as const }));
    expect(reported(new ConfigError(problems))).toEqual({ code: 2, lines: ['p.yaml:1:3 name: bad 1', 'p.yaml:2:3 name: bad 2'] });
  });

  it('a path the user gave that the system refuses: one line, exit 2', () => {
    const e = Object.assign(new Error("EACCES: permission denied, mkdir '/root/specs'"), { code: 'EACCES' });
    expect(reported(e)).toEqual({ code: 2, lines: ["error: EACCES: permission denied, mkdir '/root/specs'"] });
  });

  it('an unexpected error: its message and how to get the stack, exit 1; the stack only with --debug', () => {
    const e = new TypeError("Cannot read properties of undefined (reading 'x')");
    expect(reported(e)).toEqual({
      code: 1,
      lines: ["error: TypeError: Cannot read properties of undefined (reading 'x')", '  (unexpected: run again with --debug for the stack trace, and report it)'],
    });
    const debug = reported(e, true);
    expect(debug.code).toBe(1);
    expect(debug.lines[0]).toBe("error: TypeError: Cannot read properties of undefined (reading 'x')");
    expect(debug.lines[1]).toMatch(/^\s+at /);
  });

  it('a failure a command reports on purpose (its stack is its message) is printed whole, exit 1', () => {
    const e = new Error('plan: 1 policy check(s) failed (SP001)\n  SP001 ...');
    e.stack = e.message;
    expect(reported(e)).toEqual({ code: 1, lines: ['error: plan: 1 policy check(s) failed (SP001)', '  SP001 ...'] });
    expect(reported(new CommandFailed('stopped: interrupted (Ctrl-C)', 130))).toEqual({ code: 130, lines: ['stopped: interrupted (Ctrl-C)'] });
  });

  it('control characters in a message reach the terminal as escapes', () => {
    expect(reported(new UserError('no query named "\u001b[2J"')).lines).toEqual(['error: no query named "\\x1b[2J"']);
  });
});

describe('report of many problems', () => {
  it('prints the first 100 problems and says how many more there are', () => {
    const problems = Array.from({ length: 20_000 }, (_, i) => ({ file: 'p.yaml', line: i + 1, col: 1, path: `streams.s${i}`, message: 'unknown endpoint', severity: 'error' as const }));
    const { code, lines } = reported(new ConfigError(problems));
    expect(code).toBe(2);
    expect(lines).toHaveLength(101);
    expect(lines[99]).toBe('p.yaml:100:1 streams.s99: unknown endpoint');
    expect(lines[100]).toBe('… and 19,900 more problems (the first 100 shown: fix those, then validate again)');
  });
});

describe('library chatter', () => {
  /** Runs a command that prints through the console, as dt-sql-parser's ANTLR lexer does. */
  async function chatter(args: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    const o = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => (out.push(String(s)), true));
    const e = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => (err.push(String(s)), true));
    const before = console.error;
    try {
      const code = await main(['node', 'spotify-pipeline', ...args], {
        connectors: {},
        commands: [
          (program) => {
            program.command('chatter').action(() => {
              console.error("line 1:4 extraneous input ',' expecting {'ABSENT', ...");
              console.log('noise on stdout');
              process.stdout.write('result\n');
            });
          },
        ],
      });
      return { code, out: out.join(''), err: err.join(''), restored: console.error === before };
    } finally {
      o.mockRestore();
      e.mockRestore();
    }
  }

  it('never reaches stdout or stderr (a SQL parser printed `line 1:4 extraneous input` during validate)', async () => {
    expect(await chatter(['chatter'])).toEqual({ code: 0, out: 'result\n', err: '', restored: true });
  });

  it('is shown on stderr with --debug', async () => {
    const r = await chatter(['chatter', '--debug']);
    expect(r.out).toBe('result\n');
    expect(r.err).toBe("[debug] line 1:4 extraneous input ',' expecting {'ABSENT', ...\n[debug] noise on stdout\n");
  });
});
