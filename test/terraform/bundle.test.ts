/**
 * The extractor bundle that synth builds: the entry generated from the shipped pipeline (which
 * includes the export pipeline) and the connector registry, scanned for dev dependencies and credentials; and the scanner itself on
 * fixtures that must be caught.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildExtractorBundle, scanForCredentials } from '../../terraform/bundle.ts';
import { ROOT, STUB_ENTRY, connectors } from './helpers.ts';

describe('extractor bundle (generated entry)', () => {
  const bundle = buildExtractorBundle({ pipelineFile: join(ROOT, 'pipeline.yaml'), connectors });
  const code = () => readFileSync(join(bundle.dir, 'index.mjs'), 'utf8');

  it('builds from the generated entry, one index.mjs with the handler', () => {
    expect(bundle.placeholder).toBeUndefined();
    expect(bundle.entry).toBe('generated');
    expect(bundle.handler).toBe('index.handler');
    expect(statSync(join(bundle.dir, 'index.mjs')).size).toBe(bundle.bytes);
    expect(bundle.bytes).toBeGreaterThan(50_000);
    expect(code()).toMatch(/export\s*\{[^}]*handler/);
  });

  it('carries every pipeline of the lake and the connector of each: the export pipeline and its connector too', () => {
    expect(bundle.pipelines).toEqual(['pipeline.yaml', 'connectors/spotify-history/pipeline.yaml']);
    expect(bundle.connectors).toEqual({ spotify: 'connectors/spotify/index.ts', 'spotify-history': 'connectors/spotify-history/index.ts' });
    // Both plugins are in the code, not only named: each one's own module text is there.
    expect(code()).toContain('Spotify Web API (2026)');
    expect(code()).toContain('Spotify personal data export');
    expect(code()).toContain('my-spotify-history');
  });

  it('contains no dev dependency (package-lock dev flags, devDependencies, known tools)', () => {
    expect(bundle.devPackages).toEqual([]);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
    for (const dev of Object.keys(pkg.devDependencies)) expect(bundle.packages).not.toContain(dev);
    expect(bundle.packages.some((p) => p.startsWith('@duckdb/'))).toBe(false);
  });

  it('contains no credential, and embeds pipeline.yaml (which holds only references)', () => {
    expect(bundle.credentialFindings).toEqual([]);
    expect(scanForCredentials(code(), [])).toEqual([]);
    expect(code()).toContain('${secret:spotify/client_secret}');
  });
});

describe('bundle scanner', () => {
  it('finds credential shapes and known secret values, naming the pattern, never the value', () => {
    expect(scanForCredentials('const k = "AKIAIOSFODNN7EXAMPLE";', [])).toEqual(['AWS access key id']);
    expect(scanForCredentials('-----BEGIN RSA PRIVATE KEY-----', [])).toEqual(['private key block']);
    const found = scanForCredentials('x = "my-very-secret-token"', ['my-very-secret-token']);
    expect(found).toEqual(['1 value(s) of local secrets or AWS credentials']);
    expect(found.join('')).not.toContain('my-very-secret-token');
  });

  it('checks the values of the pipeline\'s local secrets file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bundle-secret-'));
    const pipeline = join(dir, 'pipeline.yaml');
    // The pipeline text ends up in the bundle; here it (wrongly) holds the secret in clear.
    writeFileSync(pipeline, 'name: leaky\nsecret: hunter2-hunter2-hunter2\n');
    writeFileSync(join(dir, '.secrets.json'), JSON.stringify({ 'spotify/client_secret': 'hunter2-hunter2-hunter2', _meta: {} }));
    const b = buildExtractorBundle({ pipelineFile: pipeline, entry: STUB_ENTRY, connectors, outRoot: join(dir, 'out') });
    expect(b.credentialFindings).toEqual(['1 value(s) of local secrets or AWS credentials']);
  });

  it('writes the same code to the same content-addressed folder, with a fixed mtime (reproducible zips)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bundle-det-'));
    const pipeline = join(dir, 'pipeline.yaml');
    writeFileSync(pipeline, 'name: det\n');
    const a = buildExtractorBundle({ pipelineFile: pipeline, entry: STUB_ENTRY, connectors, outRoot: join(dir, 'out') });
    expect(existsSync(join(a.dir, 'index.mjs'))).toBe(true);
    expect(a.dir.endsWith(a.hash.slice(0, 32))).toBe(true);
    expect(statSync(join(a.dir, 'index.mjs')).mtime.toISOString()).toBe('2020-01-01T00:00:00.000Z');
    expect(a.packages).toEqual(['yaml']);
  });
});
