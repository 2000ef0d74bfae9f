/**
 * Normalization so downstream tables do not care about the API mode or profile:
 * playlist items carry their track/episode under `item` (legacy `track` is accepted), simplified
 * playlists carry `items: {href, total}` (legacy `tracks`). Removed fields stay absent; tables
 * read them as null.
 */
import type { JsonRecord } from '../../core/plugin-api.ts';

export interface ParentInfo {
  parentId: string;
  version?: string;
  position: number;
}

export function normalize(endpoint: string, record: JsonRecord, parent?: ParentInfo): JsonRecord {
  if (endpoint === 'playlists/{id}/items' || endpoint === 'playlists/{id}/tracks') {
    const { track, item, ...rest } = record;
    return {
      playlist_id: parent?.parentId,
      ...(parent?.version ? { playlist_snapshot_id: parent.version } : {}),
      position: parent?.position,
      ...rest,
      item: item !== undefined ? item : (track ?? null),
    };
  }
  if (endpoint === 'me/playlists') {
    if (record.items === undefined && record.tracks !== undefined) {
      const { tracks, ...rest } = record;
      return { ...rest, items: tracks };
    }
  }
  return record;
}
