import { mkdir, readFile, rename, rm, writeFile, readdir } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { randomBytes } from 'node:crypto';
import { assertKey, type Storage } from './storage.ts';
import { crashPoint } from '../crash.ts';

/** The embedded default: a folder on disk. Writes go to a temp file and are renamed into place. */
export class LocalStorage implements Storage {
  constructor(readonly root: string) {}

  get location(): string {
    return this.root;
  }

  path(key: string): string {
    assertKey(key);
    return join(this.root, ...key.split('/'));
  }

  async put(key: string, body: Buffer | string): Promise<void> {
    const file = this.path(key);
    await mkdir(dirname(file), { recursive: true });
    const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
    await writeFile(tmp, body);
    crashPoint(`write ${key}: temp file written`);
    await rename(tmp, file);
    crashPoint(`write ${key}: renamed into place`);
  }

  async get(key: string): Promise<Buffer | undefined> {
    try {
      return await readFile(this.path(key));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  async list(prefix: string): Promise<string[]> {
    const out: string[] = [];
    // Walk only the folder the prefix names, then filter by the remaining partial name.
    const cut = prefix.lastIndexOf('/');
    const dir = cut >= 0 ? prefix.slice(0, cut) : '';
    const start = join(this.root, ...dir.split('/').filter(Boolean));
    const walk = async (d: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(d, { withFileTypes: true });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw e;
      }
      for (const ent of entries) {
        const full = join(d, ent.name);
        if (ent.isDirectory()) await walk(full);
        else if (!ent.name.endsWith('.tmp')) {
          const key = relative(this.root, full).split(sep).join('/');
          if (key.startsWith(prefix)) out.push(key);
        }
      }
    };
    await walk(start);
    return out.sort();
  }

  async delete(key: string): Promise<void> {
    await rm(this.path(key), { force: true });
    crashPoint(`delete ${key}`);
  }
}
