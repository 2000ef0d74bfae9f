/**
 * JSON Schemas of the records this connector yields (after normalization). Fields Spotify removed
 * in Development Mode (popularity, followers, available_markets, ...) are optional: they are
 * absent there and present in Extended Quota Mode. Extra keys are allowed (Spotify adds keys,
 * e.g. primary_color, video_thumbnail).
 */
import type { JsonSchema } from '../../core/plugin-api.ts';

const nullableString = { type: ['string', 'null'] };

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
    popularity: { type: 'integer', description: 'Extended Quota Mode only' },
    followers: { type: 'object', description: 'Extended Quota Mode only' },
    images: { type: 'array' },
  },
};

export const simplifiedAlbum: JsonSchema = {
  type: 'object',
  required: ['name'],
  properties: {
    id: nullableString,
    name: { type: 'string' },
    release_date: nullableString,
    release_date_precision: { enum: ['year', 'month', 'day', null] },
    artists: { type: 'array', items: simplifiedArtist },
  },
};

export const track: JsonSchema = {
  type: 'object',
  required: ['name', 'type', 'artists', 'duration_ms'],
  properties: {
    id: { ...nullableString, description: 'null for local files' },
    name: { type: 'string' },
    type: { const: 'track' },
    uri: { type: 'string' },
    duration_ms: { type: 'integer' },
    explicit: { type: 'boolean' },
    is_local: { type: 'boolean' },
    artists: { type: 'array', items: simplifiedArtist },
    album: simplifiedAlbum,
    popularity: { type: 'integer', description: 'Extended Quota Mode only' },
  },
};

export const episode: JsonSchema = {
  type: 'object',
  required: ['name', 'type'],
  properties: { id: nullableString, name: { type: 'string' }, type: { const: 'episode' }, duration_ms: { type: 'integer' } },
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

export const simplifiedPlaylist: JsonSchema = {
  type: 'object',
  required: ['id', 'name', 'owner', 'snapshot_id', 'items'],
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    description: nullableString,
    collaborative: { type: 'boolean' },
    public: { type: ['boolean', 'null'] },
    snapshot_id: { type: 'string' },
    owner: { type: 'object', required: ['id'], properties: { id: { type: 'string' }, display_name: nullableString } },
    items: {
      type: 'object',
      description: 'normalized: `tracks` of the legacy shape is renamed `items`',
      required: ['total'],
      properties: { href: { type: 'string' }, total: { type: 'integer' } },
    },
  },
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
};
