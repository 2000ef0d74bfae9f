/**
 * The sandbox's ground truth: one pure function turns (seed, now, size) into the full
 * Extended-mode objects the server renders from. Tests compute their expectations from the same
 * objects, so nothing here may depend on the clock, the port or Math.random.
 *
 * Object URLs (`href`) use the real API base (`SPOTIFY_API_BASE`); the server rewrites that prefix
 * to its own address when it sends a response, so clients that follow `href`s stay offline.
 */
import { Rng, hashString } from './prng.ts';
import {
  ADJECTIVES, FIRST_NAMES, GENRES, LABELS, LAST_NAMES, MARKETS, MESSY_ALBUM_NAMES,
  MESSY_ARTIST_NAMES, MESSY_TRACK_NAMES, NOUNS, PLURALS, SHOW_NAMES, TRACK_WORDS,
} from './words.ts';

export const SPOTIFY_API_BASE = 'https://api.spotify.com/v1';
export const SPOTIFY_OPEN_BASE = 'https://open.spotify.com';
/** Spotify-owned editorial playlists have ids like `37i9dQZF1…` (doc §2.3). */
export const EDITORIAL_ID_PREFIX = '37i9dQZF1';

export interface SandboxSize {
  artists: number;
  albums: number;
  tracks: number;
  episodes: number;
  /** Playlists in `GET /me/playlists`; the first 7 follow a fixed template (see below). */
  playlists: number;
  bigPlaylistItems: number;
  playsHistory: number;
  savedTracks: number;
  followedArtists: number;
}

export const DEFAULT_SIZE: SandboxSize = {
  artists: 150,
  albums: 250,
  tracks: 1500,
  episodes: 40,
  playlists: 7,
  bigPlaylistItems: 1234,
  playsHistory: 300,
  savedTracks: 200,
  followedArtists: 60,
};

// ---------------------------------------------------------------------------------------------
// Object types (Extended-mode shapes of the OpenAPI components, plus sandbox-only bookkeeping)
// ---------------------------------------------------------------------------------------------

export interface ExternalUrls { spotify?: string }
export interface Image { url: string; height: number | null; width: number | null }
export interface Followers { href: null; total: number }

export interface SimplifiedArtist {
  external_urls: ExternalUrls;
  href: string;
  id: string;
  name: string;
  type: 'artist';
  uri: string;
}

export interface FullArtist extends SimplifiedArtist {
  followers: Followers;
  genres: string[];
  images: Image[];
  popularity: number;
}

export type AlbumType = 'album' | 'single' | 'compilation';
export type AlbumGroup = AlbumType | 'appears_on';
export type DatePrecision = 'year' | 'month' | 'day';

export interface SimplifiedAlbum {
  album_type: AlbumType;
  total_tracks: number;
  available_markets: string[];
  external_urls: ExternalUrls;
  href: string;
  id: string;
  images: Image[];
  name: string;
  release_date: string;
  release_date_precision: DatePrecision;
  type: 'album';
  uri: string;
  artists: SimplifiedArtist[];
}

export interface FullAlbum extends SimplifiedAlbum {
  copyrights: Array<{ text: string; type: 'C' | 'P' }>;
  external_ids: { upc: string };
  genres: string[];
  label: string;
  popularity: number;
  /** Sandbox bookkeeping, not an API field: the album's tracks in order (rendered as `tracks`). */
  track_ids: string[];
}

export interface FullTrack {
  album: SimplifiedAlbum;
  artists: SimplifiedArtist[];
  available_markets: string[];
  disc_number: number;
  duration_ms: number;
  explicit: boolean;
  external_ids: { isrc: string };
  external_urls: ExternalUrls;
  href: string;
  id: string;
  is_local: false;
  name: string;
  popularity: number;
  preview_url: string | null;
  track_number: number;
  type: 'track';
  uri: string;
}

/** A local file in a playlist: no Spotify id, `spotify:local:` uri, no album images (doc §2.3). */
export interface LocalTrack {
  album: {
    album_type: null; artists: []; available_markets: []; external_urls: Record<string, never>;
    href: null; id: null; images: []; name: string; release_date: null;
    release_date_precision: null; type: 'album'; uri: null;
  };
  artists: Array<{ external_urls: Record<string, never>; href: null; id: null; name: string; type: 'artist'; uri: null }>;
  available_markets: [];
  disc_number: 0;
  duration_ms: number;
  explicit: false;
  external_ids: Record<string, never>;
  external_urls: Record<string, never>;
  href: null;
  id: null;
  is_local: true;
  name: string;
  popularity: 0;
  preview_url: null;
  track_number: 0;
  type: 'track';
  uri: string;
}

export interface SimplifiedShow {
  available_markets: string[];
  copyrights: Array<{ text: string; type: string }>;
  description: string;
  html_description: string;
  explicit: boolean;
  external_urls: ExternalUrls;
  href: string;
  id: string;
  images: Image[];
  is_externally_hosted: boolean;
  languages: string[];
  media_type: 'audio';
  name: string;
  publisher: string;
  total_episodes: number;
  type: 'show';
  uri: string;
}

export interface Episode {
  audio_preview_url: string | null;
  description: string;
  html_description: string;
  duration_ms: number;
  explicit: boolean;
  external_urls: ExternalUrls;
  href: string;
  id: string;
  images: Image[];
  is_externally_hosted: boolean;
  is_playable: boolean;
  language: string;
  languages: string[];
  name: string;
  release_date: string;
  release_date_precision: DatePrecision;
  type: 'episode';
  uri: string;
  show: SimplifiedShow;
}

