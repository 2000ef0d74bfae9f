/**
 * The spotify-history sandbox: there is no API to imitate, so it writes a generated export (see
 * generate.ts) into a temp folder and hands the plugin `{ path }`. Options: `plays` (default
 * 2000), `zip` (the zip variant), `legacyExport`, `accountData`, `seed`; `peers.spotify.catalog`
 * (what the Spotify sandbox of the same lake shares) makes the export's track ids that catalog's.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { JsonRecord, SandboxHandle, SandboxOptions, StreamSpec } from '../../../core/plugin-api.ts';
import { formatsFor, type FormatChoice } from '../read.ts';
import { ExportGenerator, peerCatalog, type ExportOptions, type GeneratedExport } from './generate.ts';

export { ExportGenerator, generateExport, peerCatalog, type ExportOptions, type PeerCatalog, type GeneratedExport, type TruthRecord } from './generate.ts';

export interface HistorySandbox extends SandboxHandle {
  export: GeneratedExport;
}

export async function startHistorySandbox(options: SandboxOptions = {}): Promise<HistorySandbox> {
  const root = await mkdtemp(join(tmpdir(), 'spotify-export-'));
  const seed = options.seed ?? 42;
  const opts: ExportOptions = {
    seed,
    plays: typeof options.plays === 'number' ? options.plays : 2000,
    zip: options.zip === true,
    legacyExport: options.legacyExport !== false,
    accountData: options.accountData !== false,
    catalog: peerCatalog(options.peers?.spotify?.catalog),
  };
  const gen = new ExportGenerator(root, opts);
  let exp: GeneratedExport;
  try {
    exp = await gen.generate();
  } catch (e) {
    await rm(root, { recursive: true, force: true });
    throw e;
  }
  return {
    url: pathToFileURL(exp.path).href,
    // A salt only matters when a personal field is hashed; the kit checks it never leaks.
    config: { path: exp.path, hash_salt: `sandbox-salt-${seed}-c0ffee` },
    export: exp,
    async expected(stream: StreamSpec): Promise<JsonRecord[]> {
      const formats = formatsFor((stream.params.formats as FormatChoice | undefined) ?? 'auto', new Set(['extended', ...(exp.truth.account.length ? ['account' as const] : [])]));
      return [...(formats.has('extended') ? exp.truth.extended : []), ...(formats.has('account') ? exp.truth.account : [])].map((t) => ({ ...t }));
    },
    async advance() {
      await gen.advance();
    },
    close: () => rm(root, { recursive: true, force: true }),
  };
}
