/**
 * Listening that follows latent tastes, with the ground truth kept: the data the recommendation
 * bench and tests evaluate on (core/recs/). A taste is a cluster of tracks (its own artists, a
 * Zipf popularity inside it); the listener has two active tastes at a time and drifts (every
 * `driftDays` one active taste is replaced by another); a session is drawn mostly within one
 * taste, with a few plays from anywhere. So the next weeks' plays are predictable from what was
 * played together (co-occurrence) and not from popularity alone (last year's favourites belong to
 * tastes no longer active). Some tracks are disliked: played now and then and skipped early.
 *
 * Records have the fields of the export's listening_history table (ts, track_id, names, ms_played,
 * skipped), deterministic for a seed.
 */
import { seededRandom } from '../../../core/plugin-api.ts';

export interface TasteOptions {
  seed?: number;
  /** Plays in all. Default 200,000. */
  plays?: number;
  tastes?: number;
  tracksPerTaste?: number;
  /** Days between two changes of the active tastes. Default 45. */
  driftDays?: number;
  /** First play (ms since 1970). Default 2021-01-01. */
  since?: number;
  /** Plays per day on average. Default 110. */
  playsPerDay?: number;
  /** Share of a session's plays drawn from any taste (noise). Default 0.1. */
  noise?: number;
}

export interface TastePlay {
  ts: string;
  track_id: string;
  track_name: string;
  artist_name: string;
  ms_played: number;
  skipped: boolean;
}

export interface TasteTrack {
  id: string;
  name: string;
  artist: string;
  taste: number;
  duration: number;
  disliked: boolean;
}

export interface TasteHistory {
  plays: TastePlay[];
  tracks: TasteTrack[];
  /** Ground truth: the taste of each track id. */
  tasteOf: Map<string, number>;
  /** The active tastes of each drift period, from `since`. */
  periods: Array<{ from: string; tastes: number[] }>;
}

const B62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const DAY = 86_400_000;
const WORDS = ['Blue', 'Night', 'River', 'Echo', 'Gold', 'Glass', 'Paper', 'Neon', 'Quiet', 'Wild', 'Velvet', 'Static', 'Ember', 'Orbit', 'Salt', 'Hollow'];

export function tasteHistory(opts: TasteOptions = {}): TasteHistory {
  const r = seededRandom(opts.seed ?? 7);
  const nPlays = opts.plays ?? 200_000;
  const nTastes = opts.tastes ?? 40;
  const perTaste = opts.tracksPerTaste ?? 150;
  const driftDays = opts.driftDays ?? 45;
  const since = opts.since ?? Date.UTC(2019, 0, 1);
  const perDay = opts.playsPerDay ?? 110;
  const noise = opts.noise ?? 0.1;
  const int = (n: number) => Math.floor(r() * n);
  const id = () => Array.from({ length: 22 }, () => B62[int(62)]).join('');
  const word = () => WORDS[int(WORDS.length)];

  const tracks: TasteTrack[] = [];
  const byTaste: TasteTrack[][] = [];
  for (let g = 0; g < nTastes; g++) {
    const artists = Array.from({ length: 20 }, (_, a) => `${word()} ${word()} ${g}-${a}`);
    const list: TasteTrack[] = [];
    for (let i = 0; i < perTaste; i++) {
      const t = { id: id(), name: `${word()} ${word()} ${i}`, artist: artists[i % artists.length], taste: g, duration: 150_000 + int(120_000), disliked: r() < 0.01 };
      list.push(t);
      tracks.push(t);
    }
    byTaste.push(list);
  }
  // Zipf popularity inside a taste (s = 0.9), sampled by inverse CDF.
  const weights = Array.from({ length: perTaste }, (_, i) => 1 / Math.pow(i + 1, 0.9));
  const cdf: number[] = [];
  weights.reduce((acc, w, i) => (cdf[i] = acc + w), 0);
  const totalW = cdf[cdf.length - 1];
  const zipf = () => {
    const x = r() * totalW;
    let lo = 0;
    let hi = cdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };

  const periods: TasteHistory['periods'] = [];
  let active = [0, 1];
  const lastActive = new Map<number, number>();
  let periodStart = since;
  periods.push({ from: new Date(since).toISOString(), tastes: [...active] });
  const plays: TastePlay[] = [];
  let t = since;
  while (plays.length < nPlays) {
    if (t - periodStart >= driftDays * DAY) {
      // Drift: the older active taste gives way to the one least recently active (a new taste,
      // until every taste has had its turn): what comes next is not last year's favourites.
      const others = Array.from({ length: nTastes }, (_, g) => g).filter((g) => !active.includes(g));
      const since = (g: number) => lastActive.get(g) ?? -Infinity;
      const next = others.reduce((a, b) => (since(b) < since(a) ? b : a));
      for (const g of active) lastActive.set(g, t);
      active = [active[1], next];
      periodStart = t;
      periods.push({ from: new Date(t).toISOString(), tastes: [...active] });
    }
    // The newer taste is the one played more.
    const taste = r() < 0.65 ? active[1] : active[0];
    const length = 4 + int(16);
    for (let i = 0; i < length && plays.length < nPlays; i++) {
      const track = r() < noise ? tracks[int(tracks.length)] : byTaste[taste][zipf()];
      const early = track.disliked ? r() < 0.9 : r() < 0.08;
      const ms = early ? 2_000 + int(20_000) : r() < 0.8 ? track.duration : 30_000 + int(track.duration - 30_000);
      plays.push({ ts: new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z'), track_id: track.id, track_name: track.name, artist_name: track.artist, ms_played: ms, skipped: early });
      t += ms + 1000 + int(20_000);
    }
    // The pause before the next session: on average the day's plays come in ~8 sessions.
    const sessionsPerDay = perDay / 11.5;
    t += Math.round(((-Math.log(1 - r()) * DAY) / sessionsPerDay) + 45 * 60_000);
  }
  return { plays, tracks, tasteOf: new Map(tracks.map((x) => [x.id, x.taste])), periods };
}
