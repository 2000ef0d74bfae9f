/**
 * JSON Schemas of the records this connector yields (after normalization). Fields Spotify removed
 * in Development Mode (popularity, followers, available_markets, label, ...) are optional: they
 * are absent there and present in Extended Quota Mode. Extra keys are allowed (Spotify adds keys,
 * e.g. primary_color, video_thumbnail). Keys the connector adds are described as such.
 */
import type { JsonSchema } from '../../core/plugin-api.ts';

const nullableString = { type: ['string', 'null'] };
/** Schemas of fields Development Mode leaves out (doc §3): what `developmentAbsences` collects. */
const absentInDevelopment = new WeakSet<JsonSchema>();
const extendedOnly = (schema: JsonSchema): JsonSchema => {
  const out = { ...schema, description: 'Extended Quota Mode only (absent in Development Mode)' };
  absentInDevelopment.add(out);
  return out;
};

/**
 * The fields of a record schema that Development Mode leaves out, as dot paths (`[]` for array
 * elements), e.g. `track.popularity`: the endpoints declare them as expected absences, so a table
 * column reading one is not reported as schema drift in that mode.
 */
export function developmentAbsences(schema: JsonSchema): string[] {
  const out = new Set<string>();
  const walk = (s: unknown, path: string): void => {
    if (!s || typeof s !== 'object') return;
    const node = s as JsonSchema;
    if (absentInDevelopment.has(node)) {
      if (path) out.add(path);
      return;
    }
    for (const [k, v] of Object.entries((node.properties as Record<string, JsonSchema> | undefined) ?? {})) walk(v, path ? `${path}.${k}` : k);
    if (node.items) walk(node.items, `${path}[]`);
    for (const alt of [...((node.anyOf as JsonSchema[] | undefined) ?? []), ...((node.oneOf as JsonSchema[] | undefined) ?? [])]) walk(alt, path);
  };
  walk(schema, '');
  return [...out].sort();
}

/** Keys the connector adds to a record, required on every record of that stream. */
function withAdded(base: JsonSchema, added: Record<string, JsonSchema>): JsonSchema {
  return {
    ...base,
    required: [...((base.required as string[] | undefined) ?? []), ...Object.keys(added)],
    properties: { ...(base.properties as Record<string, JsonSchema>), ...added },
  };
}

export const simplifiedArtist: JsonSchema = {
  type: 'object',
  required: ['name', 'type'],
  properties: { id: nullableString, name: { type: 'string' }, type: { const: 'artist' }, uri: nullableString },
};

export const artist: JsonSchema = {
  type: 'object',
  required: ['id', 'name', 'type', 'uri'],
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    type: { const: 'artist' },
    uri: { type: 'string' },
    genres: { type: 'array', items: { type: 'string' } },
    popularity: extendedOnly({ type: 'integer' }),
    followers: extendedOnly({ type: 'object' }),
    images: { type: 'array' },
  },
};

export const simplifiedAlbum: JsonSchema = {
  type: 'object',
  required: ['name'],
  properties: {
    id: nullableString,
    name: { type: 'string' },
    album_type: { enum: ['album', 'single', 'compilation', 'ep', null], description: 'lowercase (normalized: Spotify has sent ALBUM, SINGLE, EP)' },
    total_tracks: { type: 'integer' },
    release_date: nullableString,
    release_date_precision: { enum: ['year', 'month', 'day', null] },
    artists: { type: 'array', items: simplifiedArtist },
    available_markets: extendedOnly({ type: 'array', items: { type: 'string' } }),
  },
};

/** A full album (`albums`); its `tracks` is the API's first page of the album's tracks. */
export const album: JsonSchema = {
  type: 'object',
  required: ['id', 'name', 'type', 'album_type', 'total_tracks', 'artists', 'release_date', 'release_date_precision'],
  properties: {
    ...(simplifiedAlbum.properties as Record<string, JsonSchema>),
    id: { type: 'string' },
    type: { const: 'album' },
    external_ids: { type: 'object' },
    copyrights: { type: 'array' },
    label: extendedOnly({ type: 'string' }),
    popularity: extendedOnly({ type: 'integer' }),
    tracks: {
      type: 'object',
      description: 'the first page of the album\'s tracks (read albums/{id}/tracks for all of them)',
      required: ['items', 'total'],
      properties: { items: { type: 'array' }, total: { type: 'integer' } },
    },
  },
};

/** Track fields shared by the full and the simplified track. */
const trackProperties: Record<string, JsonSchema> = {
  id: { ...nullableString, description: 'null for local files' },
  name: { type: 'string' },
  type: { const: 'track' },
  uri: { type: 'string' },
  duration_ms: { type: 'integer' },
  explicit: { type: 'boolean' },
  is_local: { type: 'boolean' },
  disc_number: { type: 'integer' },
  track_number: { type: 'integer' },
  artists: { type: 'array', items: simplifiedArtist },
  available_markets: extendedOnly({ type: 'array', items: { type: 'string' } }),
};

export const track: JsonSchema = {
  type: 'object',
  required: ['name', 'type', 'artists', 'duration_ms'],
  properties: {
    ...trackProperties,
    album: simplifiedAlbum,
    external_ids: { type: 'object' },
    popularity: extendedOnly({ type: 'integer' }),
  },
};

/** A simplified track (album tracks): no album, external_ids or popularity. */
export const simplifiedTrack: JsonSchema = {
  type: 'object',
  required: ['id', 'name', 'type', 'artists', 'duration_ms', 'track_number'],
  properties: { ...trackProperties, id: { type: 'string' } },
};

