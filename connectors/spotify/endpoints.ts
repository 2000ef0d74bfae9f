/**
 * The Spotify endpoints this connector offers, as data (see `RestEndpoint` in core/plugin-api.ts).
 * Page sizes, batch sizes, mode rules and scopes follow shared/spotify-api-2026.md; validation,
 * `login` scopes and the tests' minimum request counts are derived from this table, and core's
 * declarative reader reads every endpoint from it (read.ts adds only Spotify's hooks), so adding
 * an endpoint means adding a row here, not a code path.
 */
import type { JsonSchema, Removal, RestEndpoint } from '../../core/plugin-api.ts';
import * as schema from './schemas.ts';

// Page and batch sizes per mode, from these descriptors (the functions core's reader uses).
export { batchSize, pageSize } from '../../core/plugin-api.ts';

/** Development Mode apps created since this day get the February 2026 changes (doc §1). */
const FEB_2026 = '2026-02-11';

/** Parents the API is known to refuse, skipped without spending a request (see read.ts). */
export type ParentRule = 'not_owned' | 'spotify_owned';

/**
 * A Spotify endpoint: core's REST descriptor (read by core's declarative reader), with the parent
 * rules narrowed to the ones read.ts knows.
 */
export interface SpotifyEndpoint extends RestEndpoint {
  skipParents?: Record<string, Array<{ rule: ParentRule; note: string; reason?: string }>>;
}

const market: JsonSchema = {
  type: 'string',
  pattern: '^[A-Z]{2}$',
  description: 'ISO 3166-1 alpha-2 market for track relinking (e.g. DE); omitted: the market of the token',
};

const playlistItemParams: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    additional_types: {
      type: 'string',
      enum: ['track', 'track,episode'],
      default: 'track,episode',
      description: 'Item types to return; with `track` only, episodes come back as null items',
    },
    market,
  },
};

const onlyMarket: JsonSchema = { type: 'object', additionalProperties: false, properties: { market } };

const TIME_RANGES = ['short_term', 'medium_term', 'long_term'];
const topParams: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    time_ranges: {
      type: 'array',
      items: { enum: TIME_RANGES },
      minItems: 1,
      uniqueItems: true,
      default: TIME_RANGES,
      description: 'Time ranges to read, one paged read each: short_term (~4 weeks), medium_term (~6 months), long_term (~1 year). Default: all three',
    },
  },
};

const SEARCH_TYPES = ['track', 'artist', 'album', 'playlist', 'show', 'episode'];

const removedFeb2026 = (change: string, instead: string): { development: { removed: Removal } } => ({
  development: { removed: { date: FEB_2026, change: `the February 2026 Web API changes ${change}`, instead } },
});

