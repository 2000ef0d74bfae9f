/**
 * Expiry warnings from the secrets file's `_meta` (refresh tokens die 6 months after the login),
 * and `localSecrets` reading a file that carries `_meta`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { addMonths, authorizationProblems, authorizationWarnings, EXPIRY_WARNING_DAYS } from '../../core/auth/index.ts';
import { localSecrets } from '../../core/config/refs.ts';
import { ConfigError } from '../../core/config/problem.ts';
import { preparePipeline } from '../../core/pipeline.ts';
import { authorizationWarningLines } from '../../core/cli/login.ts';
import type { LoadedPipeline } from '../../core/config/types.ts';
import { pipelineDir } from './helpers.ts';

const DAY = 86_400_000;
const now = new Date('2026-11-20T12:00:00.000Z');
const NOWHERE = { apiUrl: 'http://127.0.0.1:9/v1', accountsUrl: 'http://127.0.0.1:9' };

function secretsExpiring(inMs: number, name = 'spotify/refresh_token') {
  const expires = new Date(now.getTime() + inMs);
  return {
    'spotify/refresh_token': 'AQ-not-a-real-token-000',
    _meta: { [name]: { authorized_at: addMonths(expires, -6).toISOString(), expires_at: expires.toISOString(), scopes: ['user-read-private'] } },
  };
}

describe('addMonths', () => {
  it('adds calendar months in UTC, clamped to the last day of the month', () => {
    const add6 = (iso: string) => addMonths(new Date(iso), 6).toISOString();
    expect(add6('2026-01-15T08:30:00.000Z')).toBe('2026-07-15T08:30:00.000Z');
    expect(add6('2026-08-31T10:00:00.000Z')).toBe('2027-02-28T10:00:00.000Z');
    expect(add6('2027-08-31T10:00:00.000Z')).toBe('2028-02-29T10:00:00.000Z');
    expect(add6('2026-11-30T23:59:59.000Z')).toBe('2027-05-30T23:59:59.000Z');
    expect(addMonths(new Date('2027-05-30T00:00:00.000Z'), -6).toISOString()).toBe('2026-11-30T00:00:00.000Z');
  });
});

describe('authorization expiry warnings', () => {
  let loaded: LoadedPipeline;
  let dir: string;
  let file: string;
  let secrets: string;
  let refreshLine: number;
  beforeAll(async () => {
    ({ dir, file, secrets } = await pipelineDir(NOWHERE));
    loaded = (await preparePipeline(file)).loaded;
    refreshLine = (await readFile(file, 'utf8')).split('\n').findIndex((l) => l.includes('refresh_token:')) + 1;
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it(`warns ${EXPIRY_WARNING_DAYS - 1} days ahead, at the refresh_token key, telling to log in again`, () => {
    const [p, ...rest] = authorizationWarnings(loaded, secretsExpiring(13 * DAY + 3_600_000), now);
    expect(rest).toEqual([]);
    expect(p.severity).toBe('warning');
    expect(p.path).toBe('connector.config.refresh_token');
    expect(p.line).toBe(refreshLine);
    expect(p.message).toContain('secret "spotify/refresh_token" expires in 13 days, on 2026-12-03');
    expect(p.message).toContain('npx spotify-pipeline login');
  });

  it('says nothing 15 days ahead', () => {
    expect(authorizationWarnings(loaded, secretsExpiring(15 * DAY), now)).toEqual([]);
  });

  it('is an error once expired', () => {
    const [p] = authorizationWarnings(loaded, secretsExpiring(-DAY), now);
    expect(p.severity).toBe('error');
    expect(p.message).toMatch(/secret "spotify\/refresh_token" expired on 2026-11-19 \(authorized on 2026-05-19\).*invalid_grant.*run `npx spotify-pipeline login`/);
  });

  it('ignores files without _meta, metadata of secrets the pipeline does not use, and no file', () => {
    expect(authorizationWarnings(loaded, { 'spotify/refresh_token': 'x' }, now)).toEqual([]);
    expect(authorizationWarnings(loaded, secretsExpiring(DAY, 'other/secret'), now)).toEqual([]);
    expect(authorizationWarnings(loaded, undefined, now)).toEqual([]);
    expect(authorizationProblems(loaded, now, `${dir}/missing.json`)).toEqual([]);
  });

  it('reads the pipeline\'s secrets file (for validate/check), never quoting it when malformed', async () => {
    await writeFile(secrets, JSON.stringify(secretsExpiring(2 * DAY)));
    const lines = authorizationWarningLines(loaded, now);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^warning: .*pipeline\.yaml:\d+:\d+ connector\.config\.refresh_token: the authorization in secret "spotify\/refresh_token" expires in 2 days/);
    expect(lines[0]).not.toContain('AQ-not-a-real-token');
    await writeFile(secrets, '{"spotify/refresh_token": "AQ-not-a-real-token-000" oops');
    const [p] = authorizationProblems(loaded, now);
    expect(p.severity).toBe('warning');
    expect(p.message).toContain('not valid JSON');
    expect(p.message).not.toContain('AQ-not');
  });

  it('localSecrets skips _meta (it is not a secret) but still rejects other non-strings', async () => {
    await writeFile(secrets, JSON.stringify(secretsExpiring(30 * DAY)));
    const get = localSecrets(secrets);
    expect(get('spotify/refresh_token')).toBe('AQ-not-a-real-token-000');
    expect(get('_meta')).toBeUndefined();
    await writeFile(secrets, JSON.stringify({ ...secretsExpiring(30 * DAY), 'spotify/client_secret': 42 }));
    expect(() => localSecrets(secrets)).toThrow(ConfigError);
  });
});
