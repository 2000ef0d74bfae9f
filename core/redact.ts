/**
 * The process-wide set of values that must never be printed. Every secret the engine resolves is
 * registered here; loggers and error messages pass their text through `redact`. A leaf module
 * (it imports nothing), so errors, logging and the HTTP client can all use it without a loop.
 */
const secrets = new Set<string>();

/** Register a value that must never be printed. Short values are ignored (they would mask noise). */
export function registerSecret(value: unknown): void {
  if (typeof value === 'string' && value.length >= 6) secrets.add(value);
}

export function redact(text: string): string {
  let out = text;
  for (const s of secrets) {
    if (out.includes(s)) out = out.split(s).join('***');
  }
  return out;
}