export const endpoints: Record<string, SpotifyEndpoint> = {
  // ------------------------------------------------------------------------------------------
  // The user (a user token from `login`)
  // ------------------------------------------------------------------------------------------
  'me/player/recently-played': {
    description: "The user's last 50 plays (Spotify keeps no longer history in the API)",
    path: '/me/player/recently-played',
    auth: 'user',
    scopes: ['user-read-recently-played'],
    // Only the newest 50 plays can ever be retrieved (doc 4.2): one page of 50 covers the window.
    paginator: { type: 'cursor', pageSize: { development: 50, extended: 50 }, cursorParam: 'after', window: 50 },
    recordPath: 'items',
    incremental: { kind: 'cursor', field: 'played_at', format: 'epoch_ms', description: 'plays after the newest `played_at` of the last run (Unix ms `after` cursor)' },
    // More new plays than the window since the last run: the export holds the ones the API dropped.
    gapHint: 'import the streaming-history export',
    recordSchema: schema.playHistory,
  },
  'me/top/artists': {
    description: "The user's top artists per time range (records carry `time_range` and `rank`)",
    path: '/me/top/artists',
    auth: 'user',
    scopes: ['user-top-read'],
    paginator: { type: 'offset', pageSize: { development: 50, extended: 50 }, totalField: 'total' },
    recordPath: 'items',
    fanOut: [{ param: 'time_ranges', query: 'time_range', field: 'time_range' }],
    rankField: 'rank',
    parameters: topParams,
    recordSchema: schema.topArtist,
  },
  'me/top/tracks': {
    description: "The user's top tracks per time range (records carry `time_range` and `rank`)",
    path: '/me/top/tracks',
    auth: 'user',
    scopes: ['user-top-read'],
    paginator: { type: 'offset', pageSize: { development: 50, extended: 50 }, totalField: 'total' },
    recordPath: 'items',
    fanOut: [{ param: 'time_ranges', query: 'time_range', field: 'time_range' }],
    rankField: 'rank',
    parameters: topParams,
    recordSchema: schema.topTrack,
  },
  'me/tracks': {
    description: "The user's saved tracks (`{added_at, track}`), newest first",
    path: '/me/tracks',
    auth: 'user',
    scopes: ['user-library-read'],
    paginator: { type: 'offset', pageSize: { development: 50, extended: 50 }, totalField: 'total' },
    recordPath: 'items',
    // The list is newest first: a run stops at the first item it already has, so an unchanged
    // library costs one request.
    incremental: { kind: 'field', field: 'added_at', description: 'tracks saved after the newest `added_at` of the last run (paging stops at the first older item)' },
    parameters: onlyMarket,
    recordSchema: schema.savedTrack,
  },
  'me/following': {
    description: 'Artists the user follows',
    path: '/me/following',
    auth: 'user',
    scopes: ['user-follow-read'],
    // Cursor paging wrapped in `artists`; the cursor is the last artist id of a page (doc 4.2).
    paginator: { type: 'cursor', pageSize: { development: 50, extended: 50 }, cursorParam: 'after' },
    recordPath: 'artists.items',
    fixedQuery: { type: 'artist' },
    recordSchema: schema.artist,
  },
  'me/playlists': {
    description: "The user's playlists (owned, collaborative and followed), metadata only",
    path: '/me/playlists',
    auth: 'user',
    scopes: ['playlist-read-private', 'playlist-read-collaborative'],
    paginator: { type: 'offset', pageSize: { development: 50, extended: 50 }, totalField: 'total' },
    recordPath: 'items',
    recordSchema: schema.simplifiedPlaylist,
  },

  // ------------------------------------------------------------------------------------------
  // Playlists
  // ------------------------------------------------------------------------------------------
  'playlists/{id}': {
    description: "Each playlist's metadata (the embedded first page of items is reduced to `items: {href, total}`)",
    path: '/playlists/{id}',
    // A user token: the parents are usually the user's own playlists, and a Client Credentials
    // token sees only public ones (private and collaborative playlists answer 404).
    auth: 'user',
    scopes: ['playlist-read-private', 'playlist-read-collaborative'],
    paginator: { type: 'none' },
    recordPath: '',
    input: 'for_each',
    skipParents: {
      development: [{
        rule: 'spotify_owned',
        note: 'skipped_editorial',
        reason: 'Spotify-owned editorial and algorithmic playlists answer 404 to Development Mode apps (since 2024-11-27)',
      }],
    },
    notFound: { development: 'Spotify-owned editorial and algorithmic playlists answer 404 to Development Mode apps (since 2024-11-27)' },
    recordSchema: schema.playlist,
  },
  'playlists/{id}/items': {
    description: 'The items of each playlist (Development Mode: only playlists the user owns or collaborates on)',
    path: '/playlists/{id}/items',
    auth: 'user',
    scopes: ['playlist-read-private', 'playlist-read-collaborative'],
    // Development Mode caps /items at 50 a page (a larger limit is 400 Invalid limit).
    paginator: { type: 'offset', pageSize: { development: 50, extended: 50 }, totalField: 'total' },
    recordPath: 'items',
    input: 'for_each',
    versionField: 'snapshot_id',
    parentField: 'playlist_id',
    parentVersionField: 'playlist_snapshot_id',
    positionField: 'position',
    // Development Mode: items of playlists the user neither owns nor collaborates on answer 403.
    skipParents: { development: [{ rule: 'not_owned', note: 'skipped_not_owned' }] },
    parameters: playlistItemParams,
    recordSchema: schema.playlistItem,
  },
  'playlists/{id}/tracks': {
    description: 'Legacy playlist contents (items under `track`, normalized to `item`); Extended Quota Mode only',
    path: '/playlists/{id}/tracks',
    auth: 'user',
    scopes: ['playlist-read-private', 'playlist-read-collaborative'],
    // The legacy endpoint accepts 100 a page in practice (doc 2.3, sonallux patch).
    paginator: { type: 'offset', pageSize: { extended: 100 }, totalField: 'total' },
    recordPath: 'items',
    input: 'for_each',
    versionField: 'snapshot_id',
    parentField: 'playlist_id',
    parentVersionField: 'playlist_snapshot_id',
    positionField: 'position',
    modes: removedFeb2026(
      'renamed /playlists/{id}/tracks to /playlists/{id}/items (403 Forbidden in Development Mode)',
      'endpoint: playlists/{id}/items',
    ),
    parameters: playlistItemParams,
    recordSchema: schema.playlistItem,
  },
  'users/{id}/playlists': {
    description: "Another user's public playlists; Extended Quota Mode only",
    path: '/users/{id}/playlists',
    auth: 'client',
    scopes: [],
    paginator: { type: 'offset', pageSize: { extended: 50 }, totalField: 'total' },
    recordPath: 'items',
    input: 'ids',
    parentField: 'user_id',
    idField: 'user_id',
    modes: removedFeb2026(
      "removed Get User's Playlists for other users in Development Mode (403 Forbidden)",
      "endpoint: me/playlists (the authorized user's own, collaborative and followed playlists)",
    ),
    recordSchema: schema.userPlaylist,
  },

  // ------------------------------------------------------------------------------------------
  // Catalog (a Client Credentials token is enough)
  // ------------------------------------------------------------------------------------------
  search: {
    description: 'Catalog search: one paged read per query and type (records carry `query` and `type`)',
    path: '/search',
    auth: 'client',
    scopes: [],
    // Development Mode: limit 0..10 (400 above); Extended: up to 50 (doc 2.1).
    paginator: { type: 'offset', pageSize: { development: 10, extended: 50 }, totalField: 'total' },
    recordPath: '{type}s.items',
    maxOffset: 1000,
    fanOut: [
      { param: 'queries', query: 'q', field: 'query' },
      { param: 'types', query: 'type', field: 'type' },
    ],
    parameters: {
      type: 'object',
      additionalProperties: false,
      required: ['queries'],
      properties: {
        queries: {
          type: 'array',
          minItems: 1,
          uniqueItems: true,
          items: { type: 'string', minLength: 1 },
          description: 'Search queries (Spotify syntax, e.g. `artist:Miles track:Doxy`), each read for every type',
        },
        types: {
          type: 'array',
          minItems: 1,
          uniqueItems: true,
          items: { enum: SEARCH_TYPES },
          default: SEARCH_TYPES,
          description: 'Result types to read, one paged read each per query. Default: all of track, artist, album, playlist, show, episode',
        },
        market,
      },
    },
    recordSchema: schema.searchResult,
  },
  artists: {
    description: 'Artists by id (ids from config or from another stream), each id fetched once per run',
    path: '/artists/{id}',
    auth: 'client',
    scopes: [],
    paginator: { type: 'none' },
    recordPath: '',
    input: 'ids',
    // Batch GET /artists?ids= was removed for Development Mode in Feb 2026 (403).
    batch: { path: '/artists', param: 'ids', recordPath: 'artists', size: { extended: 50 } },
    recordSchema: schema.artist,
  },
  tracks: {
    description: 'Tracks by id (ids from config or from another stream), each id fetched once per run',
    path: '/tracks/{id}',
    auth: 'client',
    scopes: [],
    paginator: { type: 'none' },
    recordPath: '',
    input: 'ids',
    batch: { path: '/tracks', param: 'ids', recordPath: 'tracks', size: { extended: 50 } },
    parameters: onlyMarket,
    recordSchema: schema.track,
  },
  albums: {
    description: 'Albums by id (ids from config or from another stream), each id fetched once per run',
    path: '/albums/{id}',
    auth: 'client',
    scopes: [],
    paginator: { type: 'none' },
    recordPath: '',
    input: 'ids',
    // GET /albums?ids= takes at most 20 ids, and only in Extended Quota Mode (doc 2.1).
    batch: { path: '/albums', param: 'ids', recordPath: 'albums', size: { extended: 20 } },
    parameters: onlyMarket,
    recordSchema: schema.album,
  },
  'albums/{id}/tracks': {
    description: "Each album's tracks (records carry `album_id`)",
    path: '/albums/{id}/tracks',
    auth: 'client',
    scopes: [],
    paginator: { type: 'offset', pageSize: { development: 50, extended: 50 }, totalField: 'total' },
    recordPath: 'items',
    input: 'for_each',
    parentField: 'album_id',
    parameters: onlyMarket,
    recordSchema: schema.albumTrack,
  },
  'artists/{id}/albums': {
    description: "Each artist's albums, singles, compilations and appearances (records carry `artist_id`)",
    path: '/artists/{id}/albums',
    auth: 'client',
    scopes: [],
    // Development Mode: limit 0..10 since Feb 2026 (400 above); 50 in Extended Quota Mode.
    paginator: { type: 'offset', pageSize: { development: 10, extended: 50 }, totalField: 'total' },
    recordPath: 'items',
    input: 'for_each',
    parentField: 'artist_id',
    parameters: {
      type: 'object',
      additionalProperties: false,
      properties: {
        include_groups: {
          type: 'string',
          pattern: '^(album|single|appears_on|compilation)(,(album|single|appears_on|compilation))*$',
          description: 'Comma-separated album groups to read: album, single, appears_on, compilation. Default: all',
        },
        market,
      },
    },
    recordSchema: schema.artistAlbum,
  },
  'artists/{id}/top-tracks': {
    description: "An artist's top tracks (records carry `artist_id` and `rank`); Extended Quota Mode only",
    path: '/artists/{id}/top-tracks',
    auth: 'client',
    scopes: [],
    paginator: { type: 'none' },
    recordPath: 'tracks',
    input: 'for_each',
    parentField: 'artist_id',
    rankField: 'rank',
    modes: removedFeb2026(
      "removed Get Artist's Top Tracks for Development Mode apps (403 Forbidden)",
      "the user's own data (endpoint: me/top/tracks) or an artist's releases (endpoint: artists/{id}/albums)",
    ),
    parameters: {
      type: 'object',
      additionalProperties: false,
      properties: { market: { ...market, default: 'US', description: 'ISO 3166-1 market (required by the API). Default: US' } },
    },
    recordSchema: schema.artistTopTrack,
  },
};

