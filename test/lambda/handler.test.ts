/**
 * The extractor Lambda as deployed: the entry generated for the pipeline (core/lambda/bundle.ts)
 * bundled with esbuild (the options the deployment uses), imported in-process and invoked against
 * moto (test/support/moto.ts: the lake in its S3, the sandbox's credentials in its Secrets
 * Manager) and the Spotify sandbox. Everything binds 127.0.0.1; the AWS SDK clients inside the
 * bundle find moto through the standard AWS_ENDPOINT_URL variable, as any deployment would, and
 * their requests are counted where they arrive, by moto's request recorder.
 */
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { isBuiltin } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build, type Metafile } from 'esbuild';
import { parseDocument } from 'yaml';
import { startSandbox, type SpotifySandbox } from '../../connectors/spotify/sandbox/index.ts';
import { EXTRACTOR_FORBIDDEN_PACKAGES, extractorBuildOptions } from '../../core/lambda/bundle.ts';
import { connectors } from '../../connectors/index.ts';
import type { ExtractorHandler, ExtractorResult, LambdaContext } from '../../core/lambda/handler.ts';
import type { RunManifest } from '../../core/engine/manifest.ts';
import { S3Storage } from '../../core/storage/s3.ts';
import { generateExport } from '../../connectors/spotify-history/sandbox/index.ts';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { CreateSecretCommand, GetSecretValueCommand, PutSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { MOTO_CREDENTIALS, startMoto, type MotoServer } from '../support/moto.ts';
import type { PlaylistRefreshResult } from '../../core/lambda/playlist.ts';
import { openCatalogLake, type Lake } from '../../core/query/index.ts';
import { openDuckdb } from '../../core/query/sandbox.ts';
import { RECS_TABLE, recommendationsTable } from '../../core/recs/table.ts';
import { planTable, storedColumnPlans } from '../../core/transform/plan.ts';
import { COLUMN_TYPE_INFO } from '../../core/transform/types.ts';
import { startAthenaStandIn, type AthenaStandIn } from '../../terraform/rehearse/athena-server.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const BUCKET = 'my-spotify-lake';
const PIPELINE_NAME = 'my-spotify-lake';
const PLAYLIST = 'Recommended for you (weekly)';

let tmp: string;
let moto: MotoServer;
/** The test's own Secrets Manager client (sets and reads values; its requests are not recorded). */
let secrets: SecretsManagerClient;
let sb: SpotifySandbox;
let bundleFile: string;
let bundleText: string;
let metafile: Metafile;
/** Set when the deployment's build options failed (the bundle was then built with DuckDB external, so the rest can run). */
let buildError: string | undefined;
let handler: ExtractorHandler;
const savedEnv = { ...process.env };

/** The shipped pipeline.yaml, with the connector pointed at base URLs from the environment. */
async function testPipeline(): Promise<string> {
  const doc = parseDocument(await readFile(join(ROOT, 'pipeline.yaml'), 'utf8'));
  doc.setIn(['connector', 'config', 'api_base_url'], '${env:SPOTIFY_API_BASE_URL}');
  doc.setIn(['connector', 'config', 'accounts_base_url'], '${env:SPOTIFY_ACCOUNTS_BASE_URL}');
  doc.setIn(['connector', 'config', 'rate_limit'], null);
  // The write-back opted in: the deployment's weekly refresh writes this playlist.
  doc.setIn(['recommendations', 'playlist'], doc.createNode({ name: PLAYLIST, description: 'Recommended from my own listening' }));
  const file = join(tmp, 'pipeline.yaml');
  await writeFile(file, doc.toString());
  // The pipeline includes the export pipeline by a path relative to itself: the bundle embeds it too.
  await mkdir(join(tmp, 'connectors', 'spotify-history'), { recursive: true });
  await copyFile(join(ROOT, 'connectors', 'spotify-history', 'pipeline.yaml'), join(tmp, 'connectors', 'spotify-history', 'pipeline.yaml'));
  return file;
}

function pointAt(sandbox: SpotifySandbox, lakePrefix: string, secretsPrefix: string): void {
  Object.assign(process.env, {
    SPOTIFY_CLIENT_ID: sandbox.credentials.client_id,
    SPOTIFY_API_BASE_URL: sandbox.apiUrl,
    SPOTIFY_ACCOUNTS_BASE_URL: sandbox.accountsUrl,
    LAKE_BUCKET: BUCKET,
    LAKE_PREFIX: lakePrefix,
    SECRETS_PREFIX: secretsPrefix,
  });
}

function context(remainingMs: number): LambdaContext {
  const deadline = Date.now() + remainingMs;
  return { getRemainingTimeInMillis: () => deadline - Date.now(), awsRequestId: 'test-request' };
}

/** Invokes the handler, capturing what it writes to stderr (CloudWatch in AWS). */
async function invoke(ctx: LambdaContext, event: unknown = { source: 'aws.scheduler' }): Promise<{ result?: ExtractorResult; error?: Error; log: string }> {
  const lines: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    lines.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
  });
  try {
    // A run's event: the extractor's result (the playlist refresh has its own test below).
    return { result: (await handler(event, ctx)) as ExtractorResult, log: lines.join('') };
  } catch (e) {
    return { error: e as Error, log: lines.join('') };
  } finally {
    process.stderr.write = write;
  }
}

