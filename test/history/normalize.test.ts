/** One record shape from both export formats, and the personal-data policy. */
import { describe, expect, it } from 'vitest';
import { hashPersonal, isoTs, normalizePlay, plainUtcSecond, playId, type NormalizeOptions } from '../../connectors/spotify-history/normalize.ts';
import { seededRandom } from '../../core/plugin-api.ts';
import { policies } from '../../connectors/spotify-history/config.ts';
import { classify } from '../../connectors/spotify-history/files.ts';
import { endpoints } from '../../connectors/spotify-history/index.ts';
import { SchemaValidator } from '../../core/config/index.ts';

const opts = (file: string, policy = {}): NormalizeOptions => ({ sourceFile: `x/${file}`, kind: classify(file)!, policy: policies({ personal_data: policy }), salt: 'pepper-and-salt' });
const schema = new SchemaValidator(endpoints.plays.recordSchema);

const extended = {
  ts: '2021-03-01T12:00:00Z',
  username: 'zoe',
  platform: 'Android OS 12 API 31 (Google, Pixel 6)',
  ms_played: 201_000,
  conn_country: 'DE',
  ip_addr: '84.12.34.56',
  user_agent_decrypted: 'Spotify/8.8.96 Android/31 (Pixel 6)',
  master_metadata_track_name: 'Song',
  master_metadata_album_artist_name: 'Band',
  master_metadata_album_album_name: 'Album',
  spotify_track_uri: 'spotify:track:4uLU6hMCjMI75M1A2tKUQC',
  episode_name: null,
  episode_show_name: null,
  spotify_episode_uri: null,
  reason_start: 'clickrow',
  reason_end: 'trackdone',
  shuffle: false,
  skipped: null,
  offline: true,
  offline_timestamp: 1614600000,
  incognito_mode: false,
};

describe('files', () => {
  it('recognises every history file name, old and new, and nothing else', () => {
    expect(classify('Streaming_History_Audio_2019-2021_0.json')).toEqual({ format: 'extended', media: 'audio' });
    expect(classify('Streaming_History_Video_2021-2024.json')).toEqual({ format: 'extended', media: 'video' });
    expect(classify('endsong_3.json')).toEqual({ format: 'extended', media: 'audio' });
    expect(classify('StreamingHistory_music_0.json')).toEqual({ format: 'account', media: 'music' });
    expect(classify('StreamingHistory_podcast_2.json')).toEqual({ format: 'account', media: 'podcast' });
    expect(classify('StreamingHistory0.json')).toEqual({ format: 'account', media: 'mixed' });
    expect(classify('StreamingHistory_audiobook_0.json')).toEqual({ format: 'account', media: 'audiobook' });
    expect(classify('endvideo.json')).toEqual({ format: 'extended', media: 'video' });
    for (const other of ['Userdata.json', 'Playlist1.json', 'SearchQueries.json', 'ReadMeFirst_ExtendedStreamingHistory.pdf']) expect(classify(other)).toBeUndefined();
  });
});

