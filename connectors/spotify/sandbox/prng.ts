/**
 * Seeded randomness for the sandbox. Everything the sandbox generates or decides "at random"
 * (catalog, ids, tokens, fault injection) comes from here, never from Math.random, so that the
 * same seed yields byte-identical responses.
 */
import { seededRandom } from '../../../core/plugin-api.ts';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** FNV-1a, 32 bit: a stable hash of a string, used to derive independent PRNG streams. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** mulberry32 (the plugin API's seededRandom): tiny, fast, good enough for test data. */
export const mulberry32 = seededRandom;

export class Rng {
  private readonly next: () => number;
  constructor(readonly seed: number) {
    this.next = mulberry32(seed);
  }

  /**
   * An independent stream for one concern (e.g. 'artists', 'faults'), so that changing how many
   * numbers one part of the generator draws does not shift every other part.
   */
  static derive(seed: number, label: string): Rng {
    return new Rng((hashString(label) ^ Math.imul(seed >>> 0, 0x9e3779b1)) >>> 0);
  }

  float(): number {
    return this.next();
  }
  /** Integer in [min, max], both inclusive. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }
  /** Fisher-Yates on a copy. */
  shuffle<T>(items: readonly T[]): T[] {
    const out = items.slice();
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [out[i], out[j]] = [out[j], out[i]];
    }
    return out;
  }
  /** `n` distinct elements (or all of them if there are fewer), in random order. */
  sample<T>(items: readonly T[], n: number): T[] {
    return this.shuffle(items).slice(0, Math.min(n, items.length));
  }
  base62(length: number): string {
    let s = '';
    for (let i = 0; i < length; i++) s += BASE62[Math.floor(this.next() * 62)];
    return s;
  }
  hex(length: number): string {
    let s = '';
    for (let i = 0; i < length; i++) s += '0123456789abcdef'[Math.floor(this.next() * 16)];
    return s;
  }
  /** Lowercase letters and digits, the alphabet of newer Spotify user ids. */
  alnumLower(length: number): string {
    let s = '';
    for (let i = 0; i < length; i++) s += 'abcdefghijklmnopqrstuvwxyz0123456789'[Math.floor(this.next() * 36)];
    return s;
  }
  digits(length: number): string {
    let s = '';
    for (let i = 0; i < length; i++) s += String(Math.floor(this.next() * 10));
    return s;
  }
}

/** Spotify ids are 22 characters of base62. */
export const SPOTIFY_ID_RE = /^[0-9A-Za-z]{22}$/;
