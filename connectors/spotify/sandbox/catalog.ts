/**
 * The part of the sandbox's generated data that other connectors' sandboxes may share (through
 * `SandboxHandle.shared`): its catalog of tracks and episodes, the user's favourites and user id.
 * The spotify-history sandbox writes its generated export from it, so the export's track ids
 * join with the Web API tables of the same lake. Plain JSON: the two connectors share data, not code.
 */
import { generateSandboxData } from './data.ts';

/** The catalog does not depend on the clock; the favourites (recent plays) do, so the clock is fixed. */
const CATALOG_NOW = Date.UTC(2026, 0, 15);

export interface SharedCatalog {
  [key: string]: unknown;
  source: 'spotify-sandbox';
  username: string;
  tracks: Array<{ id: string; name: string; artist: string; album: string; duration: number }>;
  /** Ids of `tracks` the user plays most (recent plays and own playlists). */
  favorites: string[];
  episodes: Array<{ id: string; name: string; show: string; duration: number }>;
}

export function sharedCatalog(seed = 42): SharedCatalog {
  const d = generateSandboxData(seed, CATALOG_NOW);
  const favorites = new Set<string>(d.plays.slice(0, 50).map((p) => p.track_id));
  for (const pl of d.playlists) {
    if (pl.owner.id !== d.user.id && !pl.collaborative) continue;
    for (const it of pl.items) {
      const item = it.item as { id?: string | null; type?: string } | null;
      if (item?.type === 'track' && item.id) favorites.add(item.id);
    }
  }
  const tracks = [...d.tracks.values()].map((t) => ({ id: t.id, name: t.name, artist: t.artists[0]?.name ?? 'Unknown', album: t.album.name, duration: t.duration_ms }));
  return {
    source: 'spotify-sandbox',
    username: d.user.id,
    tracks,
    favorites: tracks.filter((t) => favorites.has(t.id)).map((t) => t.id),
    episodes: [...d.episodes.values()].map((e) => ({ id: e.id, name: e.name, show: e.show.name, duration: e.duration_ms })),
  };
}
