/**
 * Normalization so downstream tables do not care about the API mode, profile or year:
 * - playlist items carry their track/episode under `item` (legacy `track` is accepted; Extended
 *   Quota Mode may send both);
 * - every playlist object (simplified or full) carries `items: {href, total}`, whether Spotify sent
 *   `items` or the legacy `tracks`, as a reference or as an embedded first page;
 * - enum-like values are lowercase: Spotify has sent `album_type` as `ALBUM`/`SINGLE`/`EP` in some
 *   years and lowercase in others (the same holds for the other fields in ENUM_KEYS), which would
 *   split a GROUP BY; `type` is lowercased only on Spotify objects (those with an `id` or `uri`),
 *   so a copyright's `type: "C"` stays as sent;
 * - editorial playlists' sentinels become null: an item `added_at` of 1970-01-01T00:00:00Z and an
 *   `added_by` whose id is empty mean "unknown", not "added in 1970 by user ''";
 * - the keys the reader adds (parent id, fan-out values, rank, position) are set last.
 * Removed fields stay absent; tables read them as null.
 */
import type { JsonRecord } from '../../core/plugin-api.ts';

const PLAYLIST_ITEM_ENDPOINTS = new Set(['playlists/{id}/items', 'playlists/{id}/tracks']);

/** Keys whose values are enums Spotify has sent in either case: lowercased wherever they appear. */
export const ENUM_KEYS = ['album_type', 'album_group', 'release_date_precision'] as const;
const ENUMS = new Set<string>(ENUM_KEYS);

/** `added_at` values Spotify sends when it does not know when an item was added (editorial playlists). */
const EPOCH_SENTINEL = /^1970-01-01T00:00:00(\.0+)?(Z|[+-]00:?00)$/;

export function normalize(endpoint: string, record: JsonRecord, added: JsonRecord = {}): JsonRecord {
  let out = lowerEnums(record) as JsonRecord;
  if (PLAYLIST_ITEM_ENDPOINTS.has(endpoint)) out = playlistItem(out);
  else if (out.type === 'playlist') out = playlist(out);
  return Object.keys(added).length > 0 ? { ...out, ...added } : out;
}

function playlistItem(record: JsonRecord): JsonRecord {
  const { track, item, ...rest } = record;
  const out: JsonRecord = { ...rest, item: item !== undefined ? item : (track ?? null) };
  if (typeof out.added_at === 'string' && EPOCH_SENTINEL.test(out.added_at)) out.added_at = null;
  const by = out.added_by as JsonRecord | null | undefined;
  if (by && typeof by === 'object' && (by.id === '' || by.id === null)) out.added_by = null;
  return out;
}

/** A copy with every enum-like value lowercased (the record is returned as is when none needs it). */
function lowerEnums(value: unknown): unknown {
  if (Array.isArray(value)) {
    let changed = false;
    const out = value.map((v) => {
      const n = lowerEnums(v);
      if (n !== v) changed = true;
      return n;
    });
    return changed ? out : value;
  }
  if (!value || typeof value !== 'object') return value;
  const obj = value as JsonRecord;
  const spotifyObject = 'id' in obj || 'uri' in obj;
  let out: JsonRecord | undefined;
  for (const [k, v] of Object.entries(obj)) {
    let n: unknown = v;
    if (typeof v === 'string') {
      if ((ENUMS.has(k) || (k === 'type' && spotifyObject)) && v !== v.toLowerCase()) n = v.toLowerCase();
    } else if (v && typeof v === 'object') {
      n = lowerEnums(v);
    }
    if (n !== v) (out ??= { ...obj })[k] = n;
  }
  return out ?? obj;
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