describe('extended streaming history', () => {
  it('becomes the record shape, valid against the schema, with personal fields dropped by default', () => {
    const r = normalizePlay(extended, opts('Streaming_History_Audio_2021_0.json'))!;
    expect(r).toMatchObject({
      ts: '2021-03-01T12:00:00.000Z',
      ms_played: 201_000,
      kind: 'track',
      format: 'extended',
      uri: 'spotify:track:4uLU6hMCjMI75M1A2tKUQC',
      track_id: '4uLU6hMCjMI75M1A2tKUQC',
      track_name: 'Song',
      artist_name: 'Band',
      album_name: 'Album',
      skipped: null,
      offline: true,
      offline_ts: '2021-03-01T12:00:00.000Z',
      source_file: 'x/Streaming_History_Audio_2021_0.json',
    });
    expect(schema.check(r)).toEqual([]);
    for (const k of ['ip_addr', 'conn_country', 'user_agent', 'username']) expect(r).not.toHaveProperty(k);
    expect(JSON.stringify(r)).not.toMatch(/84\.12\.34\.56|Spotify\/8\.8|"zoe"/);
  });

  it('tells tracks, episodes, audiobook chapters and plays without metadata apart', () => {
    const none = { ...extended, spotify_track_uri: null, master_metadata_track_name: null, master_metadata_album_artist_name: null, master_metadata_album_album_name: null };
    const episode = normalizePlay({ ...none, spotify_episode_uri: 'spotify:episode:7makk4oTQel546B0PZlDM5', episode_name: 'Ep', episode_show_name: 'Show' }, opts('Streaming_History_Video_2021.json'))!;
    expect(episode).toMatchObject({ kind: 'episode', episode_id: '7makk4oTQel546B0PZlDM5', show_name: 'Show', track_id: null });
    const chapter = normalizePlay({ ...none, audiobook_title: 'Book', audiobook_uri: 'spotify:audiobook:1HGw3J3NxZO1TP1BTtVhpZ', audiobook_chapter_uri: 'spotify:chapter:0D5wENdkdwbqlrHoaJ9g29', audiobook_chapter_title: 'One' }, opts('Streaming_History_Audio_2024_0.json'))!;
    expect(chapter).toMatchObject({ kind: 'audiobook', uri: 'spotify:chapter:0D5wENdkdwbqlrHoaJ9g29', audiobook_id: '1HGw3J3NxZO1TP1BTtVhpZ', chapter_id: '0D5wENdkdwbqlrHoaJ9g29' });
    const unknown = normalizePlay({ ...none, ms_played: 0, shuffle: null, offline: null, offline_timestamp: null }, opts('endsong_0.json'))!;
    expect(unknown).toMatchObject({ kind: 'unknown', uri: null, track_id: null, ms_played: 0, offline_ts: null });
    for (const r of [episode, chapter, unknown]) expect(schema.check(r)).toEqual([]);
  });

  it('reads offline_timestamp in seconds (older) and milliseconds (newer), 0 as unknown', () => {
    expect(normalizePlay({ ...extended, offline_timestamp: 1614600000123 }, opts('endsong_0.json'))!.offline_ts).toBe('2021-03-01T12:00:00.123Z');
    expect(normalizePlay({ ...extended, offline_timestamp: 0 }, opts('endsong_0.json'))!.offline_ts).toBeNull();
  });

  it('reads a plain UTC second without a Date exactly as Date reads it, and leaves every other time to Date', () => {
    const viaDate = (v: string) => {
      const t = Date.parse(v);
      return Number.isFinite(t) ? new Date(t).toISOString() : null;
    };
    // Every field's edges, and random digits in the shape (many out of range).
    const random = seededRandom(15);
    const digits = (n: number) => Array.from({ length: n }, () => Math.floor(random() * 10)).join('');
    const cases = [
      '2024-02-29T23:59:59Z', '2023-02-29T00:00:00Z', '2100-02-29T00:00:00Z', '2000-02-29T00:00:00Z', '2024-04-31T00:00:00Z',
      '2024-12-31T23:59:59Z', '2024-13-01T00:00:00Z', '2024-00-10T00:00:00Z', '2024-01-00T00:00:00Z', '2024-01-01T24:00:00Z',
      '2024-01-01T23:60:00Z', '2024-01-01T23:59:60Z', '0000-01-01T00:00:00Z', '9999-12-31T23:59:59Z', '2024-01-01T00:00:00z',
      '2024-01-01 00:00:00Z', '2024-01-01T00:00:00.5Z', '2024-01-01T00:00:00+01:00', ' 2024-01-01T00:00:00Z', '２０２４-01-01T00:00:00Z',
      ...Array.from({ length: 5000 }, () => `${digits(4)}-${digits(2)}-${digits(2)}T${digits(2)}:${digits(2)}:${digits(2)}Z`),
      ...Array.from({ length: 5000 }, () => new Date(Math.floor(random() * 4e12)).toISOString().replace(/\.\d{3}Z$/, 'Z')),
    ];
    let plain = 0;
    for (const v of cases) {
      expect(isoTs(v), v).toBe(viaDate(v));
      const fast = plainUtcSecond(v);
      if (fast !== undefined) {
        plain++;
        expect(fast, v).toBe(viaDate(v));
      }
    }
    // The exports' own shape takes the fast path; Feb 29 of a common year, hour 24 and the rest do not.
    expect(plain).toBeGreaterThan(5000);
    for (const v of ['2023-02-29T00:00:00Z', '2024-01-01T24:00:00Z', '2024-01-01T00:00:00.5Z']) expect(plainUtcSecond(v), v).toBeUndefined();
  });

  it('gives the same play the same id in the old and the new export, and skips entries without a time', () => {
    const { ip_addr, ...old } = extended;
    const a = normalizePlay(extended, opts('Streaming_History_Audio_2021_0.json'))!;
    const b = normalizePlay({ ...old, ip_addr_decrypted: ip_addr }, opts('endsong_0.json'))!;
    expect(a.play_id).toBe(b.play_id);
    expect(a.play_id).toBe(playId('2021-03-01T12:00:00.000Z', 201_000, 'spotify:track:4uLU6hMCjMI75M1A2tKUQC'));
    // Pinned: ids already in lakes must not change (the first 32 hex digits of the SHA-256 of ts|ms|uri).
    expect(a.play_id).toBe('4651bc3ec429cea1554352bccc4e721a');
    expect(normalizePlay({ ...extended, ms_played: 200_999 }, opts('endsong_0.json'))!.play_id).not.toBe(a.play_id);
    expect(normalizePlay({ ...extended, ts: 'yesterday' }, opts('endsong_0.json'))).toBeUndefined();
  });

  it('keeps or hashes personal fields only when the config says so', () => {
    const r = normalizePlay({ ...extended, ip_addr: undefined, ip_addr_decrypted: '10.1.2.3' }, opts('endsong_0.json', { ip_addr: 'hash', conn_country: 'keep', user_agent: 'hash' }))!;
    expect(r.ip_addr).toBe(hashPersonal('pepper-and-salt', '10.1.2.3'));
    expect(r.ip_addr).toMatch(/^[0-9a-f]{64}$/);
    expect(r.conn_country).toBe('DE');
    expect(r.user_agent).toBe(hashPersonal('pepper-and-salt', extended.user_agent_decrypted));
    expect(r).not.toHaveProperty('username');
    expect(schema.check(r)).toEqual([]);
    expect(hashPersonal('other-salt', '10.1.2.3')).not.toBe(r.ip_addr);
  });
});

