/**
 * The Spotify endpoints this connector offers, as data (see core/plugin-api.ts). Page sizes,
 * batch sizes, mode rules and scopes follow shared/spotify-api-2026.md; validation, `login`
 * scopes and the tests' minimum request counts are derived from this table.
 */
import type { EndpointDescriptor } from '../../core/plugin-api.ts';
import * as schema from './schemas.ts';

const FEB_2026 = '2026-02-11';

export const endpoints: Record<string, EndpointDescriptor> = {
  'me/player/recently-played': {
    description: "The user's last 50 plays (Spotify keeps no longer history in the API)",
    path: '/me/player/recently-played',
    auth: 'user',
    scopes: ['user-read-recently-played'],
    // Only the newest 50 plays can ever be retrieved (doc 4.2): one page of 50 covers the window.
    paginator: { type: 'cursor', pageSize: { development: 50, extended: 50 }, cursorParam: 'after', window: 50 },
    recordPath: 'items',
    incremental: { kind: 'cursor', description: 'plays after the newest `played_at` of the last run (Unix ms `after` cursor)' },
    recordSchema: schema.playHistory,
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
    parameters: {
      type: 'object',
      additionalProperties: false,
      properties: {
        additional_types: {
          type: 'string',
          enum: ['track', 'track,episode'],
          default: 'track,episode',
          description: 'Item types to return; with `track` only, episodes come back as null items',
        },
        market: { type: 'string', pattern: '^[A-Z]{2}$', description: 'ISO 3166-1 market for track relinking' },
      },
    },
    recordSchema: schema.playlistItem,
  },
  'playlists/{id}/tracks': {
    description: 'Legacy playlist contents (items under `track`); Extended Quota Mode only',
    path: '/playlists/{id}/tracks',
    auth: 'user',
    scopes: ['playlist-read-private', 'playlist-read-collaborative'],
    paginator: { type: 'offset', pageSize: { extended: 100 }, totalField: 'total' },
    recordPath: 'items',
    input: 'for_each',
    versionField: 'snapshot_id',
    modes: {
      development: {
        removed: {
          date: FEB_2026,
          change: 'the February 2026 Web API changes renamed /playlists/{id}/tracks to /playlists/{id}/items (403 Forbidden in Development Mode)',
          instead: 'endpoint: playlists/{id}/items',
        },
      },
    },
    recordSchema: schema.playlistItem,
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
    recordSchema: schema.track,
  },
  'artists/{id}/top-tracks': {
    description: "An artist's top tracks; Extended Quota Mode only",
    path: '/artists/{id}/top-tracks',
    auth: 'client',
    scopes: [],
    paginator: { type: 'none' },
    recordPath: 'tracks',
    input: 'for_each',
    modes: {
      development: {
        removed: {
          date: FEB_2026,
          change: 'the February 2026 Web API changes removed Get Artist\'s Top Tracks for Development Mode apps (403 Forbidden)',
          instead: "the user's own data (me/top/tracks) or an artist's albums (artists/{id}/albums)",
        },
      },
    },
    parameters: {
      type: 'object',
      additionalProperties: false,
      properties: { market: { type: 'string', pattern: '^[A-Z]{2}$', default: 'US', description: 'ISO 3166-1 market (required by the API)' } },
    },
    recordSchema: schema.track,
  },
};

/** The mode a config asks for (the connector's default is Development Mode, like almost every app). */
export function apiMode(config: { api_mode?: unknown }): 'development' | 'extended' {
  return config.api_mode === 'extended' ? 'extended' : 'development';
}

/** Page size of an endpoint in a mode: the largest the API allows, so runs make the fewest requests. */
export function pageSize(desc: EndpointDescriptor, mode: string): number {
  const p = desc.paginator;
  if (p.type === 'none') return 0;
  return p.pageSize[mode] ?? Math.min(...Object.values(p.pageSize));
}

export function batchSize(desc: EndpointDescriptor, mode: string): number {
  return desc.batch?.size[mode] ?? 1;
}

/** The least OAuth scopes that cover the given endpoints (what `login` asks for). */
export function scopesFor(endpointNames: string[]): string[] {
  const set = new Set<string>();
  for (const n of endpointNames) for (const s of endpoints[n]?.scopes ?? []) set.add(s);
  return [...set].sort();
}
