/**
 * Text from data (API records, a lake's rows, a config's values) printed to a terminal must not
 * drive the terminal: an ANSI escape sequence could recolour it, move the cursor, retitle the
 * window or hide a line, and bidirectional controls could reorder what a reader sees. A leaf
 * module (it imports nothing), used by the CLI's output and the logger.
 */

/**
 * C0 controls (but tab and line feed), DEL, C1 controls (0x9b is a one-byte CSI), the Unicode
 * line and paragraph separators and the bidirectional controls.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const visible = (c: string): string => {
  const n = c.charCodeAt(0);
  if (c === '\r') return '\\r';
  return n < 0x100 ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u${n.toString(16).padStart(4, '0')}`;
};

/** `s` with every control character shown as an escape (`\x1b`, `\u202e`); tabs and newlines stay. */
export function terminalSafe(s: string): string {
  return s.replace(UNSAFE, visible);
}

/** Whether `s` holds a character terminalSafe would escape. */
export function hasControlCharacters(s: string): boolean {
  UNSAFE.lastIndex = 0;
  const found = UNSAFE.test(s);
  UNSAFE.lastIndex = 0;
  return found;
}

/**
 * JSON text (from JSON.stringify) that is also safe on a terminal: the characters JSON.stringify
 * leaves raw (DEL, C1 controls, separators, bidirectional controls) become `\uXXXX` escapes,
 * which JSON parsers read back as the same characters. They can only occur inside strings.
 */
export function jsonTerminalSafe(json: string): string {
  return json.replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