export interface PlaylistUser {
  display_name?: string | null;
  external_urls: ExternalUrls;
  href: string;
  id: string;
  type: 'user';
  uri: string;
}

export interface PublicUser {
  display_name: string | null;
  external_urls: ExternalUrls;
  followers: Followers;
  href: string;
  id: string;
  images: Image[];
  type: 'user';
  uri: string;
}

export interface PrivateUser extends PublicUser {
  /** Added May 2026 (doc §1): the stable id to link accounts with. */
  account_id: string;
  country: string;
  email: string;
  explicit_content: { filter_enabled: boolean; filter_locked: boolean };
  product: 'premium' | 'free';
}

export interface PlaylistItemTruth {
  /** ISO seconds, `Z`. */
  added_at: string | null;
  added_by: PlaylistUser | null;
  is_local: boolean;
  /** null: a track that is no longer available ("removed"). */
  item: FullTrack | LocalTrack | Episode | null;
  /** Undocumented keys observed on 2026 playlist items (doc §2.3). */
  primary_color: string | null;
  video_thumbnail: { url: string | null };
}

/**
 * How the sandbox user relates to the playlist, which decides readability in Development
 * profiles (doc §2.3: items only for playlists the user owns or collaborates on; editorial → 404).
 */
export type PlaylistAccess = 'owned' | 'collaborative' | 'followed' | 'editorial';

export interface PlaylistTruth {
  collaborative: boolean;
  description: string;
  external_urls: ExternalUrls;
  followers: Followers;
  href: string;
  id: string;
  /** `null` for the empty playlist, as Spotify sends for playlists without a cover. */
  images: Image[] | null;
  name: string;
  owner: PlaylistUser;
  primary_color: string | null;
  public: boolean;
  snapshot_id: string;
  type: 'playlist';
  uri: string;
  items: PlaylistItemTruth[];
  /** Sandbox bookkeeping, not an API field. */
  access: PlaylistAccess;
  /** Sandbox bookkeeping: created through `POST /me/playlists` while the sandbox ran. */
  created?: boolean;
}

export interface PlayContext {
  type: 'playlist' | 'album' | 'artist';
  href: string;
  external_urls: ExternalUrls;
  uri: string;
}

export interface PlayTruth {
  track_id: string;
  /** ISO 8601 with milliseconds, `Z` (doc §4.2). */
  played_at: string;
  context: PlayContext | null;
}

export interface SavedTrackTruth { added_at: string; track_id: string }

export type TimeRange = 'short_term' | 'medium_term' | 'long_term';

export interface ArtistAlbumRef { album_id: string; album_group: AlbumGroup }

export interface SandboxData {
  seed: number;
  now: number;
  size: SandboxSize;
  user: PrivateUser;
  /** Every user the catalog mentions (the sandbox user included), for `GET /users/{id}`. */
  users: Map<string, PublicUser>;
  artists: Map<string, FullArtist>;
  albums: Map<string, FullAlbum>;
  tracks: Map<string, FullTrack>;
  shows: Map<string, SimplifiedShow>;
  episodes: Map<string, Episode>;
  /** In `GET /me/playlists` order. */
  playlists: PlaylistTruth[];
  /** The whole listening history, newest first; the API serves only the newest 50 (doc §4.2). */
  plays: PlayTruth[];
  /** Newest first (the order of `GET /me/tracks`). */
  savedTracks: SavedTrackTruth[];
  /** Artist ids, sorted ascending: the `/me/following` cursor is the last artist id. */
  followedArtists: string[];
  top: Record<TimeRange, { artists: string[]; tracks: string[] }>;
  /** `GET /artists/{id}/albums` truth, in response order. */
  artistAlbums: Map<string, ArtistAlbumRef[]>;
  /** Ids of the objects carrying guaranteed messy names, for tests. */
  messy: { artistIds: string[]; albumIds: string[]; trackIds: string[] };
}

/** Plays retrievable through `GET /me/player/recently-played` (doc §4.2). */
export const RECENTLY_PLAYED_WINDOW = 50;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

const DAY = 86_400_000;

/** ISO with seconds precision, like `added_at` (`2024-05-01T12:00:00Z`). */
export function isoSeconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

function spotifyRefs(kind: string, id: string) {
  return {
    external_urls: { spotify: `${SPOTIFY_OPEN_BASE}/${kind}/${id}` },
    href: `${SPOTIFY_API_BASE}/${kind}s/${id}`,
    uri: `spotify:${kind}:${id}`,
  };
}

function images(rng: Rng, prefix: string): Image[] {
  const key = rng.hex(24);
  return [
    { url: `https://i.scdn.co/image/${prefix}b273${key}`, height: 640, width: 640 },
    { url: `https://i.scdn.co/image/${prefix}1e02${key}`, height: 300, width: 300 },
    { url: `https://i.scdn.co/image/${prefix}4851${key}`, height: 64, width: 64 },
  ];
}

class IdFactory {
  private readonly used = new Set<string>();
  constructor(private readonly rng: Rng) {}
  next(prefix = ''): string {
    for (;;) {
      const id = prefix + this.rng.base62(22 - prefix.length);
      if (!this.used.has(id)) {
        this.used.add(id);
        return id;
      }
    }
  }
}

function simplifiedArtist(a: FullArtist): SimplifiedArtist {
  return { external_urls: a.external_urls, href: a.href, id: a.id, name: a.name, type: 'artist', uri: a.uri };
}

