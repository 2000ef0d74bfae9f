/**
 * The public connector plugin API. A plugin is one module whose default export is a
 * `ConnectorPlugin`. Plugins import from this module only; the engine never imports a plugin
 * by name (the composition root hands it the connector registry, see connectors/index.ts).
 *
 * This module is the contract, not the engine: it declares types and re-exports only leaf
 * modules (the error classes, and helpers for plugin authors that themselves import nothing of
 * the engine). Engine modules (the HTTP client, logging, config) import their types from here,
 * never the other way round; test/core/walls.test.ts keeps it so.
 */
export { HttpError, StopRun, StreamFailed, UserError } from './errors.ts';
// Helpers for a plugin's `login` (PKCE, the loopback redirect, calendar months).
export { pkceChallenge, pkceVerifier, randomState } from './auth/pkce.ts';
export { startLoopbackCallback, type CallbackPage, type CallbackResult, type LoopbackCallback, type LoopbackOptions } from './auth/loopback.ts';
export { addMonths } from './auth/dates.ts';
// The declarative REST reader: a REST connector is descriptors (RestEndpoint) plus small hooks.
export { batchSize, createRestReader, pageSize } from './declarative/index.ts';
export type { RestHooks, RestReader, RestReaderOptions } from './declarative/index.ts';

/** Bumped when a change would break existing plugins; the engine refuses other versions. */
export const PLUGIN_API_VERSION = 1;

export type JsonSchema = Record<string, unknown>;
export type JsonRecord = Record<string, unknown>;

// ---------------------------------------------------------------------------------------------
// The HTTP client a plugin gets (implemented by core/http.ts: retry, backoff, rate limit, counts)
// ---------------------------------------------------------------------------------------------

export interface AuthProvider {
  /** A bearer token; `force` asks for a fresh one (after a 401). */
  token(force?: boolean): Promise<string>;
}

export interface RateLimit {
  windowMs: number;
  maxRequests: number;
}

export interface HttpOptions {
  baseURL: string;
  auth?: AuthProvider;
  rateLimit?: RateLimit | null;
  /** Attempts for 5xx, timeouts and connection resets (GET only), including the first. */
  maxAttempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Total time the run may spend sleeping on Retry-After before it stops cleanly. */
  waitBudgetMs?: number;
  timeoutMs?: number;
  logger?: Logger;
  signal?: AbortSignal;
  /** Injected in tests so backoff does not cost wall-clock time. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
}

export interface RequestOptions {
  params?: Record<string, string | number | undefined>;
  /** Endpoint name the request is counted under (e.g. `playlists/{id}/items`). */
  label: string;
  /** Statuses the caller handles itself instead of getting an HttpError. */
  accept?: number[];
  /** Use and refresh an ETag kept for this URL in this run. */
  etag?: boolean;
  /** Overrides the client's auth for this request (e.g. a user token instead of an app token). */
  auth?: AuthProvider;
}

export interface HttpResponse<T> {
  status: number;
  data: T;
  headers: Record<string, string>;
  /** True when the server answered 304 and `data` is the cached body. */
  notModified?: boolean;
}

/** A JSON write request (`HttpClient.send`). */
export interface WriteRequestOptions {
  /** Endpoint name the request is counted under (e.g. `playlists/{id}/items`). */
  label: string;
  /** Sent as JSON (`content-type: application/json`); undefined sends no body. */
  json?: unknown;
  params?: Record<string, string | number | undefined>;
  auth?: AuthProvider;
  /** Statuses the caller handles itself instead of getting an HttpError. */
  accept?: number[];
  /**
   * The request may be repeated without changing the outcome (a replace, not an append): only
   * then are 5xx answers and connection resets retried. A 429 and a 401 are always retried (the
   * server did not act on the request).
   */
  idempotent?: boolean;
}