// Fields Development Mode leaves out (popularity, followers, available_markets, ...) are expected
// absences there, not schema drift: derived from the record schemas, which mark them.
for (const e of Object.values(endpoints)) {
  const absent = schema.developmentAbsences(e.recordSchema);
  if (absent.length) e.absentFields = { development: absent };
}

/** The Web API changes of 2024-11-27 (doc §1): removed for new apps and Development Mode apps. */
const NOV_2024 = '2024-11-27';

const removedNov2024 = (what: string, instead: string): Removal => ({
  date: NOV_2024,
  change: `Spotify's Web API changes of 2024-11-27 removed ${what} for new apps and apps in Development Mode (403); only Extended Quota Mode apps approved before that day keep it, and this connector does not read it`,
  instead,
});
const removedFeb2026Dev = (what: string, instead: string): Removal => ({
  date: FEB_2026,
  change: `the February 2026 Web API changes removed ${what} for Development Mode apps (403 Forbidden); this connector does not read it in Extended Quota Mode either`,
  instead,
});

const NO_AUDIO_FEATURES = 'the track object (endpoint: tracks: duration_ms, explicit); nothing in the Web API replaces audio features or analysis';
const OWN_TASTE = "the user's own taste: endpoint: me/top/tracks and me/top/artists, or endpoint: search";
const PLAYLISTS_INSTEAD = 'the playlists the user follows (endpoint: me/playlists) or endpoint: search with types: [playlist]';

