/** Which files of a Spotify data download hold listening history, and in which format. */

export type ExportFormat = 'extended' | 'account';

export interface HistoryFileKind {
  format: ExportFormat;
  /** audio/video (extended), music/podcast/audiobook (account, 2024+), mixed (the <= 2023 account file without a suffix). */
  media: 'audio' | 'video' | 'music' | 'podcast' | 'audiobook' | 'mixed';
}

const PATTERNS: Array<[RegExp, HistoryFileKind]> = [
  [/^Streaming_History_Audio_.*\.json$/i, { format: 'extended', media: 'audio' }],
  [/^Streaming_History_Video_.*\.json$/i, { format: 'extended', media: 'video' }],
  // The Extended Streaming History's name before 2023.
  [/^endsong(_\d+)?\.json$/i, { format: 'extended', media: 'audio' }],
  [/^endvideo(_\d+)?\.json$/i, { format: 'extended', media: 'video' }],
  [/^StreamingHistory_music_\d+\.json$/i, { format: 'account', media: 'music' }],
  [/^StreamingHistory_podcast_\d+\.json$/i, { format: 'account', media: 'podcast' }],
  [/^StreamingHistory_audiobook_\d+\.json$/i, { format: 'account', media: 'audiobook' }],
  [/^StreamingHistory\d+\.json$/i, { format: 'account', media: 'mixed' }],
];

/** The kind of a history file by its base name; undefined for every other file of the download. */
export function classify(basename: string): HistoryFileKind | undefined {
  return PATTERNS.find(([re]) => re.test(basename))?.[1];
}

/**
 * A file whose name says listening history but whose family this connector does not know (e.g. the
 * account data's video files, whose layout is not documented): never read, always reported.
 */
export function historyLike(basename: string): boolean {
  return !classify(basename) && /^(streaming_?history|endsong|endvideo|endepisode)/i.test(basename) && /\.json$/i.test(basename);
}

/** Folders and files no export consists of (macOS zip resource forks, hidden files). */
export function ignored(path: string): boolean {
  return path.split('/').some((p) => p === '__MACOSX' || p.startsWith('.'));
}