/** The run's shared HTTP client, as plugins see it. */
export interface HttpClient {
  /** A GET with retry, backoff, `Retry-After` within the wait budget, rate limit and a request count under `opts.label`. */
  get<T = unknown>(url: string, opts: RequestOptions): Promise<HttpResponse<T>>;
  /** A form POST (OAuth token requests): counted under `opts.label`, retried on 5xx and resets. */
  postForm<T = unknown>(url: string, form: Record<string, string>, opts: { label: string; headers?: Record<string, string> }): Promise<HttpResponse<T>>;
  /**
   * A JSON write (POST/PUT/DELETE) with the same rate limit, Retry-After budget, token refresh on
   * 401 and counts as `get`; 5xx and resets are retried only for `idempotent` requests. A body
   * that is not JSON comes back as text. Optional: a client without it cannot write (the
   * playlist write-back needs it; core/http.ts has it).
   */
  send?<T = unknown>(method: 'POST' | 'PUT' | 'DELETE', url: string, opts: WriteRequestOptions): Promise<HttpResponse<T>>;
}

/** Why an endpoint is unavailable in an API mode, and what to use instead. */
export interface Removal {
  /** When the provider removed it, e.g. "2026-02-11". */
  date: string;
  /** The provider change that removed it, in one line. */
  change: string;
  /** What to use instead. */
  instead: string;
}

/** Page size per API mode; a mode missing here uses the smallest size declared. */
export type PageSizes = Record<string, number>;

/**
 * How an endpoint pages. Field paths (`nextField`, `totalField`, `cursorField`, `moreField`) are
 * dot paths inside the object that holds the records (the body when `recordPath` has one part);
 * parameter names default to `limit`, `offset`. The declarative reader (`createRestReader`) runs
 * them; a plugin with its own `read` may use them as documentation only.
 */
export type Paginator =
  | { type: 'none' }
  /**
   * Offset paging with our own parameters: there is more while the page's `nextField` (default
   * `next`) is set or, without one, while `offset + limit < total` (or, with neither, while pages
   * are full); at the end the count is held against `totalField` (default `total`).
   */
  | { type: 'offset'; pageSize: PageSizes; totalField?: string; nextField?: string; limitParam?: string; offsetParam?: string }
  /**
   * Cursor paging: `cursorParam` carries the cursor (an incremental read starts from its saved
   * one). The next page is asked for with the cursor a page returns at `cursorField`, or, without
   * one, by following the page's `nextField` link (default `next`, which carries the cursor).
   * `moreField` false ends it; `window` is the most items the API ever returns.
   */
  | { type: 'cursor'; pageSize: PageSizes; cursorParam: string; cursorField?: string; moreField?: string; nextField?: string; totalField?: string; limitParam?: string; window?: number }
  /** Next-link paging: follow the URL each page names at `nextField` (default `next`) until it is null. */
  | { type: 'next'; pageSize: PageSizes; nextField?: string; totalField?: string; limitParam?: string; window?: number };

/**
 * An endpoint (stream kind) a plugin offers. Data, not code: the engine derives validation,
 * OAuth scopes, request-count expectations and the sandbox's routes from these.
 */
export interface EndpointDescriptor {
  /** One line for `--help`, docs and error messages. */
  description: string;
  /** Path template relative to the API base, e.g. `/playlists/{id}/items`. */
  path: string;
  /** `client`: an app token is enough; `user`: needs a user token with `scopes`; `none`: no credentials (e.g. local files). */
  auth: 'client' | 'user' | 'none';
  scopes: string[];
  paginator: Paginator;
  /** Where the records are in a response page (dot path); empty for the whole body. */
  recordPath: string;
  /** Per API mode: allowed, or the removal that forbids it. Missing mode = allowed. */
  modes?: Record<string, { removed?: Removal }>;
  /**
   * Fan-out: `for_each` streams take one parent record per request (`{id}` in the path);
   * `ids` streams take a list of ids (from config or another stream's field) and may batch them.
   */
  input?: 'for_each' | 'ids';
  /**
   * For `ids` endpoints: the batch form and its size per API mode. A mode missing here (or
   * size 1) fetches one id per request through `path`.
   */
  batch?: { path: string; param: string; recordPath: string; size: Record<string, number> };
  /** For `ids` endpoints: the record field holding the id it was fetched by (default `id`). */
  idField?: string;
  /**
   * Incremental semantics, when the endpoint supports them. `cursor`: the API filters by the
   * paginator's `cursorParam`, sent the newest `field` (a time) of the last run, as the API wrote it
   * (`format: 'text'`, default) or as Unix milliseconds (`'epoch_ms'`). `field`: the list is newest
   * first and a read stops at the first item not newer than the last run's newest `field`.
   */
  incremental?: { kind: 'cursor' | 'field'; field?: string; format?: 'text' | 'epoch_ms'; description: string };
  /** Field of the parent record whose unchanged value lets a run skip it (e.g. `snapshot_id`). */
  versionField?: string;
  /** JSON Schema of the stream's parameters in pipeline.yaml (beyond the engine's own keys). */
  parameters?: JsonSchema;
  /** JSON Schema of one record the stream yields. */
  recordSchema: JsonSchema;
  /**
   * Per API mode: record fields the provider is known to leave out in that mode (dot paths, `[]`
   * for the elements of an array, e.g. `popularity`, `track.album.available_markets`). A table
   * column reading one (or a field inside one) is empty by design there, so the transform does not
   * report it as schema drift. The mode is the plugin's `apiMode(config)`.
   */
  absentFields?: Record<string, string[]>;
  /**
   * Fields (dot paths) that identify a record, e.g. `['play_id']`. The conformance kit compares
   * reads by them (otherwise by the whole record); tables usually dedupe on them.
   */
  primaryKey?: string[];
}

