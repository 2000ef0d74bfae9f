/**
 * The error classes the engine and plugins share. A leaf module (only the redaction registry
 * below it): the plugin API re-exports these, and engine modules import them from here, so no
 * module has to import the plugin API for an error class.
 */
import { redact } from './redact.ts';

/** An error the user can fix; the CLI exits 2 and prints `message` alone (and `hint` as the fix). */
export class UserError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'UserError';
  }
}

/** A non-success answer the plugin did not accept. Carries the API's own message. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly label: string,
    readonly url: string,
    readonly apiMessage: string,
    readonly body: unknown,
  ) {
    super(redact(`${label}: HTTP ${status} ${apiMessage} (GET ${url})`));
    this.name = 'HttpError';
  }
}

/**
 * The run must stop now but cleanly: data read so far is committed with its state so the next
 * run resumes (quota exceeded, Retry-After beyond the wait budget, a deadline).
 */
export class StopRun extends Error {
  constructor(message: string) {
    super(redact(message));
    this.name = 'StopRun';
  }
}
