/**
 * How each profile renders the ground-truth objects, and the profile rules the routes consult.
 * Truth objects are never mutated: every renderer builds a new plain object.
 */
import type {
  Episode, FullAlbum, FullArtist, FullTrack, LocalTrack, PlaylistItemTruth, PlaylistTruth,
  PrivateUser, PublicUser, SimplifiedAlbum, SimplifiedShow, AlbumGroup,
} from './data.ts';

export type SandboxProfile = 'development' | 'development-legacy' | 'extended';

/**
 * Fields the February 2026 changelog removed from Development Mode responses (doc §3), per object.
 * `stripFields` options are keyed by these field names.
 */
export const REMOVED_FIELDS = {
  track: ['available_markets', 'linked_from', 'popularity'],
  album: ['album_group', 'available_markets', 'label', 'popularity'],
  artist: ['followers', 'popularity'],
  user: ['country', 'email', 'explicit_content', 'followers', 'product'],
  show: ['available_markets', 'publisher'],
} as const;

export const ALL_REMOVED_FIELDS: string[] = [...new Set(Object.values(REMOVED_FIELDS).flat())];

export interface Limit { min: number; max: number; def: number }

export interface ProfileRules {
  profile: SandboxProfile;
  /** Either Development profile. */
  development: boolean;
  /** Removed fields this profile strips (absent, not null: doc §3). */
  strip: Set<string>;
  /** Feb 2026 endpoint removals answer 403 "Forbidden" (doc §2: batch ids, browse, users, top-tracks). */
  feb26Removed: boolean;
  /** Nov 2024 removals answer 403 with no message (doc §2.1: audio features, recommendations…). */
  nov24Removed: boolean;
  /** Playlist items readable only when the user owns or collaborates on the playlist (doc §2.3). */
  ownerRule: boolean;
  /** Spotify-owned editorial playlists answer 404 (doc §2.3, Nov 2024 change). */
  editorialHidden: boolean;
  /** Keys carrying the track/episode in playlist item entries (doc §3, §8). */
  itemKeys: Array<'item' | 'track'>;
  /** Key of the items reference in playlist objects: `items` (Feb 2026) or legacy `tracks`. */
  playlistRefKey: 'items' | 'tracks';
  /** Whether legacy `GET /playlists/{id}/tracks` still answers (doc §2.3). */
  legacyTracksEndpoint: boolean;
  /** Page size of the items page embedded in `GET /playlists/{id}`. */
  embeddedItemsLimit: number;
  limits: {
    search: Limit;
    artistAlbums: Limit;
    playlistItems: Limit;
    legacyTracks: Limit;
  };
}

/**
 * The three profiles (doc §1 "Who gets which behaviour"):
 * - development: apps created since 2026-02-11, every Feb 2026 change applies.
 * - development-legacy: older Dev Mode apps whose endpoint changes were postponed on 2026-03-09.
 *   Observed: `/items` still returned `track`, artist albums still took limit=50 [OBS 2026-03/08].
 *   The sandbox keeps the owner rule, field stripping and the Feb 2026 endpoint 403s (which subset
 *   really applies is [UNCONFIRMED]) but serves the legacy shapes and limits.
 * - extended: nothing of Feb 2026 applies (doc §8); editorial playlists readable (assumes extended
 *   access that predates Nov 2024).
 */
export function profileRules(profile: SandboxProfile, stripFields: Partial<Record<string, boolean>> = {}): ProfileRules {
  const development = profile !== 'extended';
  const strip = new Set<string>();
  if (development) for (const f of ALL_REMOVED_FIELDS) if (stripFields[f] !== false) strip.add(f);
  const legacy = profile === 'development-legacy';
  return {
    profile,
    development,
    strip,
    feb26Removed: development,
    nov24Removed: development,
    ownerRule: development,
    editorialHidden: development,
    itemKeys: profile === 'development' ? ['item'] : legacy ? ['track'] : ['item', 'track'],
    playlistRefKey: profile === 'development' ? 'items' : 'tracks',
    legacyTracksEndpoint: profile !== 'development',
    // Dev `/items` caps limit at 50, so an embedded page of 100 would carry an unusable `next`.
    embeddedItemsLimit: profile === 'development' ? 50 : 100,
    limits: {
      // Search and artist albums: 0..10 (5) in Dev since Feb 2026 (doc §2.1, [SPEC]).
      search: profile === 'development' ? { min: 0, max: 10, def: 5 } : { min: 0, max: 50, def: 20 },
      artistAlbums: profile === 'development' ? { min: 0, max: 10, def: 5 } : { min: 0, max: 50, def: 20 },
      playlistItems: { min: 1, max: 50, def: 20 },
      // Legacy `/tracks` accepted 100 in practice (doc §2.3, sonallux patch).
      legacyTracks: { min: 1, max: 100, def: 100 },
    },
  };
}

export function isEditorialId(id: string): boolean {
  return id.startsWith('37i9dQZF1') || id.startsWith('37i9dQZEVX');
}