/**
 * An endpoint the declarative REST reader (`createRestReader`) reads: the descriptor plus the
 * keys that shape its requests and records. Still data: a REST connector adds an endpoint by
 * adding a row, not a code path.
 */
export interface RestEndpoint extends EndpointDescriptor {
  /** Query parameters every request sends (e.g. `type=artist`). */
  fixedQuery?: Record<string, string>;
  /** Largest offset the API accepts (offset paging stops there, with a warning and a note). */
  maxOffset?: number;
  /**
   * List parameters that fan out: one paged read per value (per combination, in order), sent as
   * query parameter `query` and recorded on each record under `field`. `recordPath` may name a
   * fanned-out query parameter in braces (e.g. `{type}s.items`).
   */
  fanOut?: Array<{ param: string; query: string; field: string }>;
  /** Field each record gets holding the parent (for_each) or id (ids) it was read for. */
  parentField?: string;
  /** Field each record gets holding the parent's `versionField` value it was read at. */
  parentVersionField?: string;
  /** 1-based rank of each record within its read (per fan-out value and parent). */
  rankField?: string;
  /** 0-based position of each record within its read (per fan-out value and parent). */
  positionField?: string;
  /**
   * Per API mode: parent records the API is known to refuse, skipped without a request. The
   * reader's `skipParent` hook judges each `rule`; a skip is counted as `note` and, with a
   * `reason`, logged as a warning.
   */
  skipParents?: Record<string, Array<{ rule: string; note: string; reason?: string }>>;
  /** Per API mode: why a parent or id may answer 404 (it is then skipped with a warning). */
  notFound?: Record<string, string>;
  /** For cursor-incremental reads with a `window`: what else the user can do when it overflowed. */
  gapHint?: string;
}

/** How a stream can be read: whole every time, or from the state its last run saved. */
export type SyncMode = 'full_refresh' | 'incremental';

/** The sync modes an endpoint supports, derived from its `incremental` declaration. */
export function syncModes(endpoint: Pick<EndpointDescriptor, 'incremental'>): SyncMode[] {
  return endpoint.incremental ? ['full_refresh', 'incremental'] : ['full_refresh'];
}

/** One stream of the pipeline, as the plugin sees it. */
export interface StreamSpec {
  name: string;
  endpoint: string;
  /** Stream parameters from pipeline.yaml (`params:`), already validated. */
  params: JsonRecord;
  incremental: boolean;
  skipUnchanged?: string;
  /** For `for_each` streams: the path of the parent field to iterate (`['id']`). */
  forEach?: string[];
}

export interface Logger {
  info(msg: string): void;
  warn(msg: string): void;
  debug(msg: string): void;
}

/** State a stream saved at the end of its last committed run (cursors, versions). */
export type StreamState = Record<string, unknown>;

