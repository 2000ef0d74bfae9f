/**
 * Contract checks: sandbox responses against the component schemas of Spotify's OpenAPI file
 * (sonallux's fixed copy). The spec is not mode-aware (doc §9), so in Development the documented
 * removed fields (`deprecated: true`) are dropped from `required` lists; a few known spec gaps are
 * relaxed in both modes (listed in `relaxSpecGaps`).
 */
import fs from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import YAML from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SpotifySandbox } from '../../connectors/spotify/sandbox/index.ts';
import { api, start, userToken } from './helpers.ts';

// shared/ sits beside the project's clone (as in CI); /work/shared is the workplace's copy.
const SPEC_PATH = [
  join(import.meta.dirname, '..', '..', '..', 'shared', 'spotify-openapi', 'fixed-spotify-open-api.yml'),
  '/work/shared/spotify-openapi/fixed-spotify-open-api.yml',
].find((p) => fs.existsSync(p))!;
type Schema = Record<string, any>;

function walk(node: unknown, fn: (s: Schema) => void): void {
  if (Array.isArray(node)) node.forEach((n) => walk(n, fn));
  else if (node && typeof node === 'object') {
    fn(node);
    for (const v of Object.values(node)) walk(v, fn);
  }
}

const orNull = (schema: Schema): Schema => ({ anyOf: [{ type: 'null' }, schema] });

/** Known differences between the spec and real 2026 responses (doc §2.3, §4.2, §9). */
function relaxSpecGaps(schemas: Record<string, Schema>): void {
  // Real cursor pages send `next: null` and, when empty, `cursors: null`.
  const cursorProps = schemas.CursorPagingObject.properties;
  cursorProps.next = orNull(cursorProps.next);
  cursorProps.cursors = orNull(cursorProps.cursors);
  schemas.CursorObject.properties.after = orNull(schemas.CursorObject.properties.after);
  // Playlists without a cover have `images: null`.
  for (const n of ['PlaylistObject', 'SimplifiedPlaylistObject']) schemas[n].properties.images = orNull(schemas[n].properties.images);
  // Plays without a context (e.g. from the queue or search) carry `context: null`.
  schemas.PlayHistoryObject.properties.context = orNull(schemas.PlayHistoryObject.properties.context);
  // A track that is no longer available is a null `item`/`track` in a playlist.
  for (const k of ['item', 'track']) schemas.PlaylistTrackObject.properties[k] = orNull(schemas.PlaylistTrackObject.properties[k]);
}

/** Property names a schema declares deprecated, itself or through its allOf members. */
function deprecatedProps(s: Schema, schemas: Record<string, Schema>, seen = new Set<Schema>()): Set<string> {
  const out = new Set<string>();
  if (!s || seen.has(s)) return out;
  seen.add(s);
  for (const [k, v] of Object.entries<Schema>(s.properties ?? {})) if (v?.deprecated) out.add(k);
  for (const m of s.allOf ?? []) {
    const target = m.$ref ? schemas[String(m.$ref).split('/').pop()!] : m;
    for (const k of deprecatedProps(target, schemas, seen)) out.add(k);
  }
  return out;
}

function loadAjv(development: boolean): Ajv {
  const doc = YAML.parse(fs.readFileSync(SPEC_PATH, 'utf8'));
  const schemas: Record<string, Schema> = doc.components.schemas;
  walk(schemas, (s) => {
    delete s.discriminator; // Ajv's discriminator support needs required tags; oneOf is enough here.
  });
  if (development) {
    // Removed fields are absent in Development (doc §3): not required there.
    walk(schemas, (s) => {
      if (!Array.isArray(s.required)) return;
      const dep = deprecatedProps(s, schemas);
      s.required = s.required.filter((k: string) => !dep.has(k));
    });
  }
  relaxSpecGaps(schemas);
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats.default(ajv); // CJS default export under NodeNext typing
  for (const f of ['int32', 'int64', 'float', 'double']) ajv.addFormat(f, true);
  ajv.addSchema({ $id: 'spotify', components: { schemas } });
  return ajv;
}

function validator(ajv: Ajv, name: string): ValidateFunction {
  return ajv.compile({ $ref: `spotify#/components/schemas/${name}` });
}

function expectValid(v: ValidateFunction, body: unknown, label: string): void {
  const ok = v(body);
  expect(ok, `${label}: ${JSON.stringify(v.errors?.slice(0, 5), null, 1)}`).toBe(true);
}

/** Local files violate the spec (null ids/hrefs), as they do on the real API; drop them. */
function withoutLocal(page: any): any {
  return { ...page, items: page.items.filter((i: any) => !i.is_local) };
}

