/**
 * A realistic Spotify data download, generated deterministically from a seed and streamed to disk
 * (never held in memory, so the benchmark can write gigabytes):
 *
 *   my_spotify_data/Spotify Extended Streaming History/Streaming_History_Audio_2019-2020_0.json ...
 *   my_spotify_data/Spotify Extended Streaming History/Streaming_History_Video_2019-2026.json
 *   my_spotify_data/Spotify Account Data/StreamingHistory_music_0.json, StreamingHistory_podcast_0.json,
 *                   Userdata.json (not history: never read)
 *   my_spotify_data_2022-06/MyData/endsong_0.json ...  an older re-download: the same plays up to
 *                   June 2022 under the pre-2023 file name (duplicates the table must absorb)
 *
 * or the same as zips (`zip: true`). Plays mix tracks, episodes, audiobook chapters and plays with
 * no metadata; fields are null where Spotify leaves them null. Track ids come from a catalog
 * another sandbox of the same lake shares (the Spotify sandbox's, so joins with the Web API tables
 * work) when one is given, else from a synthetic one.
 */
import { seededRandom } from '../../../core/plugin-api.ts';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { once } from 'node:events';
import { normalizePlay, type Raw } from '../normalize.ts';
import type { HistoryFileKind } from '../files.ts';
import { policies } from '../config.ts';
import { writeZip } from './zip.ts';
import { tasteHistory, type TasteHistory, type TasteOptions } from './tastes.ts';

export interface ExportOptions {
  /** Default 42. */
  seed?: number;
  /**
   * Track ids, names and episodes to play (the Spotify sandbox's `shared.catalog`, via
   * `peerCatalog`), so the export joins with that sandbox's tables. Absent: a synthetic catalog.
   */
  catalog?: PeerCatalog;
  /** Plays in the Extended Streaming History. Default 2000. */
  plays?: number;
  /** Generate until the extended audio files hold this many bytes (the benchmark); overrides `plays`. */
  targetBytes?: number;
  /** Plays per extended audio / account file. Default 600. */
  playsPerFile?: number;
  /** An older re-download (endsong_*.json) repeating the plays before June 2022. Default true. */
  legacyExport?: boolean;
  /** The Account Data history (last 365 days, no URIs). Default true. */
  accountData?: boolean;
  /** Write zips (`my_spotify_data.zip`, ...) instead of folders. Default false. */
  zip?: boolean;
  /** Keep the expected records in memory (tests). Default true. */
  collect?: boolean;
  /** Called with the bytes written so far (about every MB). */
  onProgress?: (bytes: number) => void;
  /**
   * Track plays that follow latent tastes (tastes.ts: clusters of tracks, sessions within a taste,
   * tastes drifting), over the same years and in the same files; the tracks are the taste model's
   * own (not `catalog`'s), and `result.tastes` keeps the ground truth. `plays` sets their number.
   */
  tastes?: Omit<TasteOptions, 'plays' | 'since' | 'playsPerDay'>;
}

/** What the reader must find: the fields of each play it can be checked on. */
export interface TruthRecord {
  [key: string]: unknown;
  play_id: string;
  ts: string;
  ms_played: number;
  kind: string;
  track_id: string | null;
  format: 'extended' | 'account';
  source_file: string;
}

export interface GeneratedExport {
  /** What `connector.config.path` should be (the folder holding the download(s)). */
  path: string;
  /** History files written, relative to `path`. */
  files: string[];
  bytes: number;
  /** Plays in the Extended Streaming History (without the re-download's repeats). */
  plays: number;
  truth: { extended: TruthRecord[]; account: TruthRecord[] };
  /** Every personal value written, for tests that prove none reaches the lake. */
  personal: { ips: Set<string>; userAgents: Set<string>; usernames: Set<string>; countries: Set<string> };
  /** Where the track ids come from: the shared catalog's `source` (e.g. 'spotify-sandbox'), or 'synthetic'. */
  catalog: string;
  /** With `tastes`: the generated listening with its ground truth (the taste of each track). */
  tastes?: TasteHistory;
}

interface Track { id: string; name: string; artist: string; album: string; duration: number }
interface Episode { id: string; name: string; show: string; duration: number }
interface Chapter { bookId: string; book: string; id: string; title: string; duration: number }
interface Catalog { source: string; favorites: Track[]; tracks: Track[]; episodes: Episode[]; chapters: Chapter[]; username: string }

