/**
 * The objects of a top-level JSON array (every history file is one). A file up to a cap (64 MiB;
 * Spotify's are near 12 MB) is read whole and parsed with JSON.parse; a larger one is streamed
 * with stream-json's tokenizer and array streamer, chunk by chunk, so memory is bounded by the cap
 * however large a file is. Optionally hashes the bytes on the way (the file's identity in state).
 */
import { createHash, type Hash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { jsonParser } from 'stream-json/core/parser.js';
import streamArray from 'stream-json/core/streamers/stream-array.js';

// stream-chain's markers are registered symbols, so they need no import of stream-chain itself.
const NONE = Symbol.for('object-stream.none');
const MANY = Symbol.for('object-stream.many');

type Out<T> = T | typeof NONE | { values: T[] };

function each<T>(out: unknown, fn: (v: T) => void): void {
  if (out === NONE || out === undefined) return;
  if (out && typeof out === 'object' && (out as Record<symbol, unknown>)[MANY] === 1) {
    for (const v of (out as { values: T[] }).values) fn(v);
  } else {
    fn(out as T);
  }
}

/**
 * Inputs up to this size are read whole and parsed with JSON.parse (several times faster than the
 * token parser): Spotify caps a history file near 12 MB, so memory is bounded by the largest file.
 * Anything larger, declared or found so while reading, is streamed. A setting of the module so a
 * test (or a benchmark) can force either path; 0 streams everything.
 */
export const parsing = { wholeFileMaxBytes: 64 * 1024 * 1024 };

export interface ArrayReadOptions {
  signal?: AbortSignal;
  /** Feed every byte read to this hash. */
  hash?: Hash;
  /** The input's size in bytes, when known (a file's, a zip entry's): larger than the cap streams at once. */
  size?: number;
  /** Overrides `parsing.wholeFileMaxBytes` for this input. */
  wholeFileMaxBytes?: number;
}

/**
 * The elements of the JSON array in `input`, in order. Throws on anything else than an array.
 * An input within the cap is read whole and parsed with JSON.parse; one that JSON.parse refuses,
 * or that is not an array, is handed to the streaming parser from its first byte in the chunks it
 * was read in, so the elements before a defect and the error are exactly the streaming parser's.
 */
export async function* jsonArrayElements(input: Readable, opts: ArrayReadOptions = {}): AsyncGenerator<unknown> {
  const max = opts.wholeFileMaxBytes ?? parsing.wholeFileMaxBytes;
  try {
    const source = bytes(input, opts);
    if (opts.size !== undefined && opts.size > max) {
      yield* streamElements(source, opts.signal);
      return;
    }
    let chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const next = await source.next();
      if (next.done) break;
      chunks.push(next.value);
      total += next.value.length;
      // Larger than it said (or of unknown size and large): stream it, these bytes first.
      if (total > max) {
        yield* streamElements(concat(chunks, source), opts.signal);
        return;
      }
    }
    // Decoded chunk by chunk as the streaming parser does; the chunks are kept (not concatenated)
    // so a file JSON.parse refuses is replayed to the streaming parser exactly as it was read.
    const decoder = new StringDecoder('utf8');
    let text = chunks.map((c) => decoder.write(c)).join('') + decoder.end();
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    let items: unknown;
    try {
      items = JSON.parse(text);
    } catch {
      items = undefined;
    }
    text = '';
    if (!Array.isArray(items)) {
      yield* streamElements(concat(chunks, source), opts.signal);
      return;
    }
    chunks = [];
    for (let i = 0; i < items.length; i++) {
      if (opts.signal?.aborted) opts.signal.throwIfAborted();
      const item: unknown = items[i];
      // Let what was handed over be collected while the rest is read.
      items[i] = undefined;
      yield item;
    }
  } finally {
    input.destroy();
  }
}

/** The input's chunks as buffers, hashed on the way. */
async function* bytes(input: Readable, opts: ArrayReadOptions): AsyncGenerator<Buffer> {
  for await (const chunk of input) {
    opts.signal?.throwIfAborted();
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    opts.hash?.update(buf);
    yield buf;
  }
}

async function* concat(first: Buffer[], rest: AsyncIterator<Buffer>): AsyncGenerator<Buffer> {
  for (let i = 0; i < first.length; i++) {
    const b = first[i];
    first[i] = Buffer.alloc(0);
    yield b;
  }
  for (;;) {
    const next = await rest.next();
    if (next.done) return;
    yield next.value;
  }
}

/** stream-json's tokenizer and array streamer, chunk by chunk: memory holds one chunk and the objects parsed from it. */
async function* streamElements(chunks: AsyncIterable<Buffer>, signal?: AbortSignal): AsyncGenerator<unknown> {
  const tokens = jsonParser({ packValues: true, streamValues: false }) as (chunk: string | typeof NONE) => Out<unknown>;
  const items = streamArray({}) as (token: unknown) => Out<{ key: number; value: unknown }>;
  const decoder = new StringDecoder('utf8');
  const ready: unknown[] = [];
  const push = (text: string | typeof NONE) => each<unknown>(tokens(text), (tok) => each<{ value: unknown }>(items(tok), (it) => ready.push(it.value)));
  let first = true;
  for await (const buf of chunks) {
    let text = decoder.write(buf);
    if (first && text.length) {
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      first = false;
    }
    push(text);
    // Hand the objects of this chunk over before reading the next one.
    for (let i = 0; i < ready.length; i++) {
      if (signal?.aborted) signal.throwIfAborted();
      yield ready[i];
    }
    ready.length = 0;
  }
  push(decoder.end());
  push(NONE);
  for (const v of ready) yield v;
}

export function sha256(): Hash {
  return createHash('sha256');
}
