/** The JSON Schema of one play, the connector's single record shape for both export formats. */
import type { JsonSchema } from '../../core/plugin-api.ts';

const str = (description: string): JsonSchema => ({ type: ['string', 'null'], description });
const bool = (description: string): JsonSchema => ({ type: ['boolean', 'null'], description });

export const playSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: [
    'play_id', 'ts', 'ms_played', 'kind', 'kind_source', 'format', 'source_file', 'uri', 'track_id', 'track_name', 'artist_name', 'album_name',
    'episode_id', 'episode_name', 'show_name', 'audiobook_id', 'audiobook_title', 'chapter_id', 'chapter_title', 'author_name',
    'reason_start', 'reason_end', 'shuffle', 'skipped', 'offline', 'offline_ts', 'incognito', 'platform',
  ],
  properties: {
    play_id: {
      type: 'string',
      pattern: '^[0-9a-f]{32}$',
      description: 'SHA-256 (first 32 hex) of ts, ms_played and the URI (or the names when there is none): equal plays in re-downloaded exports get equal ids, so tables dedupe on it.',
    },
    ts: { type: 'string', format: 'date-time', description: 'When the play ended, ISO 8601 UTC (account-data plays have minute precision).' },
    ms_played: { type: 'integer', minimum: 0, description: 'Milliseconds played.' },
    kind: { enum: ['track', 'episode', 'audiobook', 'unknown'], description: 'What was played; unknown when the export names nothing.' },
    kind_source: {
      enum: ['uri', 'file', 'track_match', 'show_match', 'assumed', null],
      description:
        'How kind was decided. uri: the extended history\'s URI (exact); file: the account data file family, music/podcast/audiobook (exact); for the <= 2023 account file StreamingHistoryN.json, which lists songs and podcasts alike: track_match (the artist/track is a track elsewhere in the export), show_match (the artist is a show of the export\'s podcast plays: an episode), assumed (artist and track set, nothing else known: a track, wrong for podcasts not seen elsewhere); null when kind is unknown.',
    },
    format: { enum: ['extended', 'account'], description: 'extended: Extended Streaming History; account: the Account Data download (last year, no URIs).' },
    source_file: { type: 'string', description: 'The file the play came from, relative to the configured path (zip entries as <zip>/<entry>).' },
    uri: str('Spotify URI of what was played (track, episode, audiobook chapter); null in the account format.'),
    track_id: str('Spotify track id (from spotify_track_uri): joins with the Web API tables.'),
    track_name: str('master_metadata_track_name / trackName.'),
    artist_name: str('master_metadata_album_artist_name / artistName.'),
    album_name: str('master_metadata_album_album_name.'),
    episode_id: str('Spotify episode id (from spotify_episode_uri).'),
    episode_name: str('episode_name / episodeName.'),
    show_name: str('episode_show_name / podcastName.'),
    audiobook_id: str('Spotify audiobook id (from audiobook_uri).'),
    audiobook_title: str('audiobook_title / audiobookName.'),
    chapter_id: str('Spotify chapter id (from audiobook_chapter_uri).'),
    chapter_title: str('audiobook_chapter_title / chapterName.'),
    author_name: str('The audiobook\'s author (authorName, account data audiobook files only).'),
    reason_start: str('Why the play started (trackdone, clickrow, fwdbtn, ...).'),
    reason_end: str('Why the play ended (trackdone, endplay, fwdbtn, ...).'),
    shuffle: bool('Shuffle was on.'),
    skipped: bool('The user skipped to the next item (null in older exports).'),
    offline: bool('Played in offline mode.'),
    offline_ts: { type: ['string', 'null'], format: 'date-time', description: 'When offline mode was used (from offline_timestamp), ISO 8601 UTC.' },
    incognito: bool('Played in a private session (incognito_mode).'),
    platform: str('The client platform as the export names it.'),
    ip_addr: str('Personal: only with personal_data.ip_addr keep (as is) or hash (salted SHA-256).'),
    conn_country: str('Personal: only with personal_data.conn_country keep or hash.'),
    user_agent: str('Personal: only with personal_data.user_agent keep or hash.'),
    username: str('Personal: only with personal_data.username keep or hash.'),
  },
};
