/**
 * The Storage contract (core/storage/storage.ts) as a reusable suite: every implementation must
 * pass it, so a lake written by one is read the same way by another (local disk and S3 keys are
 * identical).
 *
 *   storageContract('LocalStorage', async () => new LocalStorage(await mkdtemp(...)));
 *
 * `make` must return an empty, isolated storage on every call. `multipartThreshold` is a hint
 * for implementations that upload large objects in parts (so the large-object test exercises
 * that path quickly); others ignore it.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Storage } from '../../core/storage/storage.ts';

export interface StorageFactoryOptions {
  /** Upload objects above this many bytes in parts (the suite passes 5 MiB for its 12 MB object). */
  multipartThreshold?: number;
}

export type StorageFactory = (opts?: StorageFactoryOptions) => Promise<Storage>;

/** Runs `fn` over `items` with at most `n` at a time. */
async function pool<T>(items: T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}

function shuffled<T>(xs: T[]): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

export function storageContract(name: string, make: StorageFactory): void {
  describe(`Storage contract: ${name}`, () => {
    it('round-trips binary bytes exactly, and strings as UTF-8', async () => {
      const s = await make();
      const every = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      const random = randomBytes(64 * 1024);
      await s.put('bin/every-byte', every);
      await s.put('bin/random.gz', random);
      await s.put('bin/empty', Buffer.alloc(0));
      await s.put('txt/hello.json', '{"häll": "ö ✓ 🎵"}\n');
      expect((await s.get('bin/every-byte'))!.equals(every)).toBe(true);
      expect((await s.get('bin/random.gz'))!.equals(random)).toBe(true);
      const empty = await s.get('bin/empty');
      expect(empty).toBeInstanceOf(Buffer);
      expect(empty!.length).toBe(0);
      expect((await s.get('txt/hello.json'))!.toString('utf8')).toBe('{"häll": "ö ✓ 🎵"}\n');
    });

    it('overwrites an object in place (one key, the new bytes)', async () => {
      const s = await make();
      await s.put('_state/plays.json', '{"cursor": 1}');
      await s.put('_state/plays.json', '{"cursor": 2, "longer": true}');
      expect((await s.get('_state/plays.json'))!.toString()).toBe('{"cursor": 2, "longer": true}');
      await s.put('_state/plays.json', 'x');
      expect((await s.get('_state/plays.json'))!.toString()).toBe('x');
      expect(await s.list('_state/')).toEqual(['_state/plays.json']);
    });

    it('answers a missing key with undefined, and lists nothing under a missing prefix', async () => {
      const s = await make();
      expect(await s.get('_runs/nope.json')).toBeUndefined();
      expect(await s.get('never/written/deep/key')).toBeUndefined();
      expect(await s.list('never/')).toEqual([]);
      expect(await s.list('')).toEqual([]);
      await expect(s.delete('never/written')).resolves.toBeUndefined();
    });

    it('lists by string prefix, sorted, whatever the write order', async () => {
      const s = await make();
      const keys = ['raw/b/2.jsonl.gz', 'raw/a/2.jsonl.gz', 'raw/ab/1.jsonl.gz', 'raw/a/1.jsonl.gz', 'raw/a/10.jsonl.gz', '_runs/r1.json', 'rawx/1'];
      for (const k of shuffled(keys)) await s.put(k, k);
      expect(await s.list('raw/a/')).toEqual(['raw/a/1.jsonl.gz', 'raw/a/10.jsonl.gz', 'raw/a/2.jsonl.gz']);
      // A prefix is a string prefix, not a folder: `raw/a` also matches `raw/ab/...`.
      expect(await s.list('raw/a')).toEqual(['raw/a/1.jsonl.gz', 'raw/a/10.jsonl.gz', 'raw/a/2.jsonl.gz', 'raw/ab/1.jsonl.gz']);
      expect(await s.list('raw/')).toEqual(['raw/a/1.jsonl.gz', 'raw/a/10.jsonl.gz', 'raw/a/2.jsonl.gz', 'raw/ab/1.jsonl.gz', 'raw/b/2.jsonl.gz']);
      expect(await s.list('raw')).toEqual([...keys].filter((k) => k.startsWith('raw')).sort());
      expect(await s.list('')).toEqual([...keys].sort());
      expect(await s.list('raw/a/1')).toEqual(['raw/a/1.jsonl.gz', 'raw/a/10.jsonl.gz']);
    });

    it('lists more than 1000 keys completely (S3 pages at 1000)', async () => {
      const s = await make();
      const keys = Array.from({ length: 1234 }, (_, i) => `raw/many/dt=2026-01-01/run-${String(i).padStart(5, '0')}.jsonl.gz`);
      await s.put('raw/other/x', 'not listed');
      await pool(shuffled(keys), 32, (k) => s.put(k, 'x'));
      const listed = await s.list('raw/many/');
      expect(listed.length).toBe(keys.length);
      expect(listed).toEqual(keys);
      expect((await s.list('raw/')).length).toBe(keys.length + 1);
    }, 120_000);

    it('keeps nested prefixes apart (Hive-style partitions)', async () => {
      const s = await make();
      const keys = [
        'raw/plays/dt=2026-01-01/r1-00000.jsonl.gz',
        'raw/plays/dt=2026-01-01/r2-00000.jsonl.gz',
        'raw/plays/dt=2026-01-02/r2-00001.jsonl.gz',
        'raw/plays_v2/dt=2026-01-01/r1-00000.jsonl.gz',
        'curated/plays/dt=2026-01-01/part-0.parquet',
      ];
      for (const k of keys) await s.put(k, k);
      expect(await s.list('raw/plays/dt=2026-01-01/')).toEqual(keys.slice(0, 2));
      expect(await s.list('raw/plays/')).toEqual(keys.slice(0, 3));
      expect(await s.list('raw/plays')).toEqual(keys.slice(0, 4));
      expect(await s.list('curated/')).toEqual([keys[4]]);
      for (const k of keys) expect((await s.get(k))!.toString()).toBe(k);
    });

    it('deletes one object and nothing else', async () => {
      const s = await make();
      await s.put('raw/s/dt=2026-01-01/a.jsonl.gz', 'a');
      await s.put('raw/s/dt=2026-01-01/b.jsonl.gz', 'b');
      await s.delete('raw/s/dt=2026-01-01/a.jsonl.gz');
      expect(await s.get('raw/s/dt=2026-01-01/a.jsonl.gz')).toBeUndefined();
      expect(await s.list('raw/')).toEqual(['raw/s/dt=2026-01-01/b.jsonl.gz']);
      await s.delete('raw/s/dt=2026-01-01/a.jsonl.gz'); // twice is fine
      await s.delete('raw/s/dt=2026-01-01/b.jsonl.gz');
      expect(await s.list('raw/')).toEqual([]);
    });

    it('accepts keys with `=`, spaces, punctuation and non-ASCII text', async () => {
      const s = await make();
      const keys = [
        'raw/plays/dt=2026-03-01/hour=07/a.jsonl.gz',
        'raw/künstler/dt=2026-03-01/straße ñ.json',
        'raw/音楽/dt=2026-03-01/曲 🎵.json',
        'raw/misc/a,b;c@d!e(f)~g_h-i.json',
      ];
      for (const k of keys) await s.put(k, `body of ${k}`);
      for (const k of keys) expect((await s.get(k))!.toString('utf8')).toBe(`body of ${k}`);
      expect(await s.list('raw/')).toEqual([...keys].sort());
      expect(await s.list('raw/音楽/')).toEqual([keys[2]]);
      expect(await s.list('raw/plays/dt=2026-03-01/hour=')).toEqual([keys[0]]);
      await s.delete(keys[2]);
      expect(await s.get(keys[2])).toBeUndefined();
    });

    it('stores a multipart-sized object (12 MB) byte for byte', async () => {
      const s = await make({ multipartThreshold: 5 * 1024 * 1024 });
      const big = randomBytes(12 * 1024 * 1024);
      await s.put('raw/big/dt=2026-01-01/r-00000.jsonl.gz', big);
      const back = await s.get('raw/big/dt=2026-01-01/r-00000.jsonl.gz');
      expect(back!.length).toBe(big.length);
      expect(back!.equals(big)).toBe(true);
      expect(await s.list('raw/big/')).toEqual(['raw/big/dt=2026-01-01/r-00000.jsonl.gz']);
    }, 120_000);

    it('rejects invalid keys on put, get and delete', async () => {
      const s = await make();
      const bad = ['', '/abs/key', 'a//b', 'a/../b', '../escape', './a', 'a/.', 'trailing/'];
      for (const k of bad) {
        await expect(s.put(k, 'x'), `put ${JSON.stringify(k)}`).rejects.toThrow(/invalid storage key/);
        await expect(s.get(k), `get ${JSON.stringify(k)}`).rejects.toThrow(/invalid storage key/);
        await expect(s.delete(k), `delete ${JSON.stringify(k)}`).rejects.toThrow(/invalid storage key/);
      }
      expect(await s.list('')).toEqual([]);
    });

    it('says where it is', async () => {
      const s = await make();
      expect(typeof s.location).toBe('string');
      expect(s.location.length).toBeGreaterThan(0);
    });
  });
}