function lake(prefix: string): S3Storage {
  return new S3Storage({ bucket: BUCKET, prefix, client: moto.s3() });
}

/** Stores a secret's value (creating the secret the first time), outside the recording. */
async function setSecret(id: string, value: string): Promise<void> {
  await moto.recording.stop();
  try {
    await secrets.send(new PutSecretValueCommand({ SecretId: id, SecretString: value })).catch(async (e: unknown) => {
      if ((e as Error).name !== 'ResourceNotFoundException') throw e;
      await secrets.send(new CreateSecretCommand({ Name: id, SecretString: value }));
    });
  } finally {
    await moto.recording.start();
  }
}

/** A secret's current value, read outside the recording. */
async function secretValue(id: string): Promise<string | undefined> {
  await moto.recording.stop();
  try {
    return (await secrets.send(new GetSecretValueCommand({ SecretId: id }))).SecretString;
  } finally {
    await moto.recording.start();
  }
}

async function manifests(prefix: string): Promise<RunManifest[]> {
  const storage = lake(prefix);
  const out: RunManifest[] = [];
  for (const key of await storage.list('_runs/')) out.push(JSON.parse((await storage.get(key))!.toString('utf8')) as RunManifest);
  return out.sort((a, b) => a.run_id.localeCompare(b.run_id));
}

/** Every record of a stream in the committed raw files, with the run that wrote it. */
async function records(prefix: string, stream: string): Promise<Array<{ runId: string; record: Record<string, unknown> }>> {
  const storage = lake(prefix);
  const out: Array<{ runId: string; record: Record<string, unknown> }> = [];
  for (const m of await manifests(prefix)) {
    for (const f of m.streams[stream]?.files ?? []) {
      const body = await storage.get(f.key);
      expect(body, `raw file ${f.key} listed in manifest ${m.run_id}`).toBeDefined();
      const lines = gunzipSync(body!).toString('utf8').split('\n').filter(Boolean);
      expect(lines.length).toBe(f.records);
      for (const l of lines) out.push({ runId: m.run_id, record: JSON.parse(l) as Record<string, unknown> });
    }
  }
  return out;
}

function duplicates(keys: string[]): string[] {
  const seen = new Set<string>();
  return keys.filter((k) => (seen.has(k) ? true : (seen.add(k), false)));
}