/**
 * Endpoints users copy from tutorials that Spotify removed and this connector does not offer, with
 * when, why and what to use instead (shared/spotify-api-2026.md §1, §2.1, §2.2): `validate` says so
 * instead of "unknown endpoint" (core matches `/v1/...`, `{artist_id}` and `snake_case` spellings).
 */
export const retiredEndpoints: Record<string, Removal> = {
  'audio-features': removedNov2024("Get Several Tracks' Audio Features", NO_AUDIO_FEATURES),
  'audio-features/{id}': removedNov2024("Get Track's Audio Features", NO_AUDIO_FEATURES),
  'audio-analysis/{id}': removedNov2024("Get Track's Audio Analysis", NO_AUDIO_FEATURES),
  recommendations: removedNov2024('Get Recommendations', OWN_TASTE),
  'recommendations/available-genre-seeds': removedNov2024('Get Available Genre Seeds (with Recommendations)', 'the genres of the artists you play (endpoint: artists, column genres)'),
  'artists/{id}/related-artists': removedNov2024("Get Artist's Related Artists", "an artist's releases and appearances (endpoint: artists/{id}/albums, include_groups with appears_on) or endpoint: search"),
  'browse/featured-playlists': removedNov2024('Get Featured Playlists', PLAYLISTS_INSTEAD),
  'browse/categories/{id}/playlists': removedNov2024("Get Category's Playlists", PLAYLISTS_INSTEAD),
  'browse/new-releases': removedFeb2026Dev('Get New Releases', "the releases of the artists you play or follow (endpoint: artists/{id}/albums with for_each over their ids; albums carry release_date)"),
  'browse/categories': removedFeb2026Dev('Get Several Browse Categories', 'endpoint: search'),
  'browse/categories/{id}': removedFeb2026Dev('Get Single Browse Category', 'endpoint: search'),
  markets: removedFeb2026Dev('Get Available Markets', 'any ISO 3166-1 alpha-2 code as the `market` parameter (no endpoint lists them any more)'),
  'users/{id}': removedFeb2026Dev("Get User's Profile for other users", "the owner objects of the user's playlists (endpoint: me/playlists, owner.id and owner.display_name)"),
};

/** The mode a config asks for (the connector's default is Development Mode, like almost every app). */
export function apiMode(config: { api_mode?: unknown }): 'development' | 'extended' {
  return config.api_mode === 'extended' ? 'extended' : 'development';
}

/** The least OAuth scopes that cover the given endpoints (what `login` asks for). */
export function scopesFor(endpointNames: string[]): string[] {
  const set = new Set<string>();
  for (const n of endpointNames) for (const s of endpoints[n]?.scopes ?? []) set.add(s);
  return [...set].sort();
}