function simplifiedAlbum(a: FullAlbum): SimplifiedAlbum {
  return {
    album_type: a.album_type, total_tracks: a.total_tracks, available_markets: a.available_markets,
    external_urls: a.external_urls, href: a.href, id: a.id, images: a.images, name: a.name,
    release_date: a.release_date, release_date_precision: a.release_date_precision, type: 'album',
    uri: a.uri, artists: a.artists,
  };
}

function playlistUser(u: PublicUser, withName: boolean): PlaylistUser {
  const out: PlaylistUser = { external_urls: u.external_urls, href: u.href, id: u.id, type: 'user', uri: u.uri };
  if (withName) out.display_name = u.display_name;
  return out;
}

function snapshotId(playlistId: string, items: PlaylistItemTruth[]): string {
  let h = hashString(playlistId);
  for (const it of items) h = hashString(`${h}:${it.item?.uri ?? 'null'}:${it.added_at}`);
  // Real snapshot ids are opaque base64-ish strings starting with "AAAA".
  return 'AAAA' + new Rng(h).base62(28);
}

/**
 * The snapshot after a write that changed the contents: derived from the previous one and the new
 * item sequence, so every content change yields a new id (a revision, as Spotify's are) and a
 * write that leaves the contents as they were keeps it (the routes do not call this then).
 */
export function nextSnapshotId(previous: string, items: PlaylistItemTruth[]): string {
  let h = hashString(previous);
  for (const it of items) h = hashString(`${h}:${it.item?.uri ?? 'null'}`);
  return 'AAAA' + new Rng(h).base62(28);
}

/** A playlist entry the user adds now (write endpoints): `added_by` is the user, without display name. */
export function addedItem(data: SandboxData, item: FullTrack | Episode, at: number): PlaylistItemTruth {
  const me = data.users.get(data.user.id)!;
  return {
    added_at: isoSeconds(at),
    added_by: playlistUser(me, false),
    is_local: false,
    item,
    primary_color: null,
    video_thumbnail: { url: null },
  };
}

/**
 * A playlist the user creates (`POST /me/playlists`): owned by the user, empty, no cover yet
 * (`images: null`, like the generated empty playlist). The id comes from the seeded stream of
 * created playlists, so two sandboxes with the same seed create the same ids.
 */
export function createdPlaylist(
  data: SandboxData,
  fields: { name: string; description: string; public: boolean; collaborative: boolean },
): PlaylistTruth {
  const rng = Rng.derive(data.seed, `created-playlist-${data.playlists.filter((p) => p.created).length}`);
  let id = rng.base62(22);
  while (data.playlists.some((p) => p.id === id)) id = rng.base62(22);
  const me = data.users.get(data.user.id)!;
  return {
    collaborative: fields.collaborative,
    description: fields.description,
    ...spotifyRefs('playlist', id),
    followers: { href: null, total: 0 },
    id,
    images: null,
    name: fields.name,
    owner: playlistUser(me, true),
    primary_color: null,
    public: fields.public,
    snapshot_id: snapshotId(id, []),
    type: 'playlist',
    items: [],
    access: 'owned',
    created: true,
  };
}

// ---------------------------------------------------------------------------------------------
// Generator
// ---------------------------------------------------------------------------------------------

