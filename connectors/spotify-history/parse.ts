/**
 * Streams the objects of a top-level JSON array (every history file is one) with stream-json's
 * tokenizer and array streamer, chunk by chunk: memory holds one chunk and the objects parsed
 * from it, never the file. Optionally hashes the bytes on the way (the file's identity in state).
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

export interface ArrayReadOptions {
  signal?: AbortSignal;
  /** Feed every byte read to this hash. */
  hash?: Hash;
}

/** The elements of the JSON array in `input`, in order. Throws on anything else than an array. */
export async function* jsonArrayElements(input: Readable, opts: ArrayReadOptions = {}): AsyncGenerator<unknown> {
  const tokens = jsonParser({ packValues: true, streamValues: false }) as (chunk: string | typeof NONE) => Out<unknown>;
  const items = streamArray({}) as (token: unknown) => Out<{ key: number; value: unknown }>;
  const decoder = new StringDecoder('utf8');
  const ready: unknown[] = [];
  const push = (text: string | typeof NONE) => each<unknown>(tokens(text), (tok) => each<{ value: unknown }>(items(tok), (it) => ready.push(it.value)));
  let first = true;
  try {
    for await (const chunk of input) {
      opts.signal?.throwIfAborted();
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
      opts.hash?.update(buf);
      let text = decoder.write(buf);
      if (first && text.length) {
        if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
        first = false;
      }
      push(text);
      // Hand the objects of this chunk over before reading the next one.
      for (let i = 0; i < ready.length; i++) {
        if (opts.signal?.aborted) opts.signal.throwIfAborted();
        yield ready[i];
      }
      ready.length = 0;
    }
    push(decoder.end());
    push(NONE);
    for (const v of ready) yield v;
  } finally {
    input.destroy();
  }
}

export function sha256(): Hash {
  return createHash('sha256');
}