for (const profile of ['development', 'extended'] as const) {
  describe(`contract (${profile})`, () => {
    let sb: SpotifySandbox;
    let tok: string;
    let ajv: Ajv;
    beforeAll(async () => {
      sb = await start({ profile });
      tok = await userToken(sb);
      ajv = loadAjv(profile === 'development');
    });
    afterAll(async () => { await sb.close(); });

    it('user, playlists, items, plays, saved tracks, following', async () => {
      expectValid(validator(ajv, 'PrivateUserObject'), (await api(sb, tok, '/me')).body, '/me');
      expectValid(validator(ajv, 'PagingPlaylistObject'), (await api(sb, tok, '/me/playlists?limit=50')).body, '/me/playlists');
      const owned = sb.data.playlists[1];
      const items = await api(sb, tok, `/playlists/${owned.id}/items?limit=50&additional_types=track,episode`);
      expectValid(validator(ajv, 'PagingPlaylistTrackObject'), withoutLocal(items.body), 'items');
      const meta = await api(sb, tok, `/playlists/${sb.data.playlists[2].id}`);
      expectValid(validator(ajv, 'PlaylistObject'), meta.body, 'playlist');
      expectValid(validator(ajv, 'CursorPagingPlayHistoryObject'), (await api(sb, tok, '/me/player/recently-played?limit=50')).body, 'recently-played');
      expectValid(validator(ajv, 'CursorPagingPlayHistoryObject'), (await api(sb, tok, '/me/player/recently-played?before=1')).body, 'recently-played (empty)');
      expectValid(validator(ajv, 'PagingSavedTrackObject'), (await api(sb, tok, '/me/tracks?limit=50')).body, '/me/tracks');
      const following = await api(sb, tok, '/me/following?type=artist&limit=50');
      expectValid(validator(ajv, 'CursorPagingSimplifiedArtistObject'), following.body.artists, '/me/following');
      expectValid(validator(ajv, 'PagingTrackObject'), (await api(sb, tok, '/me/top/tracks?limit=50')).body, '/me/top/tracks');
      expectValid(validator(ajv, 'PagingArtistObject'), (await api(sb, tok, '/me/top/artists?limit=50')).body, '/me/top/artists');
    });

    it('catalog objects', async () => {
      const trackId = sb.data.messy.trackIds[0];
      expectValid(validator(ajv, 'TrackObject'), (await api(sb, tok, `/tracks/${trackId}`)).body, 'track');
      const albumId = [...sb.data.albums.keys()][0];
      expectValid(validator(ajv, 'AlbumObject'), (await api(sb, tok, `/albums/${albumId}`)).body, 'album');
      expectValid(validator(ajv, 'PagingSimplifiedTrackObject'), (await api(sb, tok, `/albums/${albumId}/tracks`)).body, 'album tracks');
      const artistId = sb.data.messy.artistIds[0];
      expectValid(validator(ajv, 'ArtistObject'), (await api(sb, tok, `/artists/${artistId}`)).body, 'artist');
      expectValid(validator(ajv, 'PagingArtistDiscographyAlbumObject'), (await api(sb, tok, `/artists/${artistId}/albums`)).body, 'artist albums');
      const episodeId = [...sb.data.episodes.keys()][0];
      expectValid(validator(ajv, 'EpisodeObject'), (await api(sb, tok, `/episodes/${episodeId}`)).body, 'episode');
      const search = await api(sb, tok, '/search?q=love&type=track,artist,album');
      expectValid(validator(ajv, 'PagingTrackObject'), search.body.tracks, 'search tracks');
      expectValid(validator(ajv, 'PagingArtistObject'), search.body.artists, 'search artists');
      expectValid(validator(ajv, 'PagingSimplifiedAlbumObject'), search.body.albums, 'search albums');
    });

    if (profile === 'extended') {
      it('extended-only forms: batches, legacy playlist tracks, other users, top tracks', async () => {
        const trackIds = [...sb.data.tracks.keys()].slice(0, 50).join(',');
        const artistIds = [...sb.data.artists.keys()].slice(0, 50).join(',');
        const albumIds = [...sb.data.albums.keys()].slice(0, 20).join(',');
        const many = (await api(sb, tok, `/tracks?ids=${trackIds}`)).body.tracks;
        expect(many).toHaveLength(50);
        for (const t of many) expectValid(validator(ajv, 'TrackObject'), t, 'batch track');
        for (const a of (await api(sb, tok, `/artists?ids=${artistIds}`)).body.artists) expectValid(validator(ajv, 'ArtistObject'), a, 'batch artist');
        for (const a of (await api(sb, tok, `/albums?ids=${albumIds}`)).body.albums) expectValid(validator(ajv, 'AlbumObject'), a, 'batch album');
        const legacy = await api(sb, tok, `/playlists/${sb.data.playlists[1].id}/tracks?limit=100`);
        expectValid(validator(ajv, 'PagingPlaylistTrackObject'), withoutLocal(legacy.body), 'legacy /tracks');
        const other = sb.data.playlists[4].owner as { id: string };
        expectValid(validator(ajv, 'PagingPlaylistObject'), (await api(sb, tok, `/users/${other.id}/playlists`)).body, 'other user playlists');
        const top = (await api(sb, tok, `/artists/${[...sb.data.artists.keys()][0]}/top-tracks?market=US`)).body.tracks;
        for (const t of top) expectValid(validator(ajv, 'TrackObject'), t, 'top track');
      });
    }

    it('error bodies', async () => {
      const err = validator(ajv, 'ErrorObject');
      expectValid(err, (await api(sb, tok, '/tracks/nope')).body.error, '400');
      expectValid(err, (await api(sb, tok, '/tracks/0000000000000000000000')).body.error, '404');
      expectValid(err, (await api(sb, 'bad', '/me')).body.error, '401');
    });

    if (profile === 'development') {
      it('the development checks are not vacuous: a stripped field is really required in extended', () => {
        const full = loadAjv(false);
        const v = validator(full, 'SimplifiedAlbumObject');
        const album = { ...[...sb.data.albums.values()][0] } as Record<string, unknown>;
        delete album.available_markets;
        expect(v(album)).toBe(false);
      });
    }
  });
}