const SINCE = Date.UTC(2019, 0, 1);
const UNTIL = Date.UTC(2026, 0, 15);
const LEGACY_UNTIL = Date.UTC(2022, 5, 1);
const DAY = 86_400_000;

const prng = seededRandom;

const B62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

class Rand {
  constructor(readonly next: () => number) {}
  int(min: number, max: number) {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)];
  }
  chance(p: number) {
    return this.next() < p;
  }
  id() {
    let s = '';
    for (let i = 0; i < 22; i++) s += B62[Math.floor(this.next() * 62)];
    return s;
  }
}

/**
 * A catalog another sandbox of the same lake shares (the Spotify sandbox's `shared.catalog`), so
 * the export's track ids join with its tables. Checked, not trusted: a malformed one is an error.
 */
export interface PeerCatalog {
  source: string;
  username: string;
  tracks: Track[];
  /** Ids of `tracks` played most. */
  favorites: string[];
  episodes: Episode[];
}

/** `value` as a PeerCatalog, or undefined when there is none; throws naming the first bad field. */
export function peerCatalog(value: unknown): PeerCatalog | undefined {
  if (value === undefined) return undefined;
  const bad = (what: string): never => {
    throw new Error(`spotify-history sandbox: the shared catalog is malformed: ${what}`);
  };
  if (!value || typeof value !== 'object') return bad('not an object');
  const c = value as Record<string, unknown>;
  if (typeof c.source !== 'string' || typeof c.username !== 'string') bad('source and username must be strings');
  const list = (key: string, fields: Record<string, 'string' | 'number'>) => {
    const xs: unknown = c[key];
    if (!Array.isArray(xs) || xs.length === 0) return bad(`${key} must be a non-empty list`);
    const items: unknown[] = xs;
    for (const [i, x] of items.entries()) {
      for (const [f, t] of Object.entries(fields)) if (typeof (x as Record<string, unknown>)?.[f] !== t) bad(`${key}[${i}].${f} must be a ${t}`);
    }
    return items;
  };
  const tracks = list('tracks', { id: 'string', name: 'string', artist: 'string', album: 'string', duration: 'number' }) as Track[];
  const episodes = list('episodes', { id: 'string', name: 'string', show: 'string', duration: 'number' }) as Episode[];
  if (!Array.isArray(c.favorites) || c.favorites.some((f) => typeof f !== 'string')) bad('favorites must be a list of track ids');
  return { source: c.source as string, username: c.username as string, tracks, episodes, favorites: c.favorites as string[] };
}

function loadCatalog(peer: PeerCatalog | undefined, r: Rand): Catalog {
  if (peer) {
    const fav = new Set(peer.favorites);
    return {
      source: peer.source,
      favorites: peer.tracks.filter((t) => fav.has(t.id)),
      tracks: peer.tracks,
      episodes: peer.episodes,
      chapters: syntheticChapters(r),
      username: peer.username,
    };
  }
  const tracks: Track[] = Array.from({ length: 400 }, (_, i) => ({ id: r.id(), name: `Track ${i + 1}`, artist: `Artist ${1 + (i % 60)}`, album: `Album ${1 + (i % 90)}`, duration: r.int(90_000, 420_000) }));
  return {
    source: 'synthetic',
    favorites: tracks.slice(0, 120),
    tracks,
    episodes: Array.from({ length: 40 }, (_, i) => ({ id: r.id(), name: `Episode ${i + 1}`, show: `Show ${1 + (i % 6)}`, duration: r.int(900_000, 5_400_000) })),
    chapters: syntheticChapters(r),
    username: 'zoe.obrien',
  };
}

function syntheticChapters(r: Rand): Chapter[] {
  const books = ['The Quiet Harbor', 'Notes on Rivers', 'Ein Jahr in Berlin'];
  return books.flatMap((book) => {
    const bookId = r.id();
    return Array.from({ length: 8 }, (_, i) => ({ bookId, book, id: r.id(), title: `Chapter ${i + 1}`, duration: r.int(600_000, 2_400_000) }));
  });
}

