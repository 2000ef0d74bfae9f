/**
 * The error classes the engine and plugins share. A leaf module (only the redaction registry
 * below it): the plugin API re-exports these, and engine modules import them from here, so no
 * module has to import the plugin API for an error class.
 *
 * `instanceof` works across copies of this module: a TypeScript plugin loaded by the built CLI
 * imports core's source while the CLI runs its bundle, so there are two `UserError` classes. Each
 * error carries a brand (a registered symbol), and the classes recognise any error with theirs;
 * subclasses (ConfigError) keep the ordinary prototype check.
 */
import { redact } from './redact.ts';

function branded(name: string) {
  const brand = Symbol.for(`spotify-pipeline:${name}`);
  return {
    mark(e: object): void {
      Object.defineProperty(e, brand, { value: true });
    },
    /** `x instanceof cls`: any copy's instance for `cls` itself, the prototype chain for its subclasses. */
    test(cls: unknown, self: unknown, x: unknown): boolean {
      if (cls !== self) return typeof cls === 'function' && Function.prototype[Symbol.hasInstance].call(cls, x);
      return typeof x === 'object' && x !== null && (x as Record<symbol, unknown>)[brand] === true;
    },
  };
}

const userBrand = branded('UserError');
const httpBrand = branded('HttpError');
const stopBrand = branded('StopRun');
const streamBrand = branded('StreamFailed');

/** An error the user can fix; the CLI exits 2 and prints `message` alone (and `hint` as the fix). */
export class UserError extends Error {
  static override [Symbol.hasInstance](x: unknown): boolean {
    return userBrand.test(this, UserError, x);
  }

  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'UserError';
    userBrand.mark(this);
  }
}

/** A non-success answer the plugin did not accept. Carries the API's own message. */
export class HttpError extends Error {
  static override [Symbol.hasInstance](x: unknown): boolean {
    return httpBrand.test(this, HttpError, x);
  }

  constructor(
    readonly status: number,
    readonly label: string,
    readonly url: string,
    readonly apiMessage: string,
    readonly body: unknown,
    /** The request's method (writes are POST/PUT/DELETE). */
    readonly method: string = 'GET',
  ) {
    super(redact(`${label}: HTTP ${status} ${apiMessage} (${method} ${url})`));
    this.name = 'HttpError';
    httpBrand.mark(this);
  }
}

/**
 * The run must stop now but cleanly: data read so far is committed with its state so the next
 * run resumes (quota exceeded, Retry-After beyond the wait budget, a deadline).
 */
export class StopRun extends Error {
  static override [Symbol.hasInstance](x: unknown): boolean {
    return stopBrand.test(this, StopRun, x);
  }

  constructor(message: string) {
    super(redact(message));
    this.name = 'StopRun';
    stopBrand.mark(this);
  }
}

/**
 * One stream failed on its own (e.g. every parent of a fan-out was refused): the stream commits
 * nothing and the run fails (exit 1), but the streams that do not read from it still run.
 */
export class StreamFailed extends Error {
  static override [Symbol.hasInstance](x: unknown): boolean {
    return streamBrand.test(this, StreamFailed, x);
  }

  constructor(message: string) {
    super(redact(message));
    this.name = 'StreamFailed';
    streamBrand.mark(this);
  }
}
