/** The events the deployment's schedules send the extractor Lambda (a leaf: the stack imports it). */

/** `{ pipeline, action: "write-playlist" }`: write the recommendations to the user's playlist (core/lambda/playlist.ts). */
export const WRITE_PLAYLIST_ACTION = 'write-playlist';

/** The playlist refresh's schedule: weekly, as issue 17 asks (EventBridge Scheduler's rate expression). */
export const PLAYLIST_REFRESH_SCHEDULE = 'rate(7 days)';