export function generateSandboxData(seed: number, now: number, sizeIn: Partial<SandboxSize> = {}): SandboxData {
  const size: SandboxSize = { ...DEFAULT_SIZE, ...sizeIn };
  size.artists = Math.max(size.artists, 8);
  size.albums = Math.max(size.albums, 4);
  size.tracks = Math.max(size.tracks, size.albums, 10);
  size.playlists = Math.max(size.playlists, 0);
  const ids = new IdFactory(Rng.derive(seed, 'ids'));
  const nowYear = new Date(now).getUTCFullYear();

  // --- users ------------------------------------------------------------------------------
  const urng = Rng.derive(seed, 'users');
  const mkUser = (id: string, display: string | null, followers: number): PublicUser => ({
    display_name: display,
    ...spotifyRefs('user', id),
    followers: { href: null, total: followers },
    images: display ? [{ url: `https://i.scdn.co/image/ab6775700000ee85${urng.hex(24)}`, height: 300, width: 300 }] : [],
    id,
    type: 'user',
  });
  // Newer accounts have 28-char random ids starting with "31".
  const userId = '31' + urng.alnumLower(26);
  const me = mkUser(userId, "Zoë O'Brien", 12);
  const user: PrivateUser = {
    ...me,
    account_id: urng.base62(22),
    country: 'DE',
    email: 'zoe.obrien@example.com',
    explicit_content: { filter_enabled: false, filter_locked: false },
    product: 'premium',
  };
  const alina = mkUser('alina.petrova', 'Алина', 341);
  const kenji = mkUser('31' + urng.alnumLower(26), '健二 (Kenji)', 57);
  const spotify = mkUser('spotify', 'Spotify', 0);
  const users = new Map<string, PublicUser>([[me.id, me], [alina.id, alina], [kenji.id, kenji], [spotify.id, spotify]]);

  // --- artists ----------------------------------------------------------------------------
  const arng = Rng.derive(seed, 'artists');
  const artists = new Map<string, FullArtist>();
  const artistList: FullArtist[] = [];
  const messyArtistIds: string[] = [];
  for (let i = 0; i < size.artists; i++) {
    const id = ids.next();
    let name: string;
    if (i === 0) name = 'Various Artists';
    else if (i - 1 < MESSY_ARTIST_NAMES.length) name = MESSY_ARTIST_NAMES[i - 1];
    else if (i === MESSY_ARTIST_NAMES.length + 1) name = artistList[MESSY_ARTIST_NAMES.length].name; // a duplicate name, different id
    else {
      const p = arng.int(0, 4);
      name = p === 0 ? `The ${arng.pick(ADJECTIVES)} ${arng.pick(PLURALS)}`
        : p === 1 ? `${arng.pick(FIRST_NAMES)} ${arng.pick(LAST_NAMES)}`
        : p === 2 ? `${arng.pick(ADJECTIVES)} ${arng.pick(NOUNS)}`
        : p === 3 ? `DJ ${arng.pick(NOUNS)}`
        : `${arng.pick(NOUNS)}${arng.pick(['', 's', ' Club', ' Society'])}`;
    }
    const popularity = i === 0 ? 0 : arng.int(3, 92);
    const a: FullArtist = {
      ...spotifyRefs('artist', id),
      followers: { href: null, total: Math.round(popularity ** 3 * arng.float() * 3) },
      genres: arng.sample(GENRES, arng.int(0, 3)),
      id,
      images: arng.chance(0.05) ? [] : images(arng, 'ab6761610000'),
      name,
      popularity,
      type: 'artist',
    };
    artists.set(id, a);
    artistList.push(a);
    if (i >= 1 && i <= MESSY_ARTIST_NAMES.length) messyArtistIds.push(id);
  }
  const variousArtists = artistList[0];
  const realArtists = artistList.slice(1);

  // --- albums -----------------------------------------------------------------------------
  const alrng = Rng.derive(seed, 'albums');
  const albums = new Map<string, FullAlbum>();
  const albumList: FullAlbum[] = [];
  const messyAlbumIds: string[] = [];
  for (let i = 0; i < size.albums; i++) {
    const id = ids.next();
    const r = alrng.float();
    const album_type: AlbumType = r < 0.55 ? 'album' : r < 0.9 ? 'single' : 'compilation';
    let albumArtists: FullArtist[];
    if (album_type === 'compilation' && alrng.chance(0.6)) albumArtists = [variousArtists];
    else {
      // The first albums belong to the messy-named artists so those names reach every table.
      const primary = i < messyArtistIds.length ? artists.get(messyArtistIds[i])! : alrng.pick(realArtists);
      albumArtists = [primary];
      if (alrng.chance(0.15)) {
        const second = alrng.pick(realArtists);
        if (second.id !== primary.id) albumArtists.push(second);
      }
    }
    const name = i < MESSY_ALBUM_NAMES.length ? MESSY_ALBUM_NAMES[i]
      : album_type === 'single' ? `${alrng.pick(TRACK_WORDS)} ${alrng.pick(NOUNS)}`
      : album_type === 'compilation' ? `${alrng.pick(['Best of', 'Hits of', 'Essential'])} ${alrng.pick(ADJECTIVES)} ${alrng.int(1995, 2024)}`
      : `${alrng.pick(ADJECTIVES)} ${alrng.pick(NOUNS)}${alrng.chance(0.2) ? ' (Deluxe Edition)' : ''}`;
    // Every precision appears: album 0 is year-only, album 1 month-only (doc: release_date_precision).
    const year = alrng.int(1965, Math.max(1966, nowYear - 1));
    const month = alrng.int(1, 12);
    const day = alrng.int(1, 28);
    const pr = alrng.float();
    const release_date_precision: DatePrecision = i === 0 ? 'year' : i === 1 ? 'month' : pr < 0.08 ? 'year' : pr < 0.15 ? 'month' : 'day';
    const mm = String(month).padStart(2, '0');
    const dd = String(day).padStart(2, '0');
    const release_date = release_date_precision === 'year' ? `${year}` : release_date_precision === 'month' ? `${year}-${mm}` : `${year}-${mm}-${dd}`;
    const label = alrng.pick(LABELS);
    const a: FullAlbum = {
      album_type,
      total_tracks: 0,
      available_markets: alrng.chance(0.03) ? [] : alrng.sample(MARKETS, alrng.int(5, MARKETS.length)).sort(),
      ...spotifyRefs('album', id),
      id,
      images: images(alrng, 'ab67616d0000'),
      name,
      release_date,
      release_date_precision,
      type: 'album',
      artists: albumArtists.map(simplifiedArtist),
      copyrights: [{ text: `© ${year} ${label}`, type: 'C' }, { text: `℗ ${year} ${label}`, type: 'P' }],
      external_ids: { upc: alrng.digits(12) },
      genres: [],
      label,
      popularity: alrng.int(0, 90),
      track_ids: [],
    };
    albums.set(id, a);
    albumList.push(a);
    if (i < MESSY_ALBUM_NAMES.length) messyAlbumIds.push(id);
  }

  // --- tracks -----------------------------------------------------------------------------
  const trng = Rng.derive(seed, 'tracks');
  // Track counts per album, summing to exactly size.tracks: one each, the rest by weight.
  const weights = albumList.map((a) => (a.album_type === 'single' ? 0.25 : a.album_type === 'compilation' ? 2.2 : 1.6) * (0.5 + trng.float()));
  const wsum = weights.reduce((s, w) => s + w, 0);
  const counts = albumList.map(() => 1);
  let remaining = size.tracks - albumList.length;
  const extra = remaining;
  for (let i = 0; i < albumList.length && remaining > 0; i++) {
    const n = Math.min(remaining, Math.floor((extra * weights[i]) / wsum));
    counts[i] += n;
    remaining -= n;
  }
  for (let i = 0; remaining > 0; i = (i + 1) % albumList.length) {
    if (albumList[i].album_type !== 'single') { counts[i]++; remaining--; }
    else if (albumList.every((a) => a.album_type === 'single')) { counts[i]++; remaining--; }
  }

  const tracks = new Map<string, FullTrack>();
  const trackList: FullTrack[] = [];
  const messyTrackIds: string[] = [];
  let trackIndex = 0;
  for (let ai = 0; ai < albumList.length; ai++) {
    const album = albumList[ai];
    const n = counts[ai];
    album.total_tracks = n;
    const discs = n > 14 ? 2 : 1;
    const perDisc = Math.ceil(n / discs);
    const simpleAlbum = simplifiedAlbum(album);
    for (let k = 0; k < n; k++) {
      const id = ids.next();
      const primaryArtists = album.artists[0].id === variousArtists.id
        ? [simplifiedArtist(trng.pick(realArtists))]
        : album.artists.slice();
      const trackArtists = primaryArtists.slice();
      // ~30% of tracks have more than one artist (features).
      const isMulti = trackArtists.length > 1 || trng.chance(0.27);
      if (isMulti && trackArtists.length === 1) {
        for (let f = trng.int(1, 2); f > 0; f--) {
          const feat = trng.pick(realArtists);
          if (!trackArtists.some((x) => x.id === feat.id)) trackArtists.push(simplifiedArtist(feat));
        }
      }
      let name: string;
      if (trackIndex < MESSY_TRACK_NAMES.length) name = MESSY_TRACK_NAMES[trackIndex];
      else {
        const p = trng.int(0, 3);
        name = p === 0 ? trng.pick(TRACK_WORDS)
          : p === 1 ? `${trng.pick(TRACK_WORDS)} ${trng.pick(NOUNS)}`
          : p === 2 ? `${trng.pick(ADJECTIVES)} ${trng.pick(TRACK_WORDS)}`
          : `${trng.pick(TRACK_WORDS)} in the ${trng.pick(NOUNS)}`;
        if (trackArtists.length > 1 && trng.chance(0.5)) name += ` (feat. ${trackArtists[1].name})`;
        else if (trng.chance(0.06)) name += ` - ${trng.pick(['Remastered 2011', 'Live', 'Acoustic', 'Radio Edit'])}`;
      }
      const t: FullTrack = {
        album: simpleAlbum,
        artists: trackArtists,
        available_markets: album.available_markets,
        disc_number: Math.floor(k / perDisc) + 1,
        duration_ms: trng.chance(0.03) ? trng.int(600_000, 1_500_000) : trng.int(95_000, 420_000),
        explicit: trng.chance(0.2),
        external_ids: { isrc: `${trng.pick(['US', 'GB', 'DE', 'JP', 'SE'])}${trng.base62(3).toUpperCase()}${String(trng.int(0, 99)).padStart(2, '0')}${trng.digits(5)}` },
        ...spotifyRefs('track', id),
        id,
        is_local: false,
        name,
        popularity: trng.int(0, 95),
        preview_url: null, // deprecated and mostly null since Nov 2024 (doc §3)
        track_number: (k % perDisc) + 1,
        type: 'track',
      };
      tracks.set(id, t);
      trackList.push(t);
      album.track_ids.push(id);
      if (trackIndex < MESSY_TRACK_NAMES.length) messyTrackIds.push(id);
      trackIndex++;
    }
  }

  // --- shows and episodes -----------------------------------------------------------------
  const erng = Rng.derive(seed, 'episodes');
  const shows = new Map<string, SimplifiedShow>();
  const showList: SimplifiedShow[] = [];
  const nShows = size.episodes > 0 ? Math.min(SHOW_NAMES.length, Math.max(1, Math.ceil(size.episodes / 10))) : 0;
  for (let i = 0; i < nShows; i++) {
    const id = ids.next();
    const s: SimplifiedShow = {
      available_markets: erng.sample(MARKETS, 8).sort(),
      copyrights: [],
      description: `${SHOW_NAMES[i]}: weekly conversations.`,
      html_description: `<p>${SHOW_NAMES[i].replace(/&/g, '&amp;')}: weekly conversations.</p>`,
      explicit: erng.chance(0.3),
      ...spotifyRefs('show', id),
      id,
      images: images(erng, 'ab6765630000'),
      is_externally_hosted: false,
      languages: [erng.pick(['en', 'en-US', 'ja', 'de'])],
      media_type: 'audio',
      name: SHOW_NAMES[i],
      publisher: erng.pick(['Sandbox Media', 'Harbor Audio, Inc.']),
      total_episodes: 0,
      type: 'show',
    };
    shows.set(id, s);
    showList.push(s);
  }
  const episodes = new Map<string, Episode>();
  const episodeList: Episode[] = [];
  for (let i = 0; i < size.episodes; i++) {
    const id = ids.next();
    const show = showList[i % showList.length];
    show.total_episodes++;
    const released = now - erng.int(1, 400) * DAY;
    const ep: Episode = {
      audio_preview_url: null,
      description: `Episode ${i + 1}: ${erng.pick(TRACK_WORDS)}, ${erng.pick(NOUNS).toLowerCase()} and more.`,
      html_description: `<p>Episode ${i + 1}</p>`,
      duration_ms: erng.int(900_000, 5_400_000),
      explicit: show.explicit,
      ...spotifyRefs('episode', id),
      id,
      images: show.images,
      is_externally_hosted: false,
      is_playable: true,
      language: show.languages[0],
      languages: show.languages,
      name: `#${i + 1} ${erng.pick(ADJECTIVES)} ${erng.pick(NOUNS)}`,
      release_date: new Date(released).toISOString().slice(0, 10),
      release_date_precision: 'day',
      type: 'episode',
      uri: `spotify:episode:${id}`,
      show,
    };
    episodes.set(id, ep);
    episodeList.push(ep);
  }
  // Shows embedded in episodes carry the final episode counts.
  for (const ep of episodeList) ep.show = shows.get(ep.show.id)!;

  // --- playlists --------------------------------------------------------------------------
  const prng = Rng.derive(seed, 'playlists');
  const meRef = playlistUser(me, true);
  let localCounter = 0;
  const localTrack = (): LocalTrack => {
    localCounter++;
    const artist = prng.pick(['Unknown Artist', 'Garage Band, The', 'Mum\'s Tapes']);
    const album = prng.pick(['Demo Tapes', 'Rips 2009', 'Voice Memos']);
    const title = `${prng.pick(['Track', 'Demo', 'Recording'])} ${String(localCounter).padStart(2, '0')}`;
    const seconds = prng.int(60, 400);
    const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
    return {
      album: {
        album_type: null, artists: [], available_markets: [], external_urls: {}, href: null, id: null,
        images: [], name: album, release_date: null, release_date_precision: null, type: 'album', uri: null,
      },
      artists: [{ external_urls: {}, href: null, id: null, name: artist, type: 'artist', uri: null }],
      available_markets: [],
      disc_number: 0,
      duration_ms: seconds * 1000,
      explicit: false,
      external_ids: {},
      external_urls: {},
      href: null,
      id: null,
      is_local: true,
      name: title,
      popularity: 0,
      preview_url: null,
      track_number: 0,
      type: 'track',
      uri: `spotify:local:${enc(artist)}:${enc(album)}:${enc(title)}:${seconds}`,
    };
  };

  interface PlaylistTemplate {
    name: string; description: string; access: PlaylistAccess; owner: PublicUser; public: boolean;
    items: number; episodes: number; locals: number; removed: number; duplicates: number; messy: boolean;
    adders: PublicUser[];
  }
  const templates: PlaylistTemplate[] = [
    { name: 'Everything, Ever 🎧', description: 'All the "good" stuff. Since 2014.', access: 'owned', owner: me, public: true,
      items: size.bigPlaylistItems, episodes: 12, locals: 10, removed: 15, duplicates: 6, messy: true, adders: [me] },
    { name: 'Late night, "quiet" mix', description: '', access: 'owned', owner: me, public: false,
      items: 120, episodes: 3, locals: 2, removed: 2, duplicates: 1, messy: false, adders: [me] },
    { name: 'Road trip 🚗 w/ friends', description: 'Add whatever you want!', access: 'collaborative', owner: alina, public: false,
      items: 60, episodes: 0, locals: 0, removed: 1, duplicates: 1, messy: false, adders: [alina, me, kenji] },
    { name: 'New Playlist', description: '', access: 'owned', owner: me, public: true,
      items: 0, episodes: 0, locals: 0, removed: 0, duplicates: 0, messy: false, adders: [me] },
    { name: 'Алина: любимое', description: 'Мои любимые песни', access: 'followed', owner: alina, public: true,
      items: 80, episodes: 0, locals: 0, removed: 1, duplicates: 0, messy: false, adders: [alina] },
    { name: '夜のドライブ', description: 'Night drive / 夜のドライブ', access: 'owned', owner: me, public: true,
      items: 35, episodes: 0, locals: 1, removed: 0, duplicates: 0, messy: false, adders: [me] },
    { name: "Today's Top Hits", description: 'The hottest 50. Cover: <a href="spotify:artist:x">Someone</a>', access: 'editorial', owner: spotify, public: true,
      items: 50, episodes: 0, locals: 0, removed: 0, duplicates: 0, messy: false, adders: [spotify] },
  ];
  // Extra playlists beyond the template (benchmarks): owned, mid-sized.
  for (let i = templates.length; i < size.playlists; i++) {
    templates.push({ name: `Mix #${i + 1}`, description: '', access: 'owned', owner: me, public: i % 2 === 0,
      items: prng.int(10, 150), episodes: 0, locals: 0, removed: 0, duplicates: 1, messy: false, adders: [me] });
  }
  templates.length = Math.min(templates.length, size.playlists);

  const playlists: PlaylistTruth[] = [];
  for (const tpl of templates) {
    const id = tpl.access === 'editorial' ? ids.next(EDITORIAL_ID_PREFIX) : ids.next();
    const n = tpl.items;
    const slots = new Array<'track' | 'episode' | 'local' | 'removed' | 'dup'>(n).fill('track');
    const free = prng.shuffle([...Array(n).keys()].filter((i) => !(tpl.messy && i < messyTrackIds.length + 2)));
    let f = 0;
    const place = (kind: 'episode' | 'local' | 'removed' | 'dup', count: number) => {
      for (let c = 0; c < count && f < free.length; c++) slots[free[f++]] = kind;
    };
    place('episode', Math.min(tpl.episodes, episodeList.length));
    place('local', tpl.locals);
    place('removed', tpl.removed);
    place('dup', tpl.duplicates);
    // Tracks: mostly distinct, in album-ish runs, cycling through a shuffled catalog.
    const pool = prng.shuffle(trackList);
    let pi = 0;
    const nextTrack = () => pool[pi++ % pool.length];
    const start = now - prng.int(200, 3000) * DAY;
    const step = n > 0 ? (now - DAY - start) / n : 0;
    const items: PlaylistItemTruth[] = [];
    const chosen: FullTrack[] = [];
    for (let i = 0; i < n; i++) {
      const addedAt = isoSeconds(start + i * step + prng.int(0, Math.max(0, Math.floor(step / 2))));
      const adder = tpl.adders.length === 1 ? tpl.adders[0] : prng.pick(tpl.adders);
      let item: PlaylistItemTruth['item'];
      if (tpl.messy && i < messyTrackIds.length) item = tracks.get(messyTrackIds[i])!;
      else if (slots[i] === 'episode') item = prng.pick(episodeList);
      else if (slots[i] === 'local') item = localTrack();
      else if (slots[i] === 'removed') item = null;
      else if (slots[i] === 'dup' && chosen.length > 0) item = prng.pick(chosen); // same track twice
      else item = nextTrack();
      if (item && item.type === 'track' && !item.is_local) chosen.push(item);
      items.push({
        added_at: addedAt,
        added_by: tpl.access === 'editorial' ? playlistUser(spotify, false) : playlistUser(adder, false),
        is_local: !!(item && item.type === 'track' && item.is_local),
        item,
        primary_color: null,
        video_thumbnail: { url: null },
      });
    }
    const owner = tpl.owner.id === me.id ? meRef : playlistUser(tpl.owner, true);
    playlists.push({
      collaborative: tpl.access === 'collaborative',
      description: tpl.description,
      ...spotifyRefs('playlist', id),
      followers: { href: null, total: tpl.access === 'editorial' ? 34_512_876 : prng.int(0, 40) },
      id,
      images: n === 0 ? null : [{ url: `https://mosaic.scdn.co/640/${prng.hex(40)}`, height: 640, width: 640 }],
      name: tpl.name,
      owner,
      primary_color: null,
      public: tpl.public,
      snapshot_id: snapshotId(id, items),
      type: 'playlist',
      items,
      access: tpl.access,
    });
  }

  // --- saved tracks -----------------------------------------------------------------------
  const srng = Rng.derive(seed, 'saved');
  const savedPool = srng.sample(trackList, size.savedTracks);
  let savedAt = now - srng.int(1, 48) * 3_600_000;
  const savedTracks: SavedTrackTruth[] = savedPool.map((t) => {
    const entry = { added_at: isoSeconds(savedAt), track_id: t.id };
    savedAt -= srng.int(600, (3 * 365 * DAY) / Math.max(1, size.savedTracks) / 1000 * 2) * 1000;
    return entry;
  });

  // --- followed artists -------------------------------------------------------------------
  const frng = Rng.derive(seed, 'following');
  const followedArtists = frng.sample(realArtists, size.followedArtists).map((a) => a.id).sort();

  // --- plays ------------------------------------------------------------------------------
  const plays = generatePlays(Rng.derive(seed, 'plays'), now, size.playsHistory, trackList, tracks, playlists, savedTracks, messyTrackIds);

  // --- top items --------------------------------------------------------------------------
  const toprng = Rng.derive(seed, 'top');
  const playCounts = new Map<string, number>();
  for (const p of plays) playCounts.set(p.track_id, (playCounts.get(p.track_id) ?? 0) + 1);
  const byCount = [...playCounts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([id]) => id);
  const topArtistsOf = (trackIds: string[], n: number) => {
    const score = new Map<string, number>();
    trackIds.forEach((tid, rank) => {
      for (const a of tracks.get(tid)!.artists) {
        if (a.id === variousArtists.id) continue;
        score.set(a.id, (score.get(a.id) ?? 0) + (trackIds.length - rank));
      }
    });
    return [...score.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, n).map(([id]) => id);
  };
  const withFill = (base: string[], n: number, label: string) => {
    const out = base.slice(0, n);
    const seen = new Set(out);
    for (const t of Rng.derive(seed, label).shuffle(trackList)) {
      if (out.length >= n) break;
      if (!seen.has(t.id)) { out.push(t.id); seen.add(t.id); }
    }
    return out;
  };
  const shortTracks = withFill(byCount, 50, 'top-short');
  const mediumTracks = withFill(toprng.shuffle([...byCount.slice(0, 30), ...savedTracks.slice(0, 60).map((s) => s.track_id)]).filter((v, i, a) => a.indexOf(v) === i), 80, 'top-medium');
  const longTracks = withFill(toprng.shuffle(savedTracks.map((s) => s.track_id)), 100, 'top-long');
  const top: SandboxData['top'] = {
    short_term: { tracks: shortTracks, artists: topArtistsOf(shortTracks, 30) },
    medium_term: { tracks: mediumTracks, artists: topArtistsOf(mediumTracks, 45) },
    long_term: { tracks: longTracks, artists: topArtistsOf(longTracks, 60) },
  };

  // --- artist discographies ---------------------------------------------------------------
  const groupOrder: AlbumGroup[] = ['album', 'single', 'appears_on', 'compilation'];
  const artistAlbums = new Map<string, ArtistAlbumRef[]>();
  for (const album of albumList) {
    const owners = new Set(album.artists.map((a) => a.id));
    for (const id of owners) {
      if (!artistAlbums.has(id)) artistAlbums.set(id, []);
      artistAlbums.get(id)!.push({ album_id: album.id, album_group: album.album_type });
    }
    const guests = new Set<string>();
    for (const tid of album.track_ids) for (const a of tracks.get(tid)!.artists) if (!owners.has(a.id)) guests.add(a.id);
    for (const id of guests) {
      if (!artistAlbums.has(id)) artistAlbums.set(id, []);
      artistAlbums.get(id)!.push({ album_id: album.id, album_group: 'appears_on' });
    }
  }
  for (const refs of artistAlbums.values()) {
    refs.sort((a, b) => {
      const g = groupOrder.indexOf(a.album_group) - groupOrder.indexOf(b.album_group);
      if (g !== 0) return g;
      const da = albums.get(a.album_id)!.release_date;
      const db = albums.get(b.album_id)!.release_date;
      return da < db ? 1 : da > db ? -1 : a.album_id < b.album_id ? -1 : 1;
    });
  }

  return {
    seed, now, size, user, users, artists, albums, tracks, shows, episodes, playlists, plays,
    savedTracks, followedArtists, top, artistAlbums,
    messy: { artistIds: messyArtistIds, albumIds: messyAlbumIds, trackIds: messyTrackIds },
  };
}