const PLATFORMS = ['Android OS 12 API 31 (Google, Pixel 6)', 'iOS 17.2.1 (iPhone15,2)', 'Windows 10 (10.0.19045; x64)', 'OS X 14.2.1 [arm 2]', 'web_player linux ;chrome 120.0.0.0;desktop', 'Partner sonos_ppc Sonos;One;', 'Partner google cast_tv;Chromecast;'];
const USER_AGENTS = [
  'Spotify/8.8.96 Android/31 (Pixel 6)',
  'Spotify/8.8.98 iOS/17.2.1 (iPhone15,2)',
  'Spotify/1.2.26.1187 Win32_x86_64/0 (PC desktop)',
  'Spotify/1.2.26.1187 OSX_ARM64/OS X 14.2.1 [arm 2]',
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
  'unknown',
];
const COUNTRIES = ['DE', 'DE', 'DE', 'DE', 'FR', 'NL', 'AT', 'US'];
const REASON_START = ['trackdone', 'trackdone', 'trackdone', 'clickrow', 'fwdbtn', 'backbtn', 'appload', 'playbtn', 'remote'];
const REASON_END = ['trackdone', 'trackdone', 'trackdone', 'fwdbtn', 'endplay', 'logout', 'backbtn', 'unexpected-exit', 'remote'];

/** A JSON array file written element by element, with backpressure; renamed into place on close. */
class ArrayFile {
  private ws: WriteStream;
  private buf = '';
  private count = 0;
  first?: number;
  last?: number;
  /** Expected records of this file: their source_file is known once the file has its final name. */
  readonly truth: TruthRecord[] = [];
  constructor(
    private readonly tmpPath: string,
    private readonly style: 'extended' | 'account',
  ) {
    this.ws = createWriteStream(tmpPath);
  }

  get records(): number {
    return this.count;
  }

  /** Appends one element; returns the bytes it took. */
  async add(obj: Raw, at: number): Promise<number> {
    this.first ??= at;
    this.last = at;
    const body =
      this.style === 'extended'
        ? JSON.stringify(obj, null, 2).replace(/\n/g, '\n  ')
        : `{\n${Object.entries(obj).map(([k, v]) => `    ${JSON.stringify(k)} : ${JSON.stringify(v)}`).join(',\n')}\n  }`;
    const text = `${this.count++ ? ',\n' : '[\n'}  ${body}`;
    this.buf += text;
    if (this.buf.length >= 1 << 20) await this.flush();
    return Buffer.byteLength(text);
  }

  private async flush(): Promise<void> {
    if (!this.buf) return;
    const ok = this.ws.write(this.buf);
    this.buf = '';
    if (!ok) await once(this.ws, 'drain');
  }

  async close(finalPath: string | undefined): Promise<void> {
    this.buf += this.count ? '\n]\n' : '[]\n';
    await this.flush();
    this.ws.end();
    await once(this.ws, 'finish');
    if (finalPath) await rename(this.tmpPath, finalPath);
    else await rm(this.tmpPath);
  }
}

const year = (t: number) => new Date(t).getUTCFullYear();
const years = (a: number, b: number) => (year(a) === year(b) ? `${year(a)}` : `${year(a)}-${year(b)}`);
const KINDS: Record<'audio' | 'video' | 'music' | 'podcast', HistoryFileKind> = {
  audio: { format: 'extended', media: 'audio' },
  video: { format: 'extended', media: 'video' },
  music: { format: 'account', media: 'music' },
  podcast: { format: 'account', media: 'podcast' },
};

/** Writes a generated export under `root`; `advance()` adds new plays later (the kit's incremental suite). */
export class ExportGenerator {
  private readonly r: Rand;
  private catalog!: Catalog;
  private clock = SINCE;
  private audioIndex = 0;
  private downloads = 0;
  private session = { left: 0, platform: '', ip: '', ua: '', country: 'DE' };
  private ips: string[] = [];
  readonly result: GeneratedExport;
  /** Folders are written here; zips are made from it (the zip variant). */
  private readonly staging: string;
  private readonly extDir: string;

  constructor(
    readonly root: string,
    private readonly opts: ExportOptions = {},
  ) {
    this.r = new Rand(prng((opts.seed ?? 42) ^ 0x71570a1));
    this.result = {
      path: root,
      files: [],
      bytes: 0,
      plays: 0,
      truth: { extended: [], account: [] },
      personal: { ips: new Set(), userAgents: new Set(), usernames: new Set(), countries: new Set() },
      catalog: 'synthetic',
    };
    this.staging = opts.zip ? join(root, '.staging') : root;
    this.extDir = join(this.staging, 'my_spotify_data', 'Spotify Extended Streaming History');
  }

