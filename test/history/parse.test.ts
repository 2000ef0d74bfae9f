/**
 * History files within the cap are parsed whole with JSON.parse, larger ones streamed: both paths
 * give the same elements, in the same order, and the same error for a broken file; the hash sees
 * every byte; past the cap nothing more than the cap is held before elements flow.
 */
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { jsonArrayElements, sha256, type ArrayReadOptions } from '../../connectors/spotify-history/parse.ts';

/** The bytes as a stream of `chunk`-byte pieces. */
const streamOf = (bytes: Buffer, chunk = 7) =>
  Readable.from(
    (function* () {
      for (let i = 0; i < bytes.length; i += chunk) yield bytes.subarray(i, i + chunk);
    })(),
  );

interface Outcome {
  items: string[];
  protos: boolean[];
  error?: string;
  hash: string;
}

async function outcome(bytes: Buffer, opts: ArrayReadOptions): Promise<Outcome> {
  const hash = sha256();
  const out: Outcome = { items: [], protos: [], hash: '' };
  try {
    for await (const v of jsonArrayElements(streamOf(bytes), { ...opts, hash })) {
      out.items.push(JSON.stringify(v) ?? String(v));
      out.protos.push(v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype);
    }
  } catch (e) {
    out.error = (e as Error).message;
  }
  // A broken file's hash is never used (its import fails): the streaming parser stops at the defect.
  out.hash = out.error ? '' : hash.digest('hex');
  return out;
}

const INPUTS: Array<[string, string | Buffer]> = [
  ['a pretty-printed array with a BOM and multi-byte text', '\ufeff' + JSON.stringify([{ a: 'Zoë – 東京 🎧', b: [1, 2, { c: null }] }, { a: 'x'.repeat(600) }, {}], null, 2)],
  ['an empty array', '  [ ]  \n'],
  ['an empty file', ''],
  ['only whitespace', ' \n '],
  ['an object, not an array', '{"ts": "2020-01-01T00:00:00Z"}'],
  ['a truncated array', '[{"a":1},{"a":2},{"a":'],
  ['trailing text', '[{"a":1},{"a":2}] x'],
  ['a trailing comma', '[{"a":1},]'],
  ['two arrays', '[{"a":1}][{"b":2}]'],
  ['elements that are no objects', '[1, "two", null, true, [3], -0, 1e400, 12345678901234567890]'],
  ['escapes and a lone surrogate', '[{"a":"\\ud800","b":"\\u00e9\\n\\"","c":"\\/"}]'],
  ['a duplicate key and __proto__', '[{"a":1,"b":2,"a":3},{"__proto__":{"x":1},"y":2}]'],
  ['a raw control character in a string', '[{"s":"tab\there"}]'],
  ['a defect after good elements', '[{"a":1},{"a":2},{"a":3} {"a":4}]'],
  ['invalid UTF-8 in a string', Buffer.concat([Buffer.from('[{"s":"a'), Buffer.from([0xff, 0xc3]), Buffer.from('b"}]')])],
  ['two BOMs', '\ufeff\ufeff[]'],
  ['single-quoted strings', "[{'a':1}]"],
];

describe('whole-file and streaming parse agree', () => {
  it.each(INPUTS)('%s', async (_, input) => {
    const bytes = Buffer.from(input);
    const streamed = await outcome(bytes, { wholeFileMaxBytes: 0 });
    const whole = await outcome(bytes, {});
    const sized = await outcome(bytes, { size: bytes.length });
    expect(whole).toEqual(streamed);
    expect(sized).toEqual(streamed);
    if (!whole.error) expect(whole.hash).toBe(createHash('sha256').update(bytes).digest('hex'));
  });

  it('a file found larger than the cap while reading is streamed from its first byte: same elements, same hash', async () => {
    const items = Array.from({ length: 300 }, (_, i) => ({ i, s: 'é'.repeat(i % 17) }));
    const bytes = Buffer.from(JSON.stringify(items, null, 2));
    const capped = await outcome(bytes, { wholeFileMaxBytes: 1000 });
    expect(capped).toEqual(await outcome(bytes, {}));
    expect(capped.items).toEqual(items.map((x) => JSON.stringify(x)));
  });
});

describe('memory: what is read before the first element', () => {
  const items = Array.from({ length: 2000 }, (_, i) => ({ i, name: `track ${i}` }));
  const bytes = Buffer.from(JSON.stringify(items));

  /** Bytes pulled from the input when the first element came out. */
  async function readBeforeFirst(opts: ArrayReadOptions): Promise<number> {
    let pulled = 0;
    const input = Readable.from(
      (function* () {
        for (let i = 0; i < bytes.length; i += 512) {
          const b = bytes.subarray(i, i + 512);
          pulled += b.length;
          yield b;
        }
      })(),
      { highWaterMark: 1 },
    );
    for await (const v of jsonArrayElements(input, opts)) {
      expect(v).toEqual(items[0]);
      return pulled;
    }
    throw new Error('no element');
  }

  it('a file within the cap is read whole, then parsed', async () => {
    expect(await readBeforeFirst({})).toBe(bytes.length);
  });

  it('a file declared larger than the cap is streamed at once; one of unknown size once past the cap', async () => {
    expect(await readBeforeFirst({ size: bytes.length, wholeFileMaxBytes: 4096 })).toBeLessThan(4 * 512);
    const unknown = await readBeforeFirst({ wholeFileMaxBytes: 4096 });
    expect(unknown).toBeGreaterThan(4096);
    expect(unknown).toBeLessThan(4096 + 4 * 512);
  });
});