export interface ReadContext<C = JsonRecord> {
  config: C;
  http: HttpClient;
  logger: Logger;
  signal: AbortSignal;
  /** State saved by the last committed run of this stream (empty object on the first run). */
  state: StreamState;
  /** Set the state to save once this run's data is committed. */
  setState(state: StreamState): void;
  /** For `for_each` streams: the parent records, in order. */
  parents?: JsonRecord[];
  /** For `ids` streams: the distinct ids to fetch (the engine has already de-duplicated them). */
  ids?: string[];
  /**
   * Count something for the run summary's notes column (a request spared, a file skipped). With
   * `detail`, the summary also lists that line under the table (e.g. which files were not imported
   * and why): say what and why in one line, never a secret.
   */
  note(key: string, n?: number, detail?: string): void;
  /**
   * For `ids` streams: tell the engine the API rejects this id as invalid (e.g. HTTP 400 for a URI
   * given where an id belongs), so it is dropped from the ids the stream owes instead of being
   * asked for again by every later run. `reason` is shown in the engine's warning. The declarative
   * reader calls it for a 400 on an id's request; optional, so plugins call it as
   * `ctx.rejectId?.(id, reason)`.
   */
  rejectId?(id: string, reason: string): void;
  /**
   * Hand the engine a new value for a secret config key (e.g. `refresh_token` when the provider
   * rotates it: the old one may already be dead). The engine stores it where the key's
   * `${secret:NAME}` lives (local secrets file, or Secrets Manager in AWS) and redacts it from logs.
   * Resolves once stored; never rejects (a failure is logged as a warning). Optional: engines
   * without it just lose the rotation, so plugins must call it as `ctx.updateSecret?.(...)`.
   */
  updateSecret?(configKey: string, value: string): Promise<void>;
  /**
   * Tell the engine how many more records this read expects (e.g. an offset page's `total`), for
   * the progress display's ETA. Optional: plugins call it as `ctx.expectTotal?.(n)`.
   */
  expectTotal?(n: number): void;
}

export interface CheckContext<C = JsonRecord> {
  config: C;
  http: HttpClient;
  logger: Logger;
  streams: StreamSpec[];
  /** As `ReadContext.updateSecret`: a check that refreshes a rotating token must hand it back too. */
  updateSecret?(configKey: string, value: string): Promise<void>;
}

/** What `spotify-pipeline login` gives a plugin's `login`. */
export interface LoginContext<C = JsonRecord> {
  /**
   * `connector.config` with the references that could be resolved (e.g. `client_id` from the
   * environment). Keys listed in `secretKeys` and keys whose reference is not set are left out:
   * a login must not need the secrets it is about to create.
   */
  config: Partial<C>;
  /** Why a key is missing from `config`, by key (e.g. `client_id: "environment variable SPOTIFY_CLIENT_ID is not set"`). */
  unresolved: Record<string, string>;
  /** The pipeline's streams: ask only for the scopes these need. */
  streams: StreamSpec[];
  /** Loopback port for the redirect URI (`--port`); undefined = the plugin's default. 0 = any free port (tests). */
  port?: number;
  /** Give up waiting for the browser after this long; undefined = the plugin's default (5 minutes). */
  timeoutMs?: number;
  logger: Logger;
  /**
   * Show the authorize URL to the user: the CLI prints it and may open a browser; tests follow it
   * with an HTTP GET. Call it without awaiting the callback first: it may resolve only after the
   * redirect has been answered. A rejection fails the login.
   */
  openUrl(url: string): Promise<void>;
  /** Aborted on Ctrl-C: stop waiting and clean up. */
  signal: AbortSignal;
  /** The clock, for `authorizedAt` (tests). Default: the current time. */
  now?: () => Date;
  /**
   * The pipeline configures the playlist write-back (`recommendations.playlist`): ask for the
   * plugin's `playlistWriter.scopes` too. Otherwise a login asks for read scopes only.
   */
  playlistWrite?: boolean;
}

/** What the playlist write-back asks a connector to do: make one playlist of the user's hold exactly these tracks. */
export interface PlaylistWriteRequest {
  /** The playlist's name: the user's own playlist of that name is updated, or created (private) when there is none. */
  name: string;
  /** Set on creation, and brought up to date when the items change (never written on its own). */
  description?: string;
  /** The wanted items, in order (provider track ids). */
  trackIds: string[];
  /** Compute the diff but send no write request. */
  dryRun?: boolean;
}

