/**
 * The declarative REST reader's vocabulary: the hooks a connector passes in, the reader's options,
 * and what one paged read needs. Types only; core/declarative imports nothing but types from the
 * plugin API (and its error classes), so a plugin can use it without the engine.
 */
import type { AuthProvider, HttpClient, JsonRecord, Logger, ReadContext, RestEndpoint, StreamSpec } from '../plugin-api.ts';

/** Query parameters of one request (undefined values are not sent). */
export type Query = Record<string, string | number | undefined>;

/**
 * What a connector adds to its descriptors: small functions for what data cannot say. Every hook
 * is optional; without any, the reader reads with the HTTP client's own auth in mode `default`.
 */
export interface RestHooks<C = JsonRecord> {
  /** The API mode a config selects: picks page and batch sizes, removals, skip rules. Default `default`. */
  mode?(config: C): string;
  /** Credentials for requests to `endpoint`; undefined = the HTTP client's own (`httpOptions().auth`). */
  auth?(ctx: ReadContext<C>, endpoint: RestEndpoint): AuthProvider | undefined;
  /**
   * The record to yield for one API item. `added` holds the fields the reader adds (parent id,
   * fan-out values, rank, position): set them last. Default: the item with `added` over it.
   */
  normalize?(endpoint: string, item: JsonRecord, added: JsonRecord): JsonRecord;
  /** Whether the API refuses `parent` under `rule` (an endpoint's `skipParents`), so no request is spent on it. */
  skipParent?(rule: string, parent: JsonRecord, ctx: ReadContext<C>): boolean | Promise<boolean>;
  /** The error to surface instead of `e` (e.g. an account-level 403 as a UserError with the fix). Default: `e`. */
  explainError?(e: unknown): unknown;
}

export interface RestReaderOptions<C = JsonRecord> {
  /** The endpoints the reader serves, by name (the plugin's `endpoints`). */
  endpoints: Record<string, RestEndpoint>;
  hooks?: RestHooks<C>;
  /** How messages name the API (e.g. `Spotify`). */
  service?: string;
  /** Most pages one paged read requests (default `MAX_PAGES`): a server whose chain never ends cannot hold a run forever. */
  maxPages?: number;
}

/** A plugin's `read`. */
export type RestReader<C = JsonRecord> = (stream: StreamSpec, ctx: ReadContext<C>) => AsyncGenerator<JsonRecord>;

/** What a paged read needs from its stream: where to count requests, how to authorize, where to report. */
export interface PageSource {
  /** The endpoint's name: requests are counted under it. */
  endpoint: string;
  desc: RestEndpoint;
  mode: string;
  auth?: AuthProvider;
  ctx: { http: HttpClient; logger: Logger; note(key: string, n?: number): void; expectTotal?(n: number): void };
  maxPages: number;
}

export interface PageRequest {
  /** Path (relative to the API base) of the first page. */
  url: string;
  query: Query;
  /** A 404 on the first page throws `NotFound` (the caller skips the parent) instead of failing. */
  missingOk?: boolean;
  /** A 400 on the first page throws `Rejected` (the API refuses the id as invalid) instead of failing. */
  invalidOk?: boolean;
  /** Send If-None-Match with the ETag this run already holds for the URL. */
  etag?: boolean;
}