describe('account data history', () => {
  it('reads music and podcast files (minute precision, no URIs)', () => {
    const music = normalizePlay({ endTime: '2024-03-01 14:03', artistName: 'Band', trackName: 'Song', msPlayed: 1234 }, opts('StreamingHistory_music_0.json'))!;
    expect(music).toMatchObject({ ts: '2024-03-01T14:03:00.000Z', ms_played: 1234, kind: 'track', format: 'account', uri: null, track_id: null, artist_name: 'Band', track_name: 'Song' });
    const pod = normalizePlay({ endTime: '2024-03-01 15:00', podcastName: 'Show', episodeName: 'Ep 1', msPlayed: 60_000 }, opts('StreamingHistory_podcast_0.json'))!;
    expect(pod).toMatchObject({ kind: 'episode', show_name: 'Show', episode_name: 'Ep 1', format: 'account' });
    const legacy = normalizePlay({ endTime: '2019-01-01 00:01', artistName: 'Show?', trackName: 'Ep?', msPlayed: 5 }, opts('StreamingHistory0.json'))!;
    expect(legacy).toMatchObject({ kind: 'track', kind_source: 'assumed' });
    const book = normalizePlay({ endTime: '2024-03-03 21:10', audiobookName: 'Book', chapterName: 'Chapter 1', authorName: 'Author', msPlayed: 7 }, opts('StreamingHistory_audiobook_0.json'))!;
    expect(book).toMatchObject({ kind: 'audiobook', kind_source: 'file', audiobook_title: 'Book', chapter_title: 'Chapter 1', author_name: 'Author' });
    const nameless = normalizePlay({ endTime: '2019-01-01 00:02', msPlayed: 5 }, opts('StreamingHistory0.json'))!;
    expect(nameless).toMatchObject({ kind: 'unknown', kind_source: null });
    expect(music.play_id).toBe(playId('2024-03-01T14:03:00.000Z', 1234, 'Band|Song'));
    for (const r of [music, pod, legacy, book, nameless]) expect(schema.check(r)).toEqual([]);
  });
});