/**
 * How the playlist's items differ from the wanted list: track ids `added` and `removed`, and
 * `moved` (kept, but not in the wanted order: the fewest moves that reorder the rest). Entries
 * that are not the provider's tracks (episodes, local files) are named by their URI, unavailable
 * ones by null.
 */
export interface PlaylistDiff {
  added: string[];
  removed: Array<string | null>;
  moved: string[];
}

export interface PlaylistWriteResult {
  /** null when a dry run found no playlist of that name (it would be created). */
  playlistId: string | null;
  /** The playlist was created (a dry run: would be). */
  created: boolean;
  /** The items were replaced (a dry run: would be). False when they already were the wanted list. */
  changed: boolean;
  /** The playlist's snapshot after the write (or as found, when nothing was written); null in a dry run of a new playlist. */
  snapshotId: string | null;
  /** The write requests sent, in order (none in a dry run). */
  requests: Array<{ method: 'POST' | 'PUT' | 'DELETE'; path: string; items?: number }>;
  diff: PlaylistDiff;
  dryRun: boolean;
}

export interface PlaylistWriteContext<C = JsonRecord> {
  config: C;
  /** The command's HTTP client; the writer needs its `send`. */
  http: HttpClient;
  logger: Logger;
  signal: AbortSignal;
  /** As `ReadContext.updateSecret` (a rotated refresh token). */
  updateSecret?(configKey: string, value: string): Promise<void>;
}

/**
 * A connector's playlist write-back (issue 17): writes one playlist owned by the user, never
 * anything else. Opt-in: the pipeline configures it (`recommendations.playlist`), and `login`
 * then asks for `scopes` too.
 */
export interface PlaylistWriter<C = JsonRecord> {
  /** The least scopes writing needs (Spotify: `playlist-modify-private`). */
  scopes: string[];
  write(request: PlaylistWriteRequest, ctx: PlaylistWriteContext<C>): Promise<PlaylistWriteResult>;
}

/** What a successful login produced. Values are secrets: the engine stores them and never prints them. */
export interface LoginResult {
  /** New secret values by `connector.config` key, e.g. `{ refresh_token: "..." }`. */
  secrets: Record<string, string>;
  /** ISO time of the user's consent. */
  authorizedAt: string;
  /** ISO time the provider stops honouring the authorization, when it has a fixed lifetime. */
  expiresAt?: string;
  /** The scopes the user granted. */
  scopes: string[];
}

/** A validation finding about the pipeline that only the plugin can judge (e.g. mode rules). */
export interface PluginIssue {
  /** Dot path of the offending key in pipeline.yaml, e.g. `streams.artists.endpoint`. */
  path: string;
  message: string;
  severity?: 'error' | 'warning';
}

export interface SandboxHandle {
  /** Base URL of the running server (127.0.0.1 only), or a `file://` URL for file-based sources. */
  url: string;
  /** Config overrides that point the plugin at the sandbox (base URLs, demo credentials). */
  config: JsonRecord;
  close(): Promise<void>;
  /**
   * Data this sandbox offers the sandboxes of other connectors writing into the same lake (e.g.
   * the Spotify sandbox's catalog, so a generated export's track ids join with its tables). The
   * engine hands it to them as `SandboxOptions.peers[<this plugin's name>]`.
   */
  shared?: JsonRecord;
  /** The faults this sandbox injects when asked (`SandboxOptions.faults`); the kit's `faults` suite runs only then. */
  faults?: Array<keyof SandboxFaults>;
  /**
   * Ground truth for the conformance kit's `basic_read`: the records a full read of `stream` must
   * yield (any order; fields left out are not compared), or undefined when the sandbox cannot say.
   */
  expected?(stream: StreamSpec): Promise<JsonRecord[] | undefined>;
  /** New data appears, as if time passed (the kit's `incremental` suite then expects exactly it). */
  advance?(): Promise<void>;
}

/** Faults the conformance kit asks a sandbox to inject, deterministically from the seed. */
export interface SandboxFaults {
  /** The first N requests are answered 429 with a short `Retry-After`. */
  rateLimitStorm?: number;
  /** Probability of a 500/502/503 answer per request. */
  serverErrors?: number;
  /** Probability of a connection reset (no answer) per request. */
  resets?: number;
  /** Access tokens expire after every N requests (the plugin must refresh and retry). */
  tokenExpiry?: number;
}