export const episode: JsonSchema = {
  type: 'object',
  required: ['name', 'type'],
  properties: { id: nullableString, name: { type: 'string' }, type: { const: 'episode' }, duration_ms: { type: 'integer' }, release_date: { type: 'string' } },
};

export const show: JsonSchema = {
  type: 'object',
  required: ['id', 'name', 'type'],
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    type: { const: 'show' },
    total_episodes: { type: 'integer' },
    publisher: extendedOnly({ type: 'string' }),
    available_markets: extendedOnly({ type: 'array', items: { type: 'string' } }),
  },
};

export const playHistory: JsonSchema = {
  type: 'object',
  required: ['played_at', 'track'],
  properties: {
    played_at: { type: 'string', format: 'date-time' },
    track,
    context: { type: ['object', 'null'] },
  },
};

export const savedTrack: JsonSchema = {
  type: 'object',
  required: ['added_at', 'track'],
  properties: {
    added_at: { type: 'string', format: 'date-time', description: 'when the user saved the track' },
    track,
  },
};

const timeRange: JsonSchema = { enum: ['short_term', 'medium_term', 'long_term'], description: 'added by the connector: the time range read' };
const rank: JsonSchema = { type: 'integer', minimum: 1, description: 'added by the connector: 1-based rank within its read' };

export const topArtist: JsonSchema = withAdded(artist, { time_range: timeRange, rank });
export const topTrack: JsonSchema = withAdded(track, { time_range: timeRange, rank });
export const artistTopTrack: JsonSchema = withAdded(track, {
  artist_id: { type: 'string', description: 'added by the connector: the artist read' },
  rank,
});
export const albumTrack: JsonSchema = withAdded(simplifiedTrack, {
  album_id: { type: 'string', description: 'added by the connector: the album the track is on' },
});
export const artistAlbum: JsonSchema = withAdded(
  {
    ...simplifiedAlbum,
    required: ['id', 'name', 'album_type', 'total_tracks', 'artists'],
    properties: {
      ...(simplifiedAlbum.properties as Record<string, JsonSchema>),
      id: { type: 'string' },
      album_group: extendedOnly({ enum: ['album', 'single', 'compilation', 'appears_on'] }),
    },
  },
  { artist_id: { type: 'string', description: 'added by the connector: the artist read' } },
);

/** `{href, total}`: where a playlist's items are (normalized from the legacy `tracks`). */
const itemsRef: JsonSchema = {
  type: 'object',
  description: 'normalized: the legacy `tracks` reference is renamed `items`; an embedded page is reduced to {href, total}',
  required: ['total'],
  additionalProperties: false,
  properties: { href: { type: 'string' }, total: { type: 'integer' } },
};

const playlistProperties: Record<string, JsonSchema> = {
  id: { type: 'string' },
  name: { type: 'string' },
  type: { const: 'playlist' },
  description: nullableString,
  collaborative: { type: 'boolean' },
  public: { type: ['boolean', 'null'] },
  snapshot_id: { type: 'string' },
  owner: { type: 'object', required: ['id'], properties: { id: { type: 'string' }, display_name: nullableString } },
  images: { type: ['array', 'null'] },
  items: itemsRef,
};

/** The legacy key never reaches a record: `tracks` is always normalized to `items`. */
const noLegacyTracks: JsonSchema = { not: { required: ['tracks'] } };

export const simplifiedPlaylist: JsonSchema = {
  type: 'object',
  required: ['id', 'name', 'owner', 'snapshot_id', 'items'],
  properties: playlistProperties,
  ...noLegacyTracks,
};

export const userPlaylist: JsonSchema = withAdded(simplifiedPlaylist, {
  user_id: { type: 'string', description: 'added by the connector: the user whose playlists were read' },
});

/** A full playlist's metadata (`playlists/{id}`): `items` only when the user may read the items. */
export const playlist: JsonSchema = {
  type: 'object',
  required: ['id', 'name', 'owner', 'snapshot_id', 'type'],
  properties: { ...playlistProperties, followers: { type: 'object' } },
  ...noLegacyTracks,
};

export const playlistItem: JsonSchema = {
  type: 'object',
  required: ['playlist_id', 'position', 'item'],
  properties: {
    playlist_id: { type: 'string', description: 'added by the connector: the playlist the item belongs to' },
    playlist_snapshot_id: { type: 'string', description: 'added by the connector: the version read' },
    position: { type: 'integer', description: 'added by the connector: 0-based position in the playlist' },
    added_at: nullableString,
    added_by: { type: ['object', 'null'] },
    is_local: { type: 'boolean' },
    item: {
      description: 'the track or episode; null when unavailable (legacy `track` is normalized to `item`)',
      anyOf: [{ type: 'null' }, track, episode],
    },
  },
  not: { required: ['track'] },
};

const SEARCH_SCHEMAS: Record<string, JsonSchema> = {
  track, artist, album: { ...simplifiedAlbum, required: ['id', 'name', 'type'] }, playlist: simplifiedPlaylist, show, episode,
};

/** One search result: the object of its type, plus the query and type it was found by. */
export const searchResult: JsonSchema = {
  type: 'object',
  required: ['query', 'type'],
  properties: {
    query: { type: 'string', description: 'added by the connector: the query that found the record' },
    type: { enum: Object.keys(SEARCH_SCHEMAS), description: 'the result type searched (equal to the object\'s own `type`)' },
  },
  oneOf: Object.entries(SEARCH_SCHEMAS).map(([type, s]) => ({ allOf: [{ properties: { type: { const: type } } }, s] })),
};
