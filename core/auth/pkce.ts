/**
 * OAuth 2.0 PKCE (RFC 7636) and `state` values for a loopback login. Every value comes from the
 * OS's CSPRNG: a guessable verifier or state would let another local process steal the login.
 */
import { createHash, randomBytes, randomInt } from 'node:crypto';

/** The unreserved characters RFC 7636 allows in a code verifier. */
export const PKCE_VERIFIER_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~';

function base64url(buf: Buffer): string {
  return buf.toString('base64').replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** A code verifier of `length` (43-128) characters of the allowed alphabet, uniformly drawn. */
export function pkceVerifier(length = 64): string {
  if (!Number.isInteger(length) || length < 43 || length > 128) throw new RangeError('a PKCE code verifier has 43 to 128 characters');
  // randomInt is unbiased (rejection sampling), unlike `byte % 66`.
  let out = '';
  for (let i = 0; i < length; i++) out += PKCE_VERIFIER_ALPHABET[randomInt(PKCE_VERIFIER_ALPHABET.length)];
  return out;
}

/** The S256 challenge: base64url(sha256(verifier)) without padding. */
export function pkceChallenge(verifier: string): string {
  return base64url(createHash('sha256').update(verifier, 'ascii').digest());
}

/** An unguessable `state` that ties the callback to this login (CSRF protection). */
export function randomState(): string {
  return base64url(randomBytes(24));
}