/** What the shipped pipeline must extract, from the sandbox's ground truth alone. */
function truth(sandbox: SpotifySandbox) {
  const d = sandbox.data;
  const artists = new Set<string>();
  const plays = d.plays.slice(0, 50);
  for (const p of plays) for (const a of d.tracks.get(p.track_id)!.artists as Array<{ id: string | null }>) if (a.id) artists.add(a.id);
  let playlistItems = 0;
  for (const pl of d.playlists) {
    if ((pl.owner as { id: string }).id !== d.user.id && pl.collaborative !== true) continue;
    playlistItems += pl.items.length;
    for (const it of pl.items) {
      const item = it.item as { type?: string; artists?: Array<{ id: string | null }> } | null;
      if (item?.type === 'track') for (const a of item.artists ?? []) if (a.id) artists.add(a.id);
    }
  }
  return { plays: plays.length, playlists: d.playlists.length, playlistItems, artists: artists.size };
}

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'extractor-'));
  [moto, sb] = await Promise.all([
    startMoto(),
    // Rotating refresh tokens: the second invocation only works if the first stored the new one.
    startSandbox({ seed: 7, rotateRefreshTokens: true }),
  ]);
  await moto.createBuckets(BUCKET);
  secrets = moto.secretsManager();
  // Every request from here on is recorded (but the test's own reads and writes of secrets).
  await moto.recording.start();
  await setSecret(`${PIPELINE_NAME}/spotify/client_secret`, sb.credentials.client_secret);
  await setSecret(`${PIPELINE_NAME}/spotify/refresh_token`, sb.credentials.refresh_token);

  const pipelineFile = await testPipeline();
  bundleFile = join(tmp, 'bundle', 'index.mjs');
  const options = extractorBuildOptions({ pipelineFile, outfile: bundleFile, connectors });
  let res;
  try {
    res = await build(options);
  } catch (e) {
    buildError = (e as Error).message;
    res = await build({ ...options, external: ['@duckdb/*'] });
  }
  metafile = res.metafile;
  bundleText = await readFile(bundleFile, 'utf8');

  // The Lambda runtime's environment, pointed at loopback; nothing else the SDK could read.
  for (const k of Object.keys(process.env)) if (k.startsWith('AWS_')) delete process.env[k];
  Object.assign(process.env, moto.env, {
    AWS_CONFIG_FILE: join(tmp, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(tmp, 'no-aws-credentials'),
    LOG_LEVEL: 'info',
  });
  const mod = (await import(pathToFileURL(bundleFile).href)) as { handler: ExtractorHandler };
  handler = mod.handler;
});