/**
 * Listening history: sessions of consecutive plays (each play starts when the previous one ended)
 * separated by breaks, spread over ~10 days before `now`, newest first. The newest play ends a few
 * minutes before `now`, so "the last 24 h" always has plays.
 */
function generatePlays(
  rng: Rng, now: number, count: number, trackList: FullTrack[], tracks: Map<string, FullTrack>,
  playlists: PlaylistTruth[], saved: SavedTrackTruth[], messyTrackIds: string[],
): PlayTruth[] {
  if (count <= 0) return [];
  const readable = playlists.filter((p) => (p.access === 'owned' || p.access === 'collaborative') && p.items.some((i) => i.item?.type === 'track' && !i.item.is_local));
  const byAlbum = new Map<string, FullTrack[]>();
  const byArtist = new Map<string, FullTrack[]>();
  for (const t of trackList) {
    if (!byAlbum.has(t.album.id)) byAlbum.set(t.album.id, []);
    byAlbum.get(t.album.id)!.push(t);
    for (const a of t.artists) {
      if (!byArtist.has(a.id)) byArtist.set(a.id, []);
      byArtist.get(a.id)!.push(t);
    }
  }
  const playlistTracks = new Map(readable.map((p) => [
    p.id, p.items.map((i) => i.item).filter((t): t is FullTrack => !!t && t.type === 'track' && !t.is_local),
  ]));
  const savedList = saved.length > 0 ? saved.map((s) => tracks.get(s.track_id)!) : trackList;
  // Pick the track sequence first (newest first), then lay the timestamps out.
  const seq: Array<{ track: FullTrack; context: PlayContext | null }> = [];
  while (seq.length < count) {
    const sessionLen = Math.min(count - seq.length, rng.int(4, 16));
    const kind = rng.float();
    let source: { tracks: FullTrack[]; context: PlayContext | null };
    if (kind < 0.4 && readable.length > 0) {
      const p = rng.pick(readable);
      source = {
        tracks: playlistTracks.get(p.id)!,
        context: { type: 'playlist', href: p.href, external_urls: p.external_urls, uri: p.uri },
      };
    } else if (kind < 0.65) {
      const album = rng.pick(trackList).album;
      source = {
        tracks: byAlbum.get(album.id)!,
        context: { type: 'album', href: album.href, external_urls: album.external_urls, uri: album.uri },
      };
    } else if (kind < 0.75) {
      const artist = rng.pick(trackList).artists[0];
      source = {
        tracks: byArtist.get(artist.id)!,
        context: { type: 'artist', href: artist.href, external_urls: artist.external_urls, uri: artist.uri },
      };
    } else {
      source = { tracks: savedList, context: null };
    }
    for (let i = 0; i < sessionLen; i++) seq.push({ track: rng.pick(source.tracks), context: source.context });
  }
  // Messy names among the retrievable newest 50, and one back-to-back repeat of the same track.
  const messyPositions = [2, 5, 9, 13];
  messyPositions.forEach((pos, k) => {
    if (pos < seq.length && k < messyTrackIds.length) seq[pos] = { track: tracks.get(messyTrackIds[k])!, context: null };
  });
  if (seq.length > 12) seq[11] = { ...seq[10] };

  // Timestamps, newest first: sessions end at random points in the 10-day span, never overlap.
  const span = 10 * DAY;
  const sessions = Math.max(1, Math.ceil(count / 10));
  const ends = [...Array<undefined>(sessions)].map(() => now - rng.int(0, span)).sort((a, b) => b - a);
  ends[0] = now - rng.int(2, 40) * 60_000;
  const out: PlayTruth[] = [];
  let s = 0;
  let t = ends[0];
  const perSession = Math.ceil(count / sessions);
  for (let i = 0; i < seq.length; i++) {
    if (i > 0 && i % perSession === 0) {
      s++;
      t = Math.min(ends[Math.min(s, ends.length - 1)], t - rng.int(20, 180) * 60_000);
    }
    // `played_at` is when the play finished; jitter in ms, as real values carry milliseconds.
    const playedAt = t - rng.int(0, 999);
    out.push({ track_id: seq[i].track.id, played_at: new Date(playedAt).toISOString(), context: seq[i].context });
    t = playedAt - seq[i].track.duration_ms - rng.int(0, 15_000) - 1000;
  }
  return out;
}