export interface SandboxOptions {
  port?: number;
  seed?: number;
  /** Inject these faults (the conformance kit's `faults` suite). */
  faults?: SandboxFaults;
  /** `SandboxHandle.shared` of the other sandboxes of the same lake run, by plugin name. */
  peers?: Record<string, JsonRecord>;
  /** Plugin-specific options (e.g. the API profile). */
  [key: string]: unknown;
}

/**
 * One connector a distribution ships, as the composition root registers it (connectors/index.ts).
 * `load` is lazy so a command pays only for the connectors it uses; `module` lets a bundler (the
 * extractor Lambda's) import the same plugin statically.
 */
export interface ConnectorEntry {
  /** The plugin module, relative to the project root, e.g. `connectors/spotify/index.ts`. */
  module: string;
  /** Imports the module and returns its default export (checked by the engine). */
  load(): Promise<unknown>;
}

/** Shipped connectors by the name `connector.use` gives them. */
export type ConnectorRegistry = Readonly<Record<string, ConnectorEntry>>;

export interface ConnectorPlugin<C = JsonRecord> {
  apiVersion: number;
  name: string;
  version: string;
  description: string;
  /** How messages name the service ("Spotify"); defaults to `name`. */
  displayName?: string;
  /** JSON Schema of `connector.config`. */
  configSchema: JsonSchema;
  /** Keys of `connector.config` holding secrets: redacted from every log and error. */
  secretKeys: string[];
  /**
   * For connectors that read files the user provides (a data export) instead of calling an API:
   * the config key that says where the files are. The AWS deployment points it at an
   * `imports/<pipeline>/` prefix of the lake bucket (`s3://...`) and runs the pipeline when a file
   * is uploaded there.
   */
  uploads?: { configKey: string; description: string };
  endpoints: Record<string, EndpointDescriptor>;
  /**
   * Endpoints the provider removed that the plugin does not offer, by the names users copy from
   * tutorials: `validate` says when, why and what to use instead rather than "unknown endpoint".
   * A stream's endpoint is matched without a leading `/` or `v1/`, with any `{placeholder}` as
   * `{id}` and `_` as `-` (so `/v1/artists/{artist_id}/related_artists` finds `artists/{id}/related-artists`).
   */
  retiredEndpoints?: Record<string, Removal>;
  /** The API mode a config selects: the key of the endpoints' `modes` and `absentFields`. */
  apiMode?(config: Partial<C>): string;
  /** Plugin-specific rules for the pipeline's streams (e.g. an endpoint the API mode forbids). */
  validate?(config: Partial<C>, streams: StreamSpec[]): PluginIssue[];
  /** Base URL, rate limit and wait budget of the run's shared HTTP client, from the config. */
  httpOptions?(config: C): Pick<HttpOptions, 'baseURL'> & Partial<HttpOptions>;
  /** Whether the config has usable credentials (no request made). */
  hasCredentials?(config: Partial<C>): boolean;
  check(ctx: CheckContext<C>): Promise<void>;
  /**
   * Authorize a user interactively (`spotify-pipeline login`): the OAuth dance through the
   * user's browser and a loopback redirect. Returns the secrets to store; must never log them.
   */
  login?(ctx: LoginContext<C>): Promise<LoginResult>;
  read(stream: StreamSpec, ctx: ReadContext<C>): AsyncIterable<JsonRecord>;
  /** Writes a playlist of the user's (the recommendations write-back); absent when the connector cannot. */
  playlistWriter?: PlaylistWriter<C>;
  sandbox?(options: SandboxOptions & { config: Partial<C> }): Promise<SandboxHandle>;
}

/**
 * Helper for sandbox authors: a seeded PRNG (mulberry32) returning floats in [0, 1), so the same
 * seed serves the same data and faults on every run and machine.
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Helper for plugin authors: a typed identity so `export default definePlugin({...})` checks. */
export function definePlugin<C = JsonRecord>(plugin: ConnectorPlugin<C>): ConnectorPlugin<C> {
  return plugin;
}