afterAll(async () => {
  for (const k of Object.keys(process.env)) if (!(k in savedEnv)) delete process.env[k];
  Object.assign(process.env, savedEnv);
  await Promise.all([moto?.close(), sb?.close()]);
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('extractor bundle', () => {
  it('(a) does not reach the transform, the query engine or DuckDB', () => {
    const inputs = Object.keys(metafile.inputs);
    const heavy = inputs.filter((i) => /(^|\/)core\/(transform|query)\/|node_modules\/@duckdb\//.test(i));
    const chain = importChain(metafile, heavy.find((i) => i.includes('@duckdb/')) ?? heavy[0] ?? '').join(' -> ');
    const why = `the extractor reaches ${heavy.join(', ')} through ${chain}` + (buildError ? `; the deployment build fails: ${buildError.split('\n').slice(0, 3).join(' | ')}` : '');
    expect(heavy, why).toEqual([]);
    expect(buildError, why).toBeUndefined();
  });

  it('(c) holds no dev dependency and imports nothing but Node built-ins', () => {
    const packages = new Set(
      Object.keys(metafile.inputs)
        .filter((i) => i.includes('node_modules/'))
        .map((i) => {
          const rest = i.slice(i.lastIndexOf('node_modules/') + 'node_modules/'.length).split('/');
          return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
        }),
    );
    const forbidden = [...packages].filter((p) => EXTRACTOR_FORBIDDEN_PACKAGES.some((f) => (f.endsWith('/') ? p.startsWith(f) : p === f)));
    // @duckdb is asserted (with its import chain) by test (a).
    expect(forbidden.filter((p) => !p.startsWith('@duckdb/'))).toEqual([]);
    for (const dev of ['vitest', '@vitest/', 'typescript', 'cdktf-cli', 'esbuild', 'tsx']) {
      expect(bundleText.includes(`node_modules/${dev}`), dev).toBe(false);
    }
    const out = Object.values(metafile.outputs)[0];
    const external = out.imports.filter((i) => i.external).map((i) => i.path);
    // supports-color is deliberately external: debug requires it optionally (see bundle.ts).
    expect(external.filter((p) => !isBuiltin(p) && !p.startsWith('@duckdb/') && p !== 'supports-color')).toEqual([]);
  });

  it('(c) holds no credentials', () => {
    expect(bundleText).not.toMatch(/\b(AKIA|ASIA)[0-9A-Z]{16}\b/);
    expect(bundleText).not.toContain('AKIA');
    for (const secret of [sb.credentials.client_secret, sb.credentials.refresh_token, MOTO_CREDENTIALS.secretAccessKey]) {
      expect(bundleText.includes(secret)).toBe(false);
    }
    // The pipeline is embedded with its references, never resolved values.
    expect(bundleText).toContain('${secret:spotify/refresh_token}');
  });

  it('is small enough for a quick cold start', () => {
    const bytes = Buffer.byteLength(bundleText);
    console.info(`extractor bundle: ${(bytes / 1024).toFixed(0)} KiB (${bytes} bytes)`);
    expect(bytes).toBeLessThan(5 * 1024 * 1024);
  });
});

describe('extractor invocation (in-process, against moto S3, Secrets Manager and the sandbox)', () => {
  const prefix = 'lake';
  let first: { result?: ExtractorResult; error?: Error; log: string };
  let second: { result?: ExtractorResult; error?: Error; log: string };
  const expected = () => truth(sb);

  beforeAll(async () => {
    pointAt(sb, prefix, PIPELINE_NAME);
    first = await invoke(context(900_000));
    second = await invoke(context(900_000));
  });

  it('extracts every stream into the bucket and returns a summary', () => {
    expect(first.error?.message).toBeUndefined();
    const r = first.result!;
    expect(r).toMatchObject({ pipeline: PIPELINE_NAME, lake: `s3://${BUCKET}/${prefix}`, stoppedEarly: false });
    const by = Object.fromEntries(r.streams.map((s) => [s.stream, s]));
    const t = expected();
    expect(by.recently_played.records).toBe(t.plays);
    expect(by.my_playlists.records).toBe(t.playlists);
    expect(by.playlist_items.records).toBe(t.playlistItems);
    expect(by.artists.records).toBe(t.artists);
    for (const s of r.streams) expect(s.status, s.stream).toBe('ok');
  });

  it('commits raw data and the run manifest `_runs/<run id>.json` under the lake prefix', async () => {
    const runId = first.result!.runId;
    const keys = await lake(prefix).list('');
    expect(keys).toContain(`_runs/${runId}.json`);
    const m = (await manifests(prefix)).find((x) => x.run_id === runId)!;
    expect(m.pipeline).toBe(PIPELINE_NAME);
    expect(m.committed_at).not.toBe('');
    for (const [stream, s] of Object.entries(m.streams)) {
      for (const f of s.files) {
        expect(f.key).toMatch(new RegExp(`^raw/${stream}/dt=\\d{4}-\\d{2}-\\d{2}/${runId}-`));
        expect(keys).toContain(f.key);
      }
    }
    expect((await records(prefix, 'recently_played')).length).toBe(expected().plays);
    // State is saved after the manifest, for the next invocation.
    expect(keys).toContain('_state/recently_played.json');
    // Extract only: no curated tables in the Lambda.
    expect(keys.filter((k) => k.startsWith('curated/'))).toEqual([]);
  });

  it('stores the rotated refresh token, so the next invocation can log in', async () => {
    const stored = await secretValue(`${PIPELINE_NAME}/spotify/refresh_token`);
    expect(stored).toBeDefined();
    expect(stored).not.toBe(sb.credentials.refresh_token);
    const puts = (await moto.recording.jsonCalls('secretsmanager')).filter((r) => r.operation === 'PutSecretValue');
    expect(puts.map((r) => r.input.SecretId)).toContain(`${PIPELINE_NAME}/spotify/refresh_token`);
  });

  it('resumes incrementally on the second invocation: no duplicate records', async () => {
    expect(second.error?.message).toBeUndefined();
    const by = Object.fromEntries(second.result!.streams.map((s) => [s.stream, s]));
    expect(by.recently_played.records).toBe(0);
    expect(by.playlist_items.records).toBe(0); // every playlist unchanged (snapshot_id)
    expect(by.artists.records).toBe(0); // no new artist ids
    expect(second.result!.requestsByEndpoint['playlists/{id}/items'] ?? 0).toBe(0);
    expect((await manifests(prefix)).map((m) => m.run_id)).toEqual([first.result!.runId, second.result!.runId]);

    const plays = await records(prefix, 'recently_played');
    expect(duplicates(plays.map(({ record: r }) => `${String(r.played_at)}|${String((r.track as { id?: string }).id)}`))).toEqual([]);
    const items = await records(prefix, 'playlist_items');
    expect(duplicates(items.map(({ record: r }) => `${String(r.playlist_id)}|${String(r.position)}`))).toEqual([]);
    const artists = await records(prefix, 'artists');
    expect(duplicates(artists.map(({ record: r }) => String(r.id)))).toEqual([]);
    expect(artists.length).toBe(expected().artists);
    // my_playlists is a snapshot stream: each run lists every playlist once.
    for (const runId of [first.result!.runId, second.result!.runId]) {
      const ids = (await records(prefix, 'my_playlists')).filter((x) => x.runId === runId).map((x) => String(x.record.id));
      expect(duplicates(ids)).toEqual([]);
    }
  });

  it('never returns or logs a secret', async () => {
    const values = [sb.credentials.client_secret, sb.credentials.refresh_token, (await secretValue(`${PIPELINE_NAME}/spotify/refresh_token`))!];
    for (const out of [JSON.stringify(first.result), JSON.stringify(second.result), first.log, second.log]) {
      for (const s of values) expect(out.includes(s)).toBe(false);
    }
    expect(first.log).toContain('"extractor":');
  });

  it('reads each secret from Secrets Manager once per invocation, by `<pipeline>/<name>`', async () => {
    const reads = (await moto.recording.jsonCalls('secretsmanager')).filter((r) => r.operation === 'GetSecretValue').map((r) => String(r.input.SecretId));
    expect(reads.sort()).toEqual([
      `${PIPELINE_NAME}/spotify/client_secret`,
      `${PIPELINE_NAME}/spotify/client_secret`,
      `${PIPELINE_NAME}/spotify/refresh_token`,
      `${PIPELINE_NAME}/spotify/refresh_token`,
    ]);
  });
});

describe('extractor failures and the Lambda deadline', () => {
  let slow: SpotifySandbox;

  beforeAll(async () => {
    // Same seed, same data and demo credentials; every API answer takes a while.
    slow = await startSandbox({ seed: 7, faults: { slowMs: 60 } });
    await setSecret('deadline/spotify/client_secret', slow.credentials.client_secret);
    await setSecret('deadline/spotify/refresh_token', slow.credentials.refresh_token);
  });

  afterAll(async () => {
    await slow?.close();
  });

  it('stops before the deadline with data and state committed, and the next invocation resumes', async () => {
    pointAt(slow, 'deadline', 'deadline');
    // 6 s left: the handler stops after 3 s (the margin never takes more than half the time),
    // long before the ~11 s the whole run takes at this speed, and commits within the deadline.
    const t0 = Date.now();
    const cut = await invoke(context(6_000));
    expect(cut.error?.message).toBeUndefined();
    expect(Date.now() - t0).toBeLessThan(6_000);
    expect(cut.result!.stoppedEarly).toBe(true);
    expect(cut.result!.reason).toMatch(/the Lambda time limit is 3 s away/);
    const m1 = await manifests('deadline');
    expect(m1.map((m) => m.run_id)).toEqual([cut.result!.runId]);
    expect(Object.values(m1[0].streams).some((s) => s.status === 'partial')).toBe(true);

    const rest = await invoke(context(900_000));
    expect(rest.error?.message).toBeUndefined();
    expect(rest.result!.stoppedEarly).toBe(false);
    const t = truth(slow);
    const plays = await records('deadline', 'recently_played');
    expect(duplicates(plays.map(({ record: r }) => String(r.played_at)))).toEqual([]);
    expect(plays.length).toBe(t.plays);
    const artists = await records('deadline', 'artists');
    expect(duplicates(artists.map(({ record: r }) => String(r.id)))).toEqual([]);
    expect(artists.length).toBe(t.artists);
  });

  it('throws when the run fails (for the on-failure destination), without the secret in the message', async () => {
    pointAt(sb, 'failing', 'failing');
    await setSecret('failing/spotify/client_secret', sb.credentials.client_secret);
    await setSecret('failing/spotify/refresh_token', 'AQ-not-a-valid-refresh-token-000');
    const r = await invoke(context(900_000));
    expect(r.result).toBeUndefined();
    expect(r.error!.name).toBe('ExtractorRunError');
    expect(r.error!.message).toMatch(/^run \S+ of pipeline my-spotify-lake failed: /);
    expect(r.error!.message + r.log).not.toContain('AQ-not-a-valid-refresh-token-000');
    expect(r.error!.message + r.log).not.toContain(sb.credentials.client_secret);
  });

  it('throws a configuration error naming a secret that is not set', async () => {
    pointAt(sb, 'unset', 'no-such-prefix');
    const r = await invoke(context(900_000));
    expect(r.error!.name).toBe('ConfigError');
    expect(r.error!.message).toContain('secret "spotify/client_secret" is not set');
    expect(await lake('unset').list('')).toEqual([]);
  });
});

describe('one run at a time on a lake: the lease (core/lambda/lease.ts)', () => {
  const LEASE = '_lease/extractor.json';
  const putLease = (prefix: string, body: object) =>
    moto.s3().send(new PutObjectCommand({ Bucket: BUCKET, Key: `${prefix}/${LEASE}`, Body: JSON.stringify(body) }));

  it('two overlapping invocations: one runs, the other skips ("lease held by ..."); the lease is gone after', async () => {
    pointAt(sb, 'overlap', PIPELINE_NAME);
    await moto.recording.stop();
    await moto.recording.start();
    const [a, b] = await Promise.all([invoke({ ...context(900_000), awsRequestId: 'req-a' }), invoke({ ...context(900_000), awsRequestId: 'req-b' })]);
    expect(a.error?.message).toBeUndefined();
    expect(b.error?.message).toBeUndefined();
    const ran = [a, b].filter((x) => !x.result!.skipped);
    const skipped = [a, b].filter((x) => x.result!.skipped);
    expect(ran).toHaveLength(1);
    expect(skipped).toHaveLength(1);
    const holder = ran[0] === a ? 'req-a' : 'req-b';
    expect(skipped[0].result!.skipped).toMatch(new RegExp(`^lease held by ${holder} \\(pipeline my-spotify-lake, since \\S+, until \\S+\\)$`));
    expect(skipped[0].result!.streams).toEqual([]);
    expect(skipped[0].log).toContain('skipped: the lake s3://my-spotify-lake/overlap is in use');
    // One run committed, nothing of the skipped one; the lease was given back.
    expect((await manifests('overlap')).map((m) => m.run_id)).toEqual([ran[0].result!.runId]);
    expect(await lake('overlap').list('_lease/')).toEqual([]);
    // Taken by a conditional write, as S3 arbitrates it: If-None-Match: * on the lease object.
    const puts = (await moto.recording.requests()).filter((r) => r.method === 'PUT' && r.url.includes(`overlap/${LEASE}`));
    expect(puts.length).toBeGreaterThanOrEqual(2);
    for (const p of puts) expect(p.headers['if-none-match']).toBe('*');
  });

  it('skips while another invocation holds an unexpired lease, and takes over an expired one', async () => {
    pointAt(sb, 'leased', PIPELINE_NAME);
    const until = new Date(Date.now() + 600_000).toISOString();
    await putLease('leased', { holder: 'other-request', pipeline: PIPELINE_NAME, acquired_at: new Date().toISOString(), expires_at: until });
    const held = await invoke(context(900_000));
    expect(held.result!.skipped).toBe(`lease held by other-request (pipeline ${PIPELINE_NAME}, since ${held.result!.skipped!.match(/since (\S+),/)![1]}, until ${until})`);
    expect(await lake('leased').list('_runs/')).toEqual([]);
    expect(await lake('leased').list('_lease/')).toEqual([LEASE]);

    // Its holder died (the lease expired): the next invocation takes it over, says so, runs, and gives it back.
    await putLease('leased', { holder: 'dead-request', pipeline: PIPELINE_NAME, acquired_at: '2026-01-01T00:00:00.000Z', expires_at: '2026-01-01T00:16:00.000Z' });
    const next = await invoke(context(900_000));
    expect(next.error?.message).toBeUndefined();
    expect(next.result!.skipped).toBeUndefined();
    expect(next.log).toContain('took over the expired lease of dead-request (pipeline my-spotify-lake, since 2026-01-01T00:00:00.000Z, until 2026-01-01T00:16:00.000Z)');
    expect((await manifests('leased')).map((m) => m.run_id)).toEqual([next.result!.runId]);
    expect(await lake('leased').list('_lease/')).toEqual([]);
  });
});

describe('the included export pipeline, run by its upload (the event the upload rule sends)', () => {
  it('imports the export zip uploaded to imports/my-spotify-history/, by ranged reads, into the same lake; a second upload event imports nothing again', async () => {
    const exp = await generateExport(join(tmp, 'export'), { plays: 200, playsPerFile: 100, zip: true, legacyExport: false, accountData: false });
    const zip = await readFile(join(exp.path, 'my_spotify_data.zip'));
    await moto.s3().send(new PutObjectCommand({ Bucket: BUCKET, Key: 'uploads-lake/imports/my-spotify-history/my_spotify_data.zip', Body: zip }));
    pointAt(sb, 'uploads-lake', PIPELINE_NAME);
    // What the stack sets: the connector's `path: ${env:SPOTIFY_EXPORT_PATH}` points at the uploads.
    process.env.SPOTIFY_EXPORT_PATH = `s3://${BUCKET}/uploads-lake/imports/my-spotify-history/`;
    try {
      const first = await invoke(context(900_000), { pipeline: 'my-spotify-history' });
      expect(first.error?.message).toBeUndefined();
      expect(first.result).toMatchObject({ pipeline: 'my-spotify-history', lake: `s3://${BUCKET}/uploads-lake`, stoppedEarly: false });
      const plays = await records('uploads-lake', 'listening_history');
      expect(plays.map((p) => p.record.play_id).sort()).toEqual(exp.truth.extended.map((t) => t.play_id).sort());
      // The Web API pipeline's streams did not run: the event named the export pipeline.
      expect((await manifests('uploads-lake')).flatMap((m) => Object.keys(m.streams))).toEqual(['listening_history']);

      const again = await invoke(context(900_000), { pipeline: 'my-spotify-history' });
      expect(again.result!.streams[0].records).toBe(0);
      // The result (the invocation's log) names the files of the upload it did not import, and why.
      expect(again.result!.streams[0].details).toEqual(
        expect.arrayContaining([expect.stringMatching(/^files_not_history: my_spotify_data\.zip\/.*ReadMeFirst_ExtendedStreamingHistory\.pdf: no listening history/), expect.stringMatching(/^skipped_imported_file: .*: imported by an earlier run/)]),
      );
    } finally {
      delete process.env.SPOTIFY_EXPORT_PATH;
    }
  });

  it('refuses an event naming a pipeline it does not carry', async () => {
    pointAt(sb, 'uploads-lake', PIPELINE_NAME);
    const r = await invoke(context(900_000), { pipeline: 'someone-else' });
    expect(r.error!.message).toMatch(/the event names pipeline "someone-else", but this extractor runs my-spotify-lake, my-spotify-history/);
  });
});

describe('the weekly playlist refresh (the event its schedule sends: { pipeline, action: "write-playlist" })', () => {
  let athena: AthenaStandIn;
  let recsLake: Lake | undefined;
  let recsDir: string;

  /** The catalog's recommendations table as Athena serves it: these track ids in rank order. */
  async function recommendations(trackIds: string[]): Promise<void> {
    recsLake?.close();
    await rm(recsDir, { recursive: true, force: true });
    await mkdir(recsDir, { recursive: true });
    const db = await openDuckdb({ allow: [], unsafe: true });
    try {
      const rows = trackIds.map((id, i) => `(${i + 1}, '${id}', 'name', 'artist', ${1 - i / 100}, 'often played with x', 'co_occurrence', TIMESTAMP '2026-12-05 06:00:00')`);
      const values = rows.length ? `VALUES ${rows.join(', ')}` : `SELECT 1, 'x', 'x', 'x', 1.0, 'x', 'x', TIMESTAMP '2026-12-05 06:00:00' WHERE false`;
      await db.conn.run(
        `COPY (SELECT CAST(c1 AS INTEGER) AS rank, c2 AS track_id, c3 AS track_name, c4 AS artist_name, CAST(c5 AS DOUBLE) AS score, c6 AS reason, c7 AS source, c8 AS generated_at
         FROM (${values}) t(c1, c2, c3, c4, c5, c6, c7, c8) ORDER BY rank DESC) TO '${join(recsDir, 'part-0.parquet')}' (FORMAT parquet)`,
      );
    } finally {
      db.close();
    }
    const plan = planTable(RECS_TABLE, recommendationsTable);
    recsLake = await openCatalogLake([{ name: RECS_TABLE, dir: recsDir, columns: storedColumnPlans(plan).map((c) => ({ name: c.name, glueType: COLUMN_TYPE_INFO[c.type].glue })), partitionKeys: [] }]);
    athena.setLake(recsLake);
  }

  async function refresh(): Promise<PlaylistRefreshResult> {
    return (await handler({ pipeline: PIPELINE_NAME, action: 'write-playlist' }, context(900_000))) as PlaylistRefreshResult;
  }

  beforeAll(async () => {
    recsDir = join(tmp, 'athena-recommendations');
    athena = await startAthenaStandIn({ workgroup: 'my-spotify-lake', database: 'my_spotify_lake', outputLocation: 's3://my-spotify-lake-athena-results/' });
    // What the deployment sets when recommendations.playlist is declared; the SDK's own variable finds the stand-in.
    Object.assign(process.env, { ATHENA_WORKGROUP: 'my-spotify-lake', ATHENA_DATABASE: 'my_spotify_lake', AWS_ENDPOINT_URL_ATHENA: athena.endpoint });
  });
  afterAll(async () => {
    recsLake?.close();
    await athena?.close();
    for (const k of ['ATHENA_WORKGROUP', 'ATHENA_DATABASE', 'AWS_ENDPOINT_URL_ATHENA']) delete process.env[k];
  });

  it('writes the recommendations, best first, to the user\'s playlist; a week with the same ones writes nothing; the lake is untouched', async () => {
    pointAt(sb, 'playlist', PIPELINE_NAME);
    const wanted = [...sb.data.tracks.keys()].slice(3, 28);
    await recommendations(wanted);
    sb.resetLog();
    const first = await refresh();
    expect(first).toMatchObject({ pipeline: PIPELINE_NAME, action: 'write-playlist', playlist: PLAYLIST, created: true, changed: true, tracks: 25, added: 25 });
    expect(first.writeRequests).toBeGreaterThan(0);
    const made = sb.data.playlists.filter((p) => p.name === PLAYLIST);
    expect(made).toHaveLength(1);
    expect(made[0].id).toBe(first.playlistId);
    expect(made[0].items.map((it) => (it.item as { id: string }).id)).toEqual(wanted);
    expect(made[0].public).toBe(false);
    // Only the write endpoints of the user's own playlist, and no other playlist touched.
    expect(new Set(sb.writes().map((w) => `${w.method} ${w.path}`))).toEqual(new Set(['POST /v1/me/playlists', `PUT /v1/playlists/${first.playlistId}/items`]));

    // A week later, the same recommendations: reads only, the snapshot kept. (The sandbox rotates
    // refresh tokens, so this also needs the one the first refresh stored in Secrets Manager.)
    sb.resetLog();
    const second = await refresh();
    expect(second).toMatchObject({ created: false, changed: false, writeRequests: 0, playlistId: first.playlistId, snapshotId: first.snapshotId });
    expect(sb.writes()).toEqual([]);
    expect(sb.data.playlists.filter((p) => p.name === PLAYLIST)).toHaveLength(1);
    // Nothing written to the lake; the lease was given back.
    expect(await lake('playlist').list('')).toEqual([]);
  });

  it('no recommendations yet: leaves the playlist as it is and says why', async () => {
    pointAt(sb, 'playlist-empty', PIPELINE_NAME);
    await recommendations([]);
    sb.resetLog();
    const r = await refresh();
    expect(r).toMatchObject({ playlist: PLAYLIST, tracks: 0, skipped: expect.stringMatching(/^no recommendations in the table recommendations yet/) });
    expect(sb.writes()).toEqual([]);
  });
});

describe('the unbundled entrypoint (core/lambda/from-files.ts `handler`)', () => {
  it('reads PIPELINE_FILE, loads the plugin by name and runs the same way', async () => {
    const { handler: fromFiles } = await import('../../core/lambda/from-files.ts');
    pointAt(sb, 'from-files', PIPELINE_NAME);
    process.env.PIPELINE_FILE = join(tmp, 'pipeline.yaml');
    try {
      const r = (await fromFiles({}, context(900_000))) as ExtractorResult;
      expect(r).toMatchObject({ pipeline: PIPELINE_NAME, lake: `s3://${BUCKET}/from-files`, stoppedEarly: false });
      expect(r.streams.find((s) => s.stream === 'recently_played')!.records).toBe(truth(sb).plays);
      expect(await lake('from-files').list('_runs/')).toEqual([`_runs/${r.runId}.json`]);
    } finally {
      delete process.env.PIPELINE_FILE;
    }
  });
});

/** The import path from the bundle entry to `target` (for the failure message of test (a)). */
function importChain(meta: Metafile, target: string): string[] {
  const importers = (t: string) => Object.entries(meta.inputs).filter(([, v]) => v.imports.some((i) => i.path === t)).map(([k]) => k);
  const walk = (t: string, seen: Set<string>): string[] => {
    if (t.endsWith('extractor-entry.ts')) return [t];
    for (const i of importers(t)) {
      if (seen.has(i)) continue;
      seen.add(i);
      const c = walk(i, seen);
      if (c.length) return [...c, t];
    }
    return [];
  };
  return walk(target, new Set());
}
