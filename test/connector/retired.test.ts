/**
 * Endpoints users copy from tutorials that Spotify removed (2024-11-27 for new and Development Mode
 * apps, February 2026 for Development Mode): `validate` says when and why each went and what to
 * use instead, rather than "unknown endpoint", in either API mode, and however the tutorial spelt it.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { endpoints, retiredEndpoints } from '../../connectors/spotify/endpoints.ts';
import { preparePipeline } from '../../core/pipeline.ts';
import { pipelineText, problemsOf, removeTempDirs, tempDir, type Mode } from './helpers.ts';

afterAll(removeTempDirs);

const NOV_2024 = ['audio-features', 'audio-features/{id}', 'audio-analysis/{id}', 'recommendations', 'recommendations/available-genre-seeds', 'artists/{id}/related-artists', 'browse/featured-playlists', 'browse/categories/{id}/playlists'];
const FEB_2026 = ['browse/new-releases', 'browse/categories', 'browse/categories/{id}', 'markets', 'users/{id}'];

function endpointErrors(mode: Mode, endpoint: string): string[] {
  return problemsOf(mode, { old: { endpoint } })
    .filter((p) => p.severity === 'error' && p.path === 'streams.old.endpoint')
    .map((p) => p.message);
}

describe('endpoints Spotify removed', () => {
  it('each retired endpoint names its date, the change and a replacement the connector offers', () => {
    expect(Object.keys(retiredEndpoints).sort()).toEqual([...NOV_2024, ...FEB_2026].sort());
    for (const [name, r] of Object.entries(retiredEndpoints)) {
      expect(endpoints[name], name).toBeUndefined();
      expect(r.date, name).toBe(NOV_2024.includes(name) ? '2024-11-27' : '2026-02-11');
      for (const m of r.instead.matchAll(/endpoint: ([\w/{}-]+)/g)) expect(endpoints[m[1]]?.modes?.development?.removed, `${name} -> ${m[1]}`).toBeUndefined();
    }
  });

  it.each([...NOV_2024, ...FEB_2026])('validate explains %s in both modes instead of "unknown endpoint"', (endpoint) => {
    const r = retiredEndpoints[endpoint];
    for (const mode of ['development', 'extended'] as const) {
      const errors = endpointErrors(mode, endpoint);
      expect(errors, mode).toHaveLength(1);
      expect(errors[0]).not.toMatch(/unknown endpoint/);
      for (const part of [`"${endpoint}"`, r.date, r.change, r.instead]) expect(errors[0]).toContain(part);
    }
  });

  it('recognises the spellings tutorials use: a /v1/ URL path, named placeholders, snake_case', () => {
    for (const [written, name] of [
      ['/v1/audio-features', 'audio-features'],
      ['artists/{artist_id}/related-artists', 'artists/{id}/related-artists'],
      ['browse/categories/{category_id}/playlists', 'browse/categories/{id}/playlists'],
      ['audio_features', 'audio-features'],
      ['browse/new_releases', 'browse/new-releases'],
    ]) {
      const errors = endpointErrors('development', written);
      expect(errors, written).toHaveLength(1);
      expect(errors[0]).toContain(retiredEndpoints[name].change);
    }
    // A typo of a living endpoint is still an unknown endpoint, with its suggestion.
    expect(endpointErrors('development', 'artist')[0]).toMatch(/unknown endpoint "artist"; did you mean "artists"\?/);
  });

  it('the front door every command uses refuses the file with that message, file, line and key', async () => {
    const dir = await tempDir();
    const file = join(dir, 'pipeline.yaml');
    await writeFile(file, pipelineText('development', { old: { endpoint: 'recommendations' } }));
    const err = await preparePipeline(file).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).toMatch(/pipeline\.yaml:\d+:\d+ streams\.old\.endpoint: endpoint "recommendations" .*2024-11-27/);
    expect(err?.message.split('\n').filter((l) => l.includes('streams.old.endpoint'))).toHaveLength(1);
  });
});