/** Whether the sandbox user may read the playlist's items under these rules. */
export function playlistReadable(rules: ProfileRules, p: PlaylistTruth): boolean {
  if (!rules.ownerRule) return true;
  return p.access === 'owned' || p.access === 'collaborative';
}

function omit<T extends object>(obj: T, keys: readonly string[], strip: Set<string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    if (keys.includes(k) && strip.has(k)) continue;
    out[k] = v;
  }
  return out;
}

export function renderArtist(a: FullArtist, r: ProfileRules): Record<string, unknown> {
  return omit(a, REMOVED_FIELDS.artist, r.strip);
}

export function renderSimplifiedAlbum(a: SimplifiedAlbum | FullAlbum, r: ProfileRules, group?: AlbumGroup): Record<string, unknown> {
  const out: Record<string, unknown> = {
    album_type: a.album_type,
    total_tracks: a.total_tracks,
    available_markets: a.available_markets,
    external_urls: a.external_urls,
    href: a.href,
    id: a.id,
    images: a.images,
    name: a.name,
    release_date: a.release_date,
    release_date_precision: a.release_date_precision,
    type: a.type,
    uri: a.uri,
    artists: a.artists,
  };
  // `album_group` only exists on artist-discography items (the artist's relation to the album).
  if (group) out.album_group = group;
  return omit(out, REMOVED_FIELDS.album, r.strip);
}

/** A full album without its `tracks` paging (the route adds it). */
export function renderAlbumBase(a: FullAlbum, r: ProfileRules): Record<string, unknown> {
  const { track_ids: _ids, ...rest } = a;
  return omit(rest, REMOVED_FIELDS.album, r.strip);
}

export function renderTrack(t: FullTrack | LocalTrack, r: ProfileRules): Record<string, unknown> {
  const out = omit(t, REMOVED_FIELDS.track, r.strip);
  out.album = t.is_local ? omit(t.album, REMOVED_FIELDS.album, r.strip) : renderSimplifiedAlbum(t.album, r);
  return out;
}

/** SimplifiedTrackObject (album tracks): no album, external_ids or popularity. */
export function renderSimplifiedTrack(t: FullTrack, r: ProfileRules): Record<string, unknown> {
  const { album: _a, external_ids: _e, popularity: _p, ...rest } = t;
  return omit(rest, REMOVED_FIELDS.track, r.strip);
}

export function renderShow(s: SimplifiedShow, r: ProfileRules): Record<string, unknown> {
  return omit(s, REMOVED_FIELDS.show, r.strip);
}

export function renderEpisode(e: Episode, r: ProfileRules): Record<string, unknown> {
  return { ...e, show: renderShow(e.show, r) };
}

export function renderPrivateUser(u: PrivateUser, r: ProfileRules): Record<string, unknown> {
  return omit(u, REMOVED_FIELDS.user, r.strip);
}

export function renderPublicUser(u: PublicUser, r: ProfileRules): Record<string, unknown> {
  return omit(u, ['followers'], r.strip);
}

export function renderPlaylistItem(
  it: PlaylistItemTruth, r: ProfileRules, keys: Array<'item' | 'track'>, includeEpisodes: boolean,
): Record<string, unknown> {
  let item: Record<string, unknown> | null = null;
  if (it.item) {
    if (it.item.type === 'episode') item = includeEpisodes ? renderEpisode(it.item, r) : null;
    else item = renderTrack(it.item, r);
  }
  const out: Record<string, unknown> = { added_at: it.added_at, added_by: it.added_by, is_local: it.is_local };
  for (const k of keys) out[k] = item;
  out.primary_color = it.primary_color;
  out.video_thumbnail = it.video_thumbnail;
  return out;
}

/** The playlist object without items, in the key order Spotify uses. */
export function renderPlaylistMeta(p: PlaylistTruth): Record<string, unknown> {
  return {
    collaborative: p.collaborative,
    description: p.description,
    external_urls: p.external_urls,
    followers: p.followers,
    href: p.href,
    id: p.id,
    images: p.images,
    name: p.name,
    owner: p.owner,
    primary_color: p.primary_color,
    public: p.public,
    snapshot_id: p.snapshot_id,
    type: p.type,
    uri: p.uri,
  };
}

/**
 * SimplifiedPlaylistObject (`/me/playlists`, search): `items: {href,total}` in Development
 * (doc §2.3, [OBS 2026-09-03]), legacy `tracks: {href,total}` otherwise.
 */
export function renderSimplifiedPlaylist(p: PlaylistTruth, r: ProfileRules, apiBase: string): Record<string, unknown> {
  const { followers: _f, ...meta } = renderPlaylistMeta(p);
  const refPath = r.playlistRefKey === 'items' ? 'items' : 'tracks';
  return { ...meta, [r.playlistRefKey]: { href: `${apiBase}/playlists/${p.id}/${refPath}`, total: p.items.length } };
}