  /** Generates the whole export. */
  async generate(): Promise<GeneratedExport> {
    const o = this.opts;
    this.catalog = loadCatalog(o.catalog, this.r);
    this.result.catalog = this.catalog.source;
    this.result.personal.usernames.add(this.catalog.username);
    this.ips = Array.from({ length: 24 }, () => `${this.r.pick([84, 91, 176, 185, 217])}.${this.r.int(0, 255)}.${this.r.int(0, 255)}.${this.r.int(1, 254)}`);
    const accDir = join(this.staging, 'my_spotify_data', 'Spotify Account Data');
    const legacyDir = join(this.staging, 'my_spotify_data_2022-06', 'MyData');
    const withLegacy = o.legacyExport !== false;
    const withAccount = o.accountData !== false;
    await mkdir(this.extDir, { recursive: true });
    if (withAccount) await mkdir(accDir, { recursive: true });
    if (withLegacy) await mkdir(legacyDir, { recursive: true });

    const perFile = o.playsPerFile ?? 600;
    const estimate = o.targetBytes ? Math.ceil(o.targetBytes / 1150) : (o.plays ?? 2000);
    const step = (UNTIL - SINCE) / estimate;
    const accountFrom = UNTIL - 365 * DAY;
    let audio = this.newAudio();
    const video = new ArrayFile(join(this.extDir, '.video.tmp'), 'extended');
    let legacy: ArrayFile | undefined;
    let legacyIndex = 0;
    let music: ArrayFile | undefined;
    let musicIndex = 0;
    const podcast = withAccount ? new ArrayFile(join(accDir, '.podcast.tmp'), 'account') : undefined;
    let lastProgress = 0;

    // Listening with latent tastes: the plays (time, track, ms_played, skipped) come from the taste
    // model, spread over the same years; everything else about a play is generated as usual.
    const tastes = o.tastes ? tasteHistory({ ...o.tastes, plays: estimate, since: SINCE, playsPerDay: estimate / ((UNTIL - SINCE) / DAY) }) : undefined;
    if (tastes) {
      this.result.tastes = tastes;
      this.result.catalog = 'tastes';
    }
    const tasteTracks = new Map(tastes?.tracks.map((t) => [t.id, { id: t.id, name: t.name, artist: t.artist, album: `${t.artist} - Album`, duration: t.duration }]));

    for (let i = 0; o.targetBytes ? this.result.bytes < o.targetBytes : i < estimate; i++) {
      const tp = tastes?.plays[i];
      if (tastes && !tp) break;
      this.clock = tp ? Date.parse(tp.ts) : this.clock + Math.max(1000, Math.round(step * (0.2 + 1.6 * this.r.next())));
      const raw = this.play(this.clock, !tp, tp ? { track: tasteTracks.get(tp.track_id)!, ms: tp.ms_played, skipped: tp.skipped } : undefined);
      const isVideo = raw.spotify_episode_uri !== null && this.r.chance(0.3);
      await this.write(isVideo ? video : audio, raw, isVideo ? 'video' : 'audio');
      this.result.plays++;
      if (!isVideo && audio.records >= perFile) {
        await this.closeAudio(audio);
        audio = this.newAudio();
      }
      if (withLegacy && this.clock < LEGACY_UNTIL) {
        legacy ??= new ArrayFile(join(legacyDir, `.endsong_${legacyIndex}.tmp`), 'extended');
        // The pre-2023 export: the same plays, with the IP under its old name.
        const { ip_addr, ...rest } = raw;
        await this.write(legacy, { ...rest, ip_addr_decrypted: ip_addr }, 'audio');
        if (legacy.records >= perFile) {
          await this.close(legacy, join(legacyDir, `endsong_${legacyIndex++}.json`));
          legacy = undefined;
        }
      }
      if (podcast && this.clock >= accountFrom) {
        if (raw.spotify_track_uri) {
          music ??= new ArrayFile(join(accDir, `.music_${musicIndex}.tmp`), 'account');
          await this.write(music, { endTime: minute(this.clock), artistName: raw.master_metadata_album_artist_name, trackName: raw.master_metadata_track_name, msPlayed: raw.ms_played }, 'music');
          if (music.records >= perFile) {
            await this.close(music, join(accDir, `StreamingHistory_music_${musicIndex++}.json`));
            music = undefined;
          }
        } else if (raw.spotify_episode_uri) {
          await this.write(podcast, { endTime: minute(this.clock), podcastName: raw.episode_show_name, episodeName: raw.episode_name, msPlayed: raw.ms_played }, 'podcast');
        }
      }
      if (o.onProgress && this.result.bytes - lastProgress > 1 << 20) {
        lastProgress = this.result.bytes;
        o.onProgress(this.result.bytes);
      }
    }
    await this.closeAudio(audio);
    await this.close(video, video.records ? join(this.extDir, `Streaming_History_Video_${years(video.first!, video.last!)}.json`) : undefined);
    if (legacy) await this.close(legacy, join(legacyDir, `endsong_${legacyIndex}.json`));
    if (music) await this.close(music, join(accDir, `StreamingHistory_music_${musicIndex}.json`));
    if (podcast) await this.close(podcast, podcast.records ? join(accDir, 'StreamingHistory_podcast_0.json') : undefined);
    if (withAccount) {
      // Not listening history: the reader must leave it alone.
      await writeFile(join(accDir, 'Userdata.json'), JSON.stringify({ username: this.catalog.username, email: 'zoe.obrien@example.com', country: 'DE', birthdate: '1990-04-01' }, null, 2));
    }
    await writeFile(join(this.extDir, 'ReadMeFirst_ExtendedStreamingHistory.pdf'), '%PDF-1.4\n% placeholder\n');
    if (o.zip) {
      await this.zip('my_spotify_data', 'my_spotify_data.zip');
      if (withLegacy) await this.zip('my_spotify_data_2022-06', 'my_spotify_data_2022-06.zip');
    }
    return this.result;
  }

