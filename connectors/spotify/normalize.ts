/**
 * Normalization so downstream tables do not care about the API mode or profile:
 * - playlist items carry their track/episode under `item` (legacy `track` is accepted; Extended
 *   Quota Mode may send both);
 * - every playlist object (simplified or full) carries `items: {href, total}`, whether Spotify sent
 *   `items` or the legacy `tracks`, as a reference or as an embedded first page;
 * - the keys the reader adds (parent id, fan-out values, rank, position) are set last.
 * Removed fields stay absent; tables read them as null.
 */
import type { JsonRecord } from '../../core/plugin-api.ts';

const PLAYLIST_ITEM_ENDPOINTS = new Set(['playlists/{id}/items', 'playlists/{id}/tracks']);

export function normalize(endpoint: string, record: JsonRecord, added: JsonRecord = {}): JsonRecord {
  let out = record;
  if (PLAYLIST_ITEM_ENDPOINTS.has(endpoint)) out = playlistItem(out);
  else if (out.type === 'playlist') out = playlist(out);
  return Object.keys(added).length > 0 ? { ...out, ...added } : out;
}

function playlistItem(record: JsonRecord): JsonRecord {
  const { track, item, ...rest } = record;
  return { ...rest, item: item !== undefined ? item : (track ?? null) };
}

/** `items`/`tracks` as a `{href, total}` reference or an embedded page, whichever Spotify sent. */
function playlist(record: JsonRecord): JsonRecord {
  const { tracks, items, ...rest } = record;
  const ref = (items ?? tracks) as JsonRecord | null | undefined;
  if (!ref || typeof ref !== 'object') return rest;
  const out: JsonRecord = { ...rest };
  const href = typeof ref.href === 'string' ? ref.href.split('?')[0] : undefined;
  out.items = { ...(href !== undefined ? { href } : {}), total: ref.total };
  return out;
}