  /**
   * New plays after everything generated so far, in a new audio file; in the zip variant as a new
   * download (`my_spotify_data (1).zip`: everything again plus the new file). Returns its truth.
   */
  async advance(plays = 25): Promise<TruthRecord[]> {
    const audio = this.newAudio();
    for (let i = 0; i < plays; i++) {
      this.clock += this.r.int(60_000, 3_600_000);
      const raw = this.play(this.clock, false);
      await this.write(audio, raw, 'audio');
      this.result.plays++;
    }
    const added = [...audio.truth];
    if (this.opts.zip) this.downloads++;
    await this.closeAudio(audio);
    if (this.opts.zip) await this.zip('my_spotify_data', `my_spotify_data (${this.downloads}).zip`);
    return added;
  }

  private newAudio(): ArrayFile {
    return new ArrayFile(join(this.extDir, `.audio_${this.audioIndex}.tmp`), 'extended');
  }

  private async write(f: ArrayFile, raw: Raw, media: keyof typeof KINDS): Promise<void> {
    this.result.bytes += await f.add(raw, this.clock);
    if (this.opts.collect === false) return;
    const kind = KINDS[media];
    const rec = normalizePlay(raw, { sourceFile: '', kind, policy: policies({}) })!;
    const t: TruthRecord = { play_id: rec.play_id as string, ts: rec.ts as string, ms_played: rec.ms_played as number, kind: rec.kind as string, track_id: rec.track_id as string | null, format: kind.format, source_file: '' };
    f.truth.push(t);
    this.result.truth[kind.format].push(t);
  }

  private async closeAudio(audio: ArrayFile): Promise<void> {
    const index = this.audioIndex++;
    await this.close(audio, audio.records ? join(this.extDir, `Streaming_History_Audio_${years(audio.first!, audio.last!)}_${index}.json`) : undefined);
  }

  private async close(f: ArrayFile, final: string | undefined): Promise<void> {
    await f.close(final);
    if (!final) return;
    const name = this.sourceName(final);
    for (const t of f.truth) t.source_file = name;
    this.result.files.push(name);
  }

  /** A file's `source_file` as the reader names it: relative to the export path; in a zip as `<zip>/<entry>`. */
  private sourceName(full: string): string {
    if (!this.opts.zip) return rel(this.root, full);
    const [download, ...inside] = rel(this.staging, full).split('/');
    const zip = download === 'my_spotify_data' && this.downloads ? `my_spotify_data (${this.downloads}).zip` : `${download}.zip`;
    return `${zip}/${inside.join('/')}`;
  }

  /** Zips one download folder of the staging area (entries relative to it, as Spotify's zips are). */
  private async zip(download: string, zipName: string): Promise<void> {
    const dir = join(this.staging, download);
    const entries = await readdir(dir, { recursive: true, withFileTypes: true });
    const files = entries
      .filter((e) => e.isFile() && !e.name.startsWith('.'))
      .map((e) => ({ name: rel(dir, join(e.parentPath, e.name)), path: join(e.parentPath, e.name) }))
      .sort((a, b) => (a.name < b.name ? -1 : 1));
    await writeZip(join(this.root, zipName), files);
  }

  /** One raw play of the Extended Streaming History at `t`. */
  private play(t: number, mayBeEpisode = true, given?: { track: Track; ms: number; skipped: boolean }): Raw {
    const r = this.r;
    const c = this.catalog;
    if (this.session.left-- <= 0) {
      this.session = { left: r.int(5, 40), platform: r.pick(PLATFORMS), ip: r.pick(this.ips), ua: r.pick(USER_AGENTS), country: r.pick(COUNTRIES) };
      this.result.personal.ips.add(this.session.ip);
      this.result.personal.userAgents.add(this.session.ua);
      this.result.personal.countries.add(this.session.country);
    }
    const roll = r.next();
    let track: Track | undefined;
    let episode: Episode | undefined;
    let chapter: Chapter | undefined;
    if (given) track = given.track;
    else if (roll < 0.84 || !mayBeEpisode) track = r.chance(0.7) ? r.pick(c.favorites.length ? c.favorites : c.tracks) : r.pick(c.tracks);
    else if (roll < 0.95) episode = r.pick(c.episodes);
    // Audiobooks came to Spotify in late 2022 (and so never appear in the older re-download).
    else if (roll < 0.97 && t >= LEGACY_UNTIL) chapter = r.pick(c.chapters);
    const duration = track?.duration ?? episode?.duration ?? chapter?.duration ?? r.int(1000, 200_000);
    const full = given ? given.ms >= duration : r.chance(0.6);
    const ms = given ? given.ms : full ? duration : r.chance(0.25) ? r.int(0, 29_999) : r.int(30_000, duration);
    const offline = r.chance(0.06);
    return {
      ts: new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      username: c.username,
      platform: this.session.platform,
      ms_played: Math.min(ms, duration),
      conn_country: this.session.country,
      ip_addr: this.session.ip,
      user_agent_decrypted: this.session.ua,
      master_metadata_track_name: track?.name ?? null,
      master_metadata_album_artist_name: track?.artist ?? null,
      master_metadata_album_album_name: track?.album ?? null,
      spotify_track_uri: track ? `spotify:track:${track.id}` : null,
      episode_name: episode?.name ?? null,
      episode_show_name: episode?.show ?? null,
      spotify_episode_uri: episode ? `spotify:episode:${episode.id}` : null,
      audiobook_title: chapter?.book ?? null,
      audiobook_uri: chapter ? `spotify:audiobook:${chapter.bookId}` : null,
      audiobook_chapter_uri: chapter ? `spotify:chapter:${chapter.id}` : null,
      audiobook_chapter_title: chapter?.title ?? null,
      reason_start: r.pick(REASON_START),
      reason_end: full ? 'trackdone' : r.pick(REASON_END),
      shuffle: r.chance(0.35),
      // Older exports have no skip data.
      skipped: t < Date.UTC(2020, 0, 1) ? null : given ? given.skipped : !full && r.chance(0.5),
      offline,
      // Seconds in older exports, milliseconds in newer ones; 0 when not offline.
      offline_timestamp: offline ? (t < LEGACY_UNTIL ? Math.floor((t - r.int(0, 3 * DAY)) / 1000) : t - r.int(0, 3 * DAY)) : 0,
      incognito_mode: r.chance(0.02),
    };
  }
}

function minute(t: number): string {
  return new Date(t).toISOString().slice(0, 16).replace('T', ' ');
}

function rel(root: string, full: string): string {
  return relative(root, full).split(sep).join('/');
}

/** Generates an export into `root` (created if missing). */
export async function generateExport(root: string, opts: ExportOptions = {}): Promise<GeneratedExport> {
  await mkdir(root, { recursive: true });
  return new ExportGenerator(root, opts).generate();
}

